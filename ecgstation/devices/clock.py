"""The session clock (host monotonic time x speed) and the placement of device frames on it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = ["DeviceClock", "FramePlacement", "PlacementKind", "SessionClock", "VirtualClock"]

logger = logging.getLogger(__name__)


class SessionClock:
    """Seconds since the session started, from the host's monotonic clock times ``speed``.

    The clock starts at the first call to :meth:`start` or :meth:`now`. ``speed`` > 1 runs
    session time faster than wall time (replay at 1x-60x): sleeps are divided by it.
    """

    def __init__(self, speed: float = 1.0, *, time_fn: Callable[[], float] = time.monotonic) -> None:
        if not speed > 0:
            raise ValueError("speed must be positive")
        self.speed = float(speed)
        self._time_fn = time_fn
        self._start: float | None = None

    def start(self) -> None:
        """Start the clock at session time 0 (no effect when already started)."""
        if self._start is None:
            self._start = self._time_fn()

    def now(self) -> float:
        """Session time in s."""
        self.start()
        assert self._start is not None
        return (self._time_fn() - self._start) * self.speed

    async def sleep_until(self, t_s: float, stop: asyncio.Event | None = None) -> bool:
        """Wait until session time ``t_s`` (s); True when ``stop`` was set first."""
        dt = (t_s - self.now()) / self.speed
        if stop is None:
            if dt > 0:
                await asyncio.sleep(dt)
            return False
        if stop.is_set():
            return True
        if dt <= 0:
            return False
        try:
            await asyncio.wait_for(stop.wait(), timeout=dt)
        except TimeoutError:
            return False
        return True

    async def sleep(self, dt_s: float, stop: asyncio.Event | None = None) -> bool:
        """Wait ``dt_s`` seconds of session time; True when ``stop`` was set first."""
        return await self.sleep_until(self.now() + dt_s, stop)


class VirtualClock(SessionClock):
    """A session clock that jumps instead of sleeping: replays run as fast as the CPU allows.

    For tests and batch replays; time only moves when something sleeps.
    """

    def __init__(self, start_s: float = 0.0) -> None:
        super().__init__(1.0)
        self._t = float(start_s)

    def start(self) -> None:
        """Nothing to do: virtual time is always running."""

    def advance(self, dt_s: float) -> None:
        """Move virtual time forward by ``dt_s`` seconds (never backwards)."""
        self._t += max(0.0, float(dt_s))

    def now(self) -> float:
        """Virtual session time in s."""
        return self._t

    async def sleep_until(self, t_s: float, stop: asyncio.Event | None = None) -> bool:
        """Jump to ``t_s`` (never backwards) and yield to the event loop once."""
        if stop is not None and stop.is_set():
            return True
        self._t = max(self._t, float(t_s))
        await asyncio.sleep(0)
        return stop is not None and stop.is_set()


PlacementKind = Literal["first", "continuous", "gap", "overlap", "reset", "jump"]


@dataclass(frozen=True)
class FramePlacement:
    """Where a frame's first sample sits on the session clock.

    ``t0_s`` session time of the first sample (s); ``gap_s`` missing time before the frame
    (s, 0 when none) starting at ``gap_start_s``; ``kind`` what the device timestamps said;
    ``message`` a readable reason when the timestamps were not simply continuous.
    """

    t0_s: float
    kind: PlacementKind
    gap_s: float = 0.0
    gap_start_s: float = 0.0
    message: str = ""


class DeviceClock:
    """Places timestamped device frames on the session clock without ever moving it backwards.

    The first frame is anchored to the host: its first sample sits at arrival minus the
    frame's duration after it. Each later frame is compared with the previous one in
    *device* time (so slow drift between device and host never builds up): continuous
    frames follow on sample by sample; a forward step larger than ``tolerance_s`` is a gap
    (frames lost); a step back is a clock reset; a step that would put samples more than
    ``max_skew_s`` ahead of the host clock is a jump. After a reset or a jump the clock is
    re-anchored to the host and the missing host time, if any, is reported as a gap.
    """

    def __init__(self, fs: float, *, tolerance_s: float | None = None, max_skew_s: float = 5.0) -> None:
        if not fs > 0:
            raise ValueError("fs must be positive")
        self.fs = float(fs)
        self.tolerance_s = max(2.0 / fs, 0.02) if tolerance_s is None else float(tolerance_s)
        self.max_skew_s = float(max_skew_s)
        self._last_dev_s: float | None = None
        self._last_n = 0
        self._next_s = 0.0

    @property
    def next_s(self) -> float:
        """Session time (s) just after the last placed sample."""
        return self._next_s

    def place(self, device_first_s: float, n: int, arrival_s: float) -> FramePlacement:
        """Place a frame of ``n`` samples whose first sample the device stamped ``device_first_s`` (s).

        ``arrival_s`` is the session time the frame arrived (just after its last sample).
        """
        host_first = max(0.0, arrival_s - (n - 1) / self.fs)
        if self._last_dev_s is None:
            return self._commit(FramePlacement(host_first, "first"), device_first_s, n)
        expected = self._last_dev_s + self._last_n / self.fs
        step = device_first_s - expected
        if device_first_s <= self._last_dev_s:
            msg = f"device clock went back {self._last_dev_s - device_first_s:.3f} s (reset); re-anchored to the host"
            return self._commit(self._reanchor(host_first, "reset", msg), device_first_s, n)
        if step > self.tolerance_s and self._next_s + step > arrival_s + self.max_skew_s:
            msg = f"device clock jumped ahead {step:.3f} s past the host clock; re-anchored to the host"
            return self._commit(self._reanchor(host_first, "jump", msg), device_first_s, n)
        if step > self.tolerance_s:
            msg = f"{step:.3f} s of samples missing (device timestamps)"
            return self._commit(FramePlacement(self._next_s + step, "gap", step, self._next_s, msg), device_first_s, n)
        if step < -self.tolerance_s:
            msg = f"frame overlaps the previous one by {-step:.3f} s; placed after it"
            return self._commit(FramePlacement(self._next_s, "overlap", message=msg), device_first_s, n)
        return self._commit(FramePlacement(self._next_s, "continuous"), device_first_s, n)

    def _reanchor(self, host_first: float, kind: PlacementKind, message: str) -> FramePlacement:
        t0 = max(self._next_s, host_first)
        gap = t0 - self._next_s
        if gap > self.tolerance_s:
            return FramePlacement(t0, kind, gap, self._next_s, message)
        return FramePlacement(self._next_s, kind, message=message)

    def _commit(self, placement: FramePlacement, device_first_s: float, n: int) -> FramePlacement:
        if placement.message:
            logger.warning("device clock: %s", placement.message)
        self._last_dev_s = device_first_s
        self._last_n = n
        self._next_s = placement.t0_s + n / self.fs
        return placement
