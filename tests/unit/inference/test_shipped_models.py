"""The models shipped in ``models/``: they load, keep their contract, run on the bundled samples, refuse bad input.

These run the real ONNX files through a real onnxruntime session (no mocks) on the sample
records bundled in ``resources/samples`` (MIT-BIH 100, 119, 208; PTB-XL 00003).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from ecgstation.core.qrs import detect_qrs
from ecgstation.core.recording import Recording
from ecgstation.inference import ModelContractError, ModelRegistry
from ecgstation.inference.beat_labels import label_beats
from ecgstation.inference.heads import output_heads
from ecgstation.inference.model_analysis import (
    BEAT_MODEL,
    RHYTHM_MODEL,
    TWELVE_LEAD_MODEL,
    AnalysisModels,
    analyze_with_models,
    load_analysis_models,
    window_starts,
)
from ecgstation.inference.rhythm_calls import rhythm_calls, twelve_lead_calls
from ecgstation.io import read_recording

MODELS = Path(__file__).resolve().parents[3] / "models"
AAMI = {**{s: "N" for s in "NLRej"}, **{s: "S" for s in "AaJS"}, "V": "V", "E": "V", "F": "F"}


@pytest.fixture(scope="module")
def registry() -> ModelRegistry:
    return ModelRegistry.from_folder(MODELS)


@pytest.fixture(scope="module")
def models(registry: ModelRegistry) -> AnalysisModels:
    loaded = load_analysis_models(registry, intra_op_threads=1)
    assert loaded.problems == ()
    return loaded


@pytest.fixture(scope="module")
def rec100(samples_dir: Path) -> Recording:
    return read_recording(samples_dir / "100.hea")


@pytest.fixture(scope="module")
def rec208(samples_dir: Path) -> Recording:
    return read_recording(samples_dir / "208.hea")


@pytest.fixture(scope="module")
def rec12(samples_dir: Path) -> Recording:
    return read_recording(samples_dir / "ptbxl_00003_hr.hea")


def test_every_card_loads_and_every_model_is_small(registry: ModelRegistry) -> None:
    assert registry.problems == []
    assert {BEAT_MODEL, RHYTHM_MODEL, TWELVE_LEAD_MODEL} <= set(registry.names)
    for card in registry.cards():
        assert card.onnx_path.stat().st_size <= 20 * 1024 * 1024, card.name
        model = registry.load(card.name)
        assert model.classes == card.classes
        assert output_heads(card)  # heads, when declared, add up to the classes
        assert "citation" in card.extra or "citations" in card.extra, f"{card.name} card lacks citations"


def test_beat_model_labels_every_beat_with_card_classes(models: AnalysisModels, rec208: Recording) -> None:
    assert models.beat is not None
    peaks = detect_qrs(rec208.signals, rec208.fs)
    out = label_beats(models.beat, rec208.signals, rec208.fs, rec208.lead_names, peaks)
    assert out.classes == models.beat.classes == ("N", "S", "V", "F")
    assert len(out.labels) == peaks.size and set(out.labels) <= set(out.classes)
    assert out.probabilities.shape == (peaks.size, 4)
    np.testing.assert_allclose(out.probabilities.sum(axis=1), 1.0, atol=1e-4)
    # record 208 is full of ventricular ectopy: the model must find most of it
    ref_v = sum(AAMI.get(s) == "V" for s in rec208.annotations.labels)
    found_v = out.labels.count("V")
    assert 0.7 * ref_v <= found_v <= 1.3 * ref_v, (found_v, ref_v)


def test_beat_model_refuses_wrong_shapes(models: AnalysisModels) -> None:
    assert models.beat is not None
    width = models.beat.card.input("rr").shape[-1]
    with pytest.raises(ModelContractError, match="waveform"):
        models.beat.run({"waveform": np.zeros((3, 1, 17), np.float32), "rr": np.zeros((3, width), np.float32)})
    with pytest.raises(ModelContractError):
        models.beat.run({"waveform": np.zeros((3, 1, 128), np.float32)})


def test_rhythm_model_on_sinus_sample(models: AnalysisModels, rec100: Recording) -> None:
    assert models.rhythm is not None
    starts = window_starts(rec100.duration_s)[:12]
    calls = rhythm_calls(models.rhythm, rec100.signals[0], rec100.fs, starts)
    assert len(calls) == 12
    for call in calls:
        assert call.classes == models.rhythm.classes
        assert call.probabilities.sum() == pytest.approx(1.0, abs=1e-4)
    tops = [c.top[0] for c in calls]
    assert tops.count("SINUS") >= 10, tops


def test_rhythm_model_works_at_a_patch_sampling_rate(models: AnalysisModels, rec100: Recording) -> None:
    """A Polar H10 streams 130 Hz: the model's input is resampled, the answer stays sinus."""
    from ecgstation.core.filters import resample

    assert models.rhythm is not None
    lead = resample(rec100.signals[0, : round(120 * rec100.fs)], rec100.fs, 130.0)
    calls = rhythm_calls(models.rhythm, lead, 130.0, window_starts(120.0))
    assert [c.top[0] for c in calls].count("SINUS") >= 10


