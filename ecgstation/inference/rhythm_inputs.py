"""Inputs of the single-lead 10 s rhythm classifier (``models/rhythm_classifier``).

Shared by the application and the training code (``converters/rhythm_dataset.py``,
``converters/train_rhythm_classifier.py``), so the model sees at run time exactly what
it was trained on. numpy/scipy and ``ecgstation.core`` only.

Contract (also written into the model card as ``normalisation``):

1. take ``WINDOW_S`` = 10 s of ONE lead in mV at its own sampling rate ``fs`` (Hz),
   i.e. ``round(10 * fs)`` samples;
2. remove the window's least-squares straight line (offset and drift, so the resampler's
   zero-padded edges add no step), resample to ``MODEL_FS`` = 128 Hz with
   ``ecgstation.core.filters.resample`` (polyphase, anti-aliased), then crop or edge-pad
   to ``WINDOW`` = 1280 samples;
3. zero-phase 2nd-order Butterworth high-pass at 0.5 Hz
   (``ecgstation.core.filters.highpass``) on that 10 s window alone;
4. subtract the window median, divide by ``max((p99 - p1) / 2, 0.05 mV)`` (percentiles
   over the window), clip to +-``CLIP``.

Every window is prepared on its own (no state from neighbouring windows), so a live
monitor and an offline record give the same input for the same 10 s of signal.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ecgstation.core.filters import highpass, resample
from ecgstation.inference.errors import ModelContractError

__all__ = [
    "CLASSES",
    "CLIP",
    "HIGHPASS_HZ",
    "MIN_SCALE_MV",
    "MODEL_FS",
    "NORMALISATION",
    "WINDOW",
    "WINDOW_S",
    "prepare_windows",
    "rhythm_window_input",
    "rhythm_windows",
]

#: Output classes of the rhythm model, in output order.
CLASSES = ["SINUS", "AF", "AFL", "VT", "SVT", "BIGEMINY_TRIGEMINY", "NOISE", "OTHER"]
MODEL_FS = 128.0  # Hz
WINDOW_S = 10.0  # s
WINDOW = round(WINDOW_S * MODEL_FS)  # 1280 samples
HIGHPASS_HZ = 0.5  # Hz
MIN_SCALE_MV = 0.05  # mV
CLIP = 10.0  # normalised units
MIN_FS = 50.0  # Hz; below this a 10 s window cannot carry the QRS shape
NORMALISATION = (
    "one lead, 10 s (round(10*fs) samples at the source rate fs); subtract the window's least-squares "
    "straight line (linear detrend); resample to 128 Hz with "
    "ecgstation.core.filters.resample and cropped/edge-padded to 1280 samples; zero-phase "
    "2nd-order Butterworth high-pass at 0.5 Hz on the window alone; subtract the window median, "
    "divide by max((p99-p1)/2, 0.05 mV); clip to +-10. "
    "Implemented by ecgstation.inference.rhythm_inputs.rhythm_window_input / rhythm_windows."
)


def _samples_per_window(fs: float) -> int:
    """Number of source samples in one 10 s window at ``fs`` Hz."""
    return round(WINDOW_S * fs)


def _check_fs(fs: float) -> float:
    fs = float(fs)
    if not np.isfinite(fs) or fs < MIN_FS:
        raise ModelContractError(
            None, f"the rhythm model needs a sampling rate of at least {MIN_FS:g} Hz, got {fs:g} Hz"
        )
    return fs


def _detrend_linear(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Subtract each row's least-squares straight line (same result as scipy.signal.detrend, linear)."""
    n = x.shape[1]
    if n < 2:
        return x - x.mean(axis=1, keepdims=True)
    t = np.arange(n, dtype=np.float64) - (n - 1) / 2.0
    mean = x.mean(axis=1, keepdims=True)
    slope = (x @ t)[:, None] / float(t @ t)
    return x - mean - slope * t[None, :]


