"""ECG wave delineation: onsets, peaks and ends of P, QRS and T waves per beat (multi-lead).

Method (all filters zero phase, so no wave is shifted in time):

1. Baseline removal (2nd-order Butterworth high-pass at 0.5 Hz, forward-backward).
2. QRS centre per beat: maximum of the smoothed spatial slope energy (all leads) near
   the given R peak, then refined to a fraction of a sample by matching each beat's
   QRS to the average of its similar neighbours.
3. Beat segments aligned on that centre are averaged with up to ``average_beats``
   neighbours on either side that look alike (QRS correlation, preceding RR), each
   neighbour contributing only between its own neighbouring QRS complexes.
4. QRS onset/offset on the spatial slope (root sum of squared derivatives of all
   leads): the complex is the run of significant slope around the centre; the
   boundary is where the slope falls below a fraction of its first/last peak
   (the thresholding rule of Martinez et al., IEEE TBME 2004, on a spatial slope).
5. T and P waves on one combined lead: the leads are projected on the wave's vector
   (signed prominence per lead), so that leads showing the wave well dominate. The
   peak is the most prominent extremum in a window set from the QRS and RR (with a
   soft prior at the running median position of neighbouring beats). Wave ends
   and onsets use the area indicator of Zhang et al. (IEEE TBME 2006) from the
   steepest point of the limb. The T wave of each single beat is then matched
   against the averaged one to follow beat-to-beat changes, and the T end is moved
   part of the way towards the one found on the single beat itself (when near); a
   beat whose T end jumps away from that of its similar neighbours takes their
   median instead.
6. A P wave is reported only when it repeats at the same place in the single beats
   around it (so atrial fibrillation and noise give no P wave).

Durations are given in ms and converted to samples once from the working rate.
Signals sampled below 200 Hz are resampled to 250 Hz and above 500 Hz to 500 Hz
for the analysis; the results are given in samples of the input.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.ndimage import gaussian_filter1d

from ecgstation.core import filters
from ecgstation.core.errors import SignalError

log = logging.getLogger(__name__)

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
FArr = NDArray[np.floating]
B8 = NDArray[np.bool_]

#: Fields of :class:`Delineation` that hold per-beat sample indices.
WAVE_FIELDS: tuple[str, ...] = ("p_on", "p_peak", "p_off", "qrs_on", "qrs_off", "t_peak", "t_end")

#: Sampling rates (Hz) analysed as given; others are resampled into this range.
MIN_WORK_FS = 200.0
MAX_WORK_FS = 500.0
#: Largest number of (lead x beat x sample) values processed at once.
_BLOCK_VALUES = 4_000_000


@dataclass(frozen=True)
class DelineationConfig:
    """Parameters of :func:`delineate`; durations in ms, thresholds as fractions.

    The defaults were set on the QT Database (PhysioNet qtdb, 250 Hz).
    """

    #: High-pass cut-off (Hz) of the zero-phase baseline filter.
    baseline_hz: float = 0.5
    #: Gaussian smoothing (std, ms) before the QRS slope.
    qrs_sigma_ms: float = 7.0
    #: Smoothing (std, ms) of the slope energy used to find the QRS centre.
    centre_sigma_ms: float = 30.0
    #: Search for the QRS centre within this distance of the given R peak (ms).
    centre_search_ms: float = 80.0
    #: Segment kept before / after the QRS centre (ms).
    pre_ms: float = 520.0
    post_ms: float = 900.0
    #: Beats either side used for the sub-sample QRS alignment (0: none).
    align_beats: int = 4
    align_iter: int = 2
    align_max_ms: float = 24.0
    #: Beats either side averaged into each beat's segment (0: single beats).
    average_beats: int = 4
    #: Neighbours must correlate at least this much over the QRS, all leads.
    average_min_corr: float = 0.9
    #: Neighbours' preceding RR must be within this fraction of the beat's.
    average_rr_tol: float = 0.15
    #: QRS search ranges before / after the centre (ms).
    qrs_on_range_ms: float = 160.0
    qrs_off_range_ms: float = 200.0
    #: Slope above ``qrs_gamma`` x its maximum belongs to the QRS; gaps shorter than
    #: ``qrs_gap_ms`` are bridged.
    qrs_gamma: float = 0.1
    qrs_gap_ms: float = 20.0
    #: Onset / offset where the slope falls below this fraction of the first / last peak.
    qrs_xi_on: float = 0.1
    qrs_xi_off: float = 0.25
    #: Smoothing (std, ms) of the T and P waves.
    wave_sigma_ms: float = 14.0
    #: Extra smoothing (std, ms) used to pick the T wave.
    t_id_sigma_ms: float = 20.0
    #: T window: from QRS offset + ``t_start_ms`` to the smaller of ``t_rr_frac`` x RR
    #: and ``t_max_ms`` after the QRS centre.
    t_start_ms: float = 40.0
    t_rr_frac: float = 0.7
    t_max_ms: float = 800.0
    #: Area-indicator window (ms) and longest search after the steepest descent (ms).
    t_area_ms: float = 120.0
    t_tail_ms: float = 140.0
    #: The steepest point of the descending limb: first slope peak above this fraction.
    t_steep_frac: float = 0.4
    #: Share of the single beat's own T-wave shift (vs the averaged beat) kept.
    t_track: float = 0.5
    t_track_pre_ms: float = 60.0
    t_track_post_ms: float = 40.0
    t_track_max_ms: float = 40.0
    #: Share of the gap to the T end found on the single (not averaged) beat kept, when
    #: that end lies within ``t_single_max_ms`` of the averaged beat's (0: off).
    t_single: float = 0.4
    t_single_max_ms: float = 60.0
    #: A beat with similar neighbours whose T end lies further than this (ms) from
    #: their running median takes their median T peak and end (0: off).
    t_outlier_ms: float = 40.0
    #: Beats either side for the running-median position prior, and its width (ms).
    prior_beats: int = 8
    prior_sd_ms: float = 60.0
    #: P window: from the later of QRS onset - ``p_range_ms``, centre - ``p_rr_frac`` x
    #: previous RR and previous T end + ``p_after_t_ms``, to QRS onset - ``p_gap_ms``.
    p_gap_ms: float = 10.0
    p_range_ms: float = 300.0
    p_rr_frac: float = 0.6
    p_after_t_ms: float = 20.0
    #: Search for the steepest P slopes within this distance of the P peak (ms).
    p_slope_ms: float = 80.0
    #: Area-indicator windows (ms) for P onset and offset.
    p_area_on_ms: float = 80.0
    p_area_off_ms: float = 50.0
    #: Smallest P prominence (mV) and repeatability (share of nearby single beats
    #: with a P peak within ``p_tol_ms``) for a P wave to be reported.
    p_min_mv: float = 0.01
    p_consistency: float = 0.5
    p_consistency_beats: int = 4
    p_tol_ms: float = 30.0


@dataclass(frozen=True)
class Delineation:
    """Per-beat wave boundaries as int64 sample indices of the input signal; -1 where absent.

    All arrays have one entry per input R peak, in the order given. ``fs`` is the
    sampling rate (Hz) the indices refer to. P waves are absent where none was
    found (e.g. atrial fibrillation); every boundary of a beat is absent when the
    beat lies outside the signal or all leads are flat there.
    """

    p_on: I64
    p_peak: I64
    p_off: I64
    qrs_on: I64
    qrs_off: I64
    t_peak: I64
    t_end: I64
    fs: float

    def __len__(self) -> int:
        return int(self.qrs_on.size)

    @classmethod
    def empty(cls, n_beats: int, fs: float) -> Delineation:
        """``n_beats`` beats with every boundary absent."""
        def absent() -> I64:
            return np.full(n_beats, -1, dtype=np.int64)

        return cls(absent(), absent(), absent(), absent(), absent(), absent(), absent(), fs=float(fs))


# ----------------------------------------------------------------------------- array helpers


def _ms(fs: float, ms: float) -> int:
    """Duration ``ms`` (ms) in whole samples at ``fs`` Hz."""
    return round(ms * fs / 1000.0)


def _smooth(x: FArr, sigma: float) -> FArr:
    """Zero-phase Gaussian smoothing along the last axis with std ``sigma`` samples."""
    if sigma < 0.3:
        return x
    return gaussian_filter1d(x, sigma, axis=-1, mode="nearest", truncate=3.0)


def _deriv(x: FArr) -> FArr:
    """Central difference along the last axis (zero phase), per sample."""
    out = np.empty_like(x)
    out[..., 1:-1] = 0.5 * (x[..., 2:] - x[..., :-2])
    out[..., 0] = x[..., 1] - x[..., 0]
    out[..., -1] = x[..., -1] - x[..., -2]
    return out


def _take(x: FArr, start: I64, length: int) -> FArr:
    """Rows ``x[..., s:s+length]`` for every start ``s`` (indices clipped to the signal)."""
    cols = np.clip(start[:, None] + np.arange(length)[None, :], 0, x.shape[-1] - 1)
    return x[..., cols]


def _take_frac(x: FArr, start: F64, length: int) -> FArr:
    """Like :func:`_take` with fractional starts (linear interpolation)."""
    i0 = np.floor(start).astype(np.int64)
    f = (start - i0)[:, None].astype(x.dtype)
    a = _take(x, i0, length + 1)
    return a[..., :-1] * (1 - f) + a[..., 1:] * f


def _first_true(mask: B8) -> I64:
    """Column of the first True along the last axis, -1 where none."""
    idx = np.argmax(mask, axis=-1)
    return np.where(mask.any(axis=-1), idx, -1).astype(np.int64)


def _last_true(mask: B8) -> I64:
    """Column of the last True along the last axis, -1 where none."""
    n = mask.shape[-1]
    idx = n - 1 - np.argmax(mask[..., ::-1], axis=-1)
    return np.where(mask.any(axis=-1), idx, -1).astype(np.int64)


def _pick(m: FArr, col: I64) -> FArr:
    """``m[..., col]`` per row (col clipped into range)."""
    c = np.broadcast_to(np.clip(col, 0, m.shape[-1] - 1), m.shape[:-1])
    return np.take_along_axis(m, c[..., None], axis=-1)[..., 0]


def _argmax_in(m: FArr, mask: B8) -> I64:
    """Column of the maximum of ``m`` where ``mask`` holds; -1 where the mask is empty."""
    idx = np.argmax(np.where(mask, m, -np.inf), axis=-1)
    return np.where(mask.any(axis=-1), idx, -1).astype(np.int64)


def _local_max(m: FArr) -> B8:
    out = np.zeros(m.shape, dtype=bool)
    out[..., 1:-1] = (m[..., 1:-1] >= m[..., :-2]) & (m[..., 1:-1] > m[..., 2:])
    return out


def _local_min(m: FArr) -> B8:
    out = np.zeros(m.shape, dtype=bool)
    out[..., 1:-1] = (m[..., 1:-1] <= m[..., :-2]) & (m[..., 1:-1] < m[..., 2:])
    return out


def _between(cols: I64, lo: ArrayLike, hi: ArrayLike) -> B8:
    """Mask ``lo <= col < hi``, with ``lo``/``hi`` per row broadcast over the last axis."""
    return (cols >= np.asarray(lo)[..., None]) & (cols < np.asarray(hi)[..., None])


def _project(s: FArr, w: FArr) -> FArr:
    """Per-beat weighted sum over leads: ``s`` (L, B, W), ``w`` (L, B) -> (B, W)."""
    return np.einsum("lbw,lb->bw", s, w.astype(s.dtype))


# ----------------------------------------------------------------------------- wave primitives


def _onset_from_slope(slope: FArr, centre: int, search: int, gamma: float, xi: float, gap: int) -> I64:
    """Onset column per row of a non-negative slope matrix (B, W).

    The complex around ``centre`` is the run of columns whose slope exceeds ``gamma``
    times the largest slope within ``search`` columns, bridging quiet stretches shorter
    than ``gap`` columns. Its first local slope maximum is the first wave; the onset is
    where the slope, walking back from it, falls below ``xi`` times that maximum or
    reaches a local minimum.
    """
    n = slope.shape[-1]
    cols = np.arange(n)
    lo = max(0, centre - search)
    ref = slope[..., lo:centre + 1].max(axis=-1)
    active = slope > (gamma * ref)[..., None]
    csum = np.concatenate([np.zeros(active.shape[:-1] + (1,)), np.cumsum(active, axis=-1)], axis=-1)
    start = np.clip(cols - gap + 1, 0, None)
    quiet = (csum[..., cols + 1] - csum[..., start]) == 0
    quiet &= (cols >= lo + gap - 1) & (cols < centre)
    q = _last_true(quiet)
    region_lo = np.where(q >= 0, q + 1, lo)
    sig = _local_max(slope) & active & (cols >= region_lo[..., None]) & (cols <= centre)
    first = _first_true(sig)
    first = np.where(first < 0, centre, first)
    thr = xi * _pick(slope, first)
    floor = np.maximum(region_lo - gap, lo)
    stop = (slope <= thr[..., None]) | _local_min(slope)
    stop &= (cols < first[..., None]) & (cols >= floor[..., None])
    on = _last_true(stop)
    return np.where(on < 0, floor, on)


def _prominent_peak(
    s: FArr, lo: I64, hi: I64, prior: F64 | None = None, prior_sd: float = 0.0
) -> tuple[I64, F64, F64]:
    """Most prominent local extremum of ``s`` in columns ``[lo, hi)`` per row.

    Returns (column, polarity +1/-1, prominence in the units of ``s``). Prominence is
    the height above the higher of the lowest points on either side within the
    window (for a trough, the same on ``-s``). With a ``prior`` column per row
    (NaN for none), prominences are weighted by a Gaussian of width ``prior_sd``
    columns around it before choosing. Rows without an extremum give column -1.
    """
    cols = np.arange(s.shape[-1])
    win = _between(cols, lo, hi)
    weight = None
    if prior is not None and prior_sd > 0:
        z = (cols - np.asarray(prior)[..., None]) / prior_sd
        weight = np.where(np.isnan(z), 1.0, np.exp(-0.5 * np.nan_to_num(z) ** 2))
    shape = s.shape[:-1]
    best_col = np.full(shape, -1, dtype=np.int64)
    best_score = np.zeros(shape)
    best_prom = np.zeros(shape)
    best_pol = np.ones(shape)
    for pol in (1.0, -1.0):
        v = s if pol > 0 else -s
        vm = np.where(win, v, np.inf)
        left = np.minimum.accumulate(vm, axis=-1)
        right = np.minimum.accumulate(vm[..., ::-1], axis=-1)[..., ::-1]
        prom = v - np.maximum(left, right)
        score = prom if weight is None else prom * weight
        col = _argmax_in(score, _local_max(v) & win)
        val = np.where(col >= 0, _pick(score, col), 0.0)
        better = val > best_score
        best_col = np.where(better, col, best_col)
        best_score = np.where(better, val, best_score)
        best_prom = np.where(better, _pick(prom, col), best_prom)
        best_pol = np.where(better, pol, best_pol)
    return best_col, best_pol, best_prom


def _decimation(fs: float) -> int:
    """Column step for locating smooth P and T waves (about 125 Hz)."""
    return max(1, int(fs // 125.0))


def _peak_coarse(
    s: FArr, lo: I64, hi: I64, dec: int, prior: F64 | None = None, prior_sd: float = 0.0
) -> tuple[I64, F64, F64]:
    """:func:`_prominent_peak` on every ``dec``-th column of a smooth signal, then the
    extremum refined at full resolution within ``dec`` columns."""
    if dec <= 1:
        return _prominent_peak(s, lo, hi, prior, prior_sd)
    lo_d = (np.asarray(lo) + dec - 1) // dec
    hi_d = (np.asarray(hi) + dec - 1) // dec
    pr = None if prior is None else np.asarray(prior) / dec
    col, pol, prom = _prominent_peak(s[..., ::dec], lo_d, hi_d, pr, prior_sd / dec)
    cols = np.arange(s.shape[-1])
    near = _between(cols, np.maximum(col * dec - dec, lo), np.minimum(col * dec + dec + 1, hi))
    fine = _argmax_in(pol[..., None] * s, near & (col >= 0)[..., None])
    return np.where(col >= 0, fine, -1), pol, prom


def _running_median(v: I64, half: int) -> F64:
    """Median of the valid (>= 0) values within ``half`` beats either side; NaN if < 3."""
    nb = v.size
    idx = np.arange(nb)[:, None] + np.arange(-half, half + 1)[None, :]
    inside = (idx >= 0) & (idx < nb)
    vals = v[np.clip(idx, 0, max(nb - 1, 0))].astype(np.float64)
    vals = np.where(inside & (vals >= 0), vals, np.nan)
    have = np.isfinite(vals).sum(axis=1)
    vals = np.where(have[:, None] > 0, vals, 0.0)
    return np.where(have >= 3, np.nanmedian(vals, axis=1), np.nan)


def _area_end(s: FArr, pol: ArrayLike, lo: ArrayLike, hi: ArrayLike, w: ArrayLike) -> I64:
    """End of a wave by the area indicator (Zhang et al. 2006) per row.

    Maximises ``pol * sum_{j=k-w+1..k} (s[j] - s[k])`` over ``k`` in ``[lo, hi)``;
    -1 where the range is empty.
    """
    n = s.shape[-1]
    cols = np.arange(n)
    c = np.concatenate([np.zeros(s.shape[:-1] + (1,)), np.cumsum(s, axis=-1, dtype=np.float64)], axis=-1)
    if np.ndim(w) == 0:
        start = np.clip(cols - int(np.asarray(w)) + 1, 0, None)
        before = c[..., start]
    else:
        start = np.clip(cols - np.asarray(w)[..., None] + 1, 0, None)
        before = np.take_along_axis(c, np.broadcast_to(start, s.shape), axis=-1)
    area = (c[..., 1:] - before) - (cols - start + 1) * s
    area = np.asarray(pol)[..., None] * area
    return _argmax_in(area, _between(cols, lo, hi))


def _area_onset(s: FArr, pol: ArrayLike, lo: ArrayLike, hi: ArrayLike, w: int) -> I64:
    """Onset of a wave by the mirrored area indicator: maximises
    ``pol * sum_{j=k..k+w-1} (s[j] - s[k])`` over ``k`` in ``[lo, hi)``."""
    n = s.shape[-1]
    end = _area_end(s[..., ::-1], pol, n - np.asarray(hi), n - np.asarray(lo), w)
    return np.where(end >= 0, n - 1 - end, -1)


def _match_shift(beat: FArr, tmpl: FArr, lo: ArrayLike, hi: ArrayLike, max_shift: int) -> F64:
    """Delay (samples, sub-sample by a parabolic fit) of ``beat`` against ``tmpl`` per beat.

    ``beat`` and ``tmpl`` are (B, W) or (L, B, W); the mean-removed squared difference
    over columns ``[lo, hi)`` (summed over leads) is minimised over integer delays in
    ``[-max_shift, max_shift]``.
    """
    width = beat.shape[-1]
    nb = beat.shape[-2]
    cols = np.arange(width)
    mask = _between(cols, lo, hi)
    cnt = np.maximum(mask.sum(axis=-1), 1)
    shifts = np.arange(-max_shift, max_shift + 1)
    err = np.empty((shifts.size, nb))
    for i, dlt in enumerate(shifts):
        src = np.clip(cols - dlt, 0, width - 1)
        diff = np.where(mask, beat - tmpl[..., src], 0.0)
        mean = diff.sum(axis=-1) / cnt
        e = (diff * diff).sum(axis=-1) / cnt - mean * mean
        err[i] = e.reshape(-1, nb).sum(axis=0)
    k = np.argmin(err, axis=0)
    kc = np.clip(k, 1, shifts.size - 2)
    rows = np.arange(nb)
    e0, e1, e2 = err[kc - 1, rows], err[kc, rows], err[kc + 1, rows]
    den = e0 - 2 * e1 + e2
    ok = den > 1e-18
    frac = np.where(ok, 0.5 * (e0 - e2) / np.where(ok, den, 1.0), 0.0)
    frac = np.where(k == kc, np.clip(frac, -0.5, 0.5), 0.0)
    return (shifts[k] + frac).astype(np.float64)


def _weights(ok: B8, pol: F64, prom: F64) -> F64:
    """Unit lead weights (L, B) along the wave's vector of signed prominences."""
    w = np.where(ok, pol * prom, 0.0)
    norm = np.sqrt((w**2).sum(axis=0))
    return w / np.where(norm > 0, norm, 1.0)


