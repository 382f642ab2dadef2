"""Fusion of rule, rhythm-model and beat-label evidence into findings; disagreements are stated."""

from __future__ import annotations

import numpy as np
import pytest

from ecgstation.inference.fusion import (
    FusionSettings,
    ModelCall,
    SliceFindings,
    WindowEvidence,
    beat_findings,
    fuse_window,
    merge_rhythm_episodes,
)

CLASSES = ("SINUS", "AF", "AFL", "VT", "SVT", "BIGEMINY_TRIGEMINY", "NOISE", "OTHER")
MODEL = "rhythm_classifier 9.9"
BEATS = "beat_classifier 9.9"


def _call(name: str, p: float) -> ModelCall:
    probs = np.full(len(CLASSES), (1 - p) / (len(CLASSES) - 1), np.float32)
    probs[CLASSES.index(name)] = p
    return ModelCall(CLASSES, probs, MODEL)


def _regular(start: float, rr: float = 0.8, n: int = 12) -> np.ndarray:
    return start + 0.3 + rr * np.arange(n)


def _irregular(start: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return start + 0.3 + np.cumsum(rng.uniform(0.4, 1.1, 13))[:12] - 0.4


def _ev(peaks: np.ndarray, model: ModelCall | None, labels: tuple[str, ...] | None = None, start: float = 0.0):
    labels = labels if labels is not None else ("N",) * len(peaks)
    return WindowEvidence(start, start + 10.0, peaks, labels, BEATS, model)


def test_model_and_rule_agree_on_af() -> None:
    out = fuse_window(_ev(_irregular(0.0), _call("AF", 0.9)))
    f = out.findings[0]
    assert out.rhythm_code == "atrial_fibrillation" and out.decided_by == "model"
    assert f.code == "rhythm_atrial_fibrillation"
    assert f.disagreement is None and "disagree" not in f.text
    assert f.confidence == pytest.approx(0.9)
    assert "rhythm_classifier" in f.source and "rules" in f.source
    assert f.start_s == 0.0 and f.end_s == 10.0


def test_model_af_on_regular_rr_says_the_rule_disagrees() -> None:
    f = fuse_window(_ev(_regular(0.0), _call("AF", 0.8))).findings[0]
    assert f.code == "rhythm_atrial_fibrillation"
    assert f.disagreement is not None and "RR rule" in f.disagreement
    assert "sources disagree" in f.text


def test_unsure_model_leaves_the_call_to_the_rule_and_says_so() -> None:
    out = fuse_window(_ev(_regular(0.0), _call("AF", 0.4)))
    assert out.rhythm_code == "sinus_rhythm" and out.decided_by == "rule"
    assert "unsure" in (out.findings[0].disagreement or "")


def test_sinus_is_refined_by_the_measured_rate() -> None:
    assert fuse_window(_ev(_regular(0.0, rr=1.3, n=8), _call("SINUS", 0.95))).rhythm_code == "sinus_bradycardia"
    assert fuse_window(_ev(_regular(0.0, rr=0.5, n=19), _call("SINUS", 0.95))).rhythm_code == "sinus_tachycardia"


def test_ventricular_run_from_beat_labels_and_conflict_with_sinus_call() -> None:
    peaks = np.concatenate([_regular(0.0, 0.8, 5), 4.0 + 0.45 * np.arange(5), _regular(6.5, 0.8, 4)])
    labels = ("N",) * 5 + ("V",) * 5 + ("N",) * 4
    out = fuse_window(_ev(peaks, _call("SINUS", 0.9), labels))
    runs = [f for f in out.findings if f.code == "ventricular_run"]
    assert len(runs) == 1
    assert "5 beats" in runs[0].text and runs[0].start_s == pytest.approx(4.0)
    assert out.findings[0].disagreement is not None and "run of V beats" in out.findings[0].disagreement


def test_vt_call_without_v_beats_is_flagged() -> None:
    out = fuse_window(_ev(_regular(0.0, rr=0.4, n=24), _call("VT", 0.9)))
    assert out.rhythm_code == "ventricular_tachycardia"
    assert "no run of V beats" in (out.findings[0].disagreement or "")


def test_no_model_rule_only() -> None:
    out = fuse_window(WindowEvidence(0.0, 10.0, _regular(0.0), ("Q",) * 12, None, None))
    assert out.decided_by == "rule" and out.findings[0].source == "rules"


def _slice(start: float, code: str, decided: str = "model") -> SliceFindings:
    ev = _ev(_irregular(start) if "fibrillation" in code else _regular(start), None, start=start)
    base = fuse_window(ev).findings[0]
    from dataclasses import replace

    return SliceFindings(start, start + 10.0, code, (replace(base, confidence=0.8),), decided)


def test_episodes_are_merged_and_timed() -> None:
    codes = ["sinus_rhythm"] * 3 + ["atrial_fibrillation"] * 4 + ["sinus_rhythm"] * 3
    slices = [_slice(10.0 * k, c) for k, c in enumerate(codes)]
    out = merge_rhythm_episodes(slices, 100.0)
    assert out[0].code == "rhythm_sinus_rhythm" and "60 %" in out[0].text
    episodes = [f for f in out if f.code == "rhythm_atrial_fibrillation"]
    assert len(episodes) == 1
    assert (episodes[0].start_s, episodes[0].end_s) == (30.0, 70.0)
    assert "40 s" in episodes[0].text


def test_single_rule_window_is_not_an_episode() -> None:
    codes = ["sinus_rhythm"] * 4 + ["atrial_fibrillation"] + ["sinus_rhythm"] * 4
    slices = [_slice(10.0 * k, c, "rule") for k, c in enumerate(codes)]
    assert [f.code for f in merge_rhythm_episodes(slices, 90.0)] == ["rhythm_sinus_rhythm"]
    assert len(merge_rhythm_episodes(slices, 90.0, FusionSettings(rule_episode_min_windows=1))) == 2


def test_beat_findings_count_classes() -> None:
    labels = ["N"] * 90 + ["V"] * 7 + ["S"] * 3
    out = {f.code: f for f in beat_findings(labels, np.arange(100.0), BEATS, 100.0)}
    assert set(out) == {"ventricular_ectopic_beats", "supraventricular_ectopic_beats"}
    assert "7 (7.0 % of 100 beats)" in out["ventricular_ectopic_beats"].text
    assert out["ventricular_ectopic_beats"].source_version == BEATS
