"""Tests of ecgstation.core.delineation: synthetic beats with known boundaries, edge cases, QTDB."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from ecgstation.core.delineation import WAVE_FIELDS, Delineation, DelineationConfig, delineate
from ecgstation.core.errors import SignalError
from ecgstation.core.filters import bandpass, resample

RR_S = 0.8
#: True boundaries of the synthetic beat, in s relative to the R peak.
TRUTH_S = {
    "p_on": -0.200, "p_peak": -0.150, "p_off": -0.100,
    "qrs_on": -0.045, "qrs_off": 0.045,
    "t_peak": 0.280, "t_end": 0.360,
}
#: Allowed |error| (ms) against TRUTH_S. QRS boundaries come from a smoothed slope
#: whose threshold is calibrated on the QTDB cardiologists; on a noiseless
#: raised-cosine wave they sit up to ~15 ms outside its mathematical start/end.
TOLERANCE_MS = {
    "p_on": 12.0, "p_peak": 6.0, "p_off": 12.0, "qrs_on": 16.0, "qrs_off": 12.0, "t_peak": 8.0, "t_end": 10.0,
}
RATES = (100.0, 250.0, 360.0, 500.0, 1000.0)


def _bump(t: NDArray[np.float64], start: float, dur: float, amp: float) -> NDArray[np.float64]:
    u = (t - start) / dur
    return np.where((u >= 0) & (u <= 1), amp * 0.5 * (1 - np.cos(2 * np.pi * u)), 0.0)


def _t_wave(t: NDArray[np.float64], start: float, rise: float, fall: float, amp: float) -> NDArray[np.float64]:
    u1 = (t - start) / rise
    u2 = (t - start - rise) / fall
    up = np.where((u1 >= 0) & (u1 <= 1), 0.5 * (1 - np.cos(np.pi * u1)), 0.0)
    down = np.where((u2 > 0) & (u2 <= 1), 0.5 * (1 + np.cos(np.pi * u2)), 0.0)
    return amp * (up + down)


def synthetic_ecg(
    fs: float, n_beats: int = 20, gains: tuple[float, ...] = (1.0, 0.6), noise_mv: float = 0.005, seed: int = 0
) -> tuple[NDArray[np.float32], NDArray[np.int64], NDArray[np.float64]]:
    """Beats of raised-cosine waves with exact boundaries (TRUTH_S), made at 1 kHz and
    resampled to ``fs`` with an anti-aliasing filter, as a recorder would; plus white noise.

    Returns (signals in mV, R peaks in samples at fs, R peak times in s).
    """
    t = np.arange(int((n_beats + 1) * RR_S * 1000)) / 1000.0
    r_s = (np.arange(n_beats) + 0.5) * RR_S
    leads = []
    for g in gains:
        x = np.zeros_like(t)
        for rk in r_s:
            x += _bump(t, rk - 0.200, 0.100, 0.15 * g)  # P
            x += _bump(t, rk - 0.045, 0.030, -0.15 * g)  # Q
            x += _bump(t, rk - 0.025, 0.050, 1.20 * g)  # R
            x += _bump(t, rk + 0.015, 0.030, -0.30 * g)  # S
            x += _t_wave(t, rk + 0.160, 0.120, 0.080, 0.30 * g)  # T, peak at 280 ms
        leads.append(x)
    out = resample(np.array(leads), 1000.0, fs).astype(np.float64)
    out += np.random.default_rng(seed).normal(0.0, noise_mv, out.shape)
    return out.astype(np.float32), np.round(r_s * fs).astype(np.int64), r_s.astype(np.float64)


@pytest.mark.parametrize("fs", RATES)
def test_synthetic_boundaries_within_tolerance(fs: float) -> None:
    x, r, r_s = synthetic_ecg(fs)
    d = delineate(x, fs, r)
    assert len(d) == r.size and d.fs == fs
    for name in WAVE_FIELDS:
        got = getattr(d, name)
        assert np.all(got >= 0), f"{name} missing at {fs} Hz"
        err_ms = (got / fs - (r_s + TRUTH_S[name])) * 1000.0
        worst = float(np.max(np.abs(err_ms)))
        assert worst <= TOLERANCE_MS[name] + 1000.0 / fs, f"{name} at {fs} Hz: worst error {worst:.1f} ms"


def test_synthetic_results_agree_across_sampling_rates() -> None:
    """The same ECG at 100-1000 Hz gives the same boundaries (within one sample + 6 ms)."""
    ref_x, ref_r, _ = synthetic_ecg(1000.0)
    ref = delineate(ref_x, 1000.0, ref_r)
    for fs in RATES[:-1]:
        x, r, _ = synthetic_ecg(fs)
        d = delineate(x, fs, r)
        for name in WAVE_FIELDS:
            diff_ms = getattr(d, name) / fs * 1000.0 - getattr(ref, name)
            assert np.max(np.abs(diff_ms)) <= 1000.0 / fs + 6.0, f"{name} at {fs} Hz"


def test_t_end_leans_towards_the_single_beat() -> None:
    """One beat whose T wave ends 24 ms later than its neighbours': its T end moves
    towards its own (the neighbours' average alone would hide most of the change)."""
    fs, n_beats, late = 250.0, 20, 10
    t = np.arange(int((n_beats + 1) * RR_S * 1000)) / 1000.0
    r_s = (np.arange(n_beats) + 0.5) * RR_S
    x = np.zeros_like(t)
    for k, rk in enumerate(r_s):
        x += _bump(t, rk - 0.200, 0.100, 0.15) + _bump(t, rk - 0.025, 0.050, 1.20)
        x += _t_wave(t, rk + 0.160, 0.120, 0.104 if k == late else 0.080, 0.30)
    sig = resample(x[None], 1000.0, fs).astype(np.float32)
    r = np.round(r_s * fs).astype(np.int64)
    with_move = delineate(sig, fs, r)
    without = delineate(sig, fs, r, DelineationConfig(t_single=0.0))
    truth = (r_s[late] + TRUTH_S["t_end"] + 0.024) * fs
    assert abs(with_move.t_end[late] - truth) < abs(without.t_end[late] - truth)
    assert with_move.t_end[late] > without.t_end[late]
    others = np.arange(n_beats) != late
    assert np.max(np.abs(with_move.t_end[others] - without.t_end[others])) <= 1


def test_single_lead_and_one_dimensional_input() -> None:
    x, r, r_s = synthetic_ecg(500.0, gains=(1.0,))
    d2 = delineate(x, 500.0, r)
    d1 = delineate(x[0], 500.0, r)
    for name in WAVE_FIELDS:
        np.testing.assert_array_equal(getattr(d1, name), getattr(d2, name))
    err = (d1.qrs_on / 500.0 - (r_s + TRUTH_S["qrs_on"])) * 1000.0
    assert np.all(np.abs(err) <= TOLERANCE_MS["qrs_on"] + 2.0)


def test_flat_lead_does_not_disturb_the_other() -> None:
    x, r, _ = synthetic_ecg(360.0, gains=(1.0,))
    both = np.vstack([x, np.zeros_like(x)])
    d_one = delineate(x, 360.0, r)
    d_two = delineate(both, 360.0, r)
    for name in WAVE_FIELDS:
        assert np.max(np.abs(getattr(d_one, name) - getattr(d_two, name))) <= 1


def test_inverted_t_wave_and_low_amplitude_lead() -> None:
    x, r, r_s = synthetic_ecg(250.0, gains=(-1.0, 0.2))
    d = delineate(x, 250.0, r)
    err = (d.t_end / 250.0 - (r_s + TRUTH_S["t_end"])) * 1000.0
    assert np.all(d.t_end >= 0) and np.max(np.abs(err)) <= TOLERANCE_MS["t_end"] + 4.0


def test_single_beat_averaging_off_matches_closely() -> None:
    x, r, _ = synthetic_ecg(500.0)
    a = delineate(x, 500.0, r)
    b = delineate(x, 500.0, r, DelineationConfig(average_beats=0, align_beats=0))
    for name in WAVE_FIELDS:
        assert np.max(np.abs(getattr(a, name) - getattr(b, name))) <= 0.006 * 500.0, name


def test_no_p_wave_reported_without_p_waves() -> None:
    """Beats without P waves (e.g. atrial fibrillation) get p_* = -1."""
    fs = 250.0
    x, r, _ = synthetic_ecg(fs, gains=(1.0,))
    t = np.arange(x.shape[-1]) / fs
    # remove the P waves: subtract the same bumps, then add irregular fibrillatory waves
    r_s = r / fs
    for rk in r_s:
        x[0] -= _bump(t, rk - 0.200, 0.100, 0.15).astype(np.float32)
    fib = bandpass(np.random.default_rng(3).normal(size=t.size), fs, 4.0, 9.0)
    x[0] += (0.04 * fib / np.std(fib)).astype(np.float32)
    d = delineate(x, fs, r)
    assert np.mean(d.p_on >= 0) <= 0.2
    assert np.all(d.qrs_on >= 0) and np.all(d.t_end >= 0)


def test_output_follows_input_order_and_marks_outside_beats() -> None:
    x, r, _ = synthetic_ecg(360.0)
    order = np.array([3, 0, 5, 1, 2, 4])
    r_shuffled = np.concatenate([r[order], [-10, x.shape[-1] + 5]])
    d = delineate(x, 360.0, r_shuffled)
    ref = delineate(x, 360.0, r[:6])
    for name in WAVE_FIELDS:
        got = getattr(d, name)
        assert got[-1] == -1 and got[-2] == -1
        # the first and last beats see fewer neighbours; compare the middle ones
        for i, k in enumerate(order):
            if 0 < k < 5:
                assert abs(got[i] - getattr(ref, name)[k]) <= 2, name


def test_empty_flat_and_tiny_inputs_never_raise() -> None:
    empty = delineate(np.zeros((2, 5000), np.float32), 250.0, np.array([], dtype=np.int64))
    assert len(empty) == 0 and all(getattr(empty, f).dtype == np.int64 for f in WAVE_FIELDS)
    flat = delineate(np.zeros((2, 5000), np.float32), 250.0, np.array([1000, 1200, 1400]))
    assert all(np.all(getattr(flat, f) == -1) for f in WAVE_FIELDS)
    const = delineate(np.full((1, 5000), 3.0, np.float32), 250.0, [1000])
    assert all(np.all(getattr(const, f) == -1) for f in WAVE_FIELDS)
    nothing = delineate(np.zeros((1, 0), np.float32), 250.0, [0, 5])
    assert len(nothing) == 2 and np.all(nothing.qrs_on == -1)
    one = delineate(np.zeros(1, np.float32), 250.0, [0])
    assert np.all(one.t_end == -1)


def test_one_beat_and_beats_at_the_edges() -> None:
    x, r, r_s = synthetic_ecg(250.0, n_beats=3)
    d = delineate(x, 250.0, r[1:2])
    assert d.qrs_on[0] >= 0 and d.qrs_off[0] > d.qrs_on[0] and d.t_end[0] > d.qrs_off[0]
    err = (d.qrs_on[0] / 250.0 - (r_s[1] + TRUTH_S["qrs_on"])) * 1000.0
    assert abs(err) <= TOLERANCE_MS["qrs_on"] + 4.0
    edge = delineate(x, 250.0, [2, x.shape[-1] - 3])
    for name in WAVE_FIELDS:
        v = getattr(edge, name)
        assert np.all((v == -1) | ((v >= 0) & (v < x.shape[-1])))


def test_nan_samples_and_bad_arguments() -> None:
    x, r, _ = synthetic_ecg(250.0)
    x[1, 500:900] = np.nan
    d = delineate(x, 250.0, r)
    assert np.all(d.qrs_on >= 0)
    with pytest.raises(SignalError):
        delineate(np.zeros((2, 3, 4)), 250.0, [1])
    with pytest.raises(SignalError):
        delineate(x, 0.0, r)


def test_boundaries_are_ordered() -> None:
    x, r, _ = synthetic_ecg(500.0, noise_mv=0.03, seed=5)
    d = delineate(x, 500.0, r)
    p = d.p_on >= 0
    assert np.all(d.p_on[p] < d.p_peak[p]) and np.all(d.p_peak[p] < d.p_off[p]) and np.all(d.p_off[p] <= d.qrs_on[p])
    q = d.qrs_on >= 0
    assert np.all(d.qrs_on[q] < d.qrs_off[q])
    t = d.t_end >= 0
    assert np.all(d.qrs_off[t] < d.t_peak[t]) and np.all(d.t_peak[t] < d.t_end[t])


def test_empty_constructor() -> None:
    e = Delineation.empty(3, 360.0)
    assert len(e) == 3 and e.fs == 360.0 and np.all(e.t_end == -1)


# ----------------------------------------------------------------------------- real data


def _data_dir() -> Path:
    env = os.environ.get("ECGSTATION_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[3] / ".." / "shared" / "data"


@pytest.mark.data
def test_qtdb_accuracy_against_annotator_1() -> None:
    """QT Database, all records with .q1c, reference beats: Martinez-style mean/SD bounds.

    Targets (bench/delineation_qtdb.py): SD <= 7.7 / 8.7 / 18.1 / 14.8 ms for QRS on /
    QRS off / T end / P on, |mean| <= 5 ms (T end measured 17.9 ms with these beats,
    18.0 ms with the QRS detector's).
    """
    qtdb = _data_dir() / "qtdb"
    if not any(qtdb.glob("*.q1c")):
        pytest.skip(f"QT Database not found at {qtdb} (set ECGSTATION_DATA)")
    pytest.importorskip("wfdb")
    from bench.delineation_qtdb import run

    res = run(_data_dir(), use_detector=False, verbose=False)
    b = res["boundaries"]
    limits = {"qrs_on": 7.7, "qrs_off": 8.7, "t_end": 18.1, "p_on": 14.8}
    for name, limit in limits.items():
        assert b[name]["sd_ms"] <= limit, (name, b[name])
        assert abs(b[name]["mean_ms"]) <= 5.0, (name, b[name])
        assert b[name]["se"] >= (0.95 if name == "p_on" else 0.99), (name, b[name])