# ----------------------------------------------------------------------------- beat stages


def _qrs_unit(q: FArr) -> FArr:
    """Mean-removed, unit-norm QRS vectors per beat from windows (L, B, W) -> (B, L*W)."""
    nb = q.shape[1]
    v = q - q.mean(axis=-1, keepdims=True)
    v = np.moveaxis(v, 1, 0).reshape(nb, -1)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def _neighbours(
    unit: FArr, c: I64, rr_prev: F64, k_max: int, fs: float, min_corr: float, rr_tol: float | None
) -> list[tuple[I64, B8]]:
    """For each offset ``k`` in ``+-1..k_max``: (neighbour index, usable) per beat."""
    nb = c.size
    idx = np.arange(nb)
    out = []
    for k in range(1, k_max + 1):
        for sgn in (-1, 1):
            j = idx + sgn * k
            jc = np.clip(j, 0, nb - 1)
            ok = (j >= 0) & (j < nb) & ((unit * unit[jc]).sum(axis=1) >= min_corr)
            ok &= np.abs(c[jc] - c) <= k * 2.5 * fs
            if rr_tol is not None:
                ok &= np.abs(rr_prev[jc] - rr_prev) <= rr_tol * rr_prev
            out.append((jc, ok))
    return out


def _align(xb: FArr, cf: F64, c: I64, rr_prev: F64, fs: float, cfg: DelineationConfig) -> F64:
    """Sub-sample QRS centres: match each beat's QRS to its similar neighbours' average."""
    nb = cf.size
    before, length = _ms(fs, 60.0), _ms(fs, 60.0) + _ms(fs, 80.0) + 1
    m = max(1, _ms(fs, cfg.align_max_ms))
    sq = cfg.qrs_sigma_ms * fs / 1000.0
    for _ in range(cfg.align_iter):
        q = _smooth(_take_frac(xb, cf - before - m, length + 2 * m), sq)
        pairs = _neighbours(_qrs_unit(q[..., m:-m]), c, rr_prev, cfg.align_beats, fs, cfg.average_min_corr, None)
        acc = np.zeros_like(q)
        wsum = np.zeros(nb, dtype=q.dtype)
        for jc, ok in pairs:
            acc += q[:, jc] * ok[None, :, None]
            wsum += ok
        tmpl = np.where(wsum[None, :, None] > 0, acc / np.maximum(wsum, 1)[None, :, None], q)
        d = _match_shift(q, tmpl, m, m + length, m)
        cf = cf + np.where(wsum > 0, d, 0.0)
    return cf


