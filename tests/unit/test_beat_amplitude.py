"""The amplitude caliper's placement: isoelectric (PR) level to the QRS peak, independent of offset."""

from __future__ import annotations

import numpy as np
import pytest

from ecgstation.ui.calipers import beat_amplitude


def _beat(fs: float, offset_mv: float, r_mv: float, s_mv: float) -> tuple[np.ndarray, int]:
    x = np.full(int(fs), offset_mv, dtype=np.float32)
    r = int(0.5 * fs)
    x[r] += r_mv
    x[r + int(0.03 * fs)] += s_mv
    return x, r


@pytest.mark.parametrize("offset", [0.0, 0.4, -1.2])
def test_level_and_peak_follow_the_baseline_offset(offset: float) -> None:
    x, r = _beat(500.0, offset, 1.5, -0.4)
    level, peak = beat_amplitude(x, 500.0, r)
    assert level == pytest.approx(offset) and peak == pytest.approx(offset + 1.5)


def test_a_deeper_s_wave_wins() -> None:
    x, r = _beat(250.0, 0.1, 0.3, -1.1)
    level, peak = beat_amplitude(x, 250.0, r)
    assert level == pytest.approx(0.1) and peak == pytest.approx(0.1 - 1.1)


def test_edges_and_gaps() -> None:
    x, _r = _beat(250.0, 0.0, 1.0, 0.0)
    assert beat_amplitude(x, 250.0, 2) == (pytest.approx(0.0), pytest.approx(0.0))  # no PR segment before it
    gap = np.full(250, np.nan, dtype=np.float32)
    assert beat_amplitude(gap, 250.0, 100) == (0.0, 0.0)
