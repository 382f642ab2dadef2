"""ECG wave delineation: onsets, peaks and ends of P, QRS and T waves per beat (multi-lead)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.ndimage import gaussian_filter1d

from ecgstation.core import filters
from ecgstation.core.errors import SignalError

log = logging.getLogger(__name__)
RR_TOL = 0.15
XM_FRAC = 0.4

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
B8 = NDArray[np.bool_]

#: Fields of :class:`Delineation` that hold per-beat sample indices.
WAVE_FIELDS: tuple[str, ...] = ("p_on", "p_peak", "p_off", "qrs_on", "qrs_off", "t_peak", "t_end")


@dataclass(frozen=True)
class DelineationConfig:
    """Parameters of the delineator; durations in ms, thresholds as fractions."""

    baseline_hz: float = 0.5
    qrs_sigma_ms: float = 4.0
    wave_sigma_ms: float = 14.0
    pre_ms: float = 520.0
    post_ms: float = 900.0
    centre_search_ms: float = 80.0
    centre_sigma_ms: float = 15.0
    qrs_on_range_ms: float = 160.0
    qrs_off_range_ms: float = 200.0
    qrs_gap_ms: float = 20.0
    qrs_gamma: float = 0.1
    qrs_xi_on: float = 0.1
    qrs_xi_off: float = 0.15
    t_start_ms: float = 40.0
    t_rr_frac: float = 0.7
    t_max_ms: float = 800.0
    t_area_ms: float = 120.0
    t_id_sigma_ms: float = 20.0
    t_tail_ms: float = 140.0
    t_xm_ms: float = 1000.0
    t_combine: str = "project"
    p_gap_ms: float = 10.0
    p_after_t_ms: float = 20.0
    p_range_ms: float = 300.0
    p_rr_frac: float = 0.6
    p_slope_ms: float = 80.0
    p_area_ms: float = 80.0
    p_area_off_ms: float = 50.0
    p_min_mv: float = 0.01
    p_consistency: float = 0.5
    p_consistency_beats: int = 4
    p_tol_ms: float = 30.0
    p_combine: str = "project"
    average_beats: int = 4
    align_beats: int = 4
    align_iter: int = 2
    align_max_ms: float = 24.0
    prior_beats: int = 8
    prior_sd_ms: float = 60.0


@dataclass(frozen=True)
class Delineation:
    """Per-beat wave boundaries as int64 sample indices of the input signal; -1 where absent.

    All arrays have one entry per input R peak, in the order given. ``fs`` is the
    sampling rate (Hz) the indices refer to.
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
        return cls(*(np.full(n_beats, -1, dtype=np.int64) for _ in WAVE_FIELDS), fs=float(fs))


# ----------------------------------------------------------------------------- array helpers


def _smooth(x: F64, sigma: float) -> F64:
    """Zero-phase Gaussian smoothing along the last axis with std ``sigma`` samples."""
    if sigma < 0.3:
        return x
    return gaussian_filter1d(x, sigma, axis=-1, mode="nearest", truncate=3.0)


def _deriv(x: F64) -> F64:
    """Central difference along the last axis (zero phase), per sample."""
    out = np.empty_like(x)
    out[..., 1:-1] = 0.5 * (x[..., 2:] - x[..., :-2])
    out[..., 0] = x[..., 1] - x[..., 0]
    out[..., -1] = x[..., -1] - x[..., -2]
    return out


def _take(x: F64, start: I64, length: int) -> F64:
    """Rows ``x[..., s:s+length]`` for every start ``s`` (indices clipped to the signal)."""
    cols = np.clip(start[:, None] + np.arange(length)[None, :], 0, x.shape[-1] - 1)
    return x[..., cols]


def _first_true(mask: B8) -> I64:
    """Column of the first True along the last axis, -1 where none."""
    idx = np.argmax(mask, axis=-1)
    return np.where(mask.any(axis=-1), idx, -1).astype(np.int64)