def test_rhythm_model_refuses_a_window_outside_the_signal(models: AnalysisModels, rec100: Recording) -> None:
    assert models.rhythm is not None
    with pytest.raises(ModelContractError, match="outside the signal"):
        rhythm_calls(models.rhythm, rec100.signals[0, :1000], rec100.fs, [0.0])


def test_twelve_lead_model_heads_on_bundled_ptbxl(models: AnalysisModels, rec12: Recording) -> None:
    assert models.twelve_lead is not None
    (call,) = twelve_lead_calls(models.twelve_lead, rec12, [0.0])
    heads = output_heads(models.twelve_lead.card)
    assert call.rhythm.classes == heads[0].classes
    assert call.rhythm.probabilities.sum() == pytest.approx(1.0, abs=1e-4)
    assert set(call.superclass) == set(heads[1].classes)
    assert all(0.0 <= p <= 1.0 for p in call.superclass.values())


def test_twelve_lead_model_refuses_a_record_without_its_leads(models: AnalysisModels, rec100: Recording) -> None:
    assert models.twelve_lead is not None
    with pytest.raises(ModelContractError, match="needs lead"):
        twelve_lead_calls(models.twelve_lead, rec100, [0.0])


def test_twelve_lead_model_refuses_wrong_shape(models: AnalysisModels) -> None:
    assert models.twelve_lead is not None
    win = models.twelve_lead.card.window_samples
    with pytest.raises(ModelContractError):
        models.twelve_lead.run({"ecg": np.zeros((1, 8, win), np.float32)})


def test_analysis_with_models_fuses_findings(models: AnalysisModels, rec208: Recording) -> None:
    out = analyze_with_models(rec208, models)
    labels = out.result.beat_labels
    assert set(labels) <= {"N", "S", "V", "F"} and len(labels) == out.result.r_peaks.size
    assert len(out.slices) == len(window_starts(rec208.duration_s))
    codes = [f.code for f in out.result.findings]
    assert codes[0].startswith("rhythm_")
    assert "ventricular_ectopic_beats" in codes
    # a 2-lead Holter record: beats by the beat model, rhythm by the single-lead model, no 12-lead model
    assert [m.split(" ")[0] for m in out.models] == [BEAT_MODEL, RHYTHM_MODEL]
    for s in out.slices:
        assert s.findings[0].code == f"rhythm_{s.rhythm_code}"
        assert s.findings[0].start_s == s.start_s


def test_twelve_lead_analysis_gives_diagnostic_findings(models: AnalysisModels, rec12: Recording) -> None:
    out = analyze_with_models(rec12, models)
    codes = [f.code for f in out.result.findings]
    assert any(c.startswith("ecg_") for c in codes), codes
    assert TWELVE_LEAD_MODEL in " ".join(out.models)
    rhythm = out.result.findings[0]
    assert rhythm.code.startswith("rhythm_") and rhythm.start_s is None


def test_a_short_record_gets_rules_only_rhythm(models: AnalysisModels, rec100: Recording) -> None:
    short = dataclasses.replace(
        rec100, signals=rec100.signals[:, : round(6 * rec100.fs)], annotations=rec100.annotations.empty()
    )
    out = analyze_with_models(short, models)
    assert len(out.slices) == 1 and out.slices[0].decided_by == "rule"
    assert RHYTHM_MODEL not in " ".join(out.models)
