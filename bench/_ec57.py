"""ANSI/AAMI EC57 beat-by-beat QRS detection scoring.

Follows EC57 as PhysioNet's ``bxb`` applies it, with two stated differences: the whole
record is scored (``bxb`` skips the first 5 minutes unless told ``-f 0``), which is
stricter, and each reference beat takes the nearest still-unmatched detection within
the window, where ``bxb`` resolves a detection claimed by two reference beats slightly
differently (a difference of the order of 1e-5 in Se on simulated data).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

#: WFDB annotation codes that denote a beat (QRS complex), as in WFDB's ``isqrs``.
BEAT_CODES = frozenset("NLRBAaJSVrFejnE/fQ?!")

#: EC57 match window: a detection within 150 ms of a reference beat matches it.
MATCH_WINDOW_S = 0.150


@dataclass
class Score:
    """Counts of one comparison; Se = TP / (TP + FN), +P = TP / (TP + FP)."""

    tp: int = 0
    fn: int = 0
    fp: int = 0

    def __iadd__(self, other: Score) -> Score:
        self.tp += other.tp
        self.fn += other.fn
        self.fp += other.fp
        return self

    @property
    def se(self) -> float:
        """Sensitivity in percent."""
        return 100.0 * self.tp / max(1, self.tp + self.fn)

    @property
    def ppv(self) -> float:
        """Positive predictivity in percent."""
        return 100.0 * self.tp / max(1, self.tp + self.fp)


def reference_beats(
    samples: NDArray[np.int64], symbols: list[str], n_samples: int | None = None
) -> tuple[NDArray[np.int64], list[tuple[int, int]]]:
    """Reference beat samples and the excluded intervals (ventricular flutter/fibrillation ``[`` ... ``]``).

    EC57 excludes VF episodes from QRS detection scoring: beats and detections inside
    them are not counted. An episode still open at the end runs to ``n_samples`` (the
    record's length) when given, else past the last annotation.
    """
    beats = np.array([s for s, c in zip(samples, symbols) if c in BEAT_CODES], dtype=np.int64)
    excluded: list[tuple[int, int]] = []
    start: int | None = None
    for s, c in zip(samples, symbols):
        if c == "[":
            start = int(s)
        elif c == "]" and start is not None:
            excluded.append((start, int(s)))
            start = None
    if start is not None:
        end = n_samples if n_samples is not None else int(samples[-1]) + 1
        excluded.append((start, end))
    return beats, excluded


def _outside(x: NDArray[np.int64], excluded: list[tuple[int, int]]) -> NDArray[np.int64]:
    keep = np.ones(x.size, dtype=bool)
    for a, b in excluded:
        keep &= ~((x >= a) & (x <= b))
    return x[keep]


def match(
    reference: NDArray[np.int64],
    detected: NDArray[np.int64],
    fs: float,
    excluded: list[tuple[int, int]] | None = None,
    window_s: float = MATCH_WINDOW_S,
) -> Score:
    """Match detections to reference beats one-to-one within ``window_s`` seconds (nearest first)."""
    excluded = excluded or []
    ref = np.sort(_outside(np.asarray(reference, dtype=np.int64), excluded))
    det = np.sort(_outside(np.asarray(detected, dtype=np.int64), excluded))
    tol = window_s * fs
    used = np.zeros(det.size, dtype=bool)
    tp = 0
    j0 = 0
    for r in ref:
        while j0 < det.size and det[j0] < r - tol:
            j0 += 1
        best = -1
        best_d = tol + 1
        j = j0
        while j < det.size and det[j] <= r + tol:
            d = abs(det[j] - r)
            if not used[j] and d < best_d:
                best, best_d = j, d
            j += 1
        if best >= 0:
            used[best] = True
            tp += 1
    return Score(tp=tp, fn=int(ref.size - tp), fp=int(det.size - tp))
