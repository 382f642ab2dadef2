"""One call that measures a resting or ambulatory ECG: beats, rate, intervals, axis, HRV, quality."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from ecgstation.core.blockwise import assess_quality_blockwise, delineate_blockwise
from ecgstation.core.delineation import Delineation
from ecgstation.core.hrv import HrvTimeDomain, heart_rate_bpm, rr_intervals_ms, time_domain_hrv
from ecgstation.core.intervals import Intervals, frontal_axis_deg, measure_intervals
from ecgstation.core.qrs import detect_qrs
from ecgstation.core.quality import LeadQuality, lead_summary
from ecgstation.core.recording import Recording

log = logging.getLogger(__name__)

#: Beat label used until a beat classifier labels beats (AAMI "unclassifiable").
UNCLASSIFIED = "Q"


@dataclass(frozen=True)
class AnalysisSettings:
    """Settings of one analysis; ``mains_hz`` is the local mains frequency (50 or 60 Hz)."""

    mains_hz: float = 50.0
    quality_window_s: float = 10.0
    pause_s: float = 2.5
    bradycardia_bpm: float = 60.0
    tachycardia_bpm: float = 100.0
    long_qtc_ms: float = 470.0
    wide_qrs_ms: float = 120.0
    long_pr_ms: float = 200.0
    short_pr_ms: float = 120.0


@dataclass(frozen=True)
class Finding:
    """A statement about the ECG: ``code`` machine-readable, ``text`` for the reader.

    ``source`` is ``"rule"`` for the measurement rules here, or the names of the models
    (and rules) a finding was fused from; ``source_version`` their versions.
    ``start_s``/``end_s`` bound the finding in seconds when it is local. ``disagreement``
    is set, and said in ``text``, when the sources behind a fused finding disagree.
    """

    code: str
    text: str
    source: str = "rule"
    confidence: float | None = None
    start_s: float | None = None
    end_s: float | None = None
    source_version: str | None = None
    disagreement: str | None = None


@dataclass(frozen=True)
class AnalysisResult:
    """Everything one analysis measured. Samples are in the record's own numbering."""

    fs: float
    lead_names: tuple[str, ...]
    duration_s: float
    r_peaks: NDArray[np.int64]
    beat_labels: tuple[str, ...]
    heart_rate_bpm: float | None
    intervals: Intervals
    axis_deg: float | None
    hrv: HrvTimeDomain
    quality: tuple[LeadQuality, ...]
    delineation: Delineation
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    def beat_counts(self) -> dict[str, int]:
        """Number of beats per label."""
        labels, counts = np.unique(np.asarray(self.beat_labels, dtype=str), return_counts=True)
        return {str(k): int(v) for k, v in zip(labels, counts)}


def analyze_recording(recording: Recording, settings: AnalysisSettings | None = None) -> AnalysisResult:
    """Detect beats, measure rate, intervals, axis and HRV, assess quality and apply the rules."""
    cfg = settings or AnalysisSettings()
    x, fs = recording.signals, recording.fs
    r_peaks = detect_qrs(x, fs)
    log.info("detected %d beats in %.1f s", r_peaks.size, recording.duration_s)
    labels = (UNCLASSIFIED,) * int(r_peaks.size)
    waves = delineate_blockwise(x, fs, r_peaks)
    intervals = measure_intervals(waves, r_peaks, fs)
    axis = frontal_axis_deg(x, recording.lead_names, fs, waves)
    hrv = time_domain_hrv(r_peaks, fs)
    window_s = min(cfg.quality_window_s, max(1.0, recording.duration_s))
    report = assess_quality_blockwise(x, fs, window_s, cfg.mains_hz)
    quality = lead_summary(report)
    rate = heart_rate_bpm(r_peaks, fs)
    findings = _rule_findings(r_peaks, fs, rate, intervals, axis, quality, recording.lead_names, cfg)
    log.info("analysis done: HR %s bpm, %d findings", None if rate is None else round(rate), len(findings))
    return AnalysisResult(
        fs=fs,
        lead_names=recording.lead_names,
        duration_s=recording.duration_s,
        r_peaks=r_peaks,
        beat_labels=labels,
        heart_rate_bpm=rate,
        intervals=intervals,
        axis_deg=axis,
        hrv=hrv,
        quality=quality,
        delineation=waves,
        findings=tuple(findings),
    )


def _rule_findings(
    r_peaks: NDArray[np.int64],
    fs: float,
    rate: float | None,
    iv: Intervals,
    axis: float | None,
    quality: tuple[LeadQuality, ...],
    lead_names: tuple[str, ...],
    cfg: AnalysisSettings,
) -> list[Finding]:
    out: list[Finding] = []
    if r_peaks.size == 0:
        out.append(Finding("no_beats", "No QRS complexes detected"))
    if rate is not None:
        if rate < cfg.bradycardia_bpm:
            out.append(Finding("bradycardia", f"Heart rate {rate:.0f} bpm (below {cfg.bradycardia_bpm:.0f})"))
        elif rate > cfg.tachycardia_bpm:
            out.append(Finding("tachycardia", f"Heart rate {rate:.0f} bpm (above {cfg.tachycardia_bpm:.0f})"))
    rr = rr_intervals_ms(r_peaks, fs) if r_peaks.size >= 2 else np.zeros(0)
    for k in np.flatnonzero(rr > cfg.pause_s * 1000.0):
        start = float(r_peaks[k] / fs)
        out.append(
            Finding("pause", f"Pause of {rr[k] / 1000.0:.1f} s", start_s=start, end_s=float(r_peaks[k + 1] / fs))
        )
    if iv.pr_ms is not None:
        if iv.pr_ms > cfg.long_pr_ms:
            out.append(Finding("long_pr", f"PR {iv.pr_ms:.0f} ms (first-degree AV block?)"))
        elif iv.pr_ms < cfg.short_pr_ms:
            out.append(Finding("short_pr", f"Short PR {iv.pr_ms:.0f} ms"))
    if iv.qrs_ms is not None and iv.qrs_ms >= cfg.wide_qrs_ms:
        out.append(Finding("wide_qrs", f"Wide QRS {iv.qrs_ms:.0f} ms"))
    qtc = iv.qtc_fridericia_ms
    if qtc is not None and qtc > cfg.long_qtc_ms:
        out.append(Finding("long_qtc", f"Long QTc {qtc:.0f} ms (Fridericia)"))
    if axis is not None:
        if axis < -30.0:
            out.append(Finding("left_axis", f"Left axis deviation ({axis:.0f} deg)"))
        elif axis > 90.0:
            out.append(Finding("right_axis", f"Right axis deviation ({axis:.0f} deg)"))
    for lead, q in zip(lead_names, quality):
        if q.level == "unusable":
            reasons = ", ".join(q.reasons) or "poor signal"
            out.append(Finding("lead_unusable", f"Lead {lead} unusable: {reasons}"))
    return out