def _local_average(
    X: FArr, c: I64, rr_prev: F64, rr_next: F64, c0: int, fs: float, cfg: DelineationConfig
) -> tuple[FArr, F64]:
    """Average each beat segment (L, B, W) with its similar neighbours.

    Each segment only contributes between its own neighbouring QRS complexes, so that
    a neighbour's next beat is never averaged into this beat's T wave. Also returns
    the number of similar neighbours per beat.
    """
    nb, width = X.shape[1], X.shape[-1]
    cols = np.arange(width)
    margin = _ms(fs, 100.0)
    span = _between(cols, c0 - rr_prev.astype(np.int64) + margin, c0 + rr_next.astype(np.int64) - margin)
    a, b = c0 - _ms(fs, 60.0), c0 + _ms(fs, 80.0) + 1
    unit = _qrs_unit(X[..., a:b])
    acc = X * span[None]
    wsum = span.astype(X.dtype)
    for k in range(1, min(cfg.average_beats, nb - 1) + 1):
        # pairs (i, i + k): beat i gets neighbour i + k and beat i + k gets neighbour i
        ok = (unit[:-k] * unit[k:]).sum(axis=1) >= cfg.average_min_corr
        ok &= np.abs(c[k:] - c[:-k]) <= k * 2.5 * fs
        tol = cfg.average_rr_tol
        ok_fwd = ok & (np.abs(rr_prev[k:] - rr_prev[:-k]) <= tol * rr_prev[:-k])  # i takes i + k
        ok_bwd = ok & (np.abs(rr_prev[:-k] - rr_prev[k:]) <= tol * rr_prev[k:])  # i + k takes i
        m = span[k:] & ok_fwd[:, None]
        acc[:, :-k] += X[:, k:] * m[None]
        wsum[:-k] += m
        m = span[:-k] & ok_bwd[:, None]
        acc[:, k:] += X[:, :-k] * m[None]
        wsum[k:] += m
    n_similar = (wsum[:, c0] - span[:, c0]).astype(np.float64)
    return np.where(wsum[None] > 0, acc / np.maximum(wsum, 1)[None], X), n_similar