def _last_true(mask: B8) -> I64:
    """Column of the last True along the last axis, -1 where none."""
    n = mask.shape[-1]
    idx = n - 1 - np.argmax(mask[..., ::-1], axis=-1)
    return np.where(mask.any(axis=-1), idx, -1).astype(np.int64)


def _pick(m: F64, col: I64) -> F64:
    """``m[..., col]`` per row (col clipped into range)."""
    c = np.clip(col, 0, m.shape[-1] - 1)
    c = np.broadcast_to(c, m.shape[:-1])
    return np.take_along_axis(m, c[..., None], axis=-1)[..., 0]


def _argmax_in(m: F64, mask: B8) -> I64:
    """Column of the maximum of ``m`` where ``mask`` holds; -1 where the mask is empty."""
    idx = np.argmax(np.where(mask, m, -np.inf), axis=-1)
    return np.where(mask.any(axis=-1), idx, -1).astype(np.int64)


def _local_max(m: F64) -> B8:
    out = np.zeros(m.shape, dtype=bool)
    out[..., 1:-1] = (m[..., 1:-1] >= m[..., :-2]) & (m[..., 1:-1] > m[..., 2:])
    return out


def _local_min(m: F64) -> B8:
    out = np.zeros(m.shape, dtype=bool)
    out[..., 1:-1] = (m[..., 1:-1] <= m[..., :-2]) & (m[..., 1:-1] < m[..., 2:])
    return out


def _between(cols: I64, lo: I64, hi: I64) -> B8:
    """Mask ``lo <= col < hi`` with ``lo``/``hi`` of shape (..., ) broadcast over the last axis."""
    return (cols >= np.asarray(lo)[..., None]) & (cols < np.asarray(hi)[..., None])


# ----------------------------------------------------------------------------- wave primitives


def _onset_from_slope(
    slope: F64, centre: int, search: int, gamma: float, xi: float, ref: F64, gap: int
) -> I64:
    """Onset column per row of a non-negative slope matrix.

    The complex around ``centre`` is the run of columns whose slope exceeds
    ``gamma * ref``, bridging quiet stretches shorter than ``gap`` columns. Its first
    local slope maximum is the first wave; the onset is where the slope, walking back
    from it, falls below ``xi`` times that maximum or reaches a local minimum.
    """
    n = slope.shape[-1]
    cols = np.arange(n)
    lo = max(0, centre - search)
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
    stop = ((slope <= thr[..., None]) | _local_min(slope)) & (cols < first[..., None]) & (cols >= floor[..., None])
    on = _last_true(stop)
    return np.where(on < 0, floor, on)


