"""Analyse one 10 s slice (with the slice before it as context): beats, heart rate, rhythm, quality.

Runs in a worker thread. The QRS detector and the beat model see the previous slice as well, so a
beat at a slice border is found once: beats are kept when they fall in this slice (or in the last
``tail_s`` of the previous one, where the previous analysis may have missed them) and lie more than
``refractory_s`` after the last beat already reported. Beats inside gaps are dropped.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ecgstation.core.analysis import Finding
from ecgstation.core.quality import assess_quality
from ecgstation.core.recording import Recording
from ecgstation.inference.model_analysis import AnalysisModels, analyze_with_models
from ecgstation.inference.rhythm_calls import choose_rhythm_lead
from ecgstation.monitoring.alarms import SliceObservation
from ecgstation.monitoring.slicer import Slice

__all__ = ["SliceAnalyser", "SliceAnalysis"]

#: a slice with more than this fraction missing is not analysed for rhythm and quality ("missing")
MAX_MISSING_FRACTION = 0.5
#: an unusable slice whose 0.5-40 Hz peak-to-peak stays below this (mV) is a flat line ("flat"): with the
#: electrodes on (the device says so) that is asystole until proven otherwise, not a technical alarm
FLAT_AMPLITUDE_MV = 0.3


@dataclass(frozen=True)
class SliceAnalysis:
    """What one slice showed; times in session s, ``analysis_ms`` the compute time."""

    index: int
    start_s: float
    end_s: float
    beat_times_s: tuple[float, ...]
    beat_labels: tuple[str, ...]
    heart_rate_bpm: float | None
    rhythm_code: str | None
    quality: str
    gaps: tuple[tuple[float, float], ...]
    findings: tuple[Finding, ...]
    models: tuple[str, ...]
    analysis_ms: float

    def observation(self) -> SliceObservation:
        """The input of the alarm engine."""
        return SliceObservation(
            self.start_s, self.end_s, self.beat_times_s, self.beat_labels, self.heart_rate_bpm, self.rhythm_code,
            self.quality, self.gaps,
        )  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        """The JSON document stored with the slice (read back by the summary and recovery)."""
        return {
            "index": self.index,
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "beats_s": [round(t, 3) for t in self.beat_times_s],
            "labels": "".join(self.beat_labels),
            "hr_bpm": None if self.heart_rate_bpm is None else round(self.heart_rate_bpm, 1),
            "rhythm": self.rhythm_code,
            "quality": self.quality,
            "gaps": [[round(a, 3), round(b, 3)] for a, b in self.gaps],
            "findings": [f.code for f in self.findings],
            "models": list(self.models),
            "analysis_ms": round(self.analysis_ms, 1),
        }


def _in_gaps(t: float, gaps: Sequence[tuple[float, float]]) -> bool:
    return any(a <= t < b for a, b in gaps)


class SliceAnalyser:
    """Analyses consecutive slices of one session in order (keeps the previous slice and last beat)."""

    def __init__(
        self,
        lead_names: Sequence[str],
        models: AnalysisModels | None = None,
        *,
        mains_hz: float = 50.0,
        tail_s: float = 0.6,
        refractory_s: float = 0.25,
    ) -> None:
        self.lead_names = tuple(lead_names)
        self.row = choose_rhythm_lead(self.lead_names)
        self.models = models or AnalysisModels()
        self.mains_hz = mains_hz
        self.tail_s = tail_s
        self.refractory_s = refractory_s
        self._prev: Slice | None = None
        self._last_beat: float | None = None

    def analyse(self, slc: Slice) -> SliceAnalysis:
        """Analyse ``slc`` (the next slice of the session)."""
        t0 = time.perf_counter()
        fs = slc.fs
        lead = slc.samples[self.row]
        missing = slc.missing_s / max(slc.end_s - slc.start_s, 1e-9)
        prev = self._prev if self._prev is not None and self._prev.index == slc.index - 1 else None
        self._prev = slc
        if prev is None:
            self._last_beat = None
        if missing > MAX_MISSING_FRACTION or slc.n < 2 * fs:
            return SliceAnalysis(slc.index, slc.start_s, slc.end_s, (), (), None, None, "missing", slc.gaps, (), (),
                                 (time.perf_counter() - t0) * 1e3)  # fmt: skip
        ctx = prev.samples[self.row] if prev is not None else np.zeros(0, np.float32)
        x = np.nan_to_num(np.concatenate([ctx, lead]), nan=0.0).astype(np.float32)
        ctx_s = ctx.size / fs
        rec = Recording(signals=x[None, :], fs=fs, lead_names=(self.lead_names[self.row],))
        ma = analyze_with_models(rec, self.models)
        peaks_s = ma.result.r_peaks.astype(np.float64) / fs - ctx_s + slc.start_s
        gaps = tuple(slc.gaps) + (tuple(prev.gaps) if prev is not None else ())
        times: list[float] = []
        labels: list[str] = []
        last = self._last_beat
        for t, lab in zip(peaks_s.tolist(), ma.result.beat_labels, strict=True):
            if t < slc.start_s - (self.tail_s if prev is not None else 0.0) or t >= slc.end_s:
                continue
            if (last is not None and t <= last + self.refractory_s) or _in_gaps(t, gaps):
                continue
            times.append(t)
            labels.append(lab if lab in ("N", "S", "V", "F") else "Q")
            last = t
        prior = self._last_beat
        self._last_beat = last
        hr = self._rate(([prior] if prior is not None else []) + times, slc.gaps)
        # the fused findings of the window that is this slice (the last one when a context precedes it)
        window = min(ma.slices, key=lambda w: abs(w.start_s - ctx_s)) if ma.slices else None
        q = assess_quality(np.nan_to_num(lead, nan=0.0)[None, :], fs, window_s=max(1.0, slc.n / fs),
                           mains_hz=self.mains_hz)  # fmt: skip
        quality = q.level(0, 0)
        if quality == "unusable" and float(q.amplitude_mv[0, 0]) < FLAT_AMPLITUDE_MV:
            quality = "flat"  # no electrical activity worth the name: judged for asystole, not dismissed
        return SliceAnalysis(
            slc.index, slc.start_s, slc.end_s, tuple(times), tuple(labels), hr,
            window.rhythm_code if window is not None else None, quality, slc.gaps,
            tuple(window.findings) if window is not None else (), ma.models, (time.perf_counter() - t0) * 1e3,
        )  # fmt: skip

    @staticmethod
    def _rate(times: Sequence[float], gaps: Sequence[tuple[float, float]]) -> float | None:
        """Mean heart rate (bpm) over the RR intervals that do not span a gap; None with fewer than 2."""
        rr = [b - a for a, b in itertools.pairwise(times)
              if not any(a < g0 < b or a < g1 < b for g0, g1 in gaps)]  # fmt: skip
        if len(rr) < 2:
            return None
        return 60.0 / float(np.mean(rr))
