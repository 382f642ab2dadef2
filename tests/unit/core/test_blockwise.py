"""Block-wise delineation and quality give what a whole-record pass gives."""

from __future__ import annotations

import numpy as np

from ecgstation.core.blockwise import assess_quality_blockwise, delineate_blockwise
from ecgstation.core.delineation import delineate
from ecgstation.core.qrs import detect_qrs
from ecgstation.core.quality import assess_quality
from tests.synthetic import synthetic_ecg


def _record(fs: float = 250.0, seconds: float = 360.0) -> tuple[np.ndarray, np.ndarray]:
    x, _ = synthetic_ecg(fs, seconds, seed=11)
    sig = np.stack([x, -0.5 * x]).astype(np.float32)
    return sig, detect_qrs(sig, fs)


def test_delineation_in_blocks_matches_whole() -> None:
    fs = 250.0
    sig, peaks = _record(fs)
    whole = delineate(sig, fs, peaks)
    blocks = delineate_blockwise(sig, fs, peaks, block_s=60.0, context_s=15.0)
    assert len(blocks) == len(whole) == peaks.size
    for name in ("qrs_on", "qrs_off", "t_end", "p_on"):
        a, b = getattr(whole, name), getattr(blocks, name)
        assert np.array_equal(a >= 0, b >= 0), name
        both = (a >= 0) & (b >= 0)
        # identical away from block edges; never more than 2 samples apart anywhere
        assert np.abs(a[both] - b[both]).max() <= 2, name
        assert np.mean(a[both] == b[both]) > 0.95, name


def test_quality_in_blocks_matches_whole() -> None:
    fs = 250.0
    sig, _ = _record(fs, 1250.0)  # 125 windows: blocks of 60, 65 (no short last block)
    sig[1, int(300 * fs) : int(400 * fs)] = 0.0  # lead off for 100 s
    whole = assess_quality(sig, fs, window_s=10.0, mains_hz=50.0)
    blocks = assess_quality_blockwise(sig, fs, 10.0, 50.0, block_windows=60)
    np.testing.assert_array_equal(blocks.window_starts, whole.window_starts)
    np.testing.assert_array_equal(blocks.window_stops, whole.window_stops)
    np.testing.assert_array_equal(blocks.level_codes, whole.level_codes)
    np.testing.assert_allclose(blocks.score, whole.score, atol=0.05)
