"""QRS complex detection for any number of leads at any sampling rate from 100 to 1000 Hz.

Design (offline, non-causal, zero-phase throughout, so no group delay to undo):

1. Feature. Each lead is band-passed to the QRS band (zero-phase Butterworth) and
   differentiated; the absolute slope is smoothed over a QRS-width window. Each
   lead's feature is scaled by its own robust QRS level, then the leads are summed
   with weights from a local signal-quality estimate so a noisy lead does not drown
   a clean one.
2. Candidates are the local maxima of the combined feature.
3. Decision. A candidate is a beat when it exceeds a fraction of the local QRS level
   (a robust percentile of block maxima in a window looking both back and ahead).
   Within the refractory period only the stronger survives; a candidate in the
   T-wave zone of a beat must have QRS-like slope to survive.
4. Search-back. Long gaps relative to the local RR are searched again with a lower
   threshold, as Pan and Tompkins' search-back does, but with both neighbours known.
5. Location. Each detection is placed on the R peak: the sample of largest absolute
   band-passed amplitude in the dominant lead near the feature maximum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage
from scipy import signal as sps

from ecgstation.core.errors import SignalError
from ecgstation.core.filters import bandpass, resample

MIN_FS_HZ = 100.0
MAX_FS_HZ = 1000.0


@dataclass(frozen=True)
class QrsConfig:
    """Physiological settings of the detector, in seconds and Hz (converted to samples once).

    refractory_s: no two QRS complexes closer than this (s).
    t_zone_s: a candidate this close after a beat must show QRS-like slope (s).
    """

    band_hz: tuple[float, float] = (6.0, 25.0)
    smooth_s: float = 0.10
    refractory_s: float = 0.20
    t_zone_s: float = 0.36
    level_block_s: float = 1.0
    level_window_s: float = 10.0
    level_percentile: float = 75.0
    threshold: float = 0.20
    searchback_threshold: float = 0.15
    searchback_rr_factor: float = 1.5
    t_slope_ratio: float = 0.5
    locate_s: float = 0.06
    strong_threshold: float = 0.4
    shape_correlation: float = 0.7
    shape_half_s: float = 0.05
    shape_lag_s: float = 0.02
    memory_beats: int = 8
    noise_floor_weight: float = 1.0
    chunk_s: float = 600.0
    chunk_pad_s: float = 30.0
    extra_span_factor: float = 1.25
    extra_short_factor: float = 0.7


@dataclass(frozen=True)
class _Samples:
    """The configuration converted to samples at one sampling rate."""

    smooth: int
    refractory: int
    t_zone: int
    block: int
    locate: int
    shape_half: int
    shape_lag: int

    @classmethod
    def of(cls, cfg: QrsConfig, fs: float) -> _Samples:
        def n(s: float) -> int:
            return max(1, int(round(s * fs)))

        return cls(
            n(cfg.smooth_s),
            n(cfg.refractory_s),
            n(cfg.t_zone_s),
            n(cfg.level_block_s),
            n(cfg.locate_s),
            n(cfg.shape_half_s),
            n(cfg.shape_lag_s),
        )


def _moving_average(x: NDArray[np.float64], width: int) -> NDArray[np.float64]:
    return ndimage.uniform_filter1d(x, size=width, axis=-1, mode="nearest")


def _blocks(feature: NDArray[np.float64], block: int, how: str) -> NDArray[np.float64]:
    """Per-block maxima or medians of ``feature`` along the last axis (last block may be short)."""
    n = feature.shape[-1]
    nb = -(-n // block)
    padded = np.full(feature.shape[:-1] + (nb * block,), np.nan)
    padded[..., :n] = feature
    shaped = padded.reshape(feature.shape[:-1] + (nb, block))
    return np.nanmax(shaped, axis=-1) if how == "max" else np.nanmedian(shaped, axis=-1)


def _sliding_percentile(per_block: NDArray[np.float64], window_blocks: int, pct: float) -> NDArray[np.float64]:
    """Percentile over a centred window of blocks (edges reflected), one value per block."""
    nb = per_block.shape[-1]
    half = window_blocks // 2
    mode: Literal["reflect", "edge"] = "reflect" if nb > half else "edge"
    edge = np.pad(per_block, [(0, 0)] * (per_block.ndim - 1) + [(half, half)], mode=mode)
    windows = np.lib.stride_tricks.sliding_window_view(edge, 2 * half + 1, axis=-1)
    return np.percentile(windows, pct, axis=-1)


def _to_samples(per_block: NDArray[np.float64], block: int, n: int) -> NDArray[np.float64]:
    return np.repeat(per_block, block, axis=-1)[..., :n]


def _qrs_band(x: NDArray[np.float64], fs: float, cfg: QrsConfig) -> NDArray[np.float64]:
    low, high = cfg.band_hz
    return bandpass(x, fs, low, high, order=2).astype(np.float64)


def _slope_feature(band: NDArray[np.float64], fs: float, smooth: int) -> NDArray[np.float64]:
    return _moving_average(np.abs(np.gradient(band, axis=-1)) * fs, smooth)


def qrs_feature(signals: ArrayLike, fs: float, config: QrsConfig | None = None) -> NDArray[np.float64]:
    """Per-lead QRS feature (smoothed absolute slope of the QRS band), shape (leads, samples), in mV/s."""
    cfg = config or QrsConfig()
    x = np.atleast_2d(np.asarray(signals, dtype=np.float64))
    return _slope_feature(_qrs_band(x, fs, cfg), fs, _Samples.of(cfg, fs).smooth)


def _validate(signals: ArrayLike, fs: float) -> NDArray[np.float64]:
    """float64 (leads, samples) copy of one block, non-finite samples set to 0 mV."""
    x = np.atleast_2d(np.asarray(signals, dtype=np.float64))
    bad = ~np.isfinite(x)
    if bad.any():
        x = np.where(bad, 0.0, x)
    return x


def _lead_scales(feat: NDArray[np.float64], block: int, window_blocks: int, pct: float) -> NDArray[np.float64]:
    """Per-lead, per-block factors (leads, blocks) that scale each lead to its local QRS level and
    weight it by its local quality: how far its QRS level stands above its background (median)
    slope, penalised where that level jumps far above the lead's usual level (motion artifact)."""
    level_b = _sliding_percentile(_blocks(feat, block, "max"), window_blocks, pct)
    background_b = _sliding_percentile(_blocks(feat, block, "median"), window_blocks, 50.0)
    floor = np.maximum(np.median(level_b, axis=-1, keepdims=True) * 0.05, 1e-9)
    level_b = np.maximum(level_b, floor)
    ratio = level_b / np.maximum(background_b, 1e-3 * level_b)
    usual = np.median(level_b, axis=-1, keepdims=True)
    near_b = _sliding_percentile(_blocks(feat, block, "max"), 3, 100.0)
    jump = np.minimum(1.0, 3.0 * usual / np.maximum(level_b, near_b)) ** 4
    # A lead that falls quiet (saturated amplifier, electrode off) shows no QRS near here.
    presence = np.minimum(1.0, near_b / level_b) ** 2
    weight_b = np.clip(ratio - 1.5, 0.0, None) ** 2 * jump * presence + 1e-6
    weight_b = weight_b / weight_b.sum(axis=0, keepdims=True)
    return weight_b / level_b


