"""Holter events (pauses, ventricular runs, bigeminy, trigeminy, AF, brady-/tachycardia) and the heart-rate trend.

Every function takes R-peak positions in samples (sorted, strictly increasing) at
``fs`` Hz, one beat label per peak and the record length ``n_samples``. Labels may
be AAMI classes (``N``, ``S``, ``V``, ``F``, ``Q``) or MIT-BIH beat codes, which
:func:`aami_labels` maps to AAMI classes (``L``, ``R``, ``e``, ``j`` -> ``N``;
``A``, ``a``, ``J``, ``S`` -> ``S``; ``V``, ``E`` -> ``V``; ``F`` -> ``F``;
anything else -> ``Q``).

The rules are simple and stated in :class:`EventCriteria`; they find candidates
for a reader to confirm on the strip, never a diagnosis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray

from ecgstation.core.errors import SignalError
from ecgstation.core.hrv import MAX_RR_MS, MIN_RR_MS, normal_rr_mask

__all__ = [
    "AF_RHYTHM_LABELS",
    "EVENT_KINDS",
    "TREND_MAX_DEVIATION",
    "Event",
    "EventCriteria",
    "EventKind",
    "HrTrend",
    "aami_labels",
    "detect_events",
    "heart_rate_trend",
    "rhythm_episodes",
]

EventKind = Literal["pause", "v_run", "bigeminy", "trigeminy", "af", "bradycardia", "tachycardia"]

#: Every event kind, in the order the UI lists them.
EVENT_KINDS: tuple[EventKind, ...] = ("pause", "v_run", "bigeminy", "trigeminy", "af", "bradycardia", "tachycardia")

#: Rhythm labels (upper case, without the leading "(") that mean atrial fibrillation.
AF_RHYTHM_LABELS = frozenset({"AFIB", "AF"})

#: Largest relative deviation of an RR interval from its local median kept in the default HR trend (0.5 = 50 %).
TREND_MAX_DEVIATION = 0.5

#: MIT-BIH beat codes -> AAMI EC57 classes; AAMI classes map to themselves.
_TO_AAMI = {
    **dict.fromkeys("NLRej", "N"),
    **dict.fromkeys("AaJS", "S"),
    **dict.fromkeys("VE", "V"),
    "F": "F",
    **dict.fromkeys(["/", "f", "Q", "?"], "Q"),
}

#: Intervals of the running median that smooths the beat-to-beat rate for brady-/tachycardia.
_RATE_MEDIAN_INTERVALS = 5


@dataclass(frozen=True)
class EventCriteria:
    """What counts as an event; times in s, rates in bpm.

    - ``pause_s``: an RR interval longer than this is a pause.
    - ``run_min_beats`` / ``run_labels`` / ``tachy_run_min_bpm``: that many consecutive
      beats labelled in ``run_labels`` (AAMI classes; default ventricular ``V``) at a
      mean rate of at least ``tachy_run_min_bpm`` are a run (``v_run``). ``run_labels``
      are also the ectopic beats of bigeminy and trigeminy.
    - ``bigeminy_min_cycles``: at least this many consecutive normal-ectopic pairs
      (N V N V ...) are bigeminy; ``trigeminy_min_cycles`` likewise for N N V triplets.
    - ``af_min_duration_s``: shortest AF episode reported, from rhythm annotations or
      from the RR screening rule.
    - AF screening without rhythm annotations (``af_window_beats``, ``af_irregularity``):
      for each RR interval, the window of ``af_window_beats`` intervals centred on it
      (intervals touching a beat that is not ``N``/``Q`` or outside 250-3000 ms are
      left out) gives ``median(|successive RR difference|) / median(RR)``; intervals
      where it exceeds ``af_irregularity`` are irregular; regular gaps shorter than half
      a window inside are bridged, and runs lasting ``af_min_duration_s`` are AF
      candidates. The medians make isolated ectopic beats harmless; sinus rhythm, even
      with marked sinus arrhythmia, stays below 0.1. A screening rule, not a diagnosis:
      on the MIT-BIH Arrhythmia Database (reference beats and labels) it finds about
      70 % of the AF time with about 80 % of what it flags being AF (the rest mostly
      atrial flutter with variable block and chaotic ectopy); it also flags frequent
      unlabelled ectopy. Confirm every episode on the strip.
    - ``brady_bpm`` / ``tachy_bpm`` / ``sustained_s``: the beat-to-beat rate, smoothed by a
      running median over 5 intervals, below ``brady_bpm`` (above ``tachy_bpm``) for at
      least ``sustained_s`` is bradycardia (tachycardia).
    """

    pause_s: float = 2.0
    run_min_beats: int = 3
    run_labels: tuple[str, ...] = ("V",)
    tachy_run_min_bpm: float = 100.0
    bigeminy_min_cycles: int = 3
    trigeminy_min_cycles: int = 3
    af_min_duration_s: float = 30.0
    af_window_beats: int = 64
    af_irregularity: float = 0.10
    brady_bpm: float = 40.0
    tachy_bpm: float = 150.0
    sustained_s: float = 10.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "run_labels", tuple(str(lab).strip() for lab in self.run_labels))
        if not self.run_labels or any(not lab for lab in self.run_labels):
            raise SignalError("run labels must name at least one beat label (e.g. 'V')")
        if "N" in aami_labels(self.run_labels):
            raise SignalError("run labels must not include normal beats ('N')")
        for name in ("pause_s", "af_min_duration_s", "af_irregularity", "brady_bpm", "tachy_bpm"):
            value = float(getattr(self, name))
            if not np.isfinite(value) or value <= 0:
                raise SignalError(f"{name} must be a positive number, got {getattr(self, name)!r}")
        for name in ("tachy_run_min_bpm", "sustained_s"):
            value = float(getattr(self, name))
            if not np.isfinite(value) or value < 0:
                raise SignalError(f"{name} must be zero or positive, got {getattr(self, name)!r}")
        if int(self.run_min_beats) < 2:
            raise SignalError(f"a run needs at least 2 beats, got run_min_beats={self.run_min_beats}")
        if int(self.bigeminy_min_cycles) < 1 or int(self.trigeminy_min_cycles) < 1:
            raise SignalError("bigeminy and trigeminy need at least one cycle")
        if int(self.af_window_beats) < 8:
            raise SignalError(f"the AF window needs at least 8 beats, got {self.af_window_beats}")
        if self.brady_bpm >= self.tachy_bpm:
            raise SignalError(f"bradycardia limit {self.brady_bpm} bpm must be below tachycardia {self.tachy_bpm} bpm")


@dataclass(frozen=True)
class Event:
    """One event from ``start_s`` to ``end_s`` (s from the record start).

    ``n_beats`` beats lie in ``[start_s, end_s]`` (a pause: its 2 bounding beats);
    ``max_hr_bpm`` / ``min_hr_bpm`` are the beat-to-beat rates (bpm) of the fastest and
    slowest RR interval between those beats, None without an interval; ``detail`` says
    what was found in words.
    """

    kind: EventKind
    start_s: float
    end_s: float
    n_beats: int
    max_hr_bpm: float | None = None
    min_hr_bpm: float | None = None
    detail: str = ""

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise SignalError(f"unknown event kind {self.kind!r}; expected one of {', '.join(EVENT_KINDS)}")
        if not (np.isfinite(self.start_s) and np.isfinite(self.end_s)) or self.end_s < self.start_s:
            raise SignalError(f"event {self.kind} ends ({self.end_s} s) before it starts ({self.start_s} s)")
        if self.n_beats < 0:
            raise SignalError(f"event {self.kind} has a negative beat count {self.n_beats}")

    @property
    def duration_s(self) -> float:
        """``end_s - start_s`` (s)."""
        return self.end_s - self.start_s


@dataclass(frozen=True, eq=False)
class HrTrend:
    """Heart rate per time bin of ``bin_s`` seconds.

    ``times_s`` are the bin centres (s; the last bin may be shorter than ``bin_s``);
    ``mean_bpm`` is 60000 / mean RR (ms) of the kept RR intervals ending in the bin,
    ``min_bpm`` / ``max_bpm`` the rates of its longest and shortest kept interval, all
    NaN in a bin without one; ``n_intervals`` counts the kept intervals per bin.
    """

    bin_s: float
    times_s: NDArray[np.float64]
    mean_bpm: NDArray[np.float64]
    min_bpm: NDArray[np.float64]
    max_bpm: NDArray[np.float64]
    n_intervals: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        if not np.isfinite(self.bin_s) or self.bin_s <= 0:
            raise SignalError(f"trend bin {self.bin_s!r} s must be positive")
        arrays = {}
        for name in ("times_s", "mean_bpm", "min_bpm", "max_bpm"):
            arr = np.asarray(getattr(self, name), dtype=np.float64)
            if arr.ndim != 1:
                raise SignalError(f"HR trend {name} must be one-dimensional")
            arrays[name] = arr
            object.__setattr__(self, name, arr)
        n = arrays["times_s"].size
        counts = np.asarray(self.n_intervals, dtype=np.int64)
        if counts.size == 0 and n:
            counts = np.zeros(n, dtype=np.int64)
        object.__setattr__(self, "n_intervals", counts)
        if any(a.size != n for a in arrays.values()) or counts.size != n:
            raise SignalError("HR trend arrays differ in length")

    def __len__(self) -> int:
        return int(self.times_s.size)


# ---------------------------------------------------------------- helpers


def aami_labels(labels: Sequence[str]) -> NDArray[np.str_]:
    """AAMI class (``N``, ``S``, ``V``, ``F``, ``Q``) of each label; unknown symbols become ``Q``."""
    if len(labels) == 0:
        return np.zeros(0, dtype="<U1")
    uniq, inverse = np.unique(np.asarray([str(lab).strip() for lab in labels], dtype=str), return_inverse=True)
    mapped = np.asarray([_TO_AAMI.get(u, _TO_AAMI.get(u.upper(), "Q")) for u in uniq], dtype="<U1")
    return mapped[inverse.reshape(-1)]


def _check_fs(fs: float) -> float:
    fs_f = float(fs)
    if not np.isfinite(fs_f) or fs_f <= 0:
        raise SignalError(f"sampling rate {fs!r} Hz must be a positive number")
    return fs_f


def _check_peaks(r_peaks: ArrayLike, n_samples: int) -> NDArray[np.int64]:
    if int(n_samples) < 0:
        raise SignalError(f"record length {n_samples} samples must not be negative")
    arr = np.asarray(r_peaks)
    if arr.ndim != 1:
        raise SignalError(f"R peaks must be a one-dimensional array of sample indices, got shape {arr.shape}")
    whole = np.issubdtype(arr.dtype, np.integer) or (np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)))
    if arr.size and not whole:
        raise SignalError("R peaks must be whole sample indices")
    peaks = arr.astype(np.int64)
    if peaks.size > 1 and np.any(np.diff(peaks) <= 0):
        raise SignalError("R peaks must be sorted and strictly increasing (no duplicate beats)")
    if peaks.size and (peaks[0] < 0 or peaks[-1] >= int(n_samples)):
        raise SignalError(f"R peaks lie outside the record of {n_samples} samples")
    return peaks


def _runs(mask: NDArray[np.bool_]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Starts and (exclusive) ends of the runs of True in ``mask``."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(edges == 1).astype(np.int64), np.flatnonzero(edges == -1).astype(np.int64)


def _running_nanmedian(values: NDArray[np.float64], width: int) -> NDArray[np.float64]:
    """Centred running median over ``width`` values ignoring NaN, shrinking at both ends."""
    half = width // 2
    padded = np.concatenate([np.full(half, np.nan), values, np.full(half, np.nan)])
    windows = sliding_window_view(padded, 2 * half + 1)
    out = np.full(values.size, np.nan)
    ok = np.any(np.isfinite(windows), axis=1)
    if np.any(ok):
        out[ok] = np.nanmedian(windows[ok], axis=1)
    return out


class _Beats:
    """R peaks in seconds with their RR intervals (s), for the event rules."""

    def __init__(self, peaks: NDArray[np.int64], fs: float) -> None:
        self.t = peaks / fs
        self.rr = np.diff(self.t)

    def hr_between(self, first: int, last: int) -> tuple[float | None, float | None]:
        """(max, min) beat-to-beat rate (bpm) of the intervals from beat ``first`` to beat ``last``."""
        if last <= first:
            return None, None
        rr = self.rr[first:last]
        return float(60.0 / rr.min()), float(60.0 / rr.max())

    def event(self, kind: EventKind, first: int, last: int, detail: str) -> Event:
        """The event spanning beats ``first`` to ``last`` (inclusive)."""
        hi, lo = self.hr_between(first, last)
        return Event(kind, float(self.t[first]), float(self.t[last]), last - first + 1, hi, lo, detail)


# ---------------------------------------------------------------- public API


def rhythm_episodes(
    samples: ArrayLike, aux: Sequence[str], fs: float, n_samples: int
) -> list[tuple[float, float, str]]:
    """Rhythm episodes ``(start_s, end_s, label)`` from annotation rhythm changes.

    Each ``aux`` text starting with ``"("`` (e.g. ``"(AFIB"``) starts a rhythm that lasts
    until the next rhythm change or the end of the record (``n_samples`` at ``fs`` Hz);
    the label is given without the ``"("`` and trailing NULs (``"AFIB"``).
    """
    fs_f = _check_fs(fs)
    pos = np.asarray(samples, dtype=np.int64)
    if pos.ndim != 1 or pos.size != len(aux):
        raise SignalError("annotation samples and aux texts differ in length")
    changes = [(int(p), str(a).strip().rstrip("\x00").lstrip("(").strip()) for p, a in zip(pos, aux)]
    changes = sorted((p, a) for (p, a), raw in zip(changes, aux) if str(raw).strip().startswith("("))
    out: list[tuple[float, float, str]] = []
    for k, (start, label) in enumerate(changes):
        stop = changes[k + 1][0] if k + 1 < len(changes) else int(n_samples)
        if stop > start and label:
            out.append((start / fs_f, stop / fs_f, label))
    return out


def heart_rate_trend(
    r_peaks: ArrayLike,
    fs: float,
    n_samples: int,
    bin_s: float = 60.0,
    normal_mask: ArrayLike | None = None,
) -> HrTrend:
    """Heart rate (bpm) per ``bin_s`` seconds of a record of ``n_samples`` samples at ``fs`` Hz.

    Each RR interval counts in the bin of the beat that ends it. ``normal_mask`` (one
    bool per RR interval, e.g. :func:`ecgstation.core.hrv.normal_rr_mask`) says which
    intervals to keep; by default intervals outside 250-3000 ms or deviating more than
    50 % (``TREND_MAX_DEVIATION``) from their local median are left out, which removes
    missed and false detections but keeps the irregular rate of AF. See :class:`HrTrend`.
    """
    fs_f = _check_fs(fs)
    if not np.isfinite(bin_s) or bin_s <= 0:
        raise SignalError(f"trend bin {bin_s!r} s must be positive")
    peaks = _check_peaks(r_peaks, n_samples)
    duration = int(n_samples) / fs_f
    n_bins = int(np.ceil(duration / bin_s - 1e-9)) if duration > 0 else 0
    starts = np.arange(n_bins) * float(bin_s)
    centres = (starts + np.minimum(starts + bin_s, duration)) / 2.0
    sum_rr: NDArray[np.float64] = np.zeros(n_bins)
    count: NDArray[np.int64] = np.zeros(n_bins, dtype=np.int64)
    shortest = np.full(n_bins, np.inf)
    longest = np.full(n_bins, -np.inf)
    if peaks.size >= 2 and n_bins:
        rr_ms = np.diff(peaks) * (1000.0 / fs_f)
        if normal_mask is None:
            keep = normal_rr_mask(peaks, fs_f, max_deviation=TREND_MAX_DEVIATION)
        else:
            keep = np.asarray(normal_mask, dtype=bool)
            if keep.shape != rr_ms.shape:
                raise SignalError(f"normal mask has {keep.size} entries for {rr_ms.size} RR intervals")
        bins = np.minimum((peaks[1:] / fs_f // bin_s).astype(np.int64), n_bins - 1)[keep]
        rr_kept = rr_ms[keep]
        sum_rr = np.bincount(bins, weights=rr_kept, minlength=n_bins).astype(np.float64)
        count = np.bincount(bins, minlength=n_bins).astype(np.int64)
        np.minimum.at(shortest, bins, rr_kept)
        np.maximum.at(longest, bins, rr_kept)
    has = count > 0
    mean_bpm = np.full(n_bins, np.nan)
    min_bpm = np.full(n_bins, np.nan)
    max_bpm = np.full(n_bins, np.nan)
    mean_bpm[has] = 60000.0 * count[has] / sum_rr[has]
    min_bpm[has] = 60000.0 / longest[has]
    max_bpm[has] = 60000.0 / shortest[has]
    return HrTrend(float(bin_s), centres, mean_bpm, min_bpm, max_bpm, count)


def detect_events(
    r_peaks: ArrayLike,
    labels: Sequence[str],
    fs: float,
    n_samples: int,
    criteria: EventCriteria | None = None,
    rhythm_episodes: Sequence[tuple[float, float, str]] | None = None,
) -> list[Event]:
    """Events of a record of ``n_samples`` samples at ``fs`` Hz, sorted by start time.

    ``r_peaks`` are the beats (samples), ``labels`` one label per beat (AAMI classes or
    MIT-BIH codes, see :func:`aami_labels`). With ``rhythm_episodes`` (``(start_s,
    end_s, label)``, e.g. from :func:`rhythm_episodes`) AF episodes are taken from the
    episodes labelled ``AFIB``/``AF``; without them the RR screening rule of
    :class:`EventCriteria` looks for AF. Rules and thresholds: :class:`EventCriteria`.
    """
    cfg = criteria if criteria is not None else EventCriteria()
    fs_f = _check_fs(fs)
    peaks = _check_peaks(r_peaks, n_samples)
    if len(labels) != peaks.size:
        raise SignalError(f"{len(labels)} beat labels for {peaks.size} R peaks; one label per beat is needed")
    classes = aami_labels(labels)
    beats = _Beats(peaks, fs_f)
    is_normal = classes == "N"
    is_ectopic = np.isin(classes, aami_labels(cfg.run_labels))
    events: list[Event] = []
    events += _pauses(beats, cfg)
    events += _ectopic_runs(beats, is_ectopic, cfg)
    events += _patterns(beats, is_normal, is_ectopic, 2, int(cfg.bigeminy_min_cycles), "bigeminy")
    events += _patterns(beats, is_normal, is_ectopic, 3, int(cfg.trigeminy_min_cycles), "trigeminy")
    if rhythm_episodes is not None:
        events += _af_from_episodes(beats, rhythm_episodes, cfg)
    else:
        events += _af_from_rr(beats, classes, cfg)
    events += _sustained_rate(beats, cfg)
    events.sort(key=lambda e: (e.start_s, e.end_s, EVENT_KINDS.index(e.kind)))
    return events


# ---------------------------------------------------------------- rules


def _pauses(beats: _Beats, cfg: EventCriteria) -> list[Event]:
    return [
        beats.event("pause", int(k), int(k) + 1, f"Pause {beats.rr[k]:.2f} s")
        for k in np.flatnonzero(beats.rr > cfg.pause_s)
    ]


def _ectopic_runs(beats: _Beats, is_ectopic: NDArray[np.bool_], cfg: EventCriteria) -> list[Event]:
    out: list[Event] = []
    starts, ends = _runs(is_ectopic)
    names = "/".join(cfg.run_labels)
    for s, e in zip(starts.tolist(), ends.tolist()):
        n = e - s
        if n < cfg.run_min_beats:
            continue
        span = beats.t[e - 1] - beats.t[s]
        rate = 60.0 * (n - 1) / span
        if rate >= cfg.tachy_run_min_bpm:
            out.append(beats.event("v_run", s, e - 1, f"Run of {n} {names} beats at {rate:.0f} bpm"))
    return out


def _patterns(
    beats: _Beats,
    is_normal: NDArray[np.bool_],
    is_ectopic: NDArray[np.bool_],
    period: int,
    min_cycles: int,
    kind: EventKind,
) -> list[Event]:
    """Runs of cycles of ``period - 1`` normal beats followed by one ectopic beat."""
    n = is_normal.size
    if n < period:
        return []
    cycle = is_ectopic[period - 1 :].copy()
    for lag in range(period - 1):
        cycle &= is_normal[lag : n - period + 1 + lag]
    out: list[Event] = []
    for phase in range(period):
        starts, ends = _runs(cycle[phase::period])
        for a, b in zip(starts.tolist(), ends.tolist()):
            cycles = b - a
            if cycles < min_cycles:
                continue
            first = phase + period * a
            last = phase + period * (b - 1) + period - 1
            out.append(beats.event(kind, first, last, f"{kind.capitalize()}, {cycles} cycles"))
    return out


def _af_from_episodes(beats: _Beats, episodes: Sequence[tuple[float, float, str]], cfg: EventCriteria) -> list[Event]:
    out: list[Event] = []
    for start, end, label in episodes:
        name = str(label).strip().rstrip("\x00").lstrip("(").strip().upper()
        if name not in AF_RHYTHM_LABELS or end - start < cfg.af_min_duration_s:
            continue
        first, stop = np.searchsorted(beats.t, [start, end], side="left")
        hi, lo = beats.hr_between(int(first), int(stop) - 1)
        out.append(Event("af", float(start), float(end), int(stop - first), hi, lo, f"AF (rhythm annotation {name})"))
    return out


def _af_from_rr(beats: _Beats, classes: NDArray[np.str_], cfg: EventCriteria) -> list[Event]:
    width = int(cfg.af_window_beats)
    rr_ms = beats.rr * 1000.0
    if rr_ms.size < width:
        return []
    usable = np.isin(classes, ("N", "Q"))
    ok = usable[:-1] & usable[1:] & (rr_ms >= MIN_RR_MS) & (rr_ms <= MAX_RR_MS)
    rr = np.where(ok, rr_ms, np.nan)
    diffs = np.abs(np.diff(rr))
    half = width // 2
    pad_rr = np.concatenate([np.full(half, np.nan), rr, np.full(half, np.nan)])
    pad_d = np.concatenate([np.full(half, np.nan), diffs, np.full(half + 1, np.nan)])
    win_rr = sliding_window_view(pad_rr, width)[: rr.size]
    win_d = sliding_window_view(pad_d, width - 1)[: rr.size]
    enough = np.sum(np.isfinite(win_d), axis=1) >= width // 2
    score = np.full(rr.size, np.nan)
    if np.any(enough):
        score[enough] = np.nanmedian(win_d[enough], axis=1) / np.nanmedian(win_rr[enough], axis=1)
    irregular = score > cfg.af_irregularity
    gaps_start, gaps_end = _runs(~irregular)
    for a, b in zip(gaps_start.tolist(), gaps_end.tolist()):
        if a > 0 and b < irregular.size and b - a < half:  # bridge short regular gaps inside an episode
            irregular[a:b] = True
    out: list[Event] = []
    starts, ends = _runs(irregular)
    for s, e in zip(starts.tolist(), ends.tolist()):
        if beats.t[e] - beats.t[s] < cfg.af_min_duration_s:
            continue
        level = float(np.nanmedian(score[s:e]))
        out.append(
            beats.event("af", s, e, f"Irregular RR (screening: median |dRR|/RR {level:.2f}); possible AF, confirm")
        )
    return out


def _sustained_rate(beats: _Beats, cfg: EventCriteria) -> list[Event]:
    if beats.rr.size == 0:
        return []
    rate = _running_nanmedian(60.0 / beats.rr, _RATE_MEDIAN_INTERVALS)
    out: list[Event] = []
    rules: tuple[tuple[EventKind, NDArray[np.bool_], str], ...] = (
        ("bradycardia", rate < cfg.brady_bpm, f"below {cfg.brady_bpm:g} bpm"),
        ("tachycardia", rate > cfg.tachy_bpm, f"above {cfg.tachy_bpm:g} bpm"),
    )
    for kind, mask, words in rules:
        starts, ends = _runs(mask)
        for s, e in zip(starts.tolist(), ends.tolist()):
            span = beats.t[e] - beats.t[s]
            if span >= cfg.sustained_s and span > 0:
                mean = 60.0 * (e - s) / span
                out.append(beats.event(kind, s, e, f"Rate {mean:.0f} bpm ({words}) for {span:.1f} s"))
    return out
