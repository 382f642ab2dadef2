"""Fuse beat labels, a rhythm model and the rate/irregularity rules into one list of findings.

Per 10 s window the evidence is: the rule call (:mod:`ecgstation.core.rhythm_rules`), the
rhythm model's probabilities (single-lead or 12-lead, when one ran) and the beat labels
of the beats in the window. The rhythm model leads when it is confident; otherwise the
rule does. Whenever a source contradicts the call, the finding says so in its text and in
``Finding.disagreement``: the reader sees both, the workstation never hides a conflict.

Codes of rhythm findings (``RHYTHM_TEXT``) are shared by every source so that they can be
compared; episodes of the same code in consecutive windows are merged per recording.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from ecgstation.core.analysis import Finding
from ecgstation.core.rhythm_rules import RhythmCall, RhythmRuleSettings, classify_rhythm_rules

__all__ = [
    "RHYTHM_TEXT",
    "FusionSettings",
    "ModelCall",
    "SliceFindings",
    "WindowEvidence",
    "beat_findings",
    "fuse_window",
    "merge_rhythm_episodes",
    "model_rhythm_code",
]

RULE_SOURCE = "rules"

#: Rhythm codes and the words the reader sees.
RHYTHM_TEXT: dict[str, str] = {
    "sinus_rhythm": "Sinus rhythm",
    "sinus_bradycardia": "Sinus bradycardia",
    "sinus_tachycardia": "Sinus tachycardia",
    "atrial_fibrillation": "Atrial fibrillation",
    "atrial_fibrillation_or_flutter": "Atrial fibrillation or flutter",
    "atrial_flutter": "Atrial flutter",
    "ventricular_tachycardia": "Ventricular tachycardia",
    "supraventricular_tachycardia": "Supraventricular tachycardia",
    "bigeminy_trigeminy": "Ventricular or supraventricular bigeminy/trigeminy",
    "noise": "Noise: rhythm not assessable",
    "other_rhythm": "Other rhythm",
    "not_assessable": "Rhythm not assessable",
}

_RULE_CODE = {
    "SR": "sinus_rhythm",
    "SB": "sinus_bradycardia",
    "ST": "sinus_tachycardia",
    "AF": "atrial_fibrillation",
    "OTHER": "other_rhythm",
}
#: model class -> rhythm code; "SINUS"/"SR" become brady/tachy by the measured rate.
_MODEL_CODE = {
    "SINUS": "sinus_rhythm",
    "SR": "sinus_rhythm",
    "SB": "sinus_bradycardia",
    "ST": "sinus_tachycardia",
    "AF": "atrial_fibrillation",
    "AFL": "atrial_flutter",
    "VT": "ventricular_tachycardia",
    "SVT": "supraventricular_tachycardia",
    "BIGEMINY_TRIGEMINY": "bigeminy_trigeminy",
    "NOISE": "noise",
    "OTHER": "other_rhythm",
}
_SINUS = ("sinus_rhythm", "sinus_bradycardia", "sinus_tachycardia")
_AF = ("atrial_fibrillation", "atrial_fibrillation_or_flutter")


@dataclass(frozen=True)
class FusionSettings:
    """How the sources are weighed. Probabilities in 0-1, rates in bpm, durations in s."""

    window_s: float = 10.0
    #: below this top-class probability the model's call is not used (the rule decides).
    model_min_confidence: float = 0.5
    #: a rhythm episode the RR rule alone decided must span this many windows to be reported
    rule_episode_min_windows: int = 2
    #: V beats in a row that make a ventricular run ...
    run_min_beats: int = 3
    #: ... at a rate above this.
    run_min_rate_bpm: float = 100.0
    rules: RhythmRuleSettings = field(default_factory=RhythmRuleSettings)


@dataclass(frozen=True)
class ModelCall:
    """A rhythm model's answer for one window: class names, probabilities and ``"name version"``."""

    classes: tuple[str, ...]
    probabilities: NDArray[np.float32]
    model: str
    #: map "AF" to "atrial_fibrillation_or_flutter" (a 12-lead model whose AF class holds both)
    af_includes_flutter: bool = False

    @property
    def top(self) -> tuple[str, float]:
        """The most probable class and its probability."""
        k = int(np.argmax(self.probabilities))
        return self.classes[k], float(self.probabilities[k])


