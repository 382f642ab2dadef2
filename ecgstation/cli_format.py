"""Render an AnalysisResult for the command line: a JSON-ready dict or a short text report."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

from ecgstation.core.analysis import AnalysisResult
from ecgstation.inference.fusion import SliceFindings


def _clean(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN/inf to None, tuples to lists."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def result_to_dict(result: AnalysisResult, first_sample: int = 0) -> dict[str, Any]:
    """The ``analyze --json`` object.

    ``beats[].sample`` is the R-peak index in the file's own sample numbering:
    ``first_sample`` is the number the file gives its first sample (0 for WFDB).
    """
    intervals = dataclasses.asdict(result.intervals)
    beats = [
        {"sample": int(s) + first_sample, "label": lab} for s, lab in zip(result.r_peaks.tolist(), result.beat_labels)
    ]
    out = {
        "fs": float(result.fs),
        "leads": list(result.lead_names),
        "duration_s": float(result.duration_s),
        "n_beats": len(beats),
        "beat_counts": result.beat_counts(),
        "beats": beats,
        "heart_rate_bpm": result.heart_rate_bpm,
        "intervals_ms": {k.removesuffix("_ms"): v for k, v in intervals.items() if k.endswith("_ms")},
        "interval_beat_counts": {k: v for k, v in intervals.items() if not k.endswith("_ms")},
        "axis_deg": result.axis_deg,
        "hrv": dataclasses.asdict(result.hrv),
        "quality": [
            {"lead": result.lead_names[q.lead], **{k: v for k, v in dataclasses.asdict(q).items() if k != "lead"}}
            for q in result.quality
        ],
        "findings": [dataclasses.asdict(f) for f in result.findings],
    }
    return dict(_clean(out))


def _clock(seconds: float | None) -> str:
    """``h:mm:ss`` (or ``m:ss``) of a time in s from the recording start."""
    if seconds is None:
        return "?"
    total = round(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _fmt(value: float | None, unit: str, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:.{digits}f} {unit}"


def slices_to_dicts(slices: Sequence[SliceFindings]) -> list[dict[str, Any]]:
    """The ``windows`` list of ``analyze --json``: each 10 s window's rhythm code and fused findings."""
    return [
        _clean(
            {
                "start_s": s.start_s,
                "end_s": s.end_s,
                "rhythm": s.rhythm_code,
                "findings": [dataclasses.asdict(f) for f in s.findings],
            }
        )
        for s in slices
    ]


def result_to_text(
    result: AnalysisResult, name: str, warnings: list[str] | None = None, *, models: Sequence[str] = ()
) -> str:
    """A short human-readable report; ``models`` names the models that ran (``"name version"``)."""
    iv = dataclasses.asdict(result.intervals)
    hrv = result.hrv
    lines = [
        f"{name}: {len(result.lead_names)} lead(s) ({', '.join(result.lead_names)}), "
        f"{result.fs:g} Hz, {result.duration_s:.1f} s",
        f"Beats: {result.r_peaks.size} " + ", ".join(f"{k}={v}" for k, v in result.beat_counts().items()),
        f"Heart rate: {_fmt(result.heart_rate_bpm, 'bpm')}",
        "Intervals: "
        + ", ".join(
            f"{k.removesuffix('_ms').replace('_', ' ').upper()} {_fmt(v, 'ms')}"
            for k, v in iv.items()
            if k.endswith("_ms")
        ),
        f"Frontal axis: {_fmt(result.axis_deg, 'deg')}",
        f"HRV: SDNN {_fmt(hrv.sdnn_ms, 'ms', 1)}, RMSSD {_fmt(hrv.rmssd_ms, 'ms', 1)}, "
        f"pNN50 {_fmt(hrv.pnn50_pct, '%', 1)}",
        "Signal quality: " + ", ".join(f"{result.lead_names[q.lead]} {q.level}" for q in result.quality),
    ]
    lines.append("Models: " + (", ".join(models) if models else "none (rules only; beats unclassified, label Q)"))
    if result.findings:
        lines.append("Findings:")
        for f in result.findings:
            where = f" at {_clock(f.start_s)}-{_clock(f.end_s)}" if f.start_s is not None and f.end_s is not None else ""
            conf = f", confidence {f.confidence:.2f}" if f.confidence is not None else ""
            lines.append(f"  - {f.text}{where} [{f.source}{conf}]")
    else:
        lines.append("Findings: none")
    for w in warnings or ():
        lines.append(f"Warning: {w}")
    lines.append("Automated analysis: a physician must review it.")
    return "\n".join(lines) + "\n"
