"""Tests of ecgstation.core.hrv: exact values on hand-made RR sequences, NeuroKit2 cross-check."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from ecgstation.core.errors import SignalError
from ecgstation.core.hrv import (
    HrvTimeDomain,
    heart_rate_bpm,
    instantaneous_hr_bpm,
    normal_rr_mask,
    rr_intervals_ms,
    time_domain_hrv,
)

REPO_ROOT = Path(__file__).resolve().parents[3]

# MIT-BIH beat codes -> AAMI EC57 classes (non-beat annotations are dropped).
MITBIH_TO_AAMI = {
    **dict.fromkeys("NLRej", "N"),
    **dict.fromkeys("AaJS", "S"),
    **dict.fromkeys("VE", "V"),
    "F": "F",
    **dict.fromkeys("/fQ", "Q"),
}


def peaks_from_rr(rr_ms: list[float], fs: float = 1000.0, start: int = 100) -> NDArray[np.int64]:
    """R-peak samples whose RR intervals are exactly ``rr_ms`` at ``fs`` = 1000 Hz."""
    return start + np.concatenate([[0], np.cumsum(np.round(np.asarray(rr_ms) * fs / 1000.0))]).astype(np.int64)


# ---------------------------------------------------------------- basics


def test_rr_intervals_and_rates() -> None:
    peaks = [0, 360, 720, 1140]
    assert rr_intervals_ms(peaks, 360.0).tolist() == pytest.approx([1000.0, 1000.0, 1166.6666667])
    assert instantaneous_hr_bpm(peaks, 360.0).tolist() == pytest.approx([60.0, 60.0, 51.4285714])
    assert heart_rate_bpm(peaks, 360.0) == pytest.approx(60.0)  # median RR 1000 ms
    assert heart_rate_bpm([0, 250, 500], 250.0) == pytest.approx(60.0)
    assert heart_rate_bpm(np.array([10.0, 510.0]), 500.0) == pytest.approx(60.0)


@pytest.mark.parametrize("peaks", [[], [42]])
def test_fewer_than_two_beats(peaks: list[int]) -> None:
    assert rr_intervals_ms(peaks, 360.0).size == 0
    assert instantaneous_hr_bpm(peaks, 360.0).size == 0
    assert heart_rate_bpm(peaks, 360.0) is None
    assert normal_rr_mask(peaks, 360.0).size == 0
    hrv = time_domain_hrv(peaks, 360.0, labels=["N"] * len(peaks))
    assert hrv == HrvTimeDomain(0, 0, 0, None, None, None, None, None, None, None)


def test_two_beats_give_mean_but_no_spread() -> None:
    hrv = time_domain_hrv([0, 800], 1000.0)
    assert hrv.n_intervals == 1 and hrv.mean_rr_ms == 800.0 and hrv.mean_hr_bpm == 75.0
    assert hrv.min_hr_bpm == hrv.max_hr_bpm == 75.0
    assert hrv.sdnn_ms is None and hrv.rmssd_ms is None and hrv.pnn50_pct is None


def test_three_beats() -> None:
    hrv = time_domain_hrv(peaks_from_rr([800, 860]), 1000.0)
    assert hrv.n_intervals == 2 and hrv.n_successive == 1
    assert hrv.sdnn_ms == pytest.approx(math.sqrt(2 * 30.0**2))  # ddof = 1
    assert hrv.rmssd_ms == pytest.approx(60.0)
    assert hrv.pnn50_pct == pytest.approx(100.0)


@pytest.mark.parametrize(
    ("peaks", "message"),
    [
        ([0, 100, 100, 200], "strictly increasing"),
        ([0, 200, 100], "strictly increasing"),
        ([[0, 1], [2, 3]], "one-dimensional"),
        ([0.0, float("nan")], "NaN"),
    ],
)
def test_bad_peaks_raise(peaks: list[float], message: str) -> None:
    with pytest.raises(SignalError, match=message):
        rr_intervals_ms(peaks, 360.0)


def test_bad_fs_and_labels_raise() -> None:
    with pytest.raises(SignalError, match="sampling rate"):
        heart_rate_bpm([0, 100], 0.0)
    with pytest.raises(SignalError, match="one label per beat"):
        time_domain_hrv([0, 300, 600], 360.0, labels=["N", "N"])
    with pytest.raises(SignalError, match="not AAMI classes"):
        time_domain_hrv([0, 300, 600], 360.0, labels=["N", "L", "N"])


# ---------------------------------------------------------------- exact HRV values


def test_exact_values_regular_sequence() -> None:
    rr = [800.0, 810.0, 790.0, 800.0, 880.0, 800.0]
    hrv = time_domain_hrv(peaks_from_rr(rr), 1000.0)
    diffs = np.diff(rr)  # 10, -20, 10, 80, -80
    assert hrv.n_rr_intervals == 6 and hrv.n_intervals == 6 and hrv.n_successive == 5
    assert hrv.mean_rr_ms == pytest.approx(np.mean(rr))
    assert hrv.sdnn_ms == pytest.approx(np.std(rr, ddof=1))
    assert hrv.rmssd_ms == pytest.approx(math.sqrt(np.mean(diffs**2)))
    assert hrv.pnn50_pct == pytest.approx(40.0)  # 2 of 5 differences exceed 50 ms
    assert hrv.mean_hr_bpm == pytest.approx(60000.0 / np.mean(rr))
    assert hrv.min_hr_bpm == pytest.approx(60000.0 / 880.0)
    assert hrv.max_hr_bpm == pytest.approx(60000.0 / 790.0)


def test_labelled_ectopic_beat_removes_both_intervals_and_no_difference_across() -> None:
    # N N N V N N N: the PVC comes early (600 ms) and is followed by a compensatory pause (1000 ms)
    rr = [800.0, 820.0, 600.0, 1000.0, 810.0, 790.0]
    labels = ["N", "N", "N", "V", "N", "N", "N"]
    mask = normal_rr_mask(peaks_from_rr(rr), 1000.0, labels)
    assert mask.tolist() == [True, True, False, False, True, True]
    hrv = time_domain_hrv(peaks_from_rr(rr), 1000.0, labels)
    nn = [800.0, 820.0, 810.0, 790.0]
    assert hrv.n_intervals == 4
    assert hrv.mean_rr_ms == pytest.approx(805.0)
    assert hrv.sdnn_ms == pytest.approx(np.std(nn, ddof=1))
    # successive differences only within [800, 820] and [810, 790]: 20 and -20; not 820 -> 810
    assert hrv.n_successive == 2
    assert hrv.rmssd_ms == pytest.approx(20.0)
    assert hrv.pnn50_pct == 0.0


def test_unlabelled_ectopic_removed_by_local_median_rule() -> None:
    rr = [800.0] * 6 + [560.0, 1040.0] + [800.0] * 6
    mask = normal_rr_mask(peaks_from_rr(rr), 1000.0)
    assert mask.sum() == 12 and not mask[6] and not mask[7]
    hrv = time_domain_hrv(peaks_from_rr(rr), 1000.0)
    assert hrv.sdnn_ms == 0.0 and hrv.rmssd_ms == 0.0 and hrv.n_successive == 10
    # 15 % deviation is kept with the default 20 % rule, removed with 10 %
    rr2 = [800.0] * 6 + [920.0] + [800.0] * 6
    assert normal_rr_mask(peaks_from_rr(rr2), 1000.0).all()
    assert not normal_rr_mask(peaks_from_rr(rr2), 1000.0, max_deviation=0.10)[6]


def test_physiological_limits() -> None:
    rr = [200.0, 800.0, 800.0, 800.0, 3500.0, 800.0]
    mask = normal_rr_mask(peaks_from_rr(rr), 1000.0)
    assert mask.tolist() == [False, True, True, True, False, True]
    # a steady 30 bpm (2000 ms) is kept, 3000 ms is the limit
    assert normal_rr_mask(peaks_from_rr([2000.0, 2000.0, 2000.0]), 1000.0).all()
    hrv = time_domain_hrv(peaks_from_rr([100.0, 120.0, 110.0]), 1000.0)
    assert hrv.n_intervals == 0 and hrv.mean_rr_ms is None and hrv.mean_hr_bpm is None


def test_gradual_rate_change_is_kept() -> None:
    rr = list(np.linspace(1000.0, 500.0, 60))  # slow acceleration from 60 to 120 bpm
    assert normal_rr_mask(peaks_from_rr(rr), 1000.0).all()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(min_value=300.0, max_value=2000.0), min_size=3, max_size=60))
def test_unfiltered_hrv_matches_formulas(rr: list[float]) -> None:
    peaks = peaks_from_rr(rr)
    rr_exact = rr_intervals_ms(peaks, 1000.0)
    hrv = time_domain_hrv(peaks, 1000.0, max_deviation=10.0)
    assert hrv.n_intervals == len(rr)
    assert hrv.mean_rr_ms == pytest.approx(np.mean(rr_exact))
    assert hrv.sdnn_ms == pytest.approx(np.std(rr_exact, ddof=1), abs=1e-9)
    assert hrv.rmssd_ms == pytest.approx(np.sqrt(np.mean(np.diff(rr_exact) ** 2)), abs=1e-9)
    assert 0.0 <= (hrv.pnn50_pct or 0.0) <= 100.0
    assert hrv.min_hr_bpm is not None and hrv.max_hr_bpm is not None
    assert hrv.min_hr_bpm <= (hrv.mean_hr_bpm or 0.0) <= hrv.max_hr_bpm


# ---------------------------------------------------------------- real data, NeuroKit2


def _mitdb_beats(record: str) -> tuple[NDArray[np.int64], list[str], float]:
    wfdb = pytest.importorskip("wfdb")
    base = Path(os.environ.get("ECGSTATION_DATA", REPO_ROOT / ".." / "shared" / "data")) / "mitdb" / record
    if not base.with_suffix(".atr").exists():
        pytest.skip(f"MIT-BIH record {record} not found at {base} (set ECGSTATION_DATA)")
    ann = wfdb.rdann(str(base), "atr")
    keep = [i for i, sym in enumerate(ann.symbol) if sym in MITBIH_TO_AAMI]
    samples = np.asarray(ann.sample, dtype=np.int64)[keep]
    labels = [MITBIH_TO_AAMI[ann.symbol[i]] for i in keep]
    return samples, labels, float(ann.fs or 360.0)


@pytest.mark.data
@pytest.mark.parametrize("record", ["100", "119", "201"])
def test_matches_neurokit2_on_mitdb_reference_nn(record: str) -> None:
    nk = pytest.importorskip("neurokit2")
    peaks, labels, fs = _mitdb_beats(record)
    rr = rr_intervals_ms(peaks, fs)
    mask = normal_rr_mask(peaks, fs, labels)
    hrv = time_domain_hrv(peaks, fs, labels)
    assert hrv.n_intervals == int(mask.sum()) > 1000
    nn = rr[mask]
    nn_end_s = peaks[1:][mask] / fs  # time of the beat closing each NN interval
    ref = nk.hrv_time({"RRI": nn, "RRI_Time": nn_end_s}).iloc[0]
    assert hrv.mean_rr_ms == pytest.approx(ref["HRV_MeanNN"], rel=1e-9)
    assert hrv.sdnn_ms == pytest.approx(ref["HRV_SDNN"], rel=1e-9)
    assert hrv.rmssd_ms == pytest.approx(ref["HRV_RMSSD"], rel=1e-9)
    # NeuroKit2 divides NN50 by (number of differences + 1); we divide by the number of differences
    n = hrv.n_successive
    assert hrv.pnn50_pct is not None
    assert hrv.pnn50_pct * n / (n + 1) == pytest.approx(ref["HRV_pNN50"], rel=1e-9)
    assert hrv.max_hr_bpm == pytest.approx(60000.0 / ref["HRV_MinNN"])
    assert hrv.min_hr_bpm == pytest.approx(60000.0 / ref["HRV_MaxNN"])


@pytest.mark.data
def test_matches_neurokit2_from_peaks_on_all_normal_stretch() -> None:
    nk = pytest.importorskip("neurokit2")
    peaks, labels, fs = _mitdb_beats("100")
    bad = [-1] + [i for i, lab in enumerate(labels) if lab != "N"] + [len(labels)]
    start, stop = max(zip(bad[:-1], bad[1:]), key=lambda ab: ab[1] - ab[0])
    stretch = peaks[start + 1:stop]  # the longest run of normal beats
    assert stretch.size > 100
    ours = time_domain_hrv(stretch, fs, ["N"] * stretch.size, max_deviation=10.0)
    ref = nk.hrv_time(stretch, sampling_rate=int(fs)).iloc[0]
    assert ours.sdnn_ms == pytest.approx(ref["HRV_SDNN"], rel=1e-9)
    assert ours.rmssd_ms == pytest.approx(ref["HRV_RMSSD"], rel=1e-9)
    assert ours.mean_rr_ms == pytest.approx(ref["HRV_MeanNN"], rel=1e-9)


@pytest.mark.data
def test_ectopic_filtering_lowers_rmssd_on_record_with_pvcs() -> None:
    peaks, labels, fs = _mitdb_beats("119")  # bigeminy/trigeminy with many PVCs
    raw = time_domain_hrv(peaks, fs, max_deviation=10.0, min_rr_ms=1.0, max_rr_ms=1e6)
    nn = time_domain_hrv(peaks, fs, labels)
    assert raw.rmssd_ms is not None and nn.rmssd_ms is not None
    assert nn.rmssd_ms < 0.5 * raw.rmssd_ms
    assert 50.0 < (heart_rate_bpm(peaks, fs) or 0.0) < 90.0
