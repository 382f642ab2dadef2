"""Rhythm-episode dataset for the single-lead 10 s rhythm classifier, from MIT-BIH (+ NSTDB noise).

Reference rhythm: the rhythm-change annotations (``+`` with ``aux_note`` "(N", "(AFIB", ...)
of MIT-BIH's ``.atr`` files; a rhythm lasts until the next rhythm change or the record's
end; samples before a record's first rhythm annotation have no label (-1). Mapping to
the model's classes (``RHYTHM_MAP``): (N and (SBR -> SINUS (sinus bradycardia is sinus
rhythm), (AFIB -> AF, (AFL -> AFL, (VT -> VT, (SVTA -> SVT, (B and (T ->
BIGEMINY_TRIGEMINY (ventricular bigeminy/trigeminy), everything else ((P paced, (PREX,
(BII, (NOD, (IVR, (VFL, (AB) -> OTHER. NOISE is not a rhythm of MIT-BIH: noise windows are
synthesised from the NSTDB noise records (bw, em, ma), see ``converters.train_rhythm_classifier``.

Noise marks: MIT-BIH ``~`` annotations carry in ``subtype`` which signals are noisy from
there on (bit 0: signal 0, bit 1: signal 1, -1: both unreadable); ``noisy[lead]`` is that
per-sample state. Windows where the lead is marked noisy are dropped from training only.

Window label: the class covering most of the window (``window_labels``), with the
covered fraction; evaluation uses every window labelled by majority.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import wfdb

from ecgstation.inference.rhythm_inputs import CLASSES
from ecgstation.io import read_recording

RECORDS = [100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 111, 112, 113, 114, 115, 116, 117, 118,
           119, 121, 122, 123, 124, 200, 201, 202, 203, 205, 207, 208, 209, 210, 212, 213, 214, 215,
           217, 219, 220, 221, 222, 223, 228, 230, 231, 232, 233, 234]
RHYTHM_MAP = {"(N": "SINUS", "(SBR": "SINUS", "(AFIB": "AF", "(AFL": "AFL", "(VT": "VT",
              "(SVTA": "SVT", "(B": "BIGEMINY_TRIGEMINY", "(T": "BIGEMINY_TRIGEMINY"}
NOISE_RECORDS = ["bw", "em", "ma"]
#: Fraction of each NSTDB noise record (from its start) used for training; the rest is test-only.
NOISE_TRAIN_FRACTION = 0.7
FS = 360.0


def data_root() -> Path:
    """$ECGSTATION_DATA (default /work/shared/data)."""
    return Path(os.environ.get("ECGSTATION_DATA", "/work/shared/data"))


def class_of(aux: str) -> int:
    """Class index of a rhythm aux_note ("(AFIB" -> 1); unknown rhythms -> OTHER."""
    return CLASSES.index(RHYTHM_MAP.get(aux.strip().rstrip("\x00"), "OTHER"))


@dataclass
class Record:
    """One MIT-BIH record: signals (2, n) mV at 360 Hz, per-sample class (-1 = none), noise marks."""

    name: int
    fs: float
    signals: np.ndarray
    lead_names: tuple[str, ...]
    label: np.ndarray  # int8 (n,), class index or -1
    noisy: np.ndarray  # bool (2, n)
    episodes: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, aux) samples


def load_record(rec: int, root: Path | None = None) -> Record:
    """Read one MIT-BIH record with its rhythm episodes and noise marks."""
    path = (root or data_root()) / "mitdb" / str(rec)
    r = read_recording(path)
    n = r.signals.shape[1]
    ann = wfdb.rdann(str(path), "atr")
    label = np.full(n, -1, dtype=np.int8)
    episodes: list[tuple[int, int, str]] = []
    changes = [(int(s), (a or "").strip().rstrip("\x00")) for s, sym, a in
               zip(ann.sample, ann.symbol, ann.aux_note) if sym == "+" and (a or "").startswith("(")]
    for i, (s, aux) in enumerate(changes):
        e = changes[i + 1][0] if i + 1 < len(changes) else n
        label[s:e] = class_of(aux)
        episodes.append((s, e, aux))
    noisy = np.zeros((2, n), dtype=bool)
    marks = [(int(s), int(st)) for s, sym, st in zip(ann.sample, ann.symbol, ann.subtype) if sym == "~"]
    for i, (s, st) in enumerate(marks):
        e = marks[i + 1][0] if i + 1 < len(marks) else n
        for lead in range(2):
            if st == -1 or (st > 0 and st & (1 << lead)):
                noisy[lead, s:e] = True
    return Record(rec, float(r.fs), r.signals.astype(np.float32), tuple(r.lead_names), label, noisy, episodes)


def load_all(records: list[int] | None = None, root: Path | None = None) -> dict[int, Record]:
    """All (or the listed) MIT-BIH records."""
    return {rec: load_record(rec, root) for rec in (records or RECORDS)}


def load_noise(root: Path | None = None) -> dict[str, np.ndarray]:
    """NSTDB noise records bw, em, ma: name -> (2, n) mV at 360 Hz."""
    out = {}
    for name in NOISE_RECORDS:
        r = read_recording((root or data_root()) / "nstdb" / name)
        if r.fs != FS:
            raise ValueError(f"nstdb/{name} is at {r.fs} Hz, expected {FS}")
        out[name] = r.signals.astype(np.float32)
    return out


def noise_ranges(n: int, part: str) -> tuple[int, int]:
    """Sample range of a noise record used for ``part`` "train" (first 70 %) or "test" (last 30 %)."""
    cut = int(n * NOISE_TRAIN_FRACTION)
    return (0, cut) if part == "train" else (cut, n)


def window_labels(label: np.ndarray, starts: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """(majority class (-1 if mostly unlabelled), covered fraction) of windows [start, start+length)."""
    k = len(CLASSES)
    counts = np.zeros((len(starts), k + 1), dtype=np.int64)
    onehot_cum = np.zeros((k + 1, label.size + 1), dtype=np.int32)
    for c in range(-1, k):
        onehot_cum[c + 1, 1:] = np.cumsum(label == c)
    for c in range(k + 1):
        counts[:, c] = onehot_cum[c, starts + length] - onehot_cum[c, starts]
    best = counts.argmax(axis=1)
    frac = counts[np.arange(len(starts)), best] / float(length)
    return (best - 1).astype(np.int64), frac


def mask_fraction(mask: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
    """Fraction of each window [start, start+length) where ``mask`` is True."""
    cum = np.concatenate([[0], np.cumsum(mask, dtype=np.int64)])
    return (cum[starts + length] - cum[starts]) / float(length)


def af_episodes(rec: Record, cls: str = "AF") -> list[tuple[float, float]]:
    """Merged reference episodes of class ``cls`` as (start_s, end_s)."""
    c = CLASSES.index(cls)
    m = rec.label == c
    if not m.any():
        return []
    d = np.diff(np.concatenate([[0], m.astype(np.int8), [0]]))
    s, e = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    return [(a / rec.fs, b / rec.fs) for a, b in zip(s, e)]


if __name__ == "__main__":
    L = int(10 * FS)
    recs = load_all()
    print("rec   " + " ".join(f"{c[:6]:>6}" for c in CLASSES) + "   (10 s windows, majority; pure>=0.9 in [])")
    for r, d in recs.items():
        st = np.arange(0, d.label.size - L + 1, L)
        y, f = window_labels(d.label, st, L)
        cnt = np.bincount(y[y >= 0], minlength=len(CLASSES))
        pure = np.bincount(y[(y >= 0) & (f >= 0.9)], minlength=len(CLASSES))
        print(f"{r} " + " ".join(f"{a:3d}[{b:3d}]" for a, b in zip(cnt, pure)))