def _running_nanmedian(v: F64, half: int) -> F64:
    """Median of the finite values within ``half`` beats either side (the beat itself
    excluded); NaN with fewer than 3 such values."""
    nb = v.size
    offs = np.concatenate([np.arange(-half, 0), np.arange(1, half + 1)])
    idx = np.arange(nb)[:, None] + offs[None, :]
    inside = (idx >= 0) & (idx < nb)
    vals = np.where(inside, v[np.clip(idx, 0, max(nb - 1, 0))], np.nan)
    have = np.isfinite(vals).sum(axis=1)
    vals = np.where(have[:, None] > 0, vals, 0.0)
    return np.where(have >= 3, np.nanmedian(vals, axis=1), np.nan)


def _t_end(s: FArr, pk: I64, pol: F64, hi: I64, steep_frac: float, tail: ArrayLike, aw: ArrayLike) -> I64:
    """T end per row of ``s`` after the peak ``pk`` of polarity ``pol``: the area
    indicator maximum, searched from the first steep point of the descending limb."""
    cols = np.arange(s.shape[-1])
    down = -pol[..., None] * _deriv(s)
    after = _between(cols, pk, hi)
    gmax = np.max(np.where(after, down, -np.inf), axis=-1)
    first = _first_true(after & _local_max(down) & (down >= steep_frac * gmax[..., None]))
    xm = np.where(first >= 0, first, _argmax_in(down, after))
    return _area_end(s, pol, np.maximum(xm, pk), np.minimum(hi, xm + tail), aw)


