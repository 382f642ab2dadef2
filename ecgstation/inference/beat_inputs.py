"""Inputs of the beat classifier: per-beat waveform windows and RR-context features.

Shared by the application (``ecgstation.inference.beat_labels``) and the training code
(``converters/beat_dataset.py``), so a model sees at run time exactly what it was trained on.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ecgstation.core.filters import resample

__all__ = ["MODEL_FS", "NORMALISATION", "RR_FEATURES", "WINDOW", "WINDOW_START_S", "beat_features"]

MODEL_FS = 180.0
WINDOW = 128
WINDOW_START_S = -0.35
PRE = round(-WINDOW_START_S * MODEL_FS)  # 63 samples before the R peak
MIN_SCALE_MV = 0.05
RR_FEATURES = [
    "pre_rr_s", "post_rr_s", "local_rr_s", "long_rr_s",
    "pre_over_local", "post_over_pre", "pre_over_long", "local_over_long",
    "log_scale_over_record_scale", "corr_with_record_median_beat",
    "pre_over_long_p90", "post_over_long_p90",
]
NORMALISATION = (
    "first lead resampled to 180 Hz; 128 samples from 0.35 s before the R peak; "
    "subtract the window median, divide by max((p99-p1)/2, 0.05 mV)"
)


def beat_features(
    lead: NDArray[np.floating], fs: float, peaks: NDArray[np.integer]
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """(waveforms (n, 1, WINDOW) float32, rr features (n, len(RR_FEATURES)) float32).

    ``lead`` is the first lead in mV at ``fs`` Hz, ``peaks`` the R-peak samples.
    """
    n_feat = len(RR_FEATURES)
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
    pre = np.concatenate([[rr[0]], rr])[:n]
    post = np.concatenate([rr, [rr[-1]]])[:n]
    # local mean of the 10 RRs centred on the beat
    k = 10
    cs = np.concatenate([[0.0], np.cumsum(pre)])
    lo = np.clip(np.arange(n) - k // 2, 0, None)
    hi = np.clip(lo + k, None, n)
    lo = np.clip(hi - k, 0, None)
    local = (cs[hi] - cs[lo]) / np.maximum(hi - lo, 1)
    # long mean over +-150 s
    lo_l = np.searchsorted(t, t - 150.0)
    hi_l = np.searchsorted(t, t + 150.0)
    long_ = (cs[hi_l] - cs[lo_l]) / np.maximum(hi_l - lo_l, 1)
    # 90th percentile of the RRs within +-150 s: "how early is this beat compared with the
    # slowest common rhythm" (robust to records where ectopic beats dominate the mean)
    p90 = np.array([np.percentile(pre[a:b], 90) if b > a else pre[i]
                    for i, (a, b) in enumerate(zip(lo_l, hi_l))])
    med_beat = np.median(w, axis=0)
    wc = w - w.mean(axis=1, keepdims=True)
    mc = med_beat - med_beat.mean()
    corr = (wc @ mc) / (np.linalg.norm(wc, axis=1) * np.linalg.norm(mc) + 1e-9)
    feats = np.stack([
        pre, post, local, long_,
        pre / local, post / pre, pre / long_, local / long_,
        np.log(scale / np.median(scale)), corr, pre / p90, post / p90,
    ], axis=1)
    return w[:, None, :].astype(np.float32), feats.astype(np.float32)
