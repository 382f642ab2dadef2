"""The rule rhythm call: rate limits, irregularity, ectopic beats kept out, grouping, short input."""

from __future__ import annotations

import numpy as np
import pytest

from ecgstation.core.rhythm_rules import RULE_LABELS, RhythmRuleSettings, classify_rhythm_rules, rr_irregularity

FS = 250.0


def _peaks(rr_s: list[float] | np.ndarray) -> np.ndarray:
    return np.round(np.concatenate([[0.5], 0.5 + np.cumsum(rr_s)]) * FS).astype(np.int64)


@pytest.mark.parametrize(("rr", "label"), [(0.85, "SR"), (1.3, "SB"), (0.5, "ST")])
def test_regular_rhythms_by_rate(rr: float, label: str) -> None:
    rng = np.random.default_rng(1)
    call = classify_rhythm_rules(_peaks(rr + rng.normal(0, 0.01, 12)), FS)
    assert call.label == label
    assert call.heart_rate_bpm == pytest.approx(60 / rr, rel=0.03)
    assert 0.5 <= call.confidence <= 1.0


def test_random_rr_is_af() -> None:
    rng = np.random.default_rng(2)
    call = classify_rhythm_rules(_peaks(rng.uniform(0.45, 1.1, 15)), FS)
    assert call.label == "AF"
    assert call.nrmssd is not None and call.nrmssd > 0.1
    assert "irregular" in call.reason


def test_isolated_premature_beats_are_not_af_when_labelled() -> None:
    rr = [0.8] * 4 + [0.5, 1.1] + [0.8] * 3 + [0.5, 1.1] + [0.8] * 3
    peaks = _peaks(rr)
    labels = ["N"] * len(peaks)
    labels[5] = labels[10] = "V"  # the beats that end the 0.5 s intervals
    assert classify_rhythm_rules(peaks, FS, beat_labels=labels).label == "SR"


def test_bigeminy_is_other_not_af() -> None:
    rr = [0.55, 1.05] * 7
    call = classify_rhythm_rules(_peaks(rr), FS)
    assert call.label == "OTHER"
    assert "bigeminal" in call.reason


@pytest.mark.parametrize("n", [0, 1, 3])
def test_too_few_beats(n: int) -> None:
    call = classify_rhythm_rules(np.arange(n) * 200, FS)
    assert call.label == "OTHER"
    assert "beat" in call.reason


def test_settings_move_the_limits() -> None:
    peaks = _peaks([0.95] * 12)  # 63 bpm
    assert classify_rhythm_rules(peaks, FS).label == "SR"
    assert classify_rhythm_rules(peaks, FS, RhythmRuleSettings(bradycardia_bpm=65)).label == "SB"
    assert set(RULE_LABELS) == {"SR", "SB", "ST", "AF", "OTHER"}


def test_rr_irregularity_values() -> None:
    nrmssd, mad = rr_irregularity(np.array([1.0, 1.0, 1.0, 1.0]))
    assert nrmssd == 0.0 and mad == 0.0
    with pytest.raises(ValueError):
        rr_irregularity(np.array([1.0, 1.0]))
