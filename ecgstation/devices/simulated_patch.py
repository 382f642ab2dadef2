"""A simulated ECG patch: replays a real record in real time through a declared byte protocol, with faults.

Each frame of ``chunk_s`` seconds is encoded with a :class:`FrameSpec` (24-bit signed
big-endian counts of 1 µV, 16-bit sequence, lead-status byte, XOR checksum), "sent", and
decoded back by the same decoder a real open-hardware patch uses, so the byte path is
exercised. Faults (:class:`FaultPlan`) act on the device side: lead-off flags, noise
bursts, lost packets, link drops and a late first ECG frame. Deterministic for a ``seed``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ecgstation.core.recording import Recording
from ecgstation.devices.clock import SessionClock
from ecgstation.devices.declared_frame import FrameSpec
from ecgstation.devices.errors import DeviceError
from ecgstation.devices.events import DeviceStatus, SourceEvent
from ecgstation.devices.frame_events import DeclaredFrameHandler
from ecgstation.devices.reconnect import ReconnectingSource
from ecgstation.devices.replay_common import LeadChoice, check_chunk, check_speed, load_recording, select_leads

__all__ = ["Disconnect", "FaultPlan", "Interval", "NoiseBurst", "SimulatedPatch"]

logger = logging.getLogger(__name__)


class Interval(NamedTuple):
    """A stretch of record time: from ``start_s`` for ``duration_s`` seconds."""

    start_s: float
    duration_s: float

    @property
    def end_s(self) -> float:
        """End of the stretch (s)."""
        return self.start_s + self.duration_s


class Disconnect(NamedTuple):
    """The link drops at ``at_s`` (session s) and the patch is out of reach for ``duration_s``."""

    at_s: float
    duration_s: float


@dataclass(frozen=True)
class NoiseBurst:
    """Noise added from ``start_s`` for ``duration_s`` s at ``snr_db`` (signal RMS over noise RMS, dB).

    ``kind``: NSTDB electrode motion (``"em"``) or muscle artefact (``"ma"``) when the
    database is at hand, otherwise (or with ``"gaussian"``) seeded Gaussian noise plus a
    0.3 Hz baseline wander.
    """

    start_s: float
    duration_s: float
    snr_db: float = 0.0
    kind: Literal["em", "ma", "gaussian"] = "em"


@dataclass(frozen=True)
class FaultPlan:
    """Faults injected into a :class:`SimulatedPatch` (times in s of record/session time).

    ``lead_off`` stretches when the device flags an electrode off (its samples are sent
    flat and arrive as NaN); ``noise`` bursts; ``loss_probability`` per frame and
    ``loss_times_s`` (the frames holding these times are dropped); ``corrupt_times_s`` (the
    frames holding these times arrive with a flipped bit: refused, then a gap); ``disconnects``;
    ``first_ecg_delay_s`` how long after each connection the first ECG frame comes.
    """

    lead_off: tuple[Interval | tuple[float, float], ...] = ()
    noise: tuple[NoiseBurst, ...] = ()
    loss_probability: float = 0.0
    loss_times_s: tuple[float, ...] = ()
    corrupt_times_s: tuple[float, ...] = ()
    disconnects: tuple[Disconnect | tuple[float, float], ...] = ()
    first_ecg_delay_s: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.loss_probability < 1.0:
            raise DeviceError(f"packet loss probability {self.loss_probability} is outside 0-1")
        if self.first_ecg_delay_s < 0:
            raise DeviceError("first ECG delay cannot be negative")
        for start, dur in [*self.lead_off, *self.disconnects]:
            if dur <= 0 or start < 0:
                raise DeviceError(f"fault at {start} s for {dur} s: times must be >= 0 and durations > 0")


def _noise_dir() -> Path | None:
    root = os.environ.get("ECGSTATION_DATA")
    return Path(root) / "nstdb" if root else None


@lru_cache(maxsize=4)
def _nstdb_noise(path: str, fs: float) -> NDArray[np.float32]:
    from ecgstation.core.filters import resample
    from ecgstation.io import read_recording

    rec = read_recording(path)
    return resample(rec.signals[0], rec.fs, fs)


class SimulatedPatch:
    """A simulated patch replaying ``source`` (a Recording or a path) at ``speed`` x real time (1-60).

    ``lead``: index, name or ``"all"``. Sample time is session time (replay time 0 =
    session time 0) at the record's own ``fs``. Link drops go through a
    :class:`~ecgstation.devices.reconnect.ReconnectingSource` (back-off in session
    seconds), so the consumer sees ``disconnected``, ``reconnecting`` and a ``gap``.
    ``clock`` replaces the default ``SessionClock(speed)`` (a VirtualClock replays at CPU
    speed). ``noise_dir`` holds NSTDB ``em``/``ma`` (default ``$ECGSTATION_DATA/nstdb``).
    """

    def __init__(
        self,
        source: Recording | str | Path,
        *,
        lead: LeadChoice = 0,
        speed: float = 1.0,
        chunk_s: float = 0.25,
        faults: FaultPlan | None = None,
        seed: int = 0,
        clock: SessionClock | None = None,
        noise_dir: str | Path | None = None,
        battery_pct: int = 87,
        max_attempts: int = 5,
        backoff_s: float = 1.0,
        lead_off_fill: Literal["nan", "flat"] = "nan",
    ) -> None:
        self.speed = check_speed(speed)
        self.recording = load_recording(source)
        signals, self.lead_names = select_leads(self.recording, lead)
        self.fs = self.recording.fs
        self.faults = faults if faults is not None else FaultPlan()
        self.seed = int(seed)
        self.battery_pct = battery_pct
        self.lead_off_fill = lead_off_fill
        frame_n = check_chunk(chunk_s, self.fs)
        self.spec = FrameSpec(
            sync=b"\xa5\x5a",
            seq_bytes=2,
            sample_bytes=3,
            byte_order="big",
            signed=True,
            samples_per_frame=frame_n,
            channels=len(self.lead_names),
            gain_uv_per_count=1.0,
            lead_status=True,
            checksum=True,
        )
        self.frame_s = frame_n / self.fs
        self.n_frames = signals.shape[1] // frame_n
        label = Path(self.recording.source_path).stem if self.recording.source_path else "recording"
        if isinstance(source, (str, Path)):
            label = Path(source).stem
        self.name = f"simulated patch: {label}"
        self.clock = clock if clock is not None else SessionClock(self.speed)
        nd = Path(noise_dir) if noise_dir is not None else _noise_dir()
        self._counts = self._device_counts(signals, nd)
        rng = np.random.default_rng(self.seed)
        self._lost = rng.random(self.n_frames) < self.faults.loss_probability
        for t in self.faults.loss_times_s:
            k = int(t // self.frame_s)
            if 0 <= k < self.n_frames:
                self._lost[k] = True
        self._corrupt = {int(t // self.frame_s) for t in self.faults.corrupt_times_s}
        self._stop = asyncio.Event()
        self._links = 0
        self._reconnecting = ReconnectingSource(
            self._new_link,
            max_attempts=max_attempts,
            backoff_s=backoff_s,
            max_backoff_s=8 * backoff_s,
            clock=self.clock,
        )

    # -- device side -------------------------------------------------------------------
    def _device_counts(self, signals: NDArray[np.float32], noise_dir: Path | None) -> NDArray[np.int64]:
        """What the device digitises: the record plus noise bursts, in counts of 1 µV."""
        sig = np.array(signals[:, : self.n_frames * self.spec.samples_per_frame], dtype=np.float64)
        rng = np.random.default_rng([self.seed, 1])
        for burst in self.faults.noise:
            a = max(0, round(burst.start_s * self.fs))
            b = min(sig.shape[1], round((burst.start_s + burst.duration_s) * self.fs))
            if b - a < 2:
                continue
            noise = self._noise(burst, b - a, noise_dir, rng)
            for row in sig[:, a:b]:
                p_sig = float(np.nanvar(row))
                p_noise = float(np.var(noise))
                if p_noise > 0 and p_sig > 0:
                    row += noise * math.sqrt(p_sig / (p_noise * 10 ** (burst.snr_db / 10)))
        bad = ~np.isfinite(sig)
        sig[bad] = 0.0
        lo, hi = self.spec.count_range
        counts: NDArray[np.int64] = np.clip(np.rint(sig * 1000.0), lo, hi).astype(np.int64)
        return counts

    def _noise(
        self, burst: NoiseBurst, n: int, noise_dir: Path | None, rng: np.random.Generator
    ) -> NDArray[np.float64]:
        if burst.kind != "gaussian" and noise_dir is not None and (noise_dir / f"{burst.kind}.hea").is_file():
            real = _nstdb_noise(str(noise_dir / f"{burst.kind}.hea"), self.fs).astype(np.float64)
            if real.size > n:
                start = int(rng.integers(0, real.size - n))
                return real[start : start + n] - real[start : start + n].mean()
            logger.info("NSTDB %s shorter than the burst; using Gaussian noise", burst.kind)
        elif burst.kind != "gaussian":
            logger.info("NSTDB %s not found (set ECGSTATION_DATA); using Gaussian noise", burst.kind)
        t = np.arange(n) / self.fs
        return rng.standard_normal(n) + 2.0 * np.sin(2 * np.pi * 0.3 * t + rng.uniform(0, 2 * np.pi))

    def _lead_off(self, k: int) -> bool:
        a, b = k * self.frame_s, (k + 1) * self.frame_s
        return any(start < b and start + dur > a for start, dur in self.faults.lead_off)

    def frame_bytes(self, k: int) -> bytes:
        """The bytes the patch sends for frame ``k`` (lead-off frames carry flat samples)."""
        n = self.spec.samples_per_frame
        off = self._lead_off(k)
        counts = np.zeros((self.spec.channels, n), np.int64) if off else self._counts[:, k * n : (k + 1) * n]
        data = self.spec.encode(k, counts, lead_off=off)
        if k in self._corrupt:
            garbled = bytearray(data)
            garbled[self.spec.header_bytes] ^= 0x04  # one bit flipped in the first sample
            data = bytes(garbled)
        return data

    def _outage(self, t_s: float) -> Disconnect | None:
        for at, dur in self.faults.disconnects:
            if at <= t_s < at + dur:
                return Disconnect(at, dur)
        return None

    def _new_link(self) -> _SimulatedLink:
        self._links += 1
        return _SimulatedLink(self, self._links)

    # -- EcgSource ---------------------------------------------------------------------
    def events(self) -> AsyncIterator[SourceEvent]:
        """The patch's events, across simulated link drops and reconnects."""
        self.clock.start()
        return self._reconnecting.events()

    async def close(self) -> None:
        """Stop the replay; the events end with ``disconnected`` ("closed")."""
        self._stop.set()
        await self._reconnecting.close()