@dataclass(frozen=True)
class WindowEvidence:
    """Everything known about one window ``[start_s, end_s)``.

    ``r_peaks`` are seconds from the recording start; ``beat_labels`` one AAMI label per
    peak (``"Q"`` when unclassified); ``beat_model`` names the beat model (None: no model).
    """

    start_s: float
    end_s: float
    r_peaks_s: NDArray[np.float64]
    beat_labels: tuple[str, ...]
    beat_model: str | None
    model: ModelCall | None


@dataclass(frozen=True)
class SliceFindings:
    """The fused findings of one 10 s slice, and the rhythm code chosen for it."""

    start_s: float
    end_s: float
    rhythm_code: str
    findings: tuple[Finding, ...]
    #: "model" when the rhythm model's call was used, "rule" when the RR rule decided
    decided_by: str = "rule"


def model_rhythm_code(call: ModelCall, rate_bpm: float | None, rules: RhythmRuleSettings) -> tuple[str, float]:
    """The rhythm code of a model's top class (sinus refined by ``rate_bpm``) and its probability."""
    name, p = call.top
    code = _MODEL_CODE.get(name.upper(), "other_rhythm")
    if code == "atrial_fibrillation" and call.af_includes_flutter:
        code = "atrial_fibrillation_or_flutter"
    if code == "sinus_rhythm" and rate_bpm is not None:
        if rate_bpm < rules.bradycardia_bpm:
            code = "sinus_bradycardia"
        elif rate_bpm > rules.tachycardia_bpm:
            code = "sinus_tachycardia"
    return code, p


def _ventricular_runs(
    times_s: NDArray[np.float64], labels: Sequence[str], cfg: FusionSettings
) -> list[tuple[int, int]]:
    """(first, last) beat indices of runs of >= ``run_min_beats`` V beats faster than ``run_min_rate_bpm``."""
    runs: list[tuple[int, int]] = []
    i, n = 0, len(labels)
    while i < n:
        if labels[i] != "V":
            i += 1
            continue
        j = i
        while j + 1 < n and labels[j + 1] == "V":
            j += 1
        count = j - i + 1
        if count >= cfg.run_min_beats:
            rate = 60.0 * (count - 1) / max(float(times_s[j] - times_s[i]), 1e-6)
            if rate > cfg.run_min_rate_bpm:
                runs.append((i, j))
        i = j + 1
    return runs


def _conflict(code: str, rule: RhythmCall, labels: Sequence[str], runs: int, beat_model: str | None) -> str | None:
    """Why the rule or the beat labels contradict ``code`` (None when they do not)."""
    rule_code = _RULE_CODE[rule.label]
    rate = rule.heart_rate_bpm
    rule_words = f"the RR rule finds {rule.reason}"
    if code in _SINUS and rule_code == "atrial_fibrillation":
        return rule_words
    if code in _AF and rule_code in _SINUS:
        return rule_words
    if code == "ventricular_tachycardia":
        if rate is not None and rate <= 100.0:
            return f"the measured rate is {rate:.0f} bpm"
        if beat_model is not None and runs == 0:
            return f"{beat_model} finds no run of V beats"
    if code == "supraventricular_tachycardia" and rate is not None and rate <= 100.0:
        return f"the measured rate is {rate:.0f} bpm"
    if code in _SINUS and beat_model is not None and runs > 0:
        return f"{beat_model} finds a run of V beats"
    if code == "bigeminy_trigeminy" and beat_model is not None and labels:
        ectopic = sum(lab in ("V", "S") for lab in labels) / len(labels)
        if ectopic < 0.2:
            return f"{beat_model} labels only {100 * ectopic:.0f} % of beats ectopic"
    return None


