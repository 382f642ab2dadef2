"""Zero-phase ECG filters and resampling; every function works along the last axis.

All filters here are applied forward and backward (zero phase), so they shift
no wave in time and interval measurements taken after them stay unbiased.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import signal as sps

from ecgstation.core.errors import SignalError


def _as_float(x: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 0:
        raise SignalError("a signal needs at least one dimension")
    return arr


def _padlen_ok(n: int, sos: NDArray[np.float64]) -> int:
    # sosfiltfilt's default pad length is 3 * (2 * len(sos) + 1); shorten for short inputs.
    default = 3 * (2 * len(sos) + 1)
    return min(default, max(0, n - 1))


def _sosfiltfilt(sos: NDArray[np.float64], x: NDArray[np.float64]) -> NDArray[np.float64]:
    n = x.shape[-1]
    if n < 2:
        return x.copy()
    return sps.sosfiltfilt(sos, x, axis=-1, padlen=_padlen_ok(n, sos))


def highpass(x: ArrayLike, fs: float, cutoff_hz: float, order: int = 2) -> NDArray[np.float32]:
    """Zero-phase Butterworth high-pass at ``cutoff_hz`` (Hz) of a signal sampled at ``fs`` (Hz)."""
    arr = _as_float(x)
    if not 0 < cutoff_hz < fs / 2:
        raise SignalError(f"high-pass cut-off {cutoff_hz} Hz must lie between 0 and fs/2 = {fs / 2} Hz")
    sos = sps.butter(order, cutoff_hz, btype="highpass", fs=fs, output="sos")
    return _sosfiltfilt(sos, arr).astype(np.float32)


def lowpass(x: ArrayLike, fs: float, cutoff_hz: float, order: int = 4) -> NDArray[np.float32]:
    """Zero-phase Butterworth low-pass at ``cutoff_hz`` (Hz); a no-op when cutoff >= fs/2."""
    arr = _as_float(x)
    if cutoff_hz >= fs / 2:
        return arr.astype(np.float32)
    if cutoff_hz <= 0:
        raise SignalError(f"low-pass cut-off {cutoff_hz} Hz must be positive")
    sos = sps.butter(order, cutoff_hz, btype="lowpass", fs=fs, output="sos")
    return _sosfiltfilt(sos, arr).astype(np.float32)


def bandpass(x: ArrayLike, fs: float, low_hz: float, high_hz: float, order: int = 2) -> NDArray[np.float32]:
    """Zero-phase Butterworth band-pass between ``low_hz`` and ``high_hz`` (Hz).

    ``high_hz`` is clipped to 0.45 * fs so the filter exists at low sampling rates.
    """
    arr = _as_float(x)
    high = min(high_hz, 0.45 * fs)
    if not 0 < low_hz < high:
        raise SignalError(f"band {low_hz}-{high_hz} Hz is not valid at fs = {fs} Hz")
    sos = sps.butter(order, [low_hz, high], btype="bandpass", fs=fs, output="sos")
    return _sosfiltfilt(sos, arr).astype(np.float32)


def remove_baseline(x: ArrayLike, fs: float, cutoff_hz: float = 0.5) -> NDArray[np.float32]:
    """Remove baseline wander with a zero-phase 2nd-order high-pass at ``cutoff_hz`` (Hz).

    0.5 Hz keeps the ST segment (AHA recommends <= 0.67 Hz for a zero-phase filter).
    """
    return highpass(x, fs, cutoff_hz, order=2)


def notch(x: ArrayLike, fs: float, mains_hz: float, quality: float = 30.0) -> NDArray[np.float32]:
    """Zero-phase notch at the mains frequency ``mains_hz`` (50 or 60 Hz) and its harmonics below fs/2.

    ``quality`` is the notch's Q (centre / -3 dB bandwidth). A mains frequency at or
    above fs/2 cannot appear in the signal and leaves it unchanged.
    """
    if mains_hz <= 0:
        raise SignalError(f"mains frequency {mains_hz} Hz must be positive")
    out = _as_float(x)
    harmonic = mains_hz
    while harmonic < fs / 2 * 0.98:
        b, a = sps.iirnotch(harmonic, quality, fs=fs)
        n = out.shape[-1]
        if n > 3 * max(len(a), len(b)):
            out = sps.filtfilt(b, a, out, axis=-1)
        harmonic += mains_hz
    return out.astype(np.float32)


def resample(x: ArrayLike, fs_in: float, fs_out: float) -> NDArray[np.float32]:
    """Resample from ``fs_in`` to ``fs_out`` (Hz) with a polyphase anti-aliasing filter.

    The ratio is approximated by a fraction with denominator <= 1000, so e.g.
    360 -> 500 Hz is exact (25/18) and 128 -> 130 Hz is exact (65/64).
    """
    arr = _as_float(x)
    if fs_in <= 0 or fs_out <= 0:
        raise SignalError("sampling rates must be positive")
    if fs_in == fs_out:
        return arr.astype(np.float32)
    ratio = Fraction(fs_out / fs_in).limit_denominator(1000)
    return sps.resample_poly(arr, ratio.numerator, ratio.denominator, axis=-1).astype(np.float32)


def clean_ecg(
    x: ArrayLike, fs: float, mains_hz: float | None = None, low_hz: float = 0.5, high_hz: float = 40.0
) -> NDArray[np.float32]:
    """Diagnostic-view cleaning: zero-phase band-pass ``low_hz``-``high_hz`` (Hz), optional mains notch."""
    out = bandpass(x, fs, low_hz, high_hz)
    if mains_hz:
        out = notch(out, fs, mains_hz)
    return out
