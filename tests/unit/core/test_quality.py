"""Tests of ecgstation.core.quality: synthetic cases at several fs, real noise-stress records."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from ecgstation.core.errors import SignalError
from ecgstation.core.quality import (
    BASELINE_WANDER,
    CLIPPING,
    FLAT_LINE,
    LEAD_OFF,
    NOISE,
    POWERLINE,
    QualityReport,
    QualitySettings,
    assess_quality,
    lead_summary,
)

FS_LIST = (100.0, 250.0, 360.0, 500.0, 1000.0)
REPO_ROOT = Path(__file__).resolve().parents[3]


def data_dir() -> Path:
    return Path(os.environ.get("ECGSTATION_DATA", REPO_ROOT / ".." / "shared" / "data"))


def synthetic_ecg(fs: float, seconds: float, hr_bpm: float = 72.0, seed: int = 0) -> NDArray[np.float32]:
    """Lead-II-like ECG (mV): Gaussian P, Q, R, S, T waves, slight RR jitter, 5 uV noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(seconds * fs))) / fs
    x = np.zeros_like(t)
    beat = 0.3
    waves = ((-0.2, 0.12, 0.025), (-0.03, -0.12, 0.008), (0.0, 1.2, 0.010), (0.03, -0.25, 0.010),
             (0.28, 0.3, 0.045))  # (offset s, amplitude mV, width s)
    while beat < seconds:
        for off, amp, width in waves:
            centre = beat + off
            lo, hi = np.searchsorted(t, [centre - 5 * width, centre + 5 * width])
            x[lo:hi] += amp * np.exp(-0.5 * ((t[lo:hi] - centre) / width) ** 2)
        beat += 60.0 / hr_bpm * (1 + 0.03 * rng.standard_normal())
    x += 0.005 * rng.standard_normal(t.size)
    return x.astype(np.float32)


# ---------------------------------------------------------------- synthetic cases


@pytest.mark.parametrize("fs", FS_LIST)
def test_clean_synthetic_ecg_is_good(fs: float) -> None:
    q = assess_quality(synthetic_ecg(fs, 30.0), fs)
    assert q.n_leads == 1 and q.n_windows == 3
    assert set(q.levels()[0]) == {"good"}
    assert np.all(q.score > 0.9)
    assert q.reasons(0, 0) == ()


@pytest.mark.parametrize("fs", FS_LIST)
def test_flat_line_is_unusable(fs: float) -> None:
    x = np.zeros((1, int(20 * fs)), dtype=np.float32)
    q = assess_quality(x, fs)
    assert np.all(q.score == 0.0)
    assert set(q.levels()[0]) == {"unusable"}
    assert FLAT_LINE in q.reasons(0, 0)
    assert LEAD_OFF not in q.reasons(0, 0)
    assert np.allclose(q.flat_fraction, 1.0)


@pytest.mark.parametrize("fs", FS_LIST)
def test_near_flat_lead_with_tiny_noise_is_flat(fs: float) -> None:
    rng = np.random.default_rng(1)
    x = (0.002 * rng.standard_normal(int(10 * fs))).astype(np.float32)
    q = assess_quality(x, fs)
    assert q.level(0, 0) == "unusable"
    assert FLAT_LINE in q.reasons(0, 0)


@pytest.mark.parametrize("fs", FS_LIST)
def test_white_noise_is_unusable_noise(fs: float) -> None:
    rng = np.random.default_rng(2)
    x = (0.3 * rng.standard_normal(int(20 * fs))).astype(np.float32)
    q = assess_quality(x, fs)
    if fs <= 80:  # pragma: no cover - no band above 40 Hz
        pytest.skip("no HF band")
    assert set(q.levels()[0]) == {"unusable"}
    assert NOISE in q.reasons(0, 0)
    assert np.all(q.hf_noise_ratio > 0.5)


@pytest.mark.parametrize("fs", (250.0, 360.0, 500.0, 1000.0))
@pytest.mark.parametrize("mains_hz", (50.0, 60.0))
def test_mains_hum_alone_and_on_ecg(fs: float, mains_hz: float) -> None:
    n = int(20 * fs)
    hum = (0.5 * np.sin(2 * np.pi * mains_hz * np.arange(n) / fs)).astype(np.float32)
    ecg = synthetic_ecg(fs, 20.0)
    q = assess_quality(np.stack([hum, ecg + 0.3 * hum, ecg]), fs, mains_hz=mains_hz)
    # hum alone: no ECG content at all
    assert set(q.levels()[0]) == {"unusable"}
    assert POWERLINE in q.reasons(0, 0) and FLAT_LINE in q.reasons(0, 0)
    # ECG with hum: flagged, degraded but still readable after a notch
    assert POWERLINE in q.reasons(1, 0)
    assert np.all(q.score[1] < q.score[2])
    assert set(q.levels()[1]) <= {"good", "acceptable"}
    # the wrong mains setting does not see the hum
    other = 60.0 if mains_hz == 50.0 else 50.0
    q_other = assess_quality(ecg + 0.3 * hum, fs, mains_hz=other)
    assert POWERLINE not in q_other.reasons(0, 0)