def detect_qrs(signals: ArrayLike, fs: float, config: QrsConfig | None = None) -> NDArray[np.int64]:
    """R-peak sample indices (int64, ascending) of the QRS complexes in ``signals``.

    ``signals``: one lead ``(samples,)`` or ``(leads, samples)`` in mV, sampled at ``fs``
    Hz. The detector is designed and validated for 100-1000 Hz; other rates are
    resampled (to 250 Hz below that range, to 500 Hz above it) and the peaks mapped
    back to the input's samples. Non-finite samples are treated as 0 mV. A record
    shorter than one second yields no beats. Long records are processed in blocks of
    ``config.chunk_s`` seconds with ``config.chunk_pad_s`` seconds of context either
    side, so memory stays bounded for 24 h recordings.
    """
    cfg = config or QrsConfig()
    if not np.isfinite(fs) or fs <= 0:
        raise SignalError(f"QRS detection needs a positive sampling rate, got {fs} Hz")
    arr = np.asarray(signals)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise SignalError("signals must be one lead (samples,) or (leads, samples)")
    n = arr.shape[1]
    if not MIN_FS_HZ <= fs <= MAX_FS_HZ:
        work_fs = 250.0 if fs < MIN_FS_HZ else 500.0
        if n < int(fs):
            return np.zeros(0, dtype=np.int64)
        peaks = detect_qrs(resample(np.nan_to_num(arr.astype(np.float64)), fs, work_fs), work_fs, cfg)
        return np.unique(np.clip(np.round(peaks * (fs / work_fs)), 0, n - 1).astype(np.int64))
    chunk = max(int(cfg.chunk_s * fs), int(fs))
    pad = int(cfg.chunk_pad_s * fs)
    if n <= chunk + 2 * pad:
        return _detect_block(arr, fs, cfg)
    parts = []
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        lo, hi = max(0, start - pad), min(n, stop + pad)
        found = _detect_block(arr[:, lo:hi], fs, cfg) + lo
        parts.append(found[(found >= start) & (found < stop)])
    peaks = np.concatenate(parts)
    if peaks.size > 1:  # a beat straddling a block edge may be found by both blocks
        keep = np.concatenate([[True], np.diff(peaks) >= _Samples.of(cfg, fs).refractory])
        peaks = peaks[keep]
    return peaks


