"""QT Database reading for the benchmarks: records, reference beats and manual wave boundaries.

Uses wfdb (allowed in ``bench``, never in ``ecgstation.core``). Boundaries come
from the ``.q1c`` files (annotator 1, second pass): ``(`` marks a wave onset,
``)`` an offset, ``p``/``t``/``u`` the peak of a P/T/U wave and any beat symbol
(``N``, ``B``, ...) the QRS peak. An onset belongs to the wave whose peak follows
it directly, an offset to the wave whose peak precedes it directly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import wfdb
from numpy.typing import NDArray

#: Fields of :class:`ManualBeats`, in the order of the delineation output.
BOUNDARIES: tuple[str, ...] = ("p_on", "p_peak", "p_off", "qrs_on", "qrs_peak", "qrs_off", "t_peak", "t_end")

#: WFDB beat codes (QRS complexes), as in wfdb's ``ann_label_table``.
BEAT_SYMBOLS = frozenset("NLRBAaJSVrFejnE/fQ?")


def default_data_dir() -> Path:
    """``$ECGSTATION_DATA`` or ``../shared/data`` relative to the repository root."""
    env = os.environ.get("ECGSTATION_DATA")
    if env:
        return Path(env)
    return (Path(__file__).resolve().parent.parent / ".." / "shared" / "data").resolve()


@dataclass(frozen=True)
class ManualBeats:
    """Manually delineated beats of one record; int64 sample arrays, -1 where not annotated."""

    p_on: NDArray[np.int64]
    p_peak: NDArray[np.int64]
    p_off: NDArray[np.int64]
    qrs_on: NDArray[np.int64]
    qrs_peak: NDArray[np.int64]
    qrs_off: NDArray[np.int64]
    t_peak: NDArray[np.int64]
    t_end: NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.qrs_peak.size)


@dataclass(frozen=True)
class QtdbRecord:
    """One QTDB record: ``signals`` float32 (leads, samples) in mV at ``fs`` Hz, plus references."""

    name: str
    signals: NDArray[np.float32]
    fs: float
    lead_names: tuple[str, ...]
    manual: ManualBeats
    #: All reference beats of the record (``.atr``), or the manual QRS peaks when there is no ``.atr``.
    ref_beats: NDArray[np.int64]
    ref_beats_source: str


def parse_boundaries(samples: NDArray[np.int64], symbols: list[str]) -> ManualBeats:
    """Group a ``.q1c``-style annotation stream into per-beat boundaries.

    P and T waves are assigned to the QRS complex they precede (P) or follow (T):
    a P wave belongs to the next beat, a T wave to the previous one.
    """
    waves: list[tuple[str, int, int, int]] = []  # (kind, onset, peak, offset)
    n = len(symbols)
    for i, sym in enumerate(symbols):
        if sym in ("(", ")"):
            continue
        kind = "qrs" if sym in BEAT_SYMBOLS else sym
        on = int(samples[i - 1]) if i > 0 and symbols[i - 1] == "(" else -1
        off = int(samples[i + 1]) if i + 1 < n and symbols[i + 1] == ")" else -1
        waves.append((kind, on, int(samples[i]), off))
    beats: list[dict[str, int]] = []
    pending_p: tuple[str, int, int, int] | None = None
    for kind, on, peak, off in waves:
        if kind == "p":
            pending_p = (kind, on, peak, off)
        elif kind == "qrs":
            beat = {k: -1 for k in BOUNDARIES}
            beat.update(qrs_on=on, qrs_peak=peak, qrs_off=off)
            if pending_p is not None:
                beat.update(p_on=pending_p[1], p_peak=pending_p[2], p_off=pending_p[3])
            pending_p = None
            beats.append(beat)
        elif kind == "t":
            pending_p = None
            if beats and beats[-1]["t_peak"] < 0 and beats[-1]["t_end"] < 0:
                beats[-1].update(t_peak=peak, t_end=off)
    arrays = {k: np.array([b[k] for b in beats], dtype=np.int64) for k in BOUNDARIES}
    return ManualBeats(**arrays)


def list_records(data_dir: Path | str | None = None, annotator: str = "q1c") -> list[str]:
    """Names of the QTDB records in ``data_dir/qtdb`` that have an ``annotator`` file, sorted."""
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    qtdb = root / "qtdb"
    if not qtdb.is_dir():
        return []
    return sorted(p.stem for p in qtdb.glob(f"*.{annotator}") if (qtdb / f"{p.stem}.hea").exists())


def load_record(name: str, data_dir: Path | str | None = None, annotator: str = "q1c") -> QtdbRecord:
    """Read one QTDB record, its manual boundaries and its reference beats."""
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    base = str(root / "qtdb" / name)
    rec = wfdb.rdrecord(base)
    sig = np.nan_to_num(np.asarray(rec.p_signal, dtype=np.float64)).T.astype(np.float32)
    ann = wfdb.rdann(base, annotator)
    manual = parse_boundaries(np.asarray(ann.sample, dtype=np.int64), list(ann.symbol))
    if Path(base + ".atr").exists():
        atr = wfdb.rdann(base, "atr")
        keep = np.array([s in BEAT_SYMBOLS for s in atr.symbol], dtype=bool)
        ref = np.asarray(atr.sample, dtype=np.int64)[keep]
        source = "atr"
    else:
        ref = manual.qrs_peak.copy()
        source = annotator
    ref = np.unique(ref[(ref >= 0) & (ref < sig.shape[1])])
    return QtdbRecord(name, sig, float(rec.fs), tuple(rec.sig_name), manual, ref, source)
