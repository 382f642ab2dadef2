"""The EC57 scoring used by the benchmark and the detector tests: exact small cases."""

from __future__ import annotations

import numpy as np

from bench._ec57 import match, reference_beats

FS = 100.0  # 150 ms = 15 samples


def test_perfect_and_window_edge() -> None:
    ref = np.array([100, 200, 300])
    assert match(ref, ref, FS).tp == 3
    edge = match(ref, ref + 15, FS)
    assert (edge.tp, edge.fn, edge.fp) == (3, 0, 0)
    outside = match(ref, ref + 16, FS)
    assert (outside.tp, outside.fn, outside.fp) == (0, 3, 3)


def test_one_detection_matches_one_beat_only() -> None:
    s = match(np.array([100, 110]), np.array([105]), FS)
    assert (s.tp, s.fn, s.fp) == (1, 1, 0)
    s = match(np.array([100]), np.array([98, 103]), FS)
    assert (s.tp, s.fn, s.fp) == (1, 0, 1)


def test_empty_inputs() -> None:
    s = match(np.array([], np.int64), np.array([5, 50]), FS)
    assert (s.tp, s.fn, s.fp) == (0, 0, 2) and s.se == 0.0 and s.ppv == 0.0
    s = match(np.array([5, 50]), np.array([], np.int64), FS)
    assert (s.tp, s.fn, s.fp) == (0, 2, 0)


def test_flutter_episodes_are_excluded() -> None:
    samples = np.array([10, 50, 60, 70, 80, 120, 200])
    symbols = ["N", "[", "!", "!", "]", "N", "["]
    beats, excluded = reference_beats(samples, symbols, n_samples=300)
    assert excluded == [(50, 80), (200, 300)]
    s = match(beats, np.array([10, 65, 120, 250]), FS, excluded)
    assert (s.tp, s.fn, s.fp) == (2, 0, 0)