@pytest.mark.parametrize("fs", FS_LIST)
def test_clipped_ecg(fs: float) -> None:
    ecg = 3.0 * synthetic_ecg(fs, 20.0)
    clipped = np.clip(ecg, -0.6, 0.6)
    q = assess_quality(np.stack([ecg, clipped]), fs)
    assert CLIPPING in q.reasons(1, 0)
    assert CLIPPING not in q.reasons(0, 0)
    assert np.all(q.clipped_fraction[1] > 0.005)
    assert np.all(q.score[1] < q.score[0])


@pytest.mark.parametrize("fs", FS_LIST)
def test_step_to_flat_is_lead_off(fs: float) -> None:
    ecg = synthetic_ecg(fs, 30.0)
    x = ecg.copy()
    x[int(12 * fs):] = 4.0  # at 12 s the electrode comes off: step of 4 mV, then flat
    q = assess_quality(x, fs)
    assert q.level(0, 0) == "good"
    assert LEAD_OFF in q.reasons(0, 2) and q.level(0, 2) == "unusable"
    assert q.level(0, 1) == "unusable"  # 8 of 10 s off


@pytest.mark.parametrize("fs", (250.0, 500.0))
def test_flat_at_known_rail_is_lead_off(fs: float) -> None:
    x = np.full(int(10 * fs), 5.0, dtype=np.float32)
    assert LEAD_OFF not in assess_quality(x, fs).reasons(0, 0)
    q = assess_quality(x, fs, rails_mv=(-5.0, 5.0))
    assert LEAD_OFF in q.reasons(0, 0)
    assert q.level(0, 0) == "unusable"


def test_extreme_amplitude_is_lead_off() -> None:
    fs = 500.0
    x = synthetic_ecg(fs, 10.0)
    x[2000:2100] += 25.0
    q = assess_quality(x, fs)
    assert LEAD_OFF in q.reasons(0, 0)


def test_short_flat_run_and_baseline_wander() -> None:
    fs = 360.0
    ecg = synthetic_ecg(fs, 20.0)
    gap = ecg.copy()
    gap[int(3 * fs):int(6 * fs)] = gap[int(3 * fs)]  # 3 s dropout
    t = np.arange(ecg.size) / fs
    wander = ecg + (2.0 * np.sin(2 * np.pi * 0.2 * t)).astype(np.float32)
    q = assess_quality(np.stack([ecg, gap, wander]), fs)
    assert FLAT_LINE in q.reasons(1, 0)
    assert q.flat_fraction[1, 0] == pytest.approx(0.3, abs=0.01)
    assert q.score[1, 0] < q.score[0, 0]
    assert q.level(1, 1) == "good"
    assert BASELINE_WANDER in q.reasons(2, 0)
    assert q.level(2, 0) in ("good", "acceptable")


def test_flat_run_across_window_boundary_is_found() -> None:
    fs = 250.0
    x = synthetic_ecg(fs, 20.0)
    x[int(8.8 * fs):int(11.2 * fs)] = 0.0  # 2.4 s, 1.2 s on each side of the 10 s boundary
    q = assess_quality(x, fs)
    assert FLAT_LINE in q.reasons(0, 0) and FLAT_LINE in q.reasons(0, 1)


def test_window_layout_and_tail() -> None:
    fs = 100.0
    q = assess_quality(synthetic_ecg(fs, 34.0), fs)  # 4 s tail joins the third window
    assert q.window_starts.tolist() == [0, 1000, 2000]
    assert q.window_stops.tolist() == [1000, 2000, 3400]
    q = assess_quality(synthetic_ecg(fs, 36.0), fs)  # 6 s tail is a window of its own
    assert q.window_stops.tolist() == [1000, 2000, 3000, 3600]
    assert np.allclose(q.window_times_s()[-1], [30.0, 36.0])
    q = assess_quality(synthetic_ecg(fs, 4.0), fs)  # shorter than a window: one window
    assert q.n_windows == 1 and q.window_stops.tolist() == [400]
    assert q.score.dtype == np.float32 and q.level_codes.shape == (1, 1)


def test_one_dimensional_and_two_sample_input() -> None:
    q = assess_quality(np.array([0.0, 1.0], dtype=np.float32), 250.0)
    assert q.n_leads == 1 and q.n_windows == 1
    assert np.all(np.isfinite(q.score))


@pytest.mark.parametrize(
    ("signals", "message"),
    [
        (np.zeros((1, 0), dtype=np.float32), "0 sample"),
        (np.zeros((2, 1), dtype=np.float32), "1 sample"),
        (np.zeros(0, dtype=np.float32), "0 sample"),
        (np.zeros((0, 100), dtype=np.float32), "no leads"),
        (np.zeros((1, 2, 3), dtype=np.float32), "shape"),
        (np.array([[0.0, np.nan, 1.0, 2.0]], dtype=np.float32), "NaN"),
        (np.array([[0.0, 1.0], [np.inf, 1.0]], dtype=np.float32), "lead index [1]"),
    ],
)
def test_bad_signals_raise(signals: NDArray[np.float32], message: str) -> None:
    with pytest.raises(SignalError, match=message.replace("[", r"\[").replace("]", r"\]")):
        assess_quality(signals, 250.0)


