"""Rule-based rhythm call from R-peak times alone: rate and RR irregularity.

This is the transparent baseline the rhythm models are compared with and fused with.
It sees only beat times, so it cannot tell sinus rhythm from another regular rhythm at
the same rate, nor atrial flutter with fixed conduction from sinus tachycardia; its
labels say what it can see:

- ``"SR"``: regular rhythm, rate within the normal range (sinus rhythm, presumed);
- ``"SB"`` / ``"ST"``: regular rhythm below / above the rate limits;
- ``"AF"``: irregularly irregular RR intervals (atrial fibrillation, presumed);
- ``"OTHER"``: too few beats, or a patterned irregularity (bigeminal or trigeminal
  grouping) that is neither regular nor random.

Irregularity is measured two ways so that isolated ectopic beats do not read as AF:
``nrmssd`` (RMS of successive RR differences over the mean RR) must be high, **and**
``mad_ratio`` (median absolute successive difference over the median RR) must be high,
which an isolated premature beat with its compensatory pause does not raise.
Thresholds follow the spirit of Dash et al., Ann Biomed Eng 37:1701 (2009), adapted to
short (10 s) windows; they are settings, not constants.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["RULE_LABELS", "RhythmCall", "RhythmRuleSettings", "classify_rhythm_rules", "rr_irregularity"]

#: Every label :func:`classify_rhythm_rules` can return.
RULE_LABELS = ("SR", "SB", "ST", "AF", "OTHER")


@dataclass(frozen=True)
class RhythmRuleSettings:
    """Limits of the rule call. Rates in bpm, ratios dimensionless."""

    bradycardia_bpm: float = 60.0
    tachycardia_bpm: float = 100.0
    #: RMSSD / mean RR above which the rhythm counts as irregular (AF needs this and the next).
    af_nrmssd: float = 0.10
    #: median |successive RR difference| / median RR above which most beats are irregular.
    af_mad_ratio: float = 0.06
    #: groups of RR intervals (bigeminy/trigeminy) differ by more than this fraction ...
    group_gap: float = 0.15
    #: ... while each group's coefficient of variation stays below this.
    group_cv: float = 0.08
    min_beats: int = 4


@dataclass(frozen=True)
class RhythmCall:
    """The rule's answer for one stretch of beats.

    ``heart_rate_bpm`` from the mean RR (None with fewer than 2 beats); ``nrmssd`` and
    ``mad_ratio`` as defined in the module docstring (None when not measurable);
    ``confidence`` in 0.5-1.0 grows with the distance from the nearest limit;
    ``reason`` is one sentence for the reader.
    """

    label: str
    heart_rate_bpm: float | None
    nrmssd: float | None
    mad_ratio: float | None
    confidence: float
    reason: str


def rr_irregularity(rr_s: NDArray[np.floating]) -> tuple[float, float]:
    """``(nrmssd, mad_ratio)`` of RR intervals in s; needs at least 3 intervals."""
    rr = np.asarray(rr_s, dtype=np.float64)
    if rr.size < 3:
        raise ValueError("need at least 3 RR intervals")
    d = np.diff(rr)
    nrmssd = float(np.sqrt(np.mean(d * d)) / np.mean(rr))
    mad_ratio = float(np.median(np.abs(d)) / np.median(rr))
    return nrmssd, mad_ratio


def _grouped(rr: NDArray[np.float64], cfg: RhythmRuleSettings) -> int:
    """2 or 3 when the RRs repeat in a short-long pattern of that period, else 0."""
    for period in (2, 3):
        if rr.size < 2 * period:
            continue
        for phase in range(period):
            short = rr[phase::period]
            long_ = np.delete(rr, np.arange(phase, rr.size, period))
            if short.size < 2 or long_.size < 2:
                continue
            gap = (np.mean(long_) - np.mean(short)) / np.mean(long_)
            cv = max(np.std(short) / np.mean(short), np.std(long_) / np.mean(long_))
            if gap > cfg.group_gap and cv < cfg.group_cv:
                return period
    return 0


def _margin_confidence(value: float, limit: float, scale: float) -> float:
    """0.5 at the limit, approaching 1.0 as ``|value - limit|`` grows past ``scale``."""
    return float(0.5 + 0.5 * min(1.0, abs(value - limit) / scale))


def classify_rhythm_rules(
    r_peaks: NDArray[np.integer],
    fs: float,
    settings: RhythmRuleSettings | None = None,
    beat_labels: Sequence[str] | None = None,
) -> RhythmCall:
    """Rule rhythm label of the beats at samples ``r_peaks`` (sampling rate ``fs`` Hz).

    Meant for one 10 s window or a whole resting ECG; on long records call it per
    window. Never raises on short input: too few beats gives ``"OTHER"`` with a reason.

    ``beat_labels`` (AAMI N/S/V/F/Q, one per peak), when known, keep ectopic beats out of
    the irregularity measure: only intervals between two consecutive ``"N"`` beats count
    (the rate still uses every beat). With too few such intervals all intervals are used.
    """
    cfg = settings or RhythmRuleSettings()
    order = np.argsort(np.asarray(r_peaks, dtype=np.int64), kind="stable")
    peaks = np.asarray(r_peaks, dtype=np.int64)[order]
    if peaks.size < 2:
        return RhythmCall("OTHER", None, None, None, 0.5, f"only {peaks.size} beat(s) detected")
    rr = np.diff(peaks) / float(fs)
    rate = float(60.0 / np.mean(rr))
    if peaks.size < cfg.min_beats:
        return RhythmCall("OTHER", rate, None, None, 0.5, f"only {peaks.size} beats: rhythm not assessable")
    rr_irr = rr
    if beat_labels is not None and len(beat_labels) == peaks.size:
        normal = np.asarray(beat_labels, dtype=object)[order] == "N"
        nn = rr[normal[:-1] & normal[1:]]
        if nn.size >= 3:
            rr_irr = nn
    nrmssd, mad_ratio = rr_irregularity(rr_irr) if rr_irr.size >= 3 else (0.0, 0.0)
    irregular = nrmssd > cfg.af_nrmssd and mad_ratio > cfg.af_mad_ratio
    if irregular:
        period = _grouped(rr_irr, cfg)
        if period:
            name = "bigeminal" if period == 2 else "trigeminal"
            return RhythmCall("OTHER", rate, nrmssd, mad_ratio, 0.6, f"{name} grouping of RR intervals")
        conf = min(
            _margin_confidence(nrmssd, cfg.af_nrmssd, cfg.af_nrmssd),
            _margin_confidence(mad_ratio, cfg.af_mad_ratio, cfg.af_mad_ratio),
        )
        return RhythmCall(
            "AF", rate, nrmssd, mad_ratio, conf,
            f"irregularly irregular RR (RMSSD/mean {nrmssd:.2f}, median |dRR|/RR {mad_ratio:.2f})",
        )  # fmt: skip
    reg_conf = min(
        _margin_confidence(nrmssd, cfg.af_nrmssd, cfg.af_nrmssd),
        _margin_confidence(mad_ratio, cfg.af_mad_ratio, cfg.af_mad_ratio),
    )
    if rate < cfg.bradycardia_bpm:
        conf = min(reg_conf, _margin_confidence(rate, cfg.bradycardia_bpm, 10.0))
        return RhythmCall("SB", rate, nrmssd, mad_ratio, conf, f"regular rhythm at {rate:.0f} bpm")
    if rate > cfg.tachycardia_bpm:
        conf = min(reg_conf, _margin_confidence(rate, cfg.tachycardia_bpm, 10.0))
        return RhythmCall("ST", rate, nrmssd, mad_ratio, conf, f"regular rhythm at {rate:.0f} bpm")
    conf = min(
        reg_conf,
        _margin_confidence(rate, cfg.bradycardia_bpm, 10.0),
        _margin_confidence(rate, cfg.tachycardia_bpm, 10.0),
    )
    return RhythmCall("SR", rate, nrmssd, mad_ratio, conf, f"regular rhythm at {rate:.0f} bpm")
