"""Holter events and the HR trend: exact cases on hand-made RR sequences, real MIT-BIH rhythm episodes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from ecgstation.core.errors import SignalError
from ecgstation.core.events import (
    EVENT_KINDS,
    Event,
    EventCriteria,
    HrTrend,
    aami_labels,
    detect_events,
    heart_rate_trend,
    rhythm_episodes,
)
from ecgstation.io import read_recording

FS = 250.0

#: MIT-BIH annotation symbols that mark beats.
BEAT_SYMBOLS = set("NLRBAaJSVrFejnE/fQ?")


def peaks_from_rr(rr_s: list[float] | NDArray[np.float64], fs: float = FS, start_s: float = 1.0) -> NDArray[np.int64]:
    """R peaks (samples) whose RR intervals are ``rr_s`` (s), the first at ``start_s``."""
    times = start_s + np.concatenate([[0.0], np.cumsum(rr_s)])
    return np.round(times * fs).astype(np.int64)


def record(
    rr_s: list[float] | NDArray[np.float64], labels: str | list[str] | None = None
) -> tuple[NDArray[np.int64], list[str], int]:
    """Peaks, labels (default all ``N``) and a record length 2 s past the last beat."""
    peaks = peaks_from_rr(rr_s)
    labs = list(labels) if labels is not None else ["N"] * peaks.size
    assert len(labs) == peaks.size
    return peaks, labs, int(peaks[-1] + 2 * FS)


def kinds(events: list[Event]) -> list[str]:
    return [e.kind for e in events]


# ---------------------------------------------------------------- no events


def test_regular_sinus_rhythm_has_no_events() -> None:
    rng = np.random.default_rng(1)
    rr = 0.8 * (1 + 0.03 * rng.standard_normal(600))  # 8 min at 75 bpm, 3 % jitter
    peaks, labels, n = record(rr)
    assert detect_events(peaks, labels, FS, n) == []


@pytest.mark.parametrize("peaks", [[], [100]])
def test_empty_and_single_beat(peaks: list[int]) -> None:
    labels = ["N"] * len(peaks)
    assert detect_events(np.asarray(peaks, dtype=np.int64), labels, FS, 1000) == []
    trend = heart_rate_trend(np.asarray(peaks, dtype=np.int64), FS, 1000, bin_s=1.0)
    assert len(trend) == 4 and np.all(np.isnan(trend.mean_bpm)) and trend.n_intervals.tolist() == [0] * 4


def test_empty_record() -> None:
    trend = heart_rate_trend(np.zeros(0, dtype=np.int64), FS, 0)
    assert len(trend) == 0
    assert detect_events(np.zeros(0, dtype=np.int64), [], FS, 0) == []


# ---------------------------------------------------------------- pauses


def test_pause_of_three_seconds_with_exact_bounds() -> None:
    rr = [1.0] * 10 + [3.0] + [1.0] * 10
    peaks, labels, n = record(rr)
    events = detect_events(peaks, labels, FS, n)
    assert kinds(events) == ["pause"]
    pause = events[0]
    assert pause.start_s == peaks[10] / FS == pytest.approx(11.0)
    assert pause.end_s == peaks[11] / FS == pytest.approx(14.0)
    assert pause.duration_s == pytest.approx(3.0)
    assert pause.n_beats == 2
    assert pause.max_hr_bpm == pause.min_hr_bpm == pytest.approx(20.0)
    assert "3.00 s" in pause.detail


def test_pause_threshold_follows_the_criteria() -> None:
    peaks, labels, n = record([1.0] * 10 + [3.0] + [1.0] * 10)
    assert detect_events(peaks, labels, FS, n, EventCriteria(pause_s=3.5)) == []
    assert kinds(detect_events(peaks, labels, FS, n, EventCriteria(pause_s=2.5))) == ["pause"]
    # exactly the threshold is not a pause: longer than pause_s is
    assert detect_events(peaks, labels, FS, n, EventCriteria(pause_s=3.0)) == []


# ---------------------------------------------------------------- ventricular runs


def test_run_of_four_v_beats_at_150_bpm() -> None:
    rr = [0.8] * 10 + [0.4] * 4 + [1.2] + [0.8] * 10
    labels = "N" * 11 + "VVVV" + "N" * 11
    peaks, labs, n = record(rr, labels)
    events = detect_events(peaks, labs, FS, n)
    assert kinds(events) == ["v_run"]
    run = events[0]
    assert run.n_beats == 4
    assert run.start_s == peaks[11] / FS and run.end_s == peaks[14] / FS
    assert run.max_hr_bpm == pytest.approx(150.0) and run.min_hr_bpm == pytest.approx(150.0)
    assert "4 V" in run.detail and "150 bpm" in run.detail


def test_slow_runs_and_couplets_are_not_runs_unless_asked() -> None:
    # a 4-beat V run at 75 bpm (idioventricular) and a couplet
    rr = [0.8] * 30
    labels = "N" * 5 + "VVVV" + "N" * 10 + "VV" + "N" * 10
    peaks, labs, n = record(rr, labels)
    assert detect_events(peaks, labs, FS, n) == []
    slow = detect_events(peaks, labs, FS, n, EventCriteria(tachy_run_min_bpm=0.0))
    assert [(e.kind, e.n_beats) for e in slow] == [("v_run", 4)]
    pairs = detect_events(peaks, labs, FS, n, EventCriteria(tachy_run_min_bpm=0.0, run_min_beats=2))
    assert [(e.kind, e.n_beats) for e in pairs] == [("v_run", 4), ("v_run", 2)]


def test_mitbih_codes_count_as_their_aami_class() -> None:
    rr = [0.8] * 10 + [0.4] * 3 + [1.2] + [0.8] * 10
    labels = ["L"] * 11 + ["V", "E", "V"] + ["R"] * 11
    peaks, labs, n = record(rr, labels)
    assert kinds(detect_events(peaks, labs, FS, n)) == ["v_run"]
    assert aami_labels(["N", "L", "A", "a", "V", "E", "F", "/", "+", "x"]).tolist() == list("NNSSVVFQQQ")


# ---------------------------------------------------------------- bigeminy, trigeminy


def test_bigeminy_of_four_cycles() -> None:
    # N N N | N V N V N V N V | N N N
    labels = "NNN" + "NV" * 4 + "NNN"
    rr = [0.8, 0.8, 0.8] + [0.5, 1.1] * 4 + [0.8, 0.8]
    peaks, labs, n = record(rr, labels)
    events = detect_events(peaks, labs, FS, n)
    assert kinds(events) == ["bigeminy"]
    big = events[0]
    assert big.start_s == peaks[3] / FS and big.end_s == peaks[10] / FS
    assert big.n_beats == 8 and "4 cycles" in big.detail
    assert big.max_hr_bpm == pytest.approx(120.0)
    assert detect_events(peaks, labs, FS, n, EventCriteria(bigeminy_min_cycles=5)) == []


def test_two_cycles_are_not_bigeminy() -> None:
    labels = "NNN" + "NV" * 2 + "NNNN"
    peaks, labs, n = record([0.8] * (len(labels) - 1), labels)
    assert detect_events(peaks, labs, FS, n) == []
    assert kinds(detect_events(peaks, labs, FS, n, EventCriteria(bigeminy_min_cycles=2))) == ["bigeminy"]


def test_trigeminy() -> None:
    labels = "NN" + "NNV" * 3 + "NNNN"
    peaks, labs, n = record([0.8] * (len(labels) - 1), labels)
    events = detect_events(peaks, labs, FS, n)
    assert kinds(events) == ["trigeminy"]
    assert events[0].start_s == peaks[2] / FS and events[0].end_s == peaks[10] / FS
    assert events[0].n_beats == 9


# ---------------------------------------------------------------- AF


def test_af_from_rhythm_annotations() -> None:
    peaks, labels, n = record([0.8] * 300)  # 240 s
    episodes = [(0.0, 60.0, "N"), (60.0, 120.0, "(AFIB"), (120.0, 130.0, "AFIB"), (130.0, 240.0, "(N")]
    events = detect_events(peaks, labels, FS, n, rhythm_episodes=episodes)
    assert kinds(events) == ["af"]
    af = events[0]
    assert (af.start_s, af.end_s) == (60.0, 120.0)
    assert af.n_beats == int(np.count_nonzero((peaks / FS >= 60.0) & (peaks / FS < 120.0)))
    assert "AFIB" in af.detail
    # the 10 s episode counts when the criteria ask for 10 s
    short = detect_events(peaks, labels, FS, n, EventCriteria(af_min_duration_s=10.0), rhythm_episodes=episodes)
    assert [(e.start_s, e.end_s) for e in short] == [(60.0, 120.0), (120.0, 130.0)]


def test_af_screening_from_irregular_rr() -> None:
    rng = np.random.default_rng(7)
    regular = list(0.8 * (1 + 0.02 * rng.standard_normal(100)))
    irregular = list(rng.uniform(0.4, 1.1, 160))  # about 120 s of irregularly irregular RR
    rr = regular + irregular + regular
    peaks, labels, n = record(rr)
    events = detect_events(peaks, labels, FS, n)
    assert kinds(events) == ["af"]
    af = events[0]
    true_start, true_end = peaks[100] / FS, peaks[260] / FS
    assert abs(af.start_s - true_start) < 8.0 and abs(af.end_s - true_end) < 8.0
    assert "screening" in af.detail
    # rhythm annotations, when given, replace the screening rule
    assert detect_events(peaks, labels, FS, n, rhythm_episodes=[]) == []
    # a stricter irregularity threshold or a longer minimum finds none
    assert detect_events(peaks, labels, FS, n, EventCriteria(af_irregularity=0.5)) == []
    assert detect_events(peaks, labels, FS, n, EventCriteria(af_min_duration_s=200.0)) == []


def test_isolated_ectopic_beats_are_not_af() -> None:
    rr: list[float] = []
    labels = ""
    for _ in range(30):  # one premature V beat in every 10 beats
        rr += [0.8] * 8 + [0.5, 1.1]
        labels += "NNNNNNNNNV"
    peaks, labs, n = record(rr, labels + "N")
    assert [e for e in detect_events(peaks, labs, FS, n) if e.kind == "af"] == []
    # unlabelled (all Q), isolated ectopy stays under the median-based threshold too
    assert [e for e in detect_events(peaks, ["Q"] * peaks.size, FS, n) if e.kind == "af"] == []


# ---------------------------------------------------------------- brady / tachy


def test_sustained_bradycardia_with_exact_bounds() -> None:
    rr = [1.0] * 20 + [1.7] * 10 + [1.0] * 20  # 17 s at 35 bpm
    peaks, labels, n = record(rr)
    events = detect_events(peaks, labels, FS, n)
    assert kinds(events) == ["bradycardia"]
    brady = events[0]
    assert brady.start_s == peaks[20] / FS and brady.end_s == peaks[30] / FS
    assert brady.n_beats == 11
    assert brady.min_hr_bpm == pytest.approx(60 / 1.7, rel=0.01)
    assert detect_events(peaks, labels, FS, n, EventCriteria(sustained_s=20.0)) == []
    assert detect_events(peaks, labels, FS, n, EventCriteria(brady_bpm=30.0)) == []


def test_sustained_tachycardia_survives_one_slow_beat() -> None:
    rr = [0.8] * 20 + [0.35] * 20 + [0.6] + [0.35] * 20 + [0.8] * 20  # 21 s at 171 bpm, one 100 bpm interval
    peaks, labels, n = record(rr)
    events = detect_events(peaks, labels, FS, n)
    assert kinds(events) == ["tachycardia"]
    assert events[0].start_s == peaks[20] / FS and events[0].end_s == peaks[61] / FS
    assert events[0].max_hr_bpm == pytest.approx(60 / 0.35, rel=0.01)
    assert detect_events(peaks, labels, FS, n, EventCriteria(tachy_bpm=180.0)) == []


def test_events_are_sorted_by_start() -> None:
    rr = [0.35] * 40 + [0.8] * 10 + [3.0] + [0.8] * 10
    peaks, labels, n = record(rr)
    events = detect_events(peaks, labels, FS, n)
    assert kinds(events) == ["tachycardia", "pause"]
    assert [e.start_s for e in events] == sorted(e.start_s for e in events)


# ---------------------------------------------------------------- validation


def test_bad_input_is_refused() -> None:
    peaks, labels, n = record([0.8] * 5)
    with pytest.raises(SignalError, match="one label per beat"):
        detect_events(peaks, labels[:-1], FS, n)
    with pytest.raises(SignalError, match="strictly increasing"):
        detect_events(peaks[::-1], labels, FS, n)
    with pytest.raises(SignalError, match="outside the record"):
        detect_events(peaks, labels, FS, int(peaks[-1]))
    with pytest.raises(SignalError, match="sampling rate"):
        detect_events(peaks, labels, 0.0, n)
    with pytest.raises(SignalError, match="normal mask"):
        heart_rate_trend(peaks, FS, n, normal_mask=[True])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"pause_s": 0.0},
        {"run_min_beats": 1},
        {"run_labels": ()},
        {"run_labels": ("N",)},
        {"brady_bpm": 160.0},
        {"af_window_beats": 4},
        {"sustained_s": -1.0},
    ],
)
def test_bad_criteria_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(SignalError):
        EventCriteria(**kwargs)  # type: ignore[arg-type]


def test_event_validation() -> None:
    assert set(EVENT_KINDS) == {"pause", "v_run", "bigeminy", "trigeminy", "af", "bradycardia", "tachycardia"}
    with pytest.raises(SignalError, match="unknown event kind"):
        Event("vf", 0.0, 1.0, 2)  # type: ignore[arg-type]
    with pytest.raises(SignalError, match="before it starts"):
        Event("pause", 2.0, 1.0, 2)


# ---------------------------------------------------------------- HR trend


def test_trend_bins_exact() -> None:
    # 60 bpm for the first minute, 120 bpm for the second; a 30 s last bin
    rr = [1.0] * 59 + [0.5] * 120 + [1.0] * 29
    peaks = peaks_from_rr(rr, start_s=0.5)
    n = int(150 * FS)
    trend = heart_rate_trend(peaks, FS, n, bin_s=60.0)
    assert trend.bin_s == 60.0
    assert trend.times_s.tolist() == [30.0, 90.0, 135.0]
    assert trend.mean_bpm[0] == pytest.approx(60.0) and trend.mean_bpm[1] == pytest.approx(120.0)
    assert trend.n_intervals.tolist() == [59, 120, 30 - 1]
    assert trend.max_bpm[2] == pytest.approx(60.0) and trend.min_bpm[2] == pytest.approx(60.0)
    # an interval counts in the bin of the beat that ends it: 0.5 s into a bin of 1 s intervals
    mixed = heart_rate_trend(peaks_from_rr([1.0] * 10 + [0.5] * 4, start_s=0.5), FS, int(20 * FS), bin_s=10.0)
    assert mixed.n_intervals.tolist() == [9, 5]
    assert mixed.min_bpm[1] == pytest.approx(60.0) and mixed.max_bpm[1] == pytest.approx(120.0)
    assert mixed.mean_bpm[1] == pytest.approx(60000.0 * 5 / 3000.0)


def test_trend_excludes_missed_beats_and_honours_a_mask() -> None:
    rr = [1.0] * 30 + [2.0] + [1.0] * 30  # one missed beat: a 2 s interval amid 1 s ones
    peaks = peaks_from_rr(rr, start_s=0.5)
    n = int(63 * FS)
    trend = heart_rate_trend(peaks, FS, n, bin_s=100.0)
    assert trend.min_bpm[0] == pytest.approx(60.0) and trend.n_intervals[0] == 60
    everything = heart_rate_trend(peaks, FS, n, bin_s=100.0, normal_mask=np.ones(peaks.size - 1, dtype=bool))
    assert everything.min_bpm[0] == pytest.approx(30.0) and everything.n_intervals[0] == 61


def test_trend_validation() -> None:
    with pytest.raises(SignalError, match="differ in length"):
        HrTrend(60.0, np.zeros(2), np.zeros(2), np.zeros(2), np.zeros(3))
    with pytest.raises(SignalError, match="positive"):
        heart_rate_trend(np.zeros(0, dtype=np.int64), FS, 10, bin_s=0.0)


def test_rhythm_episodes_from_annotations() -> None:
    samples = np.array([0, 100, 500, 900])
    aux = ["(N", "", "(AFIB\x00", "(N"]
    assert rhythm_episodes(samples, aux, 100.0, 1000) == [(0.0, 5.0, "N"), (5.0, 9.0, "AFIB"), (9.0, 10.0, "N")]
    assert rhythm_episodes(np.zeros(0, dtype=np.int64), [], 100.0, 1000) == []


# ---------------------------------------------------------------- real records


def _reference(
    data_dir: Path, name: str
) -> tuple[NDArray[np.int64], list[str], float, int, list[tuple[float, float, str]]]:
    rec = read_recording(data_dir / "mitdb" / f"{name}.hea")
    ann = rec.annotations
    keep = np.array([lab in BEAT_SYMBOLS for lab in ann.labels], dtype=bool)
    labels = [lab for lab, k in zip(ann.labels, keep) if k]
    episodes = rhythm_episodes(ann.samples, ann.aux, rec.fs, rec.n_samples)
    return ann.samples[keep], labels, rec.fs, rec.n_samples, episodes


@pytest.mark.data
def test_record_119_bigeminy_matches_its_rhythm_annotations(data_dir: Path) -> None:
    peaks, labels, fs, n, episodes = _reference(data_dir, "119")
    events = detect_events(peaks, labels, fs, n)
    found = [e for e in events if e.kind == "bigeminy"]
    assert found
    annotated = [(s, e) for s, e, lab in episodes if lab == "B"]
    assert len(annotated) >= 5

    def overlaps(span: tuple[float, float]) -> bool:
        return any(e.start_s < span[1] and e.end_s > span[0] for e in found)

    assert sum(overlaps(span) for span in annotated) >= 0.9 * len(annotated)
    # most of what is found lies within annotated bigeminy
    inside = sum(
        min(e.end_s, b) - max(e.start_s, a) for e in found for a, b in annotated if e.start_s < b and e.end_s > a
    )
    assert inside >= 0.8 * sum(e.duration_s for e in found)


@pytest.mark.data
def test_record_202_af_screening_overlaps_annotated_af(data_dir: Path) -> None:
    peaks, labels, fs, n, episodes = _reference(data_dir, "202")
    af_truth = [(s, e) for s, e, lab in episodes if lab == "AFIB"]
    screened = [e for e in detect_events(peaks, labels, fs, n) if e.kind == "af"]
    overlap = sum(max(0.0, min(e.end_s, b) - max(e.start_s, a)) for e in screened for a, b in af_truth)
    assert overlap >= 0.5 * sum(b - a for a, b in af_truth)
    assert overlap >= 0.8 * sum(e.duration_s for e in screened)
    annotated = [e for e in detect_events(peaks, labels, fs, n, rhythm_episodes=episodes) if e.kind == "af"]
    assert [(e.start_s, e.end_s) for e in annotated] == [(a, b) for a, b in af_truth if b - a >= 30.0]
