"""Analyse a recording with the measurement rules and every usable model, and fuse the findings.

``analyze_with_models`` runs :func:`ecgstation.core.analysis.analyze_recording`, labels the
detected beats with the beat classifier, runs the rhythm model over 10 s windows (the
12-lead model when all 12 leads are there, else the single-lead model on lead II or the
first lead) and fuses everything (:mod:`ecgstation.inference.fusion`) into findings per
window and per recording. A model that cannot run on a recording (lead missing, record
too short, card broken) is skipped with its reason in ``ModelAnalysis.problems``; the
rules still answer.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ecgstation.core.analysis import AnalysisResult, AnalysisSettings, Finding, analyze_recording
from ecgstation.core.recording import Recording
from ecgstation.inference.beat_labels import check_beat_model, label_beats
from ecgstation.inference.errors import ModelContractError, ModelError
from ecgstation.inference.fusion import (
    FusionSettings,
    ModelCall,
    SliceFindings,
    WindowEvidence,
    beat_findings,
    fuse_window,
    merge_rhythm_episodes,
)
from ecgstation.inference.onnx_model import OnnxModel
from ecgstation.inference.registry import ModelRegistry
from ecgstation.inference.rhythm_calls import TwelveLeadCall, choose_rhythm_lead, rhythm_calls, twelve_lead_calls

log = logging.getLogger(__name__)

__all__ = [
    "BEAT_MODEL",
    "RHYTHM_MODEL",
    "TWELVE_LEAD_MODEL",
    "AnalysisModels",
    "ModelAnalysis",
    "analyze_with_models",
    "load_analysis_models",
    "model_analyzer",
    "window_starts",
]

BEAT_MODEL = "beat_classifier"
RHYTHM_MODEL = "rhythm_classifier"
TWELVE_LEAD_MODEL = "twelve_lead_classifier"
TWELVE_LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")

SUPERCLASS_TEXT = {
    "NORM": "Normal ECG",
    "MI": "Myocardial infarction pattern",
    "STTC": "ST/T change",
    "CD": "Conduction disturbance",
    "HYP": "Hypertrophy",
}
#: rule findings that speak for a conduction disturbance
_CONDUCTION_RULES = ("wide_qrs", "long_pr")
#: rule findings replaced by the fused rhythm finding (its text carries the rate)
_RATE_RULES = ("bradycardia", "tachycardia")


@dataclass(frozen=True)
class AnalysisModels:
    """The models an analysis may use (None where not installed or not loadable)."""

    beat: OnnxModel | None = None
    rhythm: OnnxModel | None = None
    twelve_lead: OnnxModel | None = None
    problems: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """``"name version"`` of every loaded model."""
        return tuple(f"{m.card.name} {m.card.version}" for m in (self.beat, self.rhythm, self.twelve_lead) if m)


def load_analysis_models(registry: ModelRegistry, intra_op_threads: int | None = None) -> AnalysisModels:
    """Load the beat, rhythm and 12-lead models the registry has; a broken one is reported, not raised."""
    problems = list(registry.problems)
    loaded: dict[str, OnnxModel | None] = {}
    for name in (BEAT_MODEL, RHYTHM_MODEL, TWELVE_LEAD_MODEL):
        loaded[name] = None
        if name not in registry:
            continue
        try:
            model = registry.load(name, intra_op_threads=intra_op_threads)
            if name == BEAT_MODEL:
                check_beat_model(model)
            loaded[name] = model
        except ModelError as err:
            log.warning("model %s not used: %s", name, err)
            problems.append(str(err))
    return AnalysisModels(loaded[BEAT_MODEL], loaded[RHYTHM_MODEL], loaded[TWELVE_LEAD_MODEL], tuple(problems))


@dataclass(frozen=True)
class ModelAnalysis:
    """The measured result with model beat labels and fused findings, plus the per-window findings.

    ``result.findings`` holds the recording-level list (rules + fused rhythm, beat and
    diagnostic findings); ``slices`` the fused findings of every 10 s window;
    ``models`` the ``"name version"`` of each model that ran; ``problems`` why others did not.
    """

    result: AnalysisResult
    slices: tuple[SliceFindings, ...]
    models: tuple[str, ...]
    problems: tuple[str, ...]


def window_starts(duration_s: float, window_s: float = 10.0) -> list[float]:
    """Starts (s) of consecutive whole windows; a record shorter than one window gets none."""
    n = int(np.floor(duration_s / window_s + 1e-9))
    return [k * window_s for k in range(n)]


def _has_twelve_leads(lead_names: Sequence[str]) -> bool:
    have = {n.strip().lower() for n in lead_names}
    return all(lead.lower() in have for lead in TWELVE_LEADS)


def _superclass_findings(calls: Sequence[TwelveLeadCall], rule_codes: set[str]) -> list[Finding]:
    """Diagnostic superclass findings from the mean 12-lead probabilities over the windows."""
    if not calls or not calls[0].superclass:
        return []
    classes = list(calls[0].superclass)
    mean = {c: float(np.mean([k.superclass[c] for k in calls])) for c in classes}
    thr = calls[0].superclass_thresholds
    model = calls[0].rhythm.model
    present = [c for c in classes if mean[c] >= thr.get(c, 0.5)]
    out: list[Finding] = []
    abnormal = [c for c in present if c != "NORM"]
    for c in present:
        if c == "NORM" and abnormal:
            continue
        note = None
        if c == "CD" and not rule_codes & set(_CONDUCTION_RULES):
            note = "the interval rules find no wide QRS or long PR"
        if c == "NORM" and rule_codes & {"wide_qrs", "long_pr", "long_qtc", "left_axis", "right_axis"}:
            note = "the measurement rules report abnormal intervals or axis"
        text = f"{SUPERCLASS_TEXT.get(c, c)} ({model} p={mean[c]:.2f})"
        if note:
            text += f"; sources disagree: {note}"
        name = model.split(" ")[0]
        out.append(Finding(f"ecg_{c.lower()}", text, source=name, confidence=round(mean[c], 3),
                           source_version=model, disagreement=note))  # fmt: skip
    if not present:
        best = max(classes, key=lambda c: mean[c])
        out.append(Finding("ecg_unclassified", f"No diagnostic class reaches its threshold (highest: "
                           f"{SUPERCLASS_TEXT.get(best, best)} p={mean[best]:.2f}; {model})",
                           source=model.split(" ")[0], confidence=round(mean[best], 3), source_version=model))  # fmt: skip
    if "CD" not in present and rule_codes & {"wide_qrs"}:
        # the rule sees a conduction problem the model does not: say so on the rule's side
        out.append(Finding("ecg_cd_disagreement", f"Wide QRS by the measurement rules, but {model} gives "
                           f"conduction disturbance only p={mean.get('CD', 0.0):.2f}; review",
                           source=f"rules + {model.split(' ')[0]}", confidence=None, source_version=model,
                           disagreement="rule wide QRS vs model no conduction disturbance"))  # fmt: skip
    return out


def analyze_with_models(
    recording: Recording,
    models: AnalysisModels,
    settings: AnalysisSettings | None = None,
    fusion: FusionSettings | None = None,
) -> ModelAnalysis:
    """Rules plus models on ``recording``; see the module docstring."""
    cfg = fusion or FusionSettings()
    base = analyze_recording(recording, settings)
    problems = list(models.problems)
    used: list[str] = []
    fs = recording.fs
    peaks = base.r_peaks
    peaks_s = peaks.astype(np.float64) / fs

    labels: tuple[str, ...] = base.beat_labels
    beat_model: str | None = None
    if models.beat is not None and peaks.size:
        try:
            bl = label_beats(models.beat, recording.signals, fs, recording.lead_names, peaks)
            labels, beat_model = bl.labels, bl.model
            used.append(bl.model)
        except ModelContractError as err:
            problems.append(str(err))

    starts = window_starts(recording.duration_s, cfg.window_s)
    calls: list[ModelCall | None] = [None] * len(starts)
    twelve: list[TwelveLeadCall] = []
    if starts and models.twelve_lead is not None and _has_twelve_leads(recording.lead_names):
        try:
            twelve = twelve_lead_calls(models.twelve_lead, recording, starts)
            calls = [c.rhythm for c in twelve]
            used.append(twelve[0].rhythm.model)
        except ModelContractError as err:
            problems.append(str(err))
    if starts and not twelve and models.rhythm is not None:
        row = choose_rhythm_lead(recording.lead_names)
        try:
            found = rhythm_calls(models.rhythm, recording.signals[row], fs, starts)
            calls = list(found)
            used.append(found[0].model)
        except ModelContractError as err:
            problems.append(str(err))

    spans = [(s, s + cfg.window_s) for s in starts] or [(0.0, recording.duration_s)]
    slices: list[SliceFindings] = []
    for k, (a, b) in enumerate(spans):
        sel = (peaks_s >= a) & (peaks_s < b)
        idx = np.flatnonzero(sel)
        ev = WindowEvidence(
            start_s=a, end_s=b, r_peaks_s=peaks_s[idx], beat_labels=tuple(labels[i] for i in idx),
            beat_model=beat_model, model=calls[k] if k < len(calls) else None,
        )  # fmt: skip
        slices.append(fuse_window(ev, cfg))

    rule_findings = list(base.findings)
    rule_codes = {f.code for f in rule_findings}
    fused = merge_rhythm_episodes(slices, recording.duration_s, cfg)
    if fused:
        rule_findings = [f for f in rule_findings if f.code not in _RATE_RULES]
    runs = [f for s in slices for f in s.findings if f.code == "ventricular_run"]
    extra: list[Finding] = []
    if beat_model is not None:
        extra += beat_findings(labels, peaks_s, beat_model, recording.duration_s)
    extra += _superclass_findings(twelve, rule_codes)
    findings = tuple(fused + runs + extra + rule_findings)
    result = dataclasses.replace(base, beat_labels=labels, findings=findings)
    log.info(
        "model analysis: %d beats labelled by %s, %d windows, %d findings, models %s",
        len(labels), beat_model or "none", len(slices), len(findings), ", ".join(used) or "none",
    )  # fmt: skip
    return ModelAnalysis(result, tuple(slices), tuple(used), tuple(problems))


def model_analyzer(models: AnalysisModels) -> Callable[[Recording, AnalysisSettings | None], AnalysisResult]:
    """A drop-in for :func:`analyze_recording` that also runs ``models`` (for the storage import)."""

    def analyze(recording: Recording, settings: AnalysisSettings | None = None) -> AnalysisResult:
        return analyze_with_models(recording, models, settings).result

    return analyze
