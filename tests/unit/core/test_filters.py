"""Zero-phase filters and resampling: attenuation where it should be, no time shift, shapes kept."""

from __future__ import annotations

import numpy as np
import pytest

from ecgstation.core.errors import SignalError
from ecgstation.core.filters import bandpass, clean_ecg, highpass, lowpass, notch, remove_baseline, resample


def tone(freq: float, fs: float, seconds: float = 20.0) -> np.ndarray:
    t = np.arange(int(seconds * fs)) / fs
    return np.sin(2 * np.pi * freq * t).astype(np.float32)


def gain_db(filtered: np.ndarray, original: np.ndarray, fs: float) -> float:
    core = slice(int(2 * fs), -int(2 * fs))  # away from the edges
    return float(20 * np.log10(np.std(filtered[..., core]) / np.std(original[..., core])))


@pytest.mark.parametrize(("mains", "fs"), [(50.0, 250.0), (60.0, 360.0), (50.0, 1000.0)])
def test_notch_removes_mains_and_keeps_qrs_band(mains: float, fs: float) -> None:
    assert gain_db(notch(tone(mains, fs), fs, mains), tone(mains, fs), fs) < -30
    assert gain_db(notch(tone(15.0, fs), fs, mains), tone(15.0, fs), fs) > -0.5


def test_notch_also_removes_harmonics_and_ignores_mains_above_nyquist() -> None:
    fs = 500.0
    assert gain_db(notch(tone(150.0, fs), fs, 50.0), tone(150.0, fs), fs) < -30
    x = tone(10.0, 100.0)
    np.testing.assert_allclose(notch(x, 100.0, 60.0), x, atol=1e-6)


def test_baseline_removal_keeps_st_band() -> None:
    fs = 500.0
    assert gain_db(remove_baseline(tone(0.05, fs, 60), fs), tone(0.05, fs, 60), fs) < -30
    assert gain_db(remove_baseline(tone(2.0, fs), fs), tone(2.0, fs), fs) > -0.5


def test_bandpass_and_lowpass() -> None:
    fs = 360.0
    assert gain_db(bandpass(tone(100.0, fs), fs, 0.5, 40.0), tone(100.0, fs), fs) < -20
    assert gain_db(lowpass(tone(120.0, fs), fs, 40.0), tone(120.0, fs), fs) < -30
    # high edge clipped to 0.45 fs so the filter exists at 100 Hz
    assert bandpass(tone(10.0, 100.0), 100.0, 0.5, 150.0).dtype == np.float32
    with pytest.raises(SignalError):
        highpass(tone(1.0, 100.0), 100.0, 60.0)


def test_zero_phase_no_time_shift() -> None:
    fs = 500.0
    x = np.zeros(5000, np.float32)
    x[2500] = 1.0
    pulse = np.convolve(x, np.hanning(41), mode="same")
    for out in (clean_ecg(pulse, fs, 50.0), remove_baseline(pulse, fs), bandpass(pulse, fs, 1.0, 40.0)):
        assert int(np.argmax(np.abs(out))) == 2500


def test_multilead_rows_are_filtered_independently() -> None:
    fs = 250.0
    two = np.stack([tone(5.0, fs), np.zeros(int(20 * fs), np.float32)])
    out = bandpass(two, fs, 0.5, 40.0)
    assert out.shape == two.shape and np.abs(out[1]).max() == 0.0


@pytest.mark.parametrize(("fs_in", "fs_out"), [(360.0, 500.0), (500.0, 250.0), (128.0, 130.0), (1000.0, 100.0)])
def test_resample_lengths_and_frequency(fs_in: float, fs_out: float) -> None:
    x = tone(7.0, fs_in, 10.0)
    y = resample(x, fs_in, fs_out)
    assert y.dtype == np.float32 and abs(y.size - round(x.size * fs_out / fs_in)) <= 1
    ref = tone(7.0, fs_out, 10.0)[: y.size]
    core = slice(int(fs_out), -int(fs_out))
    np.testing.assert_allclose(y[core], ref[core], atol=0.02)


def test_short_inputs_do_not_fail() -> None:
    for n in (2, 5, 20):
        assert remove_baseline(np.ones(n, np.float32), 250.0).shape == (n,)
        assert notch(np.ones(n, np.float32), 250.0, 50.0).shape == (n,)
