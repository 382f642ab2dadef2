"""QRS detector: Se and +P on real annotated records (150 ms window), any fs, edge cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench._ec57 import Score, match, reference_beats
from ecgstation.core.errors import SignalError
from ecgstation.core.filters import resample
from ecgstation.core.qrs import QrsConfig, detect_qrs
from ecgstation.io import read_recording
from tests.synthetic import synthetic_ecg


@pytest.mark.parametrize("fs", [100.0, 128.0, 250.0, 360.0, 500.0, 1000.0])
def test_synthetic_every_beat_found_at_any_fs(fs: float) -> None:
    x, truth = synthetic_ecg(fs, 60.0)
    found = detect_qrs(x, fs)
    score = match(truth, found, fs)
    assert score.fn == 0 and score.fp == 0, score
    # R peaks are placed on the R wave, within 10 ms.
    nearest = np.abs(found[:, None] - truth[None, :]).min(axis=0)
    assert nearest.max() <= 0.010 * fs + 1


def test_bradycardia_and_tachycardia() -> None:
    for rr in (1.8, 0.33):
        x, truth = synthetic_ecg(250.0, 60.0, rr_s=rr, seed=3)
        score = match(truth, detect_qrs(x, 250.0), 250.0)
        assert score.fn == 0 and score.fp == 0, (rr, score)


def test_inverted_and_multilead() -> None:
    x, truth = synthetic_ecg(500.0, 30.0)
    two = np.stack([-x, 0.3 * x])
    score = match(truth, detect_qrs(two, 500.0), 500.0)
    assert score.fn == 0 and score.fp == 0


def test_flat_noise_and_short_inputs() -> None:
    assert detect_qrs(np.zeros(5000, np.float32), 250.0).size == 0
    assert detect_qrs(np.zeros(10, np.float32), 250.0).size == 0
    x, _ = synthetic_ecg(250.0, 10.0)
    x[100:200] = np.nan
    peaks = detect_qrs(x, 250.0)
    assert peaks.dtype == np.int64 and np.all(np.diff(peaks) > 0)


def test_lead_off_on_one_lead_does_not_hide_beats() -> None:
    x, truth = synthetic_ecg(360.0, 60.0)
    dead = x.copy()
    dead[(20 * 360) :] = 0.0  # electrode off after 20 s
    score = match(truth, detect_qrs(np.stack([dead, 0.5 * x]), 360.0), 360.0)
    assert score.fn == 0 and score.fp == 0, score


@pytest.mark.parametrize("fs", [0.0, -250.0, float("nan"), float("inf")])
def test_invalid_sampling_rate(fs: float) -> None:
    with pytest.raises(SignalError):
        detect_qrs(np.zeros(10000, np.float32), fs)


@pytest.mark.parametrize("fs", [60.0, 2000.0])
def test_rates_outside_the_design_range_are_resampled(fs: float) -> None:
    x, truth = synthetic_ecg(fs, 40.0)
    found = detect_qrs(x, fs)
    score = match(truth, found, fs)
    assert score.fn == 0 and score.fp == 0, score
    assert np.abs(found[:, None] - truth[None, :]).min(axis=0).max() <= 0.012 * fs + 1


def test_long_record_in_blocks_matches_one_block() -> None:
    """Block processing (bounded memory for 24 h records) finds the same beats as one pass."""
    x, truth = synthetic_ecg(250.0, 400.0, seed=7)
    whole = detect_qrs(x, 250.0, QrsConfig(chunk_s=10_000.0))
    blocks = detect_qrs(x, 250.0, QrsConfig(chunk_s=60.0, chunk_pad_s=15.0))
    assert match(truth, blocks, 250.0).fn == 0
    np.testing.assert_array_equal(whole, blocks)


@pytest.mark.parametrize(("record", "floor"), [("100", 99.9), ("119", 99.8), ("208", 99.3)])
def test_bundled_samples(samples_dir: Path, record: str, floor: float) -> None:
    rec = read_recording(samples_dir / f"{record}.hea")
    ref, excluded = reference_beats(rec.annotations.samples, list(rec.annotations.labels))
    score = match(ref, detect_qrs(rec.signals, rec.fs), rec.fs, excluded)
    assert score.se >= floor and score.ppv >= floor, score


@pytest.mark.data
def test_mitdb_gross_ec57(data_dir: Path) -> None:
    """All 48 MIT-BIH records: gross Se and +P >= 99.8 % (150 ms window, whole records)."""
    paths = sorted((data_dir / "mitdb").glob("*.hea"))
    if len(paths) < 48:
        pytest.skip(f"MIT-BIH incomplete at {data_dir / 'mitdb'}")
    total = Score()
    for path in paths:
        rec = read_recording(path)
        ref, excluded = reference_beats(rec.annotations.samples, list(rec.annotations.labels))
        total += match(ref, detect_qrs(rec.signals, rec.fs), rec.fs, excluded)
    assert total.se >= 99.8 and total.ppv >= 99.8, total


@pytest.mark.data
@pytest.mark.parametrize("fs_new", [100.0, 250.0, 500.0, 1000.0])
def test_mitdb_subset_resampled(data_dir: Path, fs_new: float) -> None:
    """The detector keeps its accuracy when the same records are resampled to other rates."""
    total = Score()
    for name in ("105", "108", "203", "207", "232"):
        rec = read_recording(data_dir / "mitdb" / f"{name}.hea")
        x = resample(rec.signals, rec.fs, fs_new)
        k = fs_new / rec.fs
        ref, excluded = reference_beats(rec.annotations.samples, list(rec.annotations.labels))
        ref = np.round(ref * k).astype(np.int64)
        excluded = [(int(a * k), int(b * k)) for a, b in excluded]
        total += match(ref, detect_qrs(x, fs_new), fs_new, excluded)
    assert total.se >= 99.4 and total.ppv >= 99.0, total