def fuse_window(ev: WindowEvidence, cfg: FusionSettings | None = None) -> SliceFindings:
    """Fused findings of one window: a rhythm finding, ventricular runs, ectopic beat counts."""
    cfg = cfg or FusionSettings()
    fs_ticks = 1000.0  # rule input in ms ticks
    peaks = np.round(np.asarray(ev.r_peaks_s, dtype=np.float64) * fs_ticks).astype(np.int64)
    labels = ev.beat_labels if ev.beat_model is not None else None
    rule = classify_rhythm_rules(peaks, fs_ticks, cfg.rules, beat_labels=labels)
    runs = _ventricular_runs(ev.r_peaks_s, ev.beat_labels, cfg) if ev.beat_model else []
    rule_code = _RULE_CODE[rule.label]
    if rule.label == "OTHER" and rule.nrmssd is None:
        rule_code = "not_assessable"

    model_code, model_p = (None, 0.0)
    if ev.model is not None:
        model_code, model_p = model_rhythm_code(ev.model, rule.heart_rate_bpm, cfg.rules)
    sources = [RULE_SOURCE]
    if ev.model is not None and model_code is not None and model_p >= cfg.model_min_confidence:
        code, confidence, decided = model_code, model_p, "model"
        sources.insert(0, ev.model.model)
        conflict = _conflict(code, rule, ev.beat_labels, len(runs), ev.beat_model)
        basis = f"{ev.model.model} p={model_p:.2f}"
    else:
        code, confidence, decided = rule_code, rule.confidence, "rule"
        conflict = None
        basis = f"RR rule: {rule.reason}"
        if ev.model is not None and model_code is not None:
            sources.insert(0, ev.model.model)
            if model_code != code:
                conflict = f"{ev.model.model} is unsure (p={model_p:.2f} for {RHYTHM_TEXT[model_code].lower()})"
    if ev.beat_model:
        sources.append(ev.beat_model)
    text = RHYTHM_TEXT[code]
    if rule.heart_rate_bpm is not None and code not in ("noise", "not_assessable"):
        text += f", {rule.heart_rate_bpm:.0f} bpm"
    text += f" ({basis})"
    if conflict:
        text += f"; sources disagree: {conflict}"
    source = " + ".join(s.split(" ")[0] for s in sources)
    versions = "; ".join(s for s in sources if " " in s) or None
    findings = [
        Finding(
            f"rhythm_{code}",
            text,
            source=source,
            confidence=round(confidence, 3),
            start_s=ev.start_s,
            end_s=ev.end_s,
            source_version=versions,
            disagreement=conflict,
        )
    ]
    for i, j in runs:
        n = j - i + 1
        rate = 60.0 * (n - 1) / max(float(ev.r_peaks_s[j] - ev.r_peaks_s[i]), 1e-6)
        note = None
        if code not in ("ventricular_tachycardia",) and n >= 4 and ev.model is not None and model_code is not None:
            note = f"the rhythm model calls this window {RHYTHM_TEXT[model_code].lower()}"
        findings.append(
            Finding(
                "ventricular_run",
                f"Ventricular run of {n} beats at {rate:.0f} bpm ({ev.beat_model})"
                + (f"; sources disagree: {note}" if note else ""),
                source=(ev.beat_model or "").split(" ")[0],
                confidence=None,
                start_s=float(ev.r_peaks_s[i]),
                end_s=float(ev.r_peaks_s[j]),
                source_version=ev.beat_model,
                disagreement=note,
            )
        )
    return SliceFindings(ev.start_s, ev.end_s, code, tuple(findings), decided)


def _family(code: str) -> str:
    """Episodes group sinus rhythm at any rate together; every other code is its own family."""
    return "sinus" if code in _SINUS else code


def _family_code(codes: Sequence[str]) -> str:
    """The code a group of slices is named by: the family's only code, or sinus rhythm for mixed rates."""
    uniq = set(codes)
    if len(uniq) == 1:
        return codes[0]
    return "sinus_rhythm" if uniq <= set(_SINUS) else max(uniq, key=list(codes).count)


