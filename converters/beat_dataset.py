"""Build the beat-classifier dataset (AAMI N/S/V/F) from MIT-BIH with OUR QRS detector.

Per record: R peaks are detected by ``ecgstation.core.qrs.detect_qrs`` on all leads, each
detection is matched to the nearest reference beat annotation within 150 ms (EC57 style,
one-to-one: a reference beat keeps only its closest detection). Unmatched detections and
Q beats are dropped from training and scoring but counted.

Input contract of the model (also written into the model card):

- waveform: FIRST lead (MLII-like), resampled to ``MODEL_FS`` Hz, ``WINDOW`` samples
  starting ``WINDOW_START_S`` before the R peak. Per-beat normalisation: subtract the
  window median, divide by ``max((p99 - p1) / 2, 0.05 mV)`` (robust half-range).
- rr (context) features, see ``RR_FEATURES``: pre-RR, post-RR, local mean RR (the 10
  RRs centred on the beat), long mean RR (RRs within +-150 s), all in s; ratios
  pre/local, post/pre, pre/long, local/long; log of the beat's robust half-range over
  the record's median half-range; Pearson correlation of the normalised beat with the
  record's median normalised beat; pre-RR and post-RR over the 90th percentile of the RRs
  within +-150 s.

Run: ``python -m converters.beat_dataset [--out /tmp/h_beats]`` (cache .npz per record, folder
``<out>/v2``).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from ecgstation.core.filters import resample
from ecgstation.core.qrs import detect_qrs
from ecgstation.io import read_recording

DS1 = [101, 106, 108, 109, 112, 114, 115, 116, 118, 119, 122, 124, 201, 203, 205, 207, 208,
       209, 215, 220, 223, 230]
DS2 = [100, 103, 105, 111, 113, 117, 121, 123, 200, 202, 210, 212, 213, 214, 219, 221, 222,
       228, 231, 232, 233, 234]
PACED = [102, 104, 107, 217]

CLASSES = ["N", "S", "V", "F"]
AAMI = {**{s: "N" for s in "NLRej"}, **{s: "S" for s in "AaJS"}, "V": "V", "E": "V", "F": "F",
        **{s: "Q" for s in "/fQ"}}
BEAT_SYMBOLS = set(AAMI)

CACHE_VERSION = "v2"
MODEL_FS = 180.0
WINDOW = 128
WINDOW_START_S = -0.35
PRE = round(-WINDOW_START_S * MODEL_FS)  # 63 samples before the R peak
MATCH_S = 0.150
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


def default_data() -> Path:
    return Path(os.environ.get("ECGSTATION_DATA", "/work/shared/data")) / "mitdb"


def match(det: np.ndarray, ref: np.ndarray, tol: int) -> np.ndarray:
    """Index into ``ref`` for each detection (-1 when no reference beat within ``tol``)."""
    out = np.full(len(det), -1, dtype=np.int64)
    if len(ref) == 0 or len(det) == 0:
        return out
    j = np.clip(np.searchsorted(ref, det), 1, len(ref) - 1)
    left, right = ref[j - 1], ref[j]
    near = np.where(np.abs(det - left) <= np.abs(right - det), j - 1, j)
    ok = np.abs(ref[near] - det) <= tol
    out[ok] = near[ok]
    # one-to-one: a reference beat keeps only its closest detection
    best: dict[int, int] = {}
    for i in np.flatnonzero(ok):
        r = int(out[i])
        if r not in best or abs(det[i] - ref[r]) < abs(det[best[r]] - ref[r]):
            best[r] = int(i)
    keep = np.zeros(len(det), bool)
    keep[list(best.values())] = True
    out[~keep] = -1
    return out


def beat_features(lead: np.ndarray, fs: float, peaks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(waveforms (n, 1, WINDOW) float32, rr features (n, len(RR_FEATURES)) float32).

    ``lead`` is the first lead in mV at ``fs`` Hz, ``peaks`` the R-peak samples.
    """
    x = resample(lead.astype(np.float32), fs, MODEL_FS)
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


def build_record(path: Path) -> dict[str, np.ndarray]:
    rec = read_recording(path)
    fs = float(rec.fs)
    det = np.asarray(detect_qrs(rec.signals, fs), dtype=np.int64)
    ann_s = np.asarray(rec.annotations.samples, dtype=np.int64)
    labels = np.asarray(rec.annotations.labels)
    is_beat = np.array([s in BEAT_SYMBOLS for s in labels], bool)
    ref, ref_sym = ann_s[is_beat], labels[is_beat]
    m = match(det, ref, round(MATCH_S * fs))
    wave, rr = beat_features(rec.signals[0], fs, det)
    sym = np.where(m >= 0, ref_sym[np.clip(m, 0, None)] if len(ref) else "", "")
    aami = np.array([AAMI.get(s, "") if s else "" for s in sym])
    return {
        "waveform": wave, "rr": rr, "peaks": det, "symbol": sym.astype("U2"),
        "aami": aami.astype("U1"), "n_ref": np.array(len(ref)),
        "n_unmatched_det": np.array(int((m < 0).sum())),
        "n_missed_ref": np.array(len(ref) - int((m >= 0).sum())),
    }


def load(records: list[int], scratch: Path, data: Path | None = None) -> dict[int, dict[str, np.ndarray]]:
    """Per-record arrays, built once and cached to ``scratch/<rec>.npz``."""
    data = data or default_data()
    scratch.mkdir(parents=True, exist_ok=True)
    out = {}
    for r in records:
        f = scratch / CACHE_VERSION / f"{r}.npz"
        f.parent.mkdir(parents=True, exist_ok=True)
        if not f.exists():
            np.savez_compressed(f, **build_record(data / str(r)))
        with np.load(f) as z:
            out[r] = {k: z[k] for k in z.files}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("/tmp/h_beats"))
    ap.add_argument("--data", type=Path, default=None)
    a = ap.parse_args()
    d = load(DS1 + DS2, a.out, a.data)
    for name, recs in (("DS1", DS1), ("DS2", DS2)):
        lab = np.concatenate([d[r]["aami"] for r in recs])
        counts = {c: int((lab == c).sum()) for c in CLASSES + ["Q"]}
        unm = sum(int(d[r]["n_unmatched_det"]) for r in recs)
        miss = sum(int(d[r]["n_missed_ref"]) for r in recs)
        print(f"{name}: {counts} unmatched detections {unm} missed reference beats {miss}")


if __name__ == "__main__":
    main()
