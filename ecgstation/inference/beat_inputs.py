"""Inputs of the beat classifier: per-beat waveform windows and RR / context features.

Shared by the application and the training code (``converters/beat_dataset.py``), so a
model sees at run time exactly what it was trained on.

The context features are computed per record (patient adaptation without labels): RR
intervals relative to the local and long-term rhythm, and the beat's morphology relative
to the record's dominant ("template") beat, i.e. the median of the beats that look like
the record's commonest beat and are not premature.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from ecgstation.core.filters import resample

__all__ = ["ALL_FEATURES", "MODEL_FS", "NORMALISATION", "RR_FEATURES", "WINDOW", "WINDOW_START_S",
           "beat_features"]

MODEL_FS = 180.0
WINDOW = 128
WINDOW_START_S = -0.35
PRE = round(-WINDOW_START_S * MODEL_FS)  # 63 samples before the R peak
MIN_SCALE_MV = 0.05
LONG_S = 150.0  # half-width of the long-term rhythm window
GRID_S = 5.0  # long-term percentiles evaluated on this time grid
# every feature beat_features can compute, in this order
ALL_FEATURES = [
    "pre_rr_s", "post_rr_s", "local_rr_s", "long_rr_s",
    "pre_over_local", "post_over_pre", "pre_over_long", "local_over_long",
    "log_scale_over_record_scale", "corr_with_record_median_beat",
    "pre_over_long_p90", "post_over_long_p90",
    "pre_over_local_median", "post_over_local_median", "pre_over_long_median",
    "pre_over_prev_pre", "local_rr_cv",
    "log_scale_over_template_scale", "corr_template", "corr_template_p", "corr_template_qrs",
    "corr_template_t", "rms_diff_p", "rms_diff_qrs", "rms_diff_t", "qrs_width_s",
    "qrs_width_over_template",
]
# the features the shipped model uses (a selection of ALL_FEATURES, in this order): only
# per-record relative ones; the absolute intervals (s) generalised worse across patients in
# the DS1 cross-validation (converters/train_beat_classifier.py, variant v3_relative)
RR_FEATURES = [f for f in ALL_FEATURES
               if f not in ("pre_rr_s", "post_rr_s", "local_rr_s", "long_rr_s", "qrs_width_s")]
NORMALISATION = (
    "first lead resampled to 180 Hz; 128 samples from 0.35 s before the R peak; "
    "subtract the window median, divide by max((p99-p1)/2, 0.05 mV)"
)
# template regions in window samples (R peak at PRE): P wave -0.33..-0.1 s, QRS +-0.1 s,
# T wave +0.1..+0.36 s
_P = slice(PRE - 60, PRE - 18)
_QRS = slice(PRE - 18, PRE + 18)
_T = slice(PRE + 18, WINDOW)
_WID = slice(PRE - 27, PRE + 27)


def _corr(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    ac = a - a.mean(axis=1, keepdims=True)
    bc = b - b.mean()
    return (ac @ bc) / (np.linalg.norm(ac, axis=1) * np.linalg.norm(bc) + 1e-9)


def _width(w: NDArray[np.float64]) -> NDArray[np.float64]:
    """RMS duration (s) of the QRS slope energy within +-0.15 s of the R peak."""
    e = np.diff(w[..., _WID], axis=-1) ** 2
    tt = np.arange(e.shape[-1], dtype=np.float64)
    tot = e.sum(axis=-1) + 1e-12
    c = (e * tt).sum(axis=-1) / tot
    var = (e * (tt - c[..., None]) ** 2).sum(axis=-1) / tot
    return np.sqrt(var) / MODEL_FS


def beat_features(
    lead: NDArray[np.floating], fs: float, peaks: NDArray[np.integer],
    names: list[str] | None = None,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """(waveforms (n, 1, WINDOW) float32, context features (n, len(RR_FEATURES)) float32).

    ``lead`` is the first lead in mV at ``fs`` Hz, ``peaks`` the R-peak samples.
    ``names`` selects other columns of ``ALL_FEATURES`` (default ``RR_FEATURES``).
    """
    names = RR_FEATURES if names is None else names
    n_feat = len(names)
    peaks = np.asarray(peaks, dtype=np.int64)
    if len(peaks) == 0:
        return np.zeros((0, 1, WINDOW), np.float32), np.zeros((0, n_feat), np.float32)
    x = resample(np.asarray(lead, dtype=np.float32), fs, MODEL_FS)
    pos = np.round(peaks * (MODEL_FS / fs)).astype(np.int64)
    padded = np.pad(x, (WINDOW, WINDOW), mode="edge")
    idx = pos[:, None] - PRE + WINDOW + np.arange(WINDOW)[None, :]
    w = padded[idx].astype(np.float64)
    w -= np.median(w, axis=1, keepdims=True)
    p1, p99 = np.percentile(w, [1, 99], axis=1)
    scale = np.maximum((p99 - p1) / 2.0, MIN_SCALE_MV)
    w /= scale[:, None]

    t = peaks / fs
    n = len(t)
    rr = np.diff(t)
    if n < 2:
        rr = np.array([1.0])
    rr = np.maximum(rr, 1e-3)
    pre = np.concatenate([[rr[0]], rr])[:n]
    post = np.concatenate([rr, [rr[-1]]])[:n]
    prev_pre = np.concatenate([[pre[0]], pre[:-1]])
    # local mean of the 10 RRs centred on the beat
    k = 10
    cs = np.concatenate([[0.0], np.cumsum(pre)])
    lo = np.clip(np.arange(n) - k // 2, 0, None)
    hi = np.clip(lo + k, None, n)
    lo = np.clip(hi - k, 0, None)
    local = (cs[hi] - cs[lo]) / np.maximum(hi - lo, 1)
    # local median and spread of the 21 pre-RRs centred on the beat (edge-padded)
    win = sliding_window_view(np.pad(pre, (10, 10), mode="edge"), 21)
    local_med = np.median(win, axis=1)
    win10 = sliding_window_view(np.pad(pre, (5, 5), mode="edge"), 11)
    local_cv = win10.std(axis=1) / win10.mean(axis=1)
    # long mean over +-150 s
    lo_l = np.searchsorted(t, t - LONG_S)
    hi_l = np.searchsorted(t, t + LONG_S)
    long_ = (cs[hi_l] - cs[lo_l]) / np.maximum(hi_l - lo_l, 1)
    # median and 90th percentile of the RRs within +-150 s of a 5 s time grid (nearest grid
    # point per beat): the slowest common rhythm, robust where ectopic beats dominate the mean
    grid = np.arange(t[0], t[-1] + GRID_S, GRID_S)
    g_lo = np.searchsorted(t, grid - LONG_S)
    g_hi = np.searchsorted(t, grid + LONG_S)
    g_q = np.array([np.percentile(pre[a:b], [50, 90]) if b > a else [np.nan, np.nan]
                    for a, b in zip(g_lo, g_hi)])
    gi = np.clip(np.round((t - t[0]) / GRID_S).astype(np.int64), 0, len(grid) - 1)
    long_med = g_q[gi, 0]
    p90 = g_q[gi, 1]
    bad = ~np.isfinite(p90)
    long_med[bad] = pre[bad]
    p90[bad] = pre[bad]

    med_beat = np.median(w, axis=0)
    corr = _corr(w, med_beat)
    # the record's template beat: median of beats like the commonest beat and not premature
    prem = pre / local_med
    typical = (corr > 0.9) & (prem > 0.85)
    if typical.sum() < 8:
        typical = corr >= np.median(corr)
    tmpl = np.median(w[typical], axis=0)
    tmpl_scale = np.median(scale[typical])
    d2 = (w - tmpl) ** 2
    width = _width(w)
    tmpl_width = float(_width(tmpl))
    cols = {
        "pre_rr_s": pre, "post_rr_s": post, "local_rr_s": local, "long_rr_s": long_,
        "pre_over_local": pre / local, "post_over_pre": post / pre, "pre_over_long": pre / long_,
        "local_over_long": local / long_,
        "log_scale_over_record_scale": np.log(scale / np.median(scale)),
        "corr_with_record_median_beat": corr,
        "pre_over_long_p90": pre / p90, "post_over_long_p90": post / p90,
        "pre_over_local_median": prem, "post_over_local_median": post / local_med,
        "pre_over_long_median": pre / long_med, "pre_over_prev_pre": pre / prev_pre,
        "local_rr_cv": local_cv,
        "log_scale_over_template_scale": np.log(scale / tmpl_scale),
        "corr_template": lambda: _corr(w, tmpl),
        "corr_template_p": lambda: _corr(w[:, _P], tmpl[_P]),
        "corr_template_qrs": lambda: _corr(w[:, _QRS], tmpl[_QRS]),
        "corr_template_t": lambda: _corr(w[:, _T], tmpl[_T]),
        "rms_diff_p": lambda: np.sqrt(d2[:, _P].mean(axis=1)),
        "rms_diff_qrs": lambda: np.sqrt(d2[:, _QRS].mean(axis=1)),
        "rms_diff_t": lambda: np.sqrt(d2[:, _T].mean(axis=1)),
        "qrs_width_s": width, "qrs_width_over_template": width / max(tmpl_width, 1e-4),
    }
    feats = np.stack([c() if callable(c) else c for c in (cols[k] for k in names)], axis=1)
    feats = np.nan_to_num(feats, nan=0.0, posinf=0.0, neginf=0.0)
    return w[:, None, :].astype(np.float32), feats.astype(np.float32)
