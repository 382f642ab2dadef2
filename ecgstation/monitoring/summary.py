"""The summary of a monitoring session, computed from the stored slice analyses (JSON-ready).

Works the same at a normal end and in crash recovery: its only input is the analysis document of
each slice (see :meth:`ecgstation.monitoring.slice_analysis.SliceAnalysis.to_json`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["summarize"]

_SINUS = {"sinus_rhythm", None}


def _episodes(slices: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Runs of consecutive slices with the same non-sinus rhythm."""
    out: list[dict[str, Any]] = []
    for s in slices:
        code = s.get("rhythm")
        if code in _SINUS:
            continue
        last = out[-1] if out else None
        if last is not None and last["code"] == code and abs(last["end_s"] - s["start_s"]) < 1e-3:
            last["end_s"] = s["end_s"]
        else:
            out.append({"code": code, "start_s": s["start_s"], "end_s": s["end_s"]})
    for e in out:
        e["duration_s"] = round(e["end_s"] - e["start_s"], 3)
    return out


def _ventricular_runs(t: np.ndarray, labels: Sequence[str], gaps: Sequence[Sequence[float]],
                      min_beats: int = 3) -> list[dict[str, Any]]:  # fmt: skip
    """Runs of ``min_beats`` or more consecutive V beats (not across a gap), with their rate (bpm)."""
    out: list[dict[str, Any]] = []
    i, n = 0, min(len(labels), t.size)
    while i < n:
        if labels[i] != "V":
            i += 1
            continue
        j = i
        while j + 1 < n and labels[j + 1] == "V" and not any(t[j] < b and t[j + 1] > a for a, b in gaps):
            j += 1
        if j - i + 1 >= min_beats:
            rate = 60.0 * (j - i) / max(float(t[j] - t[i]), 1e-6)
            out.append({"start_s": round(float(t[i]), 3), "beats": j - i + 1, "rate_bpm": round(rate, 1)})
        i = j + 1
    return out


def summarize(slices: Sequence[Mapping[str, Any]], *, alarms: Sequence[Mapping[str, Any]] = (),
              latencies_ms: Sequence[float] = (), interrupted: bool = False) -> dict[str, Any]:  # fmt: skip
    """HR trend per minute, min/max/mean HR, rhythm episodes with burden, beat counts, longest pause,
    signal-quality time, gaps; ``alarms`` (kind, onset_s, ...) are counted by kind."""
    done = sorted((s for s in slices if s and "start_s" in s), key=lambda s: s["start_s"])
    total_s = sum(s["end_s"] - s["start_s"] for s in done)
    quality: dict[str, float] = {"good": 0.0, "acceptable": 0.0, "unusable": 0.0, "missing": 0.0}
    gaps: list[list[float]] = []
    beats: list[float] = []
    labels: list[str] = []
    prev_end: float | None = None
    for s in done:
        dur = s["end_s"] - s["start_s"]
        slice_gaps = [list(g) for g in s.get("gaps", [])]
        if prev_end is not None and s["start_s"] - prev_end > 1e-3:  # slices never stored: a long gap
            slice_gaps.insert(0, [prev_end, s["start_s"]])
        missing = sum(b - a for a, b in s.get("gaps", []))
        q = s.get("quality", "missing")
        quality[q] = quality.get(q, 0.0) + dur - (missing if q != "missing" else 0.0)
        if q != "missing":
            quality["missing"] += missing
        gaps += slice_gaps
        beats += list(s.get("beats_s", []))
        labels += list(s.get("labels", ""))
        prev_end = s["end_s"]
    # gaps that touch merge into one
    merged: list[list[float]] = []
    for a, b in sorted(gaps):
        if merged and a <= merged[-1][1] + 1e-3:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    hrs = [s["hr_bpm"] for s in done if s.get("hr_bpm") is not None]
    trend: list[dict[str, Any]] = []
    if done:
        by_min: dict[int, list[float]] = {}
        for s in done:
            if s.get("hr_bpm") is not None:
                by_min.setdefault(int(s["start_s"] // 60), []).append(float(s["hr_bpm"]))
        trend = [{"minute": m, "hr_bpm": round(float(np.mean(v)), 1)} for m, v in sorted(by_min.items())]
    longest = None
    bt = np.asarray(beats, dtype=np.float64)
    if bt.size >= 2:
        rr = np.diff(bt)
        ok = np.ones(rr.size, dtype=bool)
        for a, b in merged:  # an interval across a gap is not a pause
            ok &= ~((bt[:-1] < b) & (bt[1:] > a))
        if ok.any():
            i = int(np.argmax(np.where(ok, rr, -1.0)))
            longest = {"duration_s": round(float(rr[i]), 3), "start_s": round(float(bt[i]), 3)}
    runs = _ventricular_runs(bt, labels, merged)
    episodes = _episodes(done)
    burden: dict[str, float] = {}
    analysed = total_s - quality["missing"]
    for e in episodes:
        burden[e["code"]] = burden.get(e["code"], 0.0) + e["duration_s"]
    counts = {k: labels.count(k) for k in ("N", "S", "V", "F", "Q")}
    kinds: dict[str, int] = {}
    for alarm in alarms:
        kinds[str(alarm["kind"])] = kinds.get(str(alarm["kind"]), 0) + 1
    lat = np.asarray(latencies_ms, dtype=np.float64)
    return {
        "interrupted": interrupted,
        "n_slices": len(done),
        "first_slice": done[0]["index"] if done else None,
        "last_slice": done[-1]["index"] if done else None,
        "duration_s": round(done[-1]["end_s"] - done[0]["start_s"], 3) if done else 0.0,
        "recorded_s": round(total_s, 3),
        "hr_bpm": {
            "min": round(min(hrs), 1) if hrs else None,
            "max": round(max(hrs), 1) if hrs else None,
            "mean": round(float(np.mean(hrs)), 1) if hrs else None,
        },
        "hr_trend": trend,
        "episodes": episodes,
        "burden": {k: round(v / analysed, 4) if analysed > 0 else 0.0 for k, v in burden.items()},
        "beat_counts": counts,
        "ventricular_runs": runs,
        "longest_pause": longest,
        "quality_s": {k: round(v, 3) for k, v in quality.items()},
        "gaps": [[round(a, 3), round(b, 3)] for a, b in merged],
        "gap_total_s": round(sum(b - a for a, b in merged), 3),
        "alarms": kinds,
        "latency_ms": None if lat.size == 0 else {
            "median": round(float(np.median(lat)), 1), "p90": round(float(np.percentile(lat, 90)), 1),
            "max": round(float(lat.max()), 1), "n": int(lat.size),
        },
    }  # fmt: skip