def _wave_t(
    sw: FArr, sw0: FArr | None, lead_ok: B8, lo: I64, hi: I64, fs: float, cfg: DelineationConfig
) -> tuple[F64, F64, F64]:
    """T peak and end (fractional columns of ``sw``, NaN where absent) per beat, and
    the move of the end towards the single beat's own T end (0 where none).

    ``sw`` holds the smoothed averaged segments (L, B, W), ``sw0`` the single beats
    (None when not averaged).
    """
    cols = np.arange(sw.shape[-1])
    refine = _ms(fs, 40.0)
    dec = _decimation(fs)
    sigma_id = cfg.t_id_sigma_ms * fs / 1000.0
    # lead weights from a coarse, extra-smoothed copy (every dec-th column)
    _, pol_l, prom_l = _prominent_peak(_smooth(sw[..., ::dec], sigma_id / dec), (lo + dec - 1) // dec,
                                       (hi + dec - 1) // dec)
    wts = _weights(lead_ok, pol_l, prom_l)
    st = _project(sw, wts)
    sti = _smooth(st, sigma_id)
    pki, pol, _ = _peak_coarse(sti, lo, hi, dec)
    if cfg.prior_beats > 0 and pki.size >= 3:
        prior = _running_median(pki, cfg.prior_beats)
        pki, pol, _ = _peak_coarse(sti, lo, hi, dec, prior, cfg.prior_sd_ms * fs / 1000.0)
    near = _between(cols, np.maximum(pki - refine, lo), np.minimum(pki + refine + 1, hi))
    pk = _argmax_in(pol[:, None] * st, near & (pki >= 0)[:, None])
    end = _t_end(st, pk, pol, hi, cfg.t_steep_frac, _ms(fs, cfg.t_tail_ms), max(2, _ms(fs, cfg.t_area_ms)))
    ok = (pk >= 0) & (end >= 0) & (wts != 0).any(axis=0)
    shift = np.zeros(pk.size)
    if sw0 is not None and cfg.t_track > 0 and ok.any():
        # follow the single beat: its T-wave delay against the averaged one
        lo_r = np.where(ok, pk - _ms(fs, cfg.t_track_pre_ms), 0)
        hi_r = np.where(ok, end + _ms(fs, cfg.t_track_post_ms), 0)
        a = max(0, int(lo_r[ok].min()) // dec * dec)  # same sampling phase in every block
        b = min(sw.shape[-1], int(hi_r[ok].max()) + 1)
        if b - a > 4 * dec:
            m = max(1, _ms(fs, cfg.t_track_max_ms) // dec)
            beat = _project(sw0[..., a:b:dec], wts)
            d = _match_shift(beat, st[:, a:b:dec], (lo_r - a) // dec, (hi_r - a) // dec + 1, m)
            shift = np.where(ok, cfg.t_track * d * dec, 0.0)
    t_peak = np.where(ok, pk + shift, np.nan)
    t_end = np.where(ok, end + shift, np.nan)
    move = np.zeros(pk.size)
    if sw0 is not None and cfg.t_single > 0 and ok.any():
        # the annotator marks single beats: lean towards the single beat's own T end
        pk0 = np.where(ok, np.round(pk + shift), -1).astype(np.int64)
        end0 = _t_end(_project(sw0, wts), pk0, pol, hi, cfg.t_steep_frac, _ms(fs, cfg.t_tail_ms),
                      max(2, _ms(fs, cfg.t_area_ms)))
        dev = np.where(ok & (end0 >= 0), end0 - np.nan_to_num(t_end), np.inf)
        move = np.where(np.abs(dev) <= _ms(fs, cfg.t_single_max_ms), cfg.t_single * dev, 0.0)
    return t_peak, t_end, move


def _wave_p(
    sw: FArr, sw0: FArr, lead_ok: B8, lo: I64, hi: I64, fs: float, cfg: DelineationConfig
) -> tuple[F64, F64, F64]:
    """P onset, peak and offset (columns of ``sw``, NaN where absent) per beat.

    ``sw`` holds the smoothed (averaged) beat segments, ``sw0`` the single beats. A P
    wave is reported when its prominence reaches ``p_min_mv`` and the single beats
    around it show a P peak at the same place (within ``p_tol_ms``) often enough:
    waves that do not repeat from beat to beat (atrial fibrillation, noise) are dropped.
    """
    cols = np.arange(sw.shape[-1])
    tol = max(1, _ms(fs, cfg.p_tol_ms))
    ps = _ms(fs, cfg.p_slope_ms)
    dec = _decimation(fs)
    _, pol_l, prom_l = _prominent_peak(sw[..., ::dec], (lo + dec - 1) // dec, (hi + dec - 1) // dec)
    wts = _weights(lead_ok, pol_l, prom_l)
    sp = _project(sw, wts)
    pk, pol, prom = _peak_coarse(sp, lo, hi, dec)
    if cfg.prior_beats > 0 and pk.size >= 3:
        pk, pol, prom = _peak_coarse(sp, lo, hi, dec, _running_median(pk, cfg.prior_beats), 2.0 * tol)
    # repeatability of the P peak among the single beats nearby
    pk0, pol0, _ = _peak_coarse(_project(sw0, wts), lo, hi, dec)
    nb = pk.size
    agree = np.zeros(nb)
    count = np.zeros(nb)
    for k in range(-cfg.p_consistency_beats, cfg.p_consistency_beats + 1):
        j = np.arange(nb) + k
        inside = (j >= 0) & (j < nb)
        jc = np.clip(j, 0, nb - 1)
        agree += inside & (pk0[jc] >= 0) & (np.abs(pk0[jc] - pk) <= tol) & (pol0[jc] == pol)
        count += inside
    present = (pk >= 0) & (prom >= cfg.p_min_mv) & (agree >= cfg.p_consistency * np.maximum(count, 1))
    present &= (wts != 0).any(axis=0)
    up = pol[:, None] * _deriv(sp)
    xon = _argmax_in(up, _between(cols, pk - ps, pk))
    xoff = _argmax_in(-up, _between(cols, pk + 1, pk + ps))
    on = _area_onset(sp, pol, np.maximum(xon - ps, 0), xon + 1, max(2, _ms(fs, cfg.p_area_on_ms)))
    off = _area_end(sp, pol, xoff, xoff + ps, max(2, _ms(fs, cfg.p_area_off_ms)))
    present &= (xon >= 0) & (xoff >= 0) & (on >= 0) & (off >= 0)
    nan = np.nan
    return (np.where(present, on, nan), np.where(present, pk, nan), np.where(present, off, nan))


def _rr(r: I64, fs: float) -> tuple[F64, F64]:
    """Previous and next RR interval (samples) per beat; gaps (> 2.5 s) and the ends
    take the neighbour's interval, or the median, or 1 s."""
    rr_max = 2.5 * fs
    d = np.diff(r).astype(np.float64)
    d[(d <= 0) | (d > rr_max)] = np.nan
    rr_next = np.concatenate([d, [np.nan]])
    rr_prev = np.concatenate([[np.nan], d])
    rr_next = np.where(np.isnan(rr_next), rr_prev, rr_next)
    rr_prev = np.where(np.isnan(rr_prev), rr_next, rr_prev)
    med = float(np.nanmedian(d)) if np.isfinite(d).any() else fs
    rr_next = np.clip(np.where(np.isnan(rr_next), med, rr_next), 0.25 * fs, rr_max)
    rr_prev = np.clip(np.where(np.isnan(rr_prev), med, rr_prev), 0.25 * fs, rr_max)
    return rr_prev, rr_next


def _delineate_block(
    xb: FArr, fs: float, r: I64, rr_prev: F64, rr_next: F64, cfg: DelineationConfig
) -> dict[str, F64]:
    """Boundaries (fractional samples of ``xb``, NaN where absent) of consecutive beats ``r``."""
    nb = r.size
    sq = cfg.qrs_sigma_ms * fs / 1000.0

    # QRS centre: maximum of the smoothed spatial slope energy near the given R peak.
    cs = _ms(fs, cfg.centre_search_ms)
    pad = _ms(fs, 3 * cfg.centre_sigma_ms) + 2
    seg = _take(xb, r - cs - pad, 2 * (cs + pad) + 1)
    energy = _smooth((_deriv(_smooth(seg, sq)) ** 2).sum(axis=0), cfg.centre_sigma_ms * fs / 1000.0)
    c = r - cs + np.argmax(energy[:, pad:-pad], axis=-1)
    pre, post = _ms(fs, cfg.pre_ms), _ms(fs, cfg.post_ms)
    width = pre + post + 1
    c0 = pre
    cf = c.astype(np.float64)
    if cfg.align_beats > 0 and nb > 1:
        cf = _align(xb, cf, c, rr_prev, fs, cfg)
        c = np.round(cf).astype(np.int64)

    X = _take_frac(xb, cf - pre, width)
    X0 = X
    n_similar = np.zeros(nb)
    if cfg.average_beats > 0 and nb > 1:
        X, n_similar = _local_average(X, c, rr_prev, rr_next, c0, fs, cfg)

    # QRS onset / offset on the spatial slope of all leads.
    on_rng, off_rng = _ms(fs, cfg.qrs_on_range_ms), _ms(fs, cfg.qrs_off_range_ms)
    margin = _ms(fs, 3 * cfg.qrs_sigma_ms) + 2
    qa, qb = max(0, c0 - on_rng - margin), min(width, c0 + off_rng + margin + 1)
    DQ = _deriv(_smooth(X[..., qa:qb], sq))
    E = np.sqrt((DQ * DQ).sum(axis=0))
    half = _ms(fs, 80.0)
    gap = max(2, _ms(fs, cfg.qrs_gap_ms))
    cq = c0 - qa
    qon = qa + _onset_from_slope(E, cq, on_rng, cfg.qrs_gamma, cfg.qrs_xi_on, gap)
    back = _onset_from_slope(E[:, ::-1], qb - qa - 1 - cq, off_rng, cfg.qrs_gamma, cfg.qrs_xi_off, gap)
    qoff = qb - 1 - back
    lead_ok = np.abs(DQ[:, :, cq - half:cq + half + 1]).max(axis=-1) > 1e-6  # (L, B)
    beat_ok = lead_ok.any(axis=0)

    sigma_w = cfg.wave_sigma_ms * fs / 1000.0
    averaged = X0 is not X

    # T wave: from the J point to a fraction of the next RR.
    t_lo = qoff + _ms(fs, cfg.t_start_ms)
    t_hi = c0 + np.minimum(cfg.t_rr_frac * rr_next, _ms(fs, cfg.t_max_ms)).astype(np.int64)
    t_hi = np.clip(np.maximum(t_hi, t_lo + _ms(fs, 100.0)), 0, width - 1)
    dec = _decimation(fs)  # slices start on a multiple of it: same columns in every block
    edge = _ms(fs, 3 * (cfg.wave_sigma_ms + cfg.t_id_sigma_ms))  # smoothing edge effects stay outside
    a = max(0, int(t_lo.min()) - _ms(fs, cfg.t_area_ms) - edge) // dec * dec
    b = min(width, int(t_hi.max()) + edge)
    sw_t = _smooth(X[..., a:b], sigma_w)
    sw0_t = _smooth(X0[..., a:b], sigma_w) if averaged else None
    t_peak, t_end, t_move = _wave_t(sw_t, sw0_t, lead_ok, t_lo - a, t_hi - a, fs, cfg)
    t_peak += a
    t_end += a
    if cfg.t_outlier_ms > 0 and nb >= 4:
        # a beat like its neighbours whose T wave jumps away from theirs was mis-read
        # (judged before the single-beat move, which is noisier)
        med_end = _running_nanmedian(t_end, cfg.prior_beats)
        med_peak = _running_nanmedian(t_peak, cfg.prior_beats)
        jump = (np.abs(t_end - med_end) > _ms(fs, cfg.t_outlier_ms)) & (n_similar >= 2)
        jump &= np.isfinite(med_end) & np.isfinite(med_peak)
        t_end = np.where(jump, med_end, t_end + t_move)
        t_peak = np.where(jump, med_peak, t_peak)
    else:
        t_end = t_end + t_move

    # P wave: before the QRS onset, after the previous beat's T wave.
    p_hi = qon - _ms(fs, cfg.p_gap_ms)
    p_lo = np.maximum(qon - _ms(fs, cfg.p_range_ms), c0 - (cfg.p_rr_frac * rr_prev).astype(np.int64))
    if nb > 1:
        prev_end = np.full(nb, np.nan)
        adjacent = (c[1:] - c[:-1]) <= 2.5 * fs
        prev_end[1:] = np.where(adjacent, t_end[:-1] - (cf[1:] - cf[:-1]), np.nan)
        after_t = np.nan_to_num(prev_end + _ms(fs, cfg.p_after_t_ms), nan=-1.0).astype(np.int64)
        p_lo = np.maximum(p_lo, after_t)
    p_lo = np.clip(np.minimum(p_lo, p_hi - _ms(fs, 60.0)), 1, width - 1)
    ps = _ms(fs, cfg.p_slope_ms)
    edge = _ms(fs, 3 * cfg.wave_sigma_ms)
    a = max(0, int(p_lo.min()) - 2 * ps - _ms(fs, cfg.p_area_on_ms) - edge) // dec * dec
    b = min(width, int(p_hi.max()) + 2 * ps + _ms(fs, cfg.p_area_off_ms) + edge)
    sw_p = _smooth(X[..., a:b], sigma_w)
    sw0_p = _smooth(X0[..., a:b], sigma_w) if averaged else sw_p
    p_on, p_peak, p_off = _wave_p(sw_p, sw0_p, lead_ok, p_lo - a, p_hi - a, fs, cfg)

    offset = cf - c0
    res = {
        "p_on": p_on + a + offset,
        "p_peak": p_peak + a + offset,
        "p_off": p_off + a + offset,
        "qrs_on": qon + offset,
        "qrs_off": qoff + offset,
        "t_peak": t_peak + offset,
        "t_end": t_end + offset,
    }
    res = {k: np.where(beat_ok, v, np.nan) for k, v in res.items()}
    return res


def _as_2d(signals: ArrayLike) -> NDArray[np.float32]:
    x = np.asarray(signals, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise SignalError(f"signals must be 1-D or (leads, samples); got shape {x.shape}")
    return np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)


def _sanitise(pos: dict[str, F64]) -> None:
    """Drop waves whose boundaries are out of order (in place; NaN = absent)."""
    qon, qoff = pos["qrs_on"], pos["qrs_off"]
    bad_q = ~(qon < qoff)
    for k, v in pos.items():
        pos[k] = np.where(bad_q, np.nan, v)
    p_ok = (pos["p_on"] < pos["p_peak"]) & (pos["p_peak"] < pos["p_off"]) & (pos["p_off"] <= pos["qrs_on"])
    for k in ("p_on", "p_peak", "p_off"):
        pos[k] = np.where(p_ok, pos[k], np.nan)
    t_ok = (pos["t_peak"] > pos["qrs_off"]) & (pos["t_end"] > pos["t_peak"])
    for k in ("t_peak", "t_end"):
        pos[k] = np.where(t_ok, pos[k], np.nan)


def delineate(
    signals: ArrayLike, fs: float, r_peaks: ArrayLike, config: DelineationConfig | None = None
) -> Delineation:
    """Delineate the P, QRS and T waves of every beat.

    ``signals``: ECG in mV, float array of shape (leads, samples) or (samples,).
    ``fs``: sampling rate in Hz (100-1000 Hz tested; others are accepted).
    ``r_peaks``: sample indices (int) of the QRS complexes, one per beat, e.g. from the
    QRS detector; they need only fall within the QRS (+-80 ms of its centre).

    Returns a :class:`Delineation` with one entry per given R peak (same order), in
    samples of the input, -1 where a boundary is absent or cannot be measured. All
    leads are used together (see the module docstring). Never raises on a valid
    signal: empty, flat or one-beat inputs give absent boundaries where nothing can
    be measured. Raises :class:`SignalError` for a wrong shape or a non-positive ``fs``.
    """
    cfg = config or DelineationConfig()
    fs = float(fs)
    if not np.isfinite(fs) or fs <= 0:
        raise SignalError(f"sampling rate {fs!r} Hz must be positive")
    x = _as_2d(signals)
    r_in = np.asarray(r_peaks).ravel()
    if r_in.size and not np.issubdtype(r_in.dtype, np.number):
        raise SignalError("r_peaks must be sample indices")
    r_in = np.round(r_in.astype(np.float64)).astype(np.int64) if r_in.size else np.zeros(0, np.int64)
    n_beats = r_in.size
    result = Delineation.empty(n_beats, fs)
    n = x.shape[-1]
    valid = (r_in >= 0) & (r_in < n)
    if n_beats == 0 or n < 4 or not valid.any() or not np.any(np.ptp(x, axis=-1) > 0):
        return result

    work_fs = fs
    if fs < MIN_WORK_FS:
        work_fs = 250.0
    elif fs > MAX_WORK_FS:
        work_fs = MAX_WORK_FS
    scale = work_fs / fs
    xw = filters.resample(x, fs, work_fs) if work_fs != fs else x
    nw = xw.shape[-1]
    if nw > 3 * int(work_fs) and cfg.baseline_hz > 0:
        xb = filters.highpass(xw, work_fs, cfg.baseline_hz, order=2)
    else:
        xb = (xw - np.median(xw, axis=-1, keepdims=True)).astype(np.float32)

    idx = np.flatnonzero(valid)
    order = idx[np.argsort(r_in[idx], kind="stable")]
    r = np.clip(np.round(r_in[order] * scale).astype(np.int64), 0, nw - 1)
    rr_prev, rr_next = _rr(r, work_fs)

    width = _ms(work_fs, cfg.pre_ms) + _ms(work_fs, cfg.post_ms) + 1
    block = max(64, _BLOCK_VALUES // max(1, xb.shape[0] * width))
    ctx = max(cfg.average_beats, cfg.align_beats, cfg.prior_beats, cfg.p_consistency_beats) + 1
    pos = {k: np.full(r.size, np.nan) for k in WAVE_FIELDS}
    for s in range(0, r.size, block):
        e = min(r.size, s + block)
        a, b = max(0, s - ctx), min(r.size, e + ctx)
        part = _delineate_block(xb, work_fs, r[a:b], rr_prev[a:b], rr_next[a:b], cfg)
        for k in WAVE_FIELDS:
            pos[k][s:e] = part[k][s - a:e - a]
    _sanitise(pos)
    log.debug("delineated %d beats, %d leads at %g Hz (analysed at %g Hz)", r.size, x.shape[0], fs, work_fs)

    out = {}
    for k in WAVE_FIELDS:
        v = pos[k] / scale
        good = np.isfinite(v)
        vi = np.where(good, np.round(np.where(good, v, 0.0)), -1).astype(np.int64)
        vi[(vi < 0) | (vi >= n)] = -1
        full = np.full(n_beats, -1, dtype=np.int64)
        full[order] = vi
        out[k] = full
    return Delineation(**out, fs=fs)