def test_bad_parameters_raise() -> None:
    x = synthetic_ecg(250.0, 10.0)
    with pytest.raises(SignalError, match="sampling rate"):
        assess_quality(x, 0.0)
    with pytest.raises(SignalError, match="window"):
        assess_quality(x, 250.0, window_s=0.1)
    with pytest.raises(SignalError, match="mains"):
        assess_quality(x, 250.0, mains_hz=0.0)
    with pytest.raises(SignalError, match="rails_mv"):
        assess_quality(x, 250.0, rails_mv=(5.0, -5.0))
    with pytest.raises(SignalError, match="flat_run_s"):
        QualitySettings(flat_run_s=0.0)


def test_lead_summary() -> None:
    fs = 250.0
    ecg = synthetic_ecg(fs, 40.0)
    off = ecg.copy()
    off[int(20 * fs):] = 0.0
    report = assess_quality(np.stack([ecg, off]), fs)
    good, half = lead_summary(report)
    assert good.lead == 0 and good.level == "good" and good.unusable_fraction == 0.0
    assert good.duration_s == pytest.approx(40.0)
    assert half.unusable_fraction == pytest.approx(0.5)
    assert half.good_fraction + half.acceptable_fraction + half.unusable_fraction == pytest.approx(1.0)
    assert half.reasons[0] == FLAT_LINE
    assert half.mean_score < good.mean_score


def test_report_is_frozen() -> None:
    q = assess_quality(synthetic_ecg(250.0, 10.0), 250.0)
    assert isinstance(q, QualityReport)
    with pytest.raises(AttributeError):
        q.fs = 1.0  # type: ignore[misc]


# ---------------------------------------------------------------- real records


def _read(record: str) -> tuple[NDArray[np.float32], float]:
    wfdb = pytest.importorskip("wfdb")
    path = data_dir() / record
    if not path.with_suffix(".hea").exists():
        pytest.skip(f"record {record} not found under {data_dir()} (set ECGSTATION_DATA)")
    rec = wfdb.rdrecord(str(path))
    return np.ascontiguousarray(rec.p_signal.T, dtype=np.float32), float(rec.fs)


@pytest.mark.data
def test_clean_mitdb_100_is_good() -> None:
    x, fs = _read("mitdb/100")
    q = assess_quality(x, fs, mains_hz=60.0)
    assert (q.level_codes == 0).mean() > 0.95
    assert float(q.score.mean()) > 0.95


@pytest.mark.data
@pytest.mark.parametrize("noise", ["em", "ma", "bw"])
def test_noise_records_score_worse_than_clean(noise: str) -> None:
    clean, fs = _read("mitdb/100")
    q_clean = assess_quality(clean, fs, mains_hz=60.0)
    x, fs = _read(f"nstdb/{noise}")
    q = assess_quality(x, fs, mains_hz=60.0)
    assert float(q.score.mean()) < float(q_clean.score.mean()) - 0.15
    # most noise windows score below nearly every clean window
    assert float((q.score < np.percentile(q_clean.score, 5)).mean()) > 0.6
    assert float((q.level_codes > 0).mean()) > 0.3


@pytest.mark.data
@pytest.mark.parametrize("base", ["118", "119"])
def test_noise_stress_scores_fall_with_snr(base: str) -> None:
    clean, fs = _read(f"mitdb/{base}")
    q_clean = assess_quality(clean, fs, mains_hz=60.0)
    scores = [float(q_clean.score.mean())]
    not_good = [float((q_clean.level_codes > 0).mean())]
    for snr in ("12", "06", "00"):
        x, fs = _read(f"nstdb/{base}e{snr}")
        q = assess_quality(x, fs, mains_hz=60.0)
        scores.append(float(q.score.mean()))
        not_good.append(float((q.level_codes > 0).mean()))
    assert scores == sorted(scores, reverse=True), scores
    assert scores[1] > scores[2] > scores[3], scores
    assert not_good[3] > not_good[1], not_good



def test_run_lengths_match_brute_force() -> None:
    from ecgstation.core.quality import _run_lengths

    rng = np.random.default_rng(5)
    x = rng.integers(0, 2, size=(3, 400)).cumsum(axis=1).astype(np.float32)  # many constant runs
    x[1, :] = 0.0
    x[2, 100:] = 7.0
    for min_run in (1, 3, 10):
        got = _run_lengths(x, 1e-4, min_run)
        for lead in range(3):
            expect = np.zeros(400, dtype=np.int64)
            start = 0
            for i in range(1, 401):
                if i == 400 or x[lead, i] != x[lead, i - 1]:
                    if i - start >= min_run and i - start >= 2:
                        expect[start:i] = i - start
                    start = i
            assert got[lead].tolist() == expect.tolist()