def _prominent_peak(
    s: F64, lo: I64, hi: I64, prior: F64 | None = None, prior_sd: float = 0.0
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
    best_col = np.full(s.shape[:-1], -1, dtype=np.int64)
    best_score = np.zeros(s.shape[:-1])
    best_prom = np.zeros(s.shape[:-1])
    best_pol = np.ones(s.shape[:-1])
    for pol in (1.0, -1.0):
        v = pol * s
        vm = np.where(win, v, np.inf)
        left = np.minimum.accumulate(vm, axis=-1)
        right = np.minimum.accumulate(vm[..., ::-1], axis=-1)[..., ::-1]
        prom = v - np.maximum(left, right)
        score = prom if weight is None else prom * weight
        cand = _local_max(v) & win
        col = _argmax_in(score, cand)
        val = np.where(col >= 0, _pick(score, col), 0.0)
        better = val > best_score
        best_col = np.where(better, col, best_col)
        best_score = np.where(better, val, best_score)
        best_prom = np.where(better, _pick(prom, col), best_prom)
        best_pol = np.where(better, pol, best_pol)
    return best_col, best_pol, best_prom


def _running_median(v: I64, half: int) -> F64:
    """Median of the valid (>= 0) values within ``half`` beats either side; NaN if none."""
    nb = v.size
    idx = np.arange(nb)[:, None] + np.arange(-half, half + 1)[None, :]
    inside = (idx >= 0) & (idx < nb)
    vals = v[np.clip(idx, 0, max(nb - 1, 0))].astype(np.float64)
    vals = np.where(inside & (vals >= 0), vals, np.nan)
    have = np.isfinite(vals).sum(axis=1)
    med = np.nanmedian(np.where(have[:, None] > 0, vals, 0.0), axis=1)
    return np.where(have >= min(3, nb), med, np.nan)


def _area_end(s: F64, pol: F64, lo: I64, hi: I64, w: int) -> I64:
    """End of a wave by the area indicator (Zhang et al. 2006) per row.

    Maximises ``pol * sum_{j=k-w+1..k} (s[j] - s[k])`` over ``k`` in ``[lo, hi)``;
    -1 where the range is empty.
    """
    n = s.shape[-1]
    cols = np.arange(n)
    c = np.concatenate([np.zeros(s.shape[:-1] + (1,)), np.cumsum(s, axis=-1)], axis=-1)
    start = np.clip(cols - w + 1, 0, None)
    area = (c[..., cols + 1] - c[..., start]) - (cols - start + 1) * s
    area = np.asarray(pol)[..., None] * area
    return _argmax_in(area, _between(cols, lo, hi))


def _area_onset(s: F64, pol: F64, lo: I64, hi: I64, w: int) -> I64:
    """Onset of a wave by the mirrored area indicator: maximises
    ``pol * sum_{j=k..k+w-1} (s[j] - s[k])`` over ``k`` in ``[lo, hi)``."""
    n = s.shape[-1]
    rev = s[..., ::-1]
    end = _area_end(rev, pol, n - np.asarray(hi), n - np.asarray(lo), w)
    return np.where(end >= 0, n - 1 - end, -1)


# ----------------------------------------------------------------------------- main


def _as_2d(signals: ArrayLike) -> F64:
    x = np.asarray(signals, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise SignalError(f"signals must be 1-D or (leads, samples); got shape {x.shape}")
    return np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)


def _ms(fs: float, ms: float) -> int:
    return int(round(ms * fs / 1000.0))


def _rr(r: I64, fs: float) -> tuple[F64, F64]:
    """Previous and next RR interval (samples) per beat; gaps and ends take the neighbour's."""
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


def _project(s: F64, w: F64) -> F64:
    """Per-beat weighted sum over leads: ``s`` (L, B, W), ``w`` (L, B) -> (B, W)."""
    return np.einsum("lbw,lb->bw", s, w)


def _local_average(
    X: F64, c: I64, rr_prev: F64, rr_next: F64, c0: int, k_max: int, fs: float, include_self: bool = True
) -> F64:
    """Average each beat segment with up to ``k_max`` neighbours on either side that
    look alike (QRS correlation >= 0.9 over all leads, preceding RR within
    ``RR_TOL``, no gap in the beat sequence).

    ``X`` is (L, B, W), aligned on the QRS centres (column ``c0``). Each segment
    only contributes between its own neighbouring QRS complexes, so that a
    neighbour's next beat is never averaged into this beat's T wave.
    """
    nb, width = X.shape[1], X.shape[2]
    a, b = c0 - _ms(fs, 60.0), c0 + _ms(fs, 80.0) + 1
    q = X[:, :, a:b] - X[:, :, a:b].mean(axis=-1, keepdims=True)
    q = np.moveaxis(q, 1, 0).reshape(nb, -1)
    q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    cols = np.arange(width)
    margin = _ms(fs, 100.0)
    span = _between(cols, c0 - rr_prev.astype(np.int64) + margin, c0 + rr_next.astype(np.int64) - margin)
    acc = X * span[None] if include_self else np.zeros_like(X)
    wsum = span.astype(np.float64) if include_self else np.zeros(span.shape)
    idx = np.arange(nb)
    for k in range(1, k_max + 1):
        for sgn in (-1, 1):
            j = idx + sgn * k
            valid = (j >= 0) & (j < nb)
            jc = np.clip(j, 0, nb - 1)
            sim = (q * q[jc]).sum(axis=1)
            ok = valid & (sim >= 0.9) & (np.abs(rr_prev[jc] - rr_prev) <= RR_TOL * rr_prev)
            ok &= np.abs(c[jc] - c) <= k * 2.5 * fs
            m = span[jc] & ok[:, None]
            acc += X[:, jc] * m[None]
            wsum += m
    return np.where(wsum[None] > 0, acc / np.maximum(wsum, 1.0)[None], X)


def _match_shift(beat: F64, tmpl: F64, lo: I64, hi: I64, max_shift: int) -> F64:
    """Delay (samples, sub-sample by parabolic fit) of ``beat`` against ``tmpl`` per beat.

    ``beat`` and ``tmpl`` are (B, W) or (L, B, W); the mean-removed squared difference
    over columns ``[lo, hi)`` (summed over leads) is minimised over integer delays in
    ``[-max_shift, max_shift]``, then refined by a parabola through the minimum.
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
        e = (diff**2).sum(axis=-1) / cnt - mean**2
        err[i] = e.reshape(-1, nb).sum(axis=0)
    k = np.argmin(err, axis=0)
    kc = np.clip(k, 1, shifts.size - 2)
    rows = np.arange(nb)
    e0, e1, e2 = err[kc - 1, rows], err[kc, rows], err[kc + 1, rows]
    den = e0 - 2 * e1 + e2
    frac = np.where(den > 1e-18, 0.5 * (e0 - e2) / np.where(den > 1e-18, den, 1.0), 0.0)
    frac = np.where(k == kc, np.clip(frac, -0.5, 0.5), 0.0)
    return shifts[k] + frac


def _take_frac(x: F64, start: F64, length: int) -> F64:
    """Like :func:`_take` with fractional starts (linear interpolation)."""
    i0 = np.floor(start).astype(np.int64)
    f = (start - i0)[:, None]
    a = _take(x, i0, length + 1)
    return a[..., :-1] * (1.0 - f) + a[..., 1:] * f


def _local_average_q(X: F64, c: I64, rr_prev: F64, k_max: int, fs: float) -> F64:
    """Leave-one-out average of each beat's QRS window ``X`` (L, B, W) over up to
    ``k_max`` similar neighbours either side; the beat itself where none is similar."""
    nb = X.shape[1]
    q = X - X.mean(axis=-1, keepdims=True)
    q = np.moveaxis(q, 1, 0).reshape(nb, -1)
    q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    acc = np.zeros_like(X)
    wsum = np.zeros(nb)
    idx = np.arange(nb)
    for k in range(1, k_max + 1):
        for sgn in (-1, 1):
            j = idx + sgn * k
            valid = (j >= 0) & (j < nb)
            jc = np.clip(j, 0, nb - 1)
            ok = valid & ((q * q[jc]).sum(axis=1) >= 0.9) & (np.abs(c[jc] - c) <= k * 2.5 * fs)
            acc += np.where(ok[None, :, None], X[:, jc], 0.0)
            wsum += ok
    return np.where(wsum[None, :, None] > 0, acc / np.maximum(wsum, 1.0)[None, :, None], X)


def _weights(ok: B8, pol: F64, prom: F64) -> F64:
    """Unit lead weights along the wave's vector of signed prominences (L, B)."""
    w = np.where(ok, pol * prom, 0.0)
    norm = np.sqrt((w**2).sum(axis=0))
    return w / np.where(norm > 0, norm, 1.0)


def _wave_t(
    sw: F64, lead_ok: B8, lo: I64, hi: I64, aw: int, sigma_id: float, refine: int, tail: int,
    prior_half: int, prior_sd: float, xm_max: int,
) -> dict[str, NDArray[np.float64] | NDArray[np.int64]]:
    """T peak and end (columns of ``sw``) per beat; ``sw`` is (L, B, W) smoothed signal."""
    out: dict[str, NDArray[np.float64] | NDArray[np.int64]] = {}
    cols = np.arange(sw.shape[-1])
    swi = _smooth(sw, sigma_id) if sigma_id > 0 else sw
    pk_l, pol_l, prom_l = _prominent_peak(swi, lo, hi)
    out["t_peak_lead"] = pk_l
    out["t_prom_lead"] = prom_l
    wts = _weights(lead_ok, pol_l, prom_l)
    out["t_w"] = wts
    st = _project(sw, wts)
    sti = _project(swi, wts)
    dt = _deriv(st)
    pki, pol, prom = _prominent_peak(sti, lo, hi)
    out["t_peak_first"] = pki
    if prior_half > 0 and pki.size >= 3:
        pki, pol, prom = _prominent_peak(sti, lo, hi, _running_median(pki, prior_half), prior_sd)
    pk = _argmax_in(pol[:, None] * st, _between(cols, np.maximum(pki - refine, lo), np.minimum(pki + refine + 1, hi)))
    down = -pol[:, None] * dt
    after = _between(cols, pk, np.minimum(hi, pk + xm_max))
    gmax = np.max(np.where(after, down, -np.inf), axis=-1)
    first = _first_true(after & _local_max(down) & (down >= XM_FRAC * gmax[:, None]))
    xm = np.where(first >= 0, first, _argmax_in(down, after))
    end_hi = np.minimum(hi, xm + tail)
    end = _area_end(st, pol, np.maximum(xm, pk), end_hi, aw)
    out["t_peak_proj"] = pk
    out["t_end_proj"] = end
    out["t_prom"] = prom
    return out


def _wave_p(
    sw: F64, sw0: F64, lead_ok: B8, lo: I64, hi: I64, ps: int, pa: int, pa_off: int,
    tol: int, cfg: DelineationConfig,
) -> dict[str, NDArray[np.float64] | NDArray[np.int64]]:
    """P onset, peak and offset (columns of ``sw``) per beat; -1 where no P wave is found.

    ``sw`` holds the (averaged) beat segments, ``sw0`` the single beats. A P wave is
    reported when its prominence reaches ``p_min_mv`` and the single beats around it
    show a P peak at the same place (within ``tol`` columns) often enough: waves
    that do not repeat from beat to beat (atrial fibrillation, noise) are dropped.
    """
    out: dict[str, NDArray[np.float64] | NDArray[np.int64]] = {}
    cols = np.arange(sw.shape[-1])
    pk_l, pol_l, prom_l = _prominent_peak(sw, lo, hi)
    wts = _weights(lead_ok, pol_l, prom_l)
    sp = _project(sw, wts)
    dp = _deriv(sp)
    pk, pol, prom = _prominent_peak(sp, lo, hi)
    if cfg.prior_beats > 0 and pk.size >= 3:
        pk, pol, prom = _prominent_peak(sp, lo, hi, _running_median(pk, cfg.prior_beats), tol * 2.0)
    # repeatability of the P peak among the single beats nearby
    pk0, pol0, _ = _prominent_peak(_project(sw0, wts), lo, hi)
    nb = pk.size
    half = cfg.p_consistency_beats
    agree = np.zeros(nb)
    count = np.zeros(nb)
    for k in range(-half, half + 1):
        j = np.arange(nb) + k
        inside = (j >= 0) & (j < nb)
        jc = np.clip(j, 0, nb - 1)
        agree += inside & (np.abs(pk0[jc] - pk) <= tol) & (pol0[jc] == pol) & (pk0[jc] >= 0)
        count += inside
    consistency = agree / np.maximum(count, 1)
    up = pol[:, None] * dp
    xon = _argmax_in(up, _between(cols, pk - ps, pk))
    xoff = _argmax_in(-up, _between(cols, pk + 1, pk + ps))
    on = _area_onset(sp, pol, np.maximum(xon - ps, 0), xon + 1, pa)
    off = _area_end(sp, pol, xoff, xoff + ps, pa_off)
    ok = (prom >= cfg.p_min_mv) & (pk >= 0) & (consistency >= cfg.p_consistency)
    out["p_peak_proj"] = np.where(ok, pk, -1)
    out["p_on_proj"] = np.where(ok & (on >= 0), on, -1)
    out["p_off_proj"] = np.where(ok & (off >= 0), off, -1)
    out["p_prom"] = prom
    out["p_consistency"] = consistency
    return out


def delineate_debug(
    signals: ArrayLike, fs: float, r_peaks: ArrayLike, config: DelineationConfig | None = None
) -> dict[str, NDArray[np.float64] | NDArray[np.int64]]:
    """Combined and per-lead boundaries in input samples (development entry point)."""
    cfg = config or DelineationConfig()
    x = _as_2d(signals)
    r = np.asarray(r_peaks, dtype=np.int64).ravel()
    fs = float(fs)
    n_leads, n = x.shape
    nb = r.size
    out: dict[str, NDArray[np.float64] | NDArray[np.int64]] = {}

    if n > 3 * int(fs) and cfg.baseline_hz > 0:
        xb = filters.highpass(x, fs, cfg.baseline_hz, order=2).astype(np.float64)
    else:
        xb = x - np.median(x, axis=-1, keepdims=True)
    rr_prev, rr_next = _rr(r, fs)

    # --- QRS centre: maximum of the spatial slope near the given R peak.
    sq = cfg.qrs_sigma_ms * fs / 1000.0
    cs = _ms(fs, cfg.centre_search_ms)
    pad = _ms(fs, 30.0)
    seg = _take(xb, r - cs - pad, 2 * (cs + pad) + 1)
    e = _smooth((_deriv(_smooth(seg, sq)) ** 2).sum(axis=0), cfg.centre_sigma_ms * fs / 1000.0)
    c = r - cs + np.argmax(e[:, pad:-pad], axis=-1)

    # --- Beat segments (L, B, W) centred on c.
    pre = _ms(fs, cfg.pre_ms)
    post = _ms(fs, cfg.post_ms)
    width = pre + post + 1
    cols = np.arange(width)
    c0 = pre
    cf = c.astype(np.float64)
    if cfg.align_beats > 0 and nb > 1:
        qa, qb = c0 - _ms(fs, 60.0), c0 + _ms(fs, 80.0) + 1
        ms_ = max(1, _ms(fs, cfg.align_max_ms))
        for _ in range(cfg.align_iter):
            X = _smooth(_take_frac(xb, cf - pre, width)[..., qa - ms_:qb + ms_], sq)
            T = _local_average_q(X, c, rr_prev, cfg.align_beats, fs)
            d = _match_shift(X, T, np.full(nb, ms_), np.full(nb, ms_ + qb - qa), ms_)
            cf = cf + d
        c = np.round(cf).astype(np.int64)
    X = _take_frac(xb, cf - pre, width)

    X0 = X
    if cfg.average_beats > 0 and nb > 1:
        X = _local_average(X, c, rr_prev, rr_next, c0, cfg.average_beats, fs)
    DQ = _deriv(_smooth(X, sq))
    SW = _smooth(X, cfg.wave_sigma_ms * fs / 1000.0)
    DW = _deriv(SW)

    # --- QRS onset / offset on the spatial slope.
    E = np.sqrt((DQ**2).sum(axis=0))
    half = _ms(fs, 80.0)
    ref = E[:, c0 - half:c0 + half + 1].max(axis=-1)
    gap = max(2, _ms(fs, cfg.qrs_gap_ms))
    on_rng = _ms(fs, cfg.qrs_on_range_ms)
    off_rng = _ms(fs, cfg.qrs_off_range_ms)
    qon = _onset_from_slope(E, c0, on_rng, cfg.qrs_gamma, cfg.qrs_xi_on, ref, gap)
    offr = _onset_from_slope(E[:, ::-1], width - 1 - c0, off_rng, cfg.qrs_gamma, cfg.qrs_xi_off, ref, gap)
    qoff = width - 1 - offr
    lead_ok = np.abs(DQ[:, :, c0 - half:c0 + half + 1]).max(axis=-1) > 1e-6  # (L, B)

    # --- T wave: window from the J point to a fraction of the next RR.
    t_lo = qoff + _ms(fs, cfg.t_start_ms)
    t_hi = c0 + np.minimum(cfg.t_rr_frac * rr_next, _ms(fs, cfg.t_max_ms)).astype(np.int64)
    t_hi = np.clip(np.maximum(t_hi, t_lo + _ms(fs, 100.0)), 0, width - 1)
    aw = max(2, _ms(fs, cfg.t_area_ms))
    a = max(0, int(t_lo.min()) - aw - 1) if nb else 0
    b = min(width, int(t_hi.max()) + 2) if nb else width
    out["seg"] = X
    out["seg_start"] = c - c0
    out["t_lo"] = c - c0 + t_lo
    out["t_hi"] = c - c0 + t_hi
    t_res = _wave_t(SW[..., a:b], lead_ok, t_lo - a, t_hi - a, aw, cfg.t_id_sigma_ms * fs / 1000.0, _ms(fs, 40.0), _ms(fs, cfg.t_tail_ms), cfg.prior_beats, cfg.prior_sd_ms * fs / 1000.0, _ms(fs, cfg.t_xm_ms))
    for k, v in t_res.items():
        out[k] = np.where(v >= 0, np.round(cf - c0 + a + v), -1).astype(np.int64) if v.dtype.kind == "i" else v
    # --- P wave: window before the QRS onset, after the previous beat's T wave.
    p_hi = qon - _ms(fs, cfg.p_gap_ms)
    p_lo = np.maximum(qon - _ms(fs, cfg.p_range_ms), c0 - (cfg.p_rr_frac * rr_prev).astype(np.int64))
    # after the previous beat's T end, when the previous beat is the one just before
    te_abs = np.asarray(out["t_end_proj"])
    prev_te = np.full(nb, -1, dtype=np.int64)
    if nb > 1:
        adjacent = (c[1:] - c[:-1]) <= 2.5 * fs
        prev_te[1:] = np.where(adjacent & (te_abs[:-1] >= 0), te_abs[:-1] - (c[1:] - c0), -1)
    p_lo = np.where(prev_te >= 0, np.maximum(p_lo, prev_te + _ms(fs, cfg.p_after_t_ms)), p_lo)
    p_lo = np.clip(np.minimum(p_lo, p_hi - _ms(fs, 60.0)), 1, width - 1)
    ps = _ms(fs, cfg.p_slope_ms)
    pa = max(2, _ms(fs, cfg.p_area_ms))
    a = max(0, int(p_lo.min()) - 2 * ps - pa - 1) if nb else 0
    b = min(width, int(p_hi.max()) + 2 * ps + pa + 2) if nb else width
    SW0 = _smooth(X0[..., a:b], cfg.wave_sigma_ms * fs / 1000.0) if X0 is not X else SW[..., a:b]
    p_res = _wave_p(SW[..., a:b], SW0, lead_ok, p_lo - a, p_hi - a, ps, pa, max(2, _ms(fs, cfg.p_area_off_ms)), _ms(fs, cfg.p_tol_ms), cfg)
    for k, v in p_res.items():
        out[k] = np.where(v >= 0, np.round(cf - c0 + a + v), -1).astype(np.int64) if v.dtype.kind == "i" else v

    out["c"] = c
    out["qrs_on_sp"] = np.round(cf - c0 + qon).astype(np.int64)
    out["qrs_off_sp"] = np.round(cf - c0 + qoff).astype(np.int64)
    out["cf"] = cf
    return out
