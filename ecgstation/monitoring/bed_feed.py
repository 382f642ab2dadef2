"""What a bed shows: the last seconds of signal and the bed's state, shared across threads.

The monitoring session (asyncio thread) writes into a :class:`BedFeed`; the UI reads a
:class:`BedSnapshot` from it on its own timer (e.g. 30 times a second). Every method
takes the feed's lock for a few microseconds: copying arrays, never computing.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from ecgstation.devices.events import SampleChunk

__all__ = ["AlarmState", "BedFeed", "BedSnapshot"]


@dataclass(frozen=True)
class AlarmState:
    """An alarm as the bed shows it. ``severity``: "high", "medium" or "low"; times in session s."""

    kind: str
    severity: str
    message: str
    raised_s: float
    alarm_id: int | None = None
    acknowledged_by: str | None = None
    escalation_level: int = 0

    @property
    def active(self) -> bool:
        """True until a named user acknowledged it."""
        return self.acknowledged_by is None


@dataclass(frozen=True)
class BedSnapshot:
    """One consistent read of a bed.

    ``samples`` float32 ``(leads, n)`` in mV, the last ``display_s`` seconds ending at
    session time ``end_s`` (NaN where samples are missing: before the start, in gaps,
    lead-off); ``version`` grows with every change, so a viewer can skip unchanged beds.
    """

    bed: str
    patient: str
    fs: float
    lead_names: tuple[str, ...]
    samples: NDArray[np.float32]
    end_s: float
    version: int
    status: str = "connecting"
    status_message: str = ""
    heart_rate_bpm: float | None = None
    rhythm: str | None = None
    battery_pct: float | None = None
    session_id: int | None = None
    alarms: tuple[AlarmState, ...] = field(default_factory=tuple)

    @property
    def active_alarms(self) -> tuple[AlarmState, ...]:
        """Unacknowledged alarms, highest severity first."""
        order = {"high": 0, "medium": 1, "low": 2}
        return tuple(sorted((a for a in self.alarms if a.active), key=lambda a: (order.get(a.severity, 3), a.raised_s)))


class BedFeed:
    """Ring buffer of the last ``display_s`` seconds plus the bed's state; safe across threads."""

    def __init__(
        self, bed: str, patient: str, fs: float, lead_names: Sequence[str], display_s: float = 10.0
    ) -> None:
        if fs <= 0 or display_s <= 0:
            raise ValueError("fs and display_s must be positive")
        self._lock = threading.Lock()
        self._n = max(1, round(display_s * fs))
        self._buf = np.full((len(lead_names), self._n), np.nan, dtype=np.float32)
        self._written = 0  # samples written since session time 0 (write position = _written % _n)
        self._snap = BedSnapshot(bed, patient, float(fs), tuple(lead_names), self._buf.copy(), 0.0, 0)

    @property
    def fs(self) -> float:
        """Sampling rate of the feed in Hz."""
        return self._snap.fs

    def _advance_to(self, sample_index: int) -> None:
        """Blank (NaN) the samples between the write position and ``sample_index`` (a gap)."""
        missing = sample_index - self._written
        if missing <= 0:
            return
        if missing >= self._n:
            self._buf[:] = np.nan
        else:
            idx = (self._written + np.arange(missing)) % self._n
            self._buf[:, idx] = np.nan
        self._written = sample_index

    def push(self, chunk: SampleChunk) -> None:
        """Write ``chunk`` at its session time; a jump forward leaves NaN (a visible gap)."""
        x = np.asarray(chunk.samples, dtype=np.float32)
        if x.shape[0] != self._buf.shape[0]:
            raise ValueError(f"chunk has {x.shape[0]} leads, the bed shows {self._buf.shape[0]}")
        with self._lock:
            start = round(chunk.t0_s * self._snap.fs)
            self._advance_to(start)
            start = max(start, self._written)  # never write backwards
            skip = start - round(chunk.t0_s * self._snap.fs)
            x = x[:, skip:]
            if x.shape[1] > self._n:
                x = x[:, -self._n :]
                start = start + (chunk.n - skip) - self._n
            idx = (start + np.arange(x.shape[1])) % self._n
            self._buf[:, idx] = x
            self._written = start + x.shape[1]
            self._snap = replace(self._snap, end_s=self._written / self._snap.fs, version=self._snap.version + 1)

    def update(self, **state: object) -> None:
        """Set state fields of the snapshot (``status``, ``status_message``, ``heart_rate_bpm``,
        ``rhythm``, ``battery_pct``, ``session_id``, ``alarms``, ``patient``)."""
        allowed = {"status", "status_message", "heart_rate_bpm", "rhythm", "battery_pct", "session_id", "alarms",
                   "patient"}  # fmt: skip
        unknown = set(state) - allowed
        if unknown:
            raise TypeError(f"unknown bed state {sorted(unknown)}")
        with self._lock:
            self._snap = replace(self._snap, version=self._snap.version + 1, **state)  # type: ignore[arg-type]

    def snapshot(self) -> BedSnapshot:
        """The bed now: the display buffer in time order (oldest first) and its state."""
        with self._lock:
            pos = self._written % self._n
            samples = np.concatenate([self._buf[:, pos:], self._buf[:, :pos]], axis=1)
            return replace(self._snap, samples=samples)