def merge_rhythm_episodes(
    slices: Sequence[SliceFindings], duration_s: float, cfg: FusionSettings | None = None
) -> list[Finding]:
    """Recording-level rhythm findings from per-slice ones.

    The predominant rhythm (share of the analysed time; sinus rhythm at any rate counts as
    one) comes first; every other rhythm becomes one finding per episode (consecutive
    slices of the same rhythm) with its start, end and duration, confidence the mean of its
    slices, and any disagreement among its slices. An episode the RR rule alone decided
    needs ``cfg.rule_episode_min_windows`` slices.
    """
    cfg = cfg or FusionSettings()
    if not slices:
        return []
    first = slices[0].findings[0]
    if len(slices) == 1:
        return [replace(first, start_s=None, end_s=None)]
    families = [_family(s.rhythm_code) for s in slices]
    spans = np.array([s.end_s - s.start_s for s in slices])
    total = float(spans.sum())
    share = {f: float(spans[[k for k, x in enumerate(families) if x == f]].sum()) for f in set(families)}
    main = max(share, key=lambda f: (share[f], f == "sinus"))
    main_slices = [s for s, f in zip(slices, families) if f == main]
    main_code = _family_code([s.rhythm_code for s in main_slices])
    main_conf = float(np.mean([s.findings[0].confidence or 0.0 for s in main_slices]))
    n_disagree = sum(s.findings[0].disagreement is not None for s in slices)
    text = f"Predominant rhythm: {RHYTHM_TEXT[main_code]} ({100 * share[main] / max(total, 1e-9):.0f} % of "
    text += f"{total:.0f} s analysed)"
    note = None
    if n_disagree:
        note = f"sources disagree in {n_disagree} of {len(slices)} windows"
        text += f"; {note}"
    out = [
        Finding(
            f"rhythm_{main_code}",
            text,
            source=first.source,
            confidence=round(main_conf, 3),
            source_version=first.source_version,
            disagreement=note,
        )
    ]
    k = 0
    while k < len(slices):
        fam = families[k]
        m = k
        while m + 1 < len(slices) and families[m + 1] == fam and slices[m + 1].start_s <= slices[m].end_s:
            m += 1
        part = slices[k : m + 1]
        k = m + 1
        if fam == main or (all(s.decided_by == "rule" for s in part) and len(part) < cfg.rule_episode_min_windows):
            continue
        code = _family_code([s.rhythm_code for s in part])
        start, end = part[0].start_s, part[-1].end_s
        conf = float(np.mean([s.findings[0].confidence or 0.0 for s in part]))
        notes = [s.findings[0].disagreement for s in part if s.findings[0].disagreement]
        episode_note = f"sources disagree in {len(notes)} of {len(part)} windows ({notes[0]})" if notes else None
        text = f"{RHYTHM_TEXT[code]} episode, {end - start:.0f} s"
        if episode_note:
            text += f"; {episode_note}"
        out.append(
            Finding(
                f"rhythm_{code}",
                text,
                source=part[0].findings[0].source,
                confidence=round(conf, 3),
                start_s=start,
                end_s=end,
                source_version=part[0].findings[0].source_version,
                disagreement=episode_note,
            )
        )
    return out


def beat_findings(
    labels: Sequence[str], r_peaks_s: NDArray[np.float64], beat_model: str, duration_s: float
) -> list[Finding]:
    """Recording-level beat counts: ventricular and supraventricular ectopic beats, fusion beats."""
    out: list[Finding] = []
    n = len(labels)
    if n == 0:
        return out
    counts = {c: sum(1 for lab in labels if lab == c) for c in ("V", "S", "F")}
    names = {
        "V": ("ventricular_ectopic_beats", "Ventricular ectopic beats"),
        "S": ("supraventricular_ectopic_beats", "Supraventricular ectopic beats"),
        "F": ("fusion_beats", "Fusion beats"),
    }
    per_hour = 3600.0 / max(duration_s, 1e-9)
    for c, k in counts.items():
        if k == 0:
            continue
        code, words = names[c]
        text = f"{words}: {k} ({100 * k / n:.1f} % of {n} beats"
        text += f", {k * per_hour:.0f}/h)" if duration_s >= 600 else ")"
        text += f" ({beat_model})"
        out.append(Finding(code, text, source=beat_model.split(" ")[0], source_version=beat_model))
    return out