class _SimulatedLink:
    """One connection to the simulated patch (ends when the link drops or the record ends)."""

    def __init__(self, patch: SimulatedPatch, number: int) -> None:
        self.patch = patch
        self.number = number
        self.name = patch.name
        self.fs = patch.fs
        self.lead_names = patch.lead_names
        self.finished = False

    async def events(self) -> AsyncIterator[SourceEvent]:
        p = self.patch
        clock = p.clock
        now = clock.now()
        yield DeviceStatus("connecting", now)
        outage = p._outage(now)
        if outage is not None:
            raise DeviceError(
                f"{p.name} is out of reach (simulated link down {outage.at_s:g}-{outage.at_s + outage.duration_s:g} s)"
            )
        yield DeviceStatus("connected", now, message=p.name)
        yield DeviceStatus("battery", now, float(p.battery_pct))
        yield DeviceStatus("device_info", now, message=f"{p.name}; leads {', '.join(p.lead_names)}; {p.fs:g} Hz")
        # the record starts at session time 0 on the first connection; later ones join the running record
        ecg_from = now if self.number > 1 else 0.0
        if p.faults.first_ecg_delay_s > 0:
            yield DeviceStatus("waiting_for_ecg", now)
            ecg_from += p.faults.first_ecg_delay_s
        k0 = max(0, math.ceil(ecg_from / p.frame_s - 1e-9))
        handler = DeclaredFrameHandler(
            p.spec, p.fs, origin=(k0 % p.spec.seq_modulus, k0 * p.frame_s), lead_off_fill=p.lead_off_fill
        )
        drops = sorted(at for at, _ in p.faults.disconnects if at >= now)
        for k in range(k0, p.n_frames):
            end = (k + 1) * p.frame_s
            if drops and drops[0] < end:
                if await clock.sleep_until(drops[0], p._stop):
                    self.finished = True
                    return
                logger.info("%s: simulated link drop at %.2f s", p.name, drops[0])
                yield DeviceStatus("disconnected", clock.now(), message="link lost (simulated)")
                return
            if await clock.sleep_until(end, p._stop):
                self.finished = True
                return
            if p._lost[k]:
                logger.debug("%s: frame %d dropped (simulated packet loss)", p.name, k)
                continue
            for ev in handler.on_packet(p.frame_bytes(k), clock.now()):
                yield ev
        self.finished = True
        yield DeviceStatus("disconnected", clock.now(), message="end of record")

    async def close(self) -> None:
        self.patch._stop.set()
