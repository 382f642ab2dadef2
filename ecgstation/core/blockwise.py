"""Delineation and quality of long records in blocks, so memory stays bounded (24 h Holter records).

Each block is processed with context on both sides and only its own beats / windows
are kept, then the pieces are joined into one result as if the record had been
processed whole.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ecgstation.core.delineation import Delineation, delineate
from ecgstation.core.quality import QualityReport, assess_quality

_BOUNDARIES = ("p_on", "p_peak", "p_off", "qrs_on", "qrs_off", "t_peak", "t_end")


def delineate_blockwise(
    signals: NDArray[np.float32],
    fs: float,
    r_peaks: NDArray[np.int64],
    block_s: float = 600.0,
    context_s: float = 20.0,
) -> Delineation:
    """``delineate`` in blocks of ``block_s`` seconds with ``context_s`` seconds either side."""
    x = np.atleast_2d(signals)
    n = x.shape[1]
    block, pad = int(block_s * fs), int(context_s * fs)
    if n <= block + 2 * pad:
        return delineate(x, fs, r_peaks)
    parts: dict[str, list[NDArray[np.int64]]] = {name: [] for name in _BOUNDARIES}
    for start in range(0, n, block):
        stop = min(n, start + block)
        lo, hi = max(0, start - pad), min(n, stop + pad)
        inside = (r_peaks >= lo) & (r_peaks < hi)
        own = (r_peaks[inside] >= start) & (r_peaks[inside] < stop)
        piece = delineate(x[:, lo:hi], fs, r_peaks[inside] - lo)
        for name in _BOUNDARIES:
            values = getattr(piece, name)[own]
            parts[name].append(np.where(values >= 0, values + lo, -1))
    joined = {name: np.concatenate(parts[name]).astype(np.int64) for name in _BOUNDARIES}
    return Delineation(fs=fs, **joined)


def assess_quality_blockwise(
    signals: NDArray[np.float32], fs: float, window_s: float, mains_hz: float, block_windows: int = 60
) -> QualityReport:
    """``assess_quality`` on blocks of ``block_windows`` windows, joined into one report."""
    x = np.atleast_2d(signals)
    n = x.shape[1]
    block = int(round(window_s * fs)) * block_windows
    if n <= 2 * block:
        return assess_quality(x, fs, window_s=window_s, mains_hz=mains_hz)
    reports = []
    for start in range(0, n, block):
        stop = n if n - (start + block) < block // 2 else start + block  # no short last block
        reports.append((start, assess_quality(x[:, start:stop], fs, window_s=window_s, mains_hz=mains_hz)))
        if stop == n:
            break
    first = reports[0][1]
    per_window: dict[str, Any] = {
        f.name: np.concatenate([getattr(r, f.name) for _, r in reports], axis=-1)
        for f in dataclasses.fields(QualityReport)
        if isinstance(getattr(first, f.name), np.ndarray) and f.name not in ("window_starts", "window_stops")
    }
    starts = np.concatenate([r.window_starts + off for off, r in reports])
    stops = np.concatenate([r.window_stops + off for off, r in reports])
    return dataclasses.replace(first, window_starts=starts, window_stops=stops, **per_window)
