"""What the replaying sources share: loading a record, choosing leads, checking the speed."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from ecgstation.core.errors import EcgStationError
from ecgstation.core.recording import Recording
from ecgstation.devices.errors import DeviceError

__all__ = ["MAX_SPEED", "MIN_SPEED", "LeadChoice", "check_speed", "load_recording", "select_leads"]

#: Replay speeds accepted (x real time).
MIN_SPEED = 1.0
MAX_SPEED = 60.0

LeadChoice = int | str | Literal["all"]


def load_recording(source: Recording | str | Path) -> Recording:
    """The recording itself, or the one read from ``source`` (a path); DeviceError when unreadable."""
    if isinstance(source, Recording):
        return source
    from ecgstation.io import read_recording

    try:
        return read_recording(source)
    except EcgStationError as exc:
        raise DeviceError(f"Cannot replay {source}: {exc}") from exc


def select_leads(rec: Recording, lead: LeadChoice) -> tuple[NDArray[np.float32], tuple[str, ...]]:
    """Signals ``(leads, n)`` in mV and their names: one lead by index or name, or ``"all"``."""
    if isinstance(lead, str) and lead.lower() == "all":
        return rec.signals, rec.lead_names
    try:
        idx = rec.lead_index(lead) if isinstance(lead, str) else int(lead)
        if not 0 <= idx < rec.n_leads:
            raise IndexError(idx)
    except (KeyError, IndexError) as exc:
        raise DeviceError(f"lead {lead!r} is not in this record (leads: {', '.join(rec.lead_names)})") from exc
    return rec.signals[idx : idx + 1], (rec.lead_names[idx],)


def check_speed(speed: float) -> float:
    """``speed`` as a float; DeviceError outside 1x-60x."""
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise DeviceError(f"replay speed {speed:g}x is outside {MIN_SPEED:g}x-{MAX_SPEED:g}x")
    return float(speed)


def check_chunk(chunk_s: float, fs: float) -> int:
    """Samples per chunk of ``chunk_s`` seconds at ``fs`` Hz; DeviceError when under one sample or over 10 s."""
    n = round(chunk_s * fs)
    if n < 1 or chunk_s > 10.0:
        raise DeviceError(f"chunk length {chunk_s:g} s must hold at least one sample and last at most 10 s")
    return n