def prepare_windows(raw: ArrayLike, fs: float) -> NDArray[np.float32]:
    """Prepare a batch of raw 10 s windows: (n, round(10*fs)) mV at ``fs`` Hz -> (n, 1, WINDOW) float32.

    Steps 2-4 of the module contract, applied to each row independently (vectorised).
    Rows shorter or longer than ``round(10*fs)`` are accepted (the resampled row is
    cropped or edge-padded to ``WINDOW``); non-finite samples are replaced by 0 mV.
    """
    fs = _check_fs(fs)
    x = np.asarray(raw, dtype=np.float64)
    if x.ndim != 2:
        raise ModelContractError(None, f"expected a 2-D batch of windows, got shape {x.shape}")
    if x.shape[0] == 0:
        return np.zeros((0, 1, WINDOW), np.float32)
    x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
    x = _detrend_linear(x)
    y = resample(x, fs, MODEL_FS).astype(np.float64) if fs != MODEL_FS else x
    if y.shape[1] >= WINDOW:
        y = y[:, :WINDOW]
    else:
        y = np.pad(y, ((0, 0), (0, WINDOW - y.shape[1])), mode="edge")
    y = highpass(y, MODEL_FS, HIGHPASS_HZ, order=2).astype(np.float64)
    y -= np.median(y, axis=1, keepdims=True)
    p1, p99 = np.percentile(y, [1.0, 99.0], axis=1)
    scale = np.maximum((p99 - p1) / 2.0, MIN_SCALE_MV)
    y /= scale[:, None]
    np.clip(y, -CLIP, CLIP, out=y)
    return y[:, None, :].astype(np.float32)


def _one_lead_of_a_window(signal_1d_mV: ArrayLike, fs: float) -> tuple[NDArray[np.float64], int]:
    """(the lead as float64, samples per 10 s window); ModelContractError unless 1-D and >= 10 s long."""
    x = np.asarray(signal_1d_mV, dtype=np.float64)
    if x.ndim != 1:
        raise ModelContractError(None, f"expected one lead (1-D signal), got shape {x.shape}")
    need = _samples_per_window(fs)
    if x.size < need:
        raise ModelContractError(
            None, f"the rhythm model needs {WINDOW_S:g} s ({need} samples at {fs:g} Hz), got {x.size} samples"
        )
    return x, need


def rhythm_window_input(signal_1d_mV: ArrayLike, fs: float) -> NDArray[np.float32]:
    """Model input (1, WINDOW) float32 for one 10 s window of one lead.

    ``signal_1d_mV`` is one lead in mV sampled at ``fs`` Hz and must hold at least
    10 s (``round(10 * fs)`` samples); when it is longer the most recent (last) 10 s
    are used. Raises ModelContractError for a short or non-1-D input or ``fs`` < 50 Hz.
    Add a batch axis (``[None]``) to feed the ONNX input ``ecg`` of shape (n, 1, WINDOW).
    """
    fs = _check_fs(fs)
    x, need = _one_lead_of_a_window(signal_1d_mV, fs)
    return prepare_windows(x[x.size - need:][None, :], fs)[0]


def rhythm_windows(
    signal_1d_mV: ArrayLike, fs: float, step_s: float = 10.0
) -> tuple[NDArray[np.float32], NDArray[np.float64]]:
    """All complete 10 s windows of one lead: (windows (n, 1, WINDOW) float32, starts_s (n,) float64).

    Windows start at 0, ``step_s``, 2 * ``step_s``, ... seconds (start sample
    ``round(k * step_s * fs)``) and each is prepared exactly as ``rhythm_window_input``
    prepares it; an incomplete tail is not used. Raises ModelContractError when the
    signal is shorter than 10 s, not 1-D, ``fs`` < 50 Hz or ``step_s`` <= 0.
    """
    fs = _check_fs(fs)
    if not step_s > 0:
        raise ModelContractError(None, f"step_s must be positive, got {step_s}")
    x, need = _one_lead_of_a_window(signal_1d_mV, fs)
    n = int(np.floor((x.size - need) / (step_s * fs) + 1e-9)) + 1
    starts = np.round(np.arange(n) * step_s * fs).astype(np.int64)
    starts = starts[starts + need <= x.size]
    idx = starts[:, None] + np.arange(need)[None, :]
    return prepare_windows(x[idx], fs), starts / fs