def _detect_block(signals: ArrayLike, fs: float, cfg: QrsConfig) -> NDArray[np.int64]:
    """Detection on one block of at most ``chunk_s + 2 * chunk_pad_s`` seconds."""
    x = _validate(signals, fs)
    n = x.shape[1]
    if n < int(fs):
        return np.zeros(0, dtype=np.int64)
    s = _Samples.of(cfg, fs)
    band = _qrs_band(x, fs, cfg)
    feat = _slope_feature(band, fs, s.smooth)
    window_blocks = max(3, int(round(cfg.level_window_s / cfg.level_block_s)))
    scale_b = _lead_scales(feat, s.block, window_blocks, cfg.level_percentile)
    combined = (feat * _to_samples(scale_b, s.block, n)).sum(axis=0)
    level = _sliding_percentile(_blocks(combined[None, :], s.block, "max"), window_blocks, cfg.level_percentile)
    level = np.maximum(_to_samples(level, s.block, n)[0], 1e-9)

    # Noise raises the floor between beats; express every candidate above that floor.
    floor_b = _sliding_percentile(_blocks(combined[None, :], s.block, "median"), 3, 50.0)
    floor = _to_samples(floor_b, s.block, n)[0]
    cand, _ = sps.find_peaks(combined, distance=max(1, s.refractory // 4))
    rel = (combined[cand] - cfg.noise_floor_weight * floor[cand]) / level[cand]
    shapes = _Shapes(band * _to_samples(np.sqrt(scale_b), s.block, n), s.shape_half, s.shape_lag)
    beats = _decide(cand, rel, shapes, s, cfg)
    beats = _prune_extras(beats, cand, rel, cfg)
    beats = _search_back(beats, cand, rel, s, cfg)
    return _locate(x, fs, cand[beats], s)


class _Shapes:
    """QRS-band segments around candidates, for shape comparison with recent beats."""

    def __init__(self, sig: NDArray[np.float64], half: int, lag: int) -> None:
        self.sig = sig
        self.half = half
        self.lag = lag
        self.n = sig.shape[1]

    def segment(self, pos: int, extra: int = 0) -> NDArray[np.float64]:
        """Leads x (2 * (half + extra) + 1) samples around ``pos``."""
        idx = np.clip(np.arange(pos - self.half - extra, pos + self.half + extra + 1), 0, self.n - 1)
        return self.sig[:, idx]

    def best_correlation(self, pos: int, memory: list[NDArray[np.float64]]) -> float:
        """Largest correlation of the candidate at ``pos`` with any remembered beat, over small lags."""
        wide = self.segment(pos, self.lag)
        width = 2 * self.half + 1
        views = np.lib.stride_tricks.sliding_window_view(wide, width, axis=1)  # (leads, lags, width)
        views = np.transpose(views, (1, 0, 2)).reshape(views.shape[1], -1)
        views = views - views.mean(axis=1, keepdims=True)
        views /= np.linalg.norm(views, axis=1, keepdims=True) + 1e-12
        mem = np.stack([m.ravel() for m in memory])
        mem = mem - mem.mean(axis=1, keepdims=True)
        mem /= np.linalg.norm(mem, axis=1, keepdims=True) + 1e-12
        return float((views @ mem.T).max())


def _decide(
    cand: NDArray[np.int64], rel: NDArray[np.float64], shapes: _Shapes, s: _Samples, cfg: QrsConfig
) -> NDArray[np.int64]:
    """Indices into ``cand`` accepted as beats: strong candidates outright, middling ones only when
    their shape matches one of the recent beats."""
    idx = np.flatnonzero(rel >= cfg.threshold)
    kept: list[int] = []
    memory: list[NDArray[np.float64]] = []
    for i in idx:
        if kept:
            j = kept[-1]
            gap = cand[i] - cand[j]
            if gap < s.refractory:
                if rel[i] > rel[j]:
                    kept[-1] = int(i)
                    memory[-1] = shapes.segment(int(cand[i]))
                continue
            if gap < s.t_zone and rel[i] < cfg.t_slope_ratio * rel[j]:
                continue
        if rel[i] < cfg.strong_threshold and len(memory) >= 3:
            if shapes.best_correlation(int(cand[i]), memory) < cfg.shape_correlation:
                continue
        kept.append(int(i))
        memory.append(shapes.segment(int(cand[i])))
        if len(memory) > cfg.memory_beats:
            memory.pop(0)
    return np.asarray(kept, dtype=np.int64)


def _prune_extras(
    beats: NDArray[np.int64], cand: NDArray[np.int64], rel: NDArray[np.float64], cfg: QrsConfig
) -> NDArray[np.int64]:
    """Drop a weak detection that splits an otherwise normal RR interval into two short ones.

    A true premature beat resets the rhythm (its neighbours lie further apart than one RR);
    a noise spike inside a regular rhythm does not.
    """
    if beats.size < 5:
        return beats
    pos = cand[beats].astype(np.float64)
    local_rr = ndimage.median_filter(np.diff(pos), size=17, mode="nearest")
    keep = np.ones(beats.size, dtype=bool)
    prev = 0
    for k in range(1, beats.size - 1):
        rr = local_rr[min(k, local_rr.size - 1)]
        span = pos[k + 1] - pos[prev]
        shortest = min(pos[k] - pos[prev], pos[k + 1] - pos[k])
        if (
            rel[beats[k]] < cfg.strong_threshold
            and span < cfg.extra_span_factor * rr
            and shortest < cfg.extra_short_factor * rr
        ):
            keep[k] = False
            continue
        prev = k
    return beats[keep]


def _search_back(
    beats: NDArray[np.int64], cand: NDArray[np.int64], rel: NDArray[np.float64], s: _Samples, cfg: QrsConfig
) -> NDArray[np.int64]:
    """Add the strongest sub-threshold candidate in each gap much longer than the local RR."""
    if beats.size < 3:
        return beats
    pos = cand[beats]
    rr = np.diff(pos)
    # The mean, not the median: in bigeminy the median RR flips between short and long.
    local_rr = ndimage.uniform_filter1d(rr.astype(np.float64), size=9, mode="nearest")
    added: list[int] = []
    for k in np.flatnonzero(rr > cfg.searchback_rr_factor * local_rr):
        a, b = pos[k] + s.t_zone, pos[k + 1] - s.refractory
        lo, hi = np.searchsorted(cand, a), np.searchsorted(cand, b, side="right")
        if hi <= lo:
            continue
        best = lo + int(np.argmax(rel[lo:hi]))
        if rel[best] >= cfg.searchback_threshold:
            added.append(best)
    if not added:
        return beats
    return np.unique(np.concatenate([beats, np.asarray(added, dtype=np.int64)]))


def _locate(x: NDArray[np.float64], fs: float, pos: NDArray[np.int64], s: _Samples) -> NDArray[np.int64]:
    """Move each detection to the R peak: the largest deflection from the local median, in the
    lead whose QRS there is largest (0.5-40 Hz zero-phase band, ``locate`` samples either side)."""
    if pos.size == 0:
        return pos.astype(np.int64)
    n = x.shape[1]
    y = bandpass(x, fs, 0.5, 40.0, order=2).astype(np.float64)
    offsets = np.arange(-s.locate, s.locate + 1)
    idx = np.clip(pos[:, None] + offsets[None, :], 0, n - 1)
    seg = y[:, idx]  # (leads, beats, window)
    seg = seg - np.median(seg, axis=-1, keepdims=True)
    mag = np.abs(seg)
    lead = np.argmax(mag.max(axis=-1), axis=0)  # (beats,)
    best = mag[lead, np.arange(pos.size)]  # (beats, window)
    r = idx[np.arange(pos.size), np.argmax(best, axis=-1)]
    return np.unique(r).astype(np.int64)
