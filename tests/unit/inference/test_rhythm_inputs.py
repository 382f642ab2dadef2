"""rhythm_window_input / rhythm_windows: shapes, resampling from patch rates, normalisation, refusals."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from ecgstation.inference.errors import ModelContractError
from ecgstation.inference.rhythm_inputs import (
    CLIP,
    MODEL_FS,
    WINDOW,
    prepare_windows,
    rhythm_window_input,
    rhythm_windows,
)


def _ecg(fs: float, seconds: float, hr_bpm: float = 72.0, amp_mv: float = 1.0) -> NDArray[np.float64]:
    """A crude ECG: Gaussian 'QRS' spikes of ``amp_mv`` at ``hr_bpm`` plus a 0.3 Hz, 0.5 mV baseline wander."""
    t = np.arange(round(seconds * fs)) / fs
    x = np.zeros_like(t)
    for beat in np.arange(0.3, seconds, 60.0 / hr_bpm):
        x += amp_mv * np.exp(-0.5 * ((t - beat) / 0.012) ** 2)
    return x + 0.5 * np.sin(2 * np.pi * 0.3 * t)


def test_window_is_1280_samples_at_128_hz() -> None:
    assert MODEL_FS == 128.0 and WINDOW == 1280
    out = rhythm_window_input(_ecg(360.0, 10.0), 360.0)
    assert out.shape == (1, WINDOW) and out.dtype == np.float32
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("fs", [130.0, 250.0])
def test_patch_rates_resample_to_the_same_input(fs: float) -> None:
    ref = rhythm_window_input(_ecg(360.0, 10.0), 360.0)[0]
    out = rhythm_window_input(_ecg(fs, 10.0), fs)[0]
    assert out.shape == (WINDOW,)
    # the same 10 s of signal gives (nearly) the same model input whatever the source rate;
    # compare away from the window edges, where the anti-aliasing filters differ most
    inner = slice(64, WINDOW - 64)
    assert np.corrcoef(ref[inner], out[inner])[0, 1] > 0.98
    # the QRS peaks stay where they were: 72 bpm from 0.3 s
    peaks = np.flatnonzero((out[1:-1] > out[:-2]) & (out[1:-1] >= out[2:]) & (out[1:-1] > 0.5 * out.max())) + 1
    assert np.allclose(np.diff(peaks) / MODEL_FS, 60.0 / 72.0, atol=2.0 / MODEL_FS)


def test_normalisation_removes_amplitude_offset_and_wander() -> None:
    base = rhythm_window_input(_ecg(250.0, 10.0, amp_mv=1.0), 250.0)[0]
    big = rhythm_window_input(3.0 * _ecg(250.0, 10.0, amp_mv=1.0) + 5.0, 250.0)[0]
    assert np.allclose(base, big, atol=1e-4)  # gain and DC offset do not change the input
    assert abs(float(np.median(base))) < 1e-4
    p1, p99 = np.percentile(base, [1, 99])
    assert (p99 - p1) / 2 == pytest.approx(1.0, abs=1e-3)
    assert np.abs(base).max() <= CLIP


def test_flat_signal_is_not_amplified_beyond_the_floor() -> None:
    out = rhythm_window_input(np.full(1300, 0.2) + 1e-4 * np.sin(np.arange(1300)), 130.0)
    assert np.abs(out).max() < 0.01  # 0.1 uV wiggle / 0.05 mV floor


def test_longer_input_uses_the_last_10_s() -> None:
    x = _ecg(250.0, 25.0)
    assert np.array_equal(rhythm_window_input(x, 250.0), rhythm_window_input(x[-2500:], 250.0))


def test_short_input_is_refused() -> None:
    with pytest.raises(ModelContractError, match="10 s"):
        rhythm_window_input(np.zeros(1299), 130.0)
    with pytest.raises(ModelContractError):
        rhythm_windows(np.zeros(2499), 250.0)
    with pytest.raises(ModelContractError):
        rhythm_window_input(np.zeros((2, 2500)), 250.0)
    with pytest.raises(ModelContractError):
        rhythm_window_input(np.zeros(500), 25.0)


def test_record_windows_match_single_windows() -> None:
    fs = 250.0
    x = _ecg(fs, 65.0, hr_bpm=95.0)
    w, starts = rhythm_windows(x, fs)
    assert w.shape == (6, 1, WINDOW) and w.dtype == np.float32
    assert np.allclose(starts, [0, 10, 20, 30, 40, 50])
    for k in (0, 3, 5):
        one = rhythm_window_input(x[int(k * 2500):int(k * 2500) + 2500], fs)
        assert np.array_equal(w[k], one)
    w5, s5 = rhythm_windows(x, fs, step_s=5.0)
    assert len(s5) == 12 and np.array_equal(w5[2], w[1])


def test_prepare_windows_batch_shapes() -> None:
    assert prepare_windows(np.zeros((0, 3600)), 360.0).shape == (0, 1, WINDOW)
    assert prepare_windows(np.random.default_rng(0).normal(size=(3, 1300)), 130.0).shape == (3, 1, WINDOW)


def test_thirty_minute_record_prepares_fast() -> None:
    import time

    x = np.random.default_rng(1).normal(0, 0.2, 1800 * 360).astype(np.float32)
    t0 = time.perf_counter()
    w, starts = rhythm_windows(x, 360.0)
    elapsed = time.perf_counter() - t0
    assert w.shape == (180, 1, WINDOW) and starts[-1] == 1790.0
    assert elapsed < 2.0  # ~0.1 s on a developer machine; generous for a loaded CI runner
