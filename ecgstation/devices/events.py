"""What every ECG source yields: sample chunks and status events, on one session clock.

Times are seconds on the **session clock**: 0.0 is when the source was opened, advanced by
the host's monotonic clock (never by the device's clock, which can reset or jump); a
device timestamp may refine where a chunk sits but a source never moves time backwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

__all__ = ["BeatIntervals", "DeviceStatus", "EcgSource", "SampleChunk", "SourceEvent", "StatusKind"]

StatusKind = Literal[
    "connecting",  # trying to reach the device
    "connected",  # link up (BLE connected, file opened)
    "waiting_for_ecg",  # connected, no ECG samples yet (Polar H10: up to 30 s)
    "streaming",  # first samples received
    "lead_off",  # electrodes off / no skin contact
    "lead_on",  # contact back
    "battery",  # value: battery level in %
    "gap",  # samples missing: t_s = start of the gap, value = its length in s
    "disconnected",  # link lost (or closed: message says which)
    "reconnecting",  # value: attempt number
    "device_info",  # message: manufacturer/model/serial/firmware
    "error",  # a frame or command was refused; message gives the reason; the stream goes on
]


@dataclass(frozen=True)
class SampleChunk:
    """Consecutive samples: ``samples`` float32 ``(leads, n)`` in mV at ``fs`` Hz.

    ``t0_s`` is the session-clock time of the first sample; ``seq`` counts chunks from 0
    as the source produced them (a jump means chunks were lost; the source also emits a
    ``gap`` status). NaN marks samples the device flagged invalid (e.g. lead-off).
    """

    samples: NDArray[np.float32]
    fs: float
    t0_s: float
    seq: int

    @property
    def n(self) -> int:
        """Number of samples per lead."""
        return int(self.samples.shape[1])

    @property
    def end_s(self) -> float:
        """Session-clock time just after the last sample."""
        return self.t0_s + self.n / self.fs


@dataclass(frozen=True)
class DeviceStatus:
    """A change of the source's state at session time ``t_s`` (see :data:`StatusKind`)."""

    kind: StatusKind
    t_s: float
    value: float | None = None
    message: str = ""


@dataclass(frozen=True)
class BeatIntervals:
    """Heart rate and RR intervals from a strap that sends no ECG (BLE Heart Rate Service).

    ``t_s`` is when the packet arrived (session clock; the RRs may be seconds older);
    ``rr_s`` the RR intervals in s, oldest first (empty when the packet had none);
    ``heart_rate_bpm`` as the device reported it; ``contact`` None when not supported.
    """

    t_s: float
    heart_rate_bpm: float
    rr_s: tuple[float, ...] = ()
    contact: bool | None = None


SourceEvent = SampleChunk | DeviceStatus | BeatIntervals


@runtime_checkable
class EcgSource(Protocol):
    """A live or replayed ECG source.

    ``name`` identifies the device (e.g. "Polar H10 8C4D2E1A" or "simulated: mitdb/207");
    ``fs`` (Hz) and ``lead_names`` describe the samples it will send. ``events()`` is an
    async iterator that runs until the source is closed or gives up reconnecting; it never
    raises for a bad frame (that is an ``error`` status) and ends with a ``disconnected``
    status. ``close()`` stops it (for BLE: sends the stop command, then disconnects).
    """

    name: str
    fs: float
    lead_names: tuple[str, ...]

    def events(self) -> AsyncIterator[SourceEvent]: ...

    async def close(self) -> None: ...
