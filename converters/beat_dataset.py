"""Build the beat-classifier dataset (AAMI N/S/V/F) from MIT-BIH with OUR QRS detector.

Per record: R peaks are detected by ``ecgstation.core.qrs.detect_qrs`` on all leads, each
detection is matched to the nearest reference beat annotation within 150 ms (EC57 style,
one-to-one: a reference beat keeps only its closest detection). Unmatched detections and
Q beats are dropped from training and scoring but counted.

Input contract of the model (also written into the model card):

- waveform: FIRST lead (MLII-like), resampled to ``MODEL_FS`` Hz, ``WINDOW`` samples
  starting ``WINDOW_START_S`` before the R peak. Per-beat normalisation: subtract the
  window median, divide by ``max((p99 - p1) / 2, 0.05 mV)`` (robust half-range).
- rr (context) features, see ``RR_FEATURES`` (a selection of ``ALL_FEATURES``) and
  ``ecgstation.inference.beat_inputs``: RR intervals relative to the local (10 / 21 beats)
  and long-term (+-150 s mean, median, 90th percentile) rhythm, RR irregularity, and the
  beat's morphology against the record's template beat (correlation and RMS difference in
  the P, QRS and T parts of the window, amplitude and QRS-width ratios). All of them are
  computed per record without labels.

The cache holds every column of ``ALL_FEATURES`` ("rr_all"); ``load`` adds "rr" = the
``RR_FEATURES`` columns, ``select`` picks any other set (for model selection).

Run: ``python -m converters.beat_dataset [--out /tmp/h_beats]`` (cache .npz per record, folder
``<out>/v3``).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from ecgstation.core.qrs import detect_qrs
from ecgstation.inference.beat_inputs import (  # noqa: F401  (re-exported for the trainer)
    ALL_FEATURES,
    MODEL_FS,
    NORMALISATION,
    RR_FEATURES,
    WINDOW,
    WINDOW_START_S,
    beat_features,
)
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

CACHE_VERSION = "v3"
MATCH_S = 0.150


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


def build_record(path: Path) -> dict[str, np.ndarray]:
    rec = read_recording(path)
    fs = float(rec.fs)
    det = np.asarray(detect_qrs(rec.signals, fs), dtype=np.int64)
    ann_s = np.asarray(rec.annotations.samples, dtype=np.int64)
    labels = np.asarray(rec.annotations.labels)
    is_beat = np.array([s in BEAT_SYMBOLS for s in labels], bool)
    ref, ref_sym = ann_s[is_beat], labels[is_beat]
    m = match(det, ref, round(MATCH_S * fs))
    wave, rr = beat_features(rec.signals[0], fs, det, names=ALL_FEATURES)
    sym = np.where(m >= 0, ref_sym[np.clip(m, 0, None)] if len(ref) else "", "")
    aami = np.array([AAMI.get(s, "") if s else "" for s in sym])
    return {
        "waveform": wave, "rr_all": rr, "rr_names": np.array(ALL_FEATURES), "peaks": det,
        "symbol": sym.astype("U2"),
        "aami": aami.astype("U1"), "n_ref": np.array(len(ref)),
        "n_unmatched_det": np.array(int((m < 0).sum())),
        "n_missed_ref": np.array(len(ref) - int((m >= 0).sum())),
    }


def select(rec: dict[str, np.ndarray], names: list[str]) -> np.ndarray:
    """The columns ``names`` of a cached record's context features (cache holds ALL_FEATURES)."""
    have = list(rec["rr_names"])
    return rec["rr_all"][:, [have.index(k) for k in names]]


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
        out[r]["rr"] = select(out[r], RR_FEATURES)
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
