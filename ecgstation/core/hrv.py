"""Heart rate and time-domain heart-rate variability from R-peak positions.

Every function takes R-peak positions in samples (sorted, strictly increasing)
and the sampling rate ``fs`` in Hz. Interval ``i`` of a peak sequence is the
RR interval from beat ``i`` to beat ``i + 1``; arrays of intervals therefore
have one element fewer than the peak array.

Time-domain HRV is computed, by convention (Task Force of the ESC/NASPE, 1996),
on NN intervals: intervals between two consecutive normal beats, with ectopic
beats, artefacts and missed detections removed. :func:`normal_rr_mask` states
the rule used here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray

from ecgstation.core.errors import SignalError

#: AAMI EC57 beat classes accepted as labels.
AAMI_CLASSES = frozenset({"N", "S", "V", "F", "Q"})

#: Physiological RR limits (ms): 250 ms = 240 bpm, 3000 ms = 20 bpm.
MIN_RR_MS = 250.0
MAX_RR_MS = 3000.0

#: Largest relative deviation of an NN interval from its local median (0.20 = 20 %).
MAX_RR_DEVIATION = 0.20

#: Number of candidate intervals (centred, the interval itself included) in the local median.
LOCAL_MEDIAN_INTERVALS = 11

#: Successive-difference threshold of pNN50 (ms).
NN50_THRESHOLD_MS = 50.0


@dataclass(frozen=True)
class HrvTimeDomain:
    """Time-domain HRV of the NN intervals of a beat sequence.

    ``n_intervals`` NN intervals were kept out of ``n_rr_intervals`` RR intervals;
    ``n_successive`` is the number of successive differences (pairs of adjacent
    NN intervals, i.e. three consecutive normal beats with both intervals kept).

    - ``mean_rr_ms``: mean NN interval (ms); None with no NN interval.
    - ``sdnn_ms``: sample standard deviation (ddof = 1) of the NN intervals (ms);
      None with fewer than 2 NN intervals.
    - ``rmssd_ms``: root mean square of successive NN differences (ms), taken only
      between adjacent NN intervals, never across a removed interval; None with no
      successive difference.
    - ``pnn50_pct``: percentage of those successive differences whose magnitude
      exceeds 50 ms (denominator: number of successive differences, as PhysioNet's
      pNNx); None with no successive difference.
    - ``mean_hr_bpm``: 60000 / ``mean_rr_ms`` (bpm).
    - ``min_hr_bpm`` / ``max_hr_bpm``: 60000 / longest and shortest NN interval (bpm).
    """

    n_rr_intervals: int
    n_intervals: int
    n_successive: int
    mean_rr_ms: float | None
    sdnn_ms: float | None
    rmssd_ms: float | None
    pnn50_pct: float | None
    mean_hr_bpm: float | None
    min_hr_bpm: float | None
    max_hr_bpm: float | None


def _check_fs(fs: float) -> float:
    fs_f = float(fs)
    if not np.isfinite(fs_f) or fs_f <= 0:
        raise SignalError(f"sampling rate {fs!r} Hz must be a positive number")
    return fs_f


def _peaks(r_peaks: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(r_peaks, dtype=np.float64)
    if arr.ndim != 1:
        raise SignalError(f"R peaks must be a one-dimensional array of sample indices, got shape {arr.shape}")
    if arr.size and not np.all(np.isfinite(arr)):
        raise SignalError("R peaks contain NaN or infinite positions")
    if arr.size > 1 and np.any(np.diff(arr) <= 0):
        raise SignalError("R peaks must be sorted and strictly increasing (no duplicate beats)")
    return arr


def rr_intervals_ms(r_peaks: ArrayLike, fs: float) -> NDArray[np.float64]:
    """RR intervals (ms) between consecutive R peaks given in samples at ``fs`` Hz.

    Returns ``len(r_peaks) - 1`` values (an empty array for fewer than two peaks).
    Raises :class:`SignalError` for unsorted or duplicate peaks or a bad ``fs``.
    """
    fs_f = _check_fs(fs)
    peaks = _peaks(r_peaks)
    if peaks.size < 2:
        return np.zeros(0, dtype=np.float64)
    return np.diff(peaks) * (1000.0 / fs_f)


def instantaneous_hr_bpm(r_peaks: ArrayLike, fs: float) -> NDArray[np.float64]:
    """Beat-to-beat heart rate (bpm) = 60000 / RR (ms), one value per RR interval."""
    return 60000.0 / rr_intervals_ms(r_peaks, fs)


def heart_rate_bpm(r_peaks: ArrayLike, fs: float) -> float | None:
    """Heart rate (bpm) from the median RR interval; None with fewer than two beats.

    The median makes the rate robust to a few ectopic beats or missed detections.
    """
    rr = rr_intervals_ms(r_peaks, fs)
    if rr.size == 0:
        return None
    return float(60000.0 / np.median(rr))


def _labels(labels: Sequence[str], n_beats: int) -> NDArray[np.bool_]:
    labs = [str(lab).strip().upper() for lab in labels]
    if len(labs) != n_beats:
        raise SignalError(f"{len(labs)} beat labels for {n_beats} R peaks; one label per beat is needed")
    unknown = sorted(set(labs) - AAMI_CLASSES)
    if unknown:
        raise SignalError(
            f"beat labels {unknown} are not AAMI classes; use N, S, V, F or Q "
            "(map source codes such as MIT-BIH 'L', 'A' to AAMI classes first)"
        )
    return np.array([lab == "N" for lab in labs], dtype=bool)


def _local_median(values: NDArray[np.float64], width: int) -> NDArray[np.float64]:
    """Centred running median over ``width`` values, shrinking at both ends."""
    half = width // 2
    padded = np.concatenate([np.full(half, np.nan), values, np.full(half, np.nan)])
    windows = sliding_window_view(padded, 2 * half + 1)
    return np.nanmedian(windows, axis=1)


def normal_rr_mask(
    r_peaks: ArrayLike,
    fs: float,
    labels: Sequence[str] | None = None,
    *,
    min_rr_ms: float = MIN_RR_MS,
    max_rr_ms: float = MAX_RR_MS,
    max_deviation: float = MAX_RR_DEVIATION,
    median_intervals: int = LOCAL_MEDIAN_INTERVALS,
) -> NDArray[np.bool_]:
    """Which RR intervals are NN intervals: a boolean mask with one entry per RR interval.

    Interval ``i`` (beat ``i`` to beat ``i + 1``) is kept when all of these hold:

    1. with ``labels`` (one AAMI class ``'N'``, ``'S'``, ``'V'``, ``'F'``, ``'Q'``
       per beat), both beat ``i`` and beat ``i + 1`` are ``'N'``; without labels
       every beat counts as normal;
    2. ``min_rr_ms <= RR <= max_rr_ms`` (default 250-3000 ms, i.e. 20-240 bpm);
    3. ``|RR - m| <= max_deviation * m`` (default 20 %), where ``m`` is the median
       of the ``median_intervals`` (default 11) intervals centred on interval ``i``
       among those that passed rules 1 and 2 (fewer at the ends of the record).

    Rule 3 removes intervals around unlabelled ectopic beats, missed beats and
    false detections; it is computed on the candidates of rules 1-2 only so that
    removed intervals do not bias the local median.
    """
    fs_f = _check_fs(fs)
    peaks = _peaks(r_peaks)
    if labels is not None:
        normal_beat = _labels(labels, peaks.size)
    rr = np.diff(peaks) * (1000.0 / fs_f) if peaks.size > 1 else np.zeros(0, dtype=np.float64)
    if rr.size == 0:
        return np.zeros(0, dtype=bool)
    if not 0 < min_rr_ms < max_rr_ms:
        raise SignalError(f"RR limits {min_rr_ms}-{max_rr_ms} ms are not a valid range")
    if max_deviation <= 0:
        raise SignalError(f"maximal RR deviation {max_deviation} must be positive (0.2 = 20 %)")
    if median_intervals < 1:
        raise SignalError(f"local median needs at least one interval, got {median_intervals}")
    keep = (rr >= min_rr_ms) & (rr <= max_rr_ms)
    if labels is not None:
        keep &= normal_beat[:-1] & normal_beat[1:]
    candidates = np.flatnonzero(keep)
    if candidates.size:
        cand_rr = rr[candidates]
        med = _local_median(cand_rr, median_intervals)
        keep[candidates] = np.abs(cand_rr - med) <= max_deviation * med
    return keep


def time_domain_hrv(
    r_peaks: ArrayLike,
    fs: float,
    labels: Sequence[str] | None = None,
    *,
    min_rr_ms: float = MIN_RR_MS,
    max_rr_ms: float = MAX_RR_MS,
    max_deviation: float = MAX_RR_DEVIATION,
) -> HrvTimeDomain:
    """Time-domain HRV (ms, %, bpm) of the NN intervals of R peaks (samples) at ``fs`` Hz.

    NN intervals are chosen by :func:`normal_rr_mask` with the given ``labels``
    (AAMI classes per beat, optional) and limits. Successive differences are taken
    only between two NN intervals that share a beat, so a removed ectopic interval
    never produces a spurious difference. Fields are None when too few intervals
    remain (see :class:`HrvTimeDomain`).
    """
    rr = rr_intervals_ms(r_peaks, fs)
    mask = normal_rr_mask(
        r_peaks, fs, labels, min_rr_ms=min_rr_ms, max_rr_ms=max_rr_ms, max_deviation=max_deviation
    )
    nn = rr[mask]
    adjacent = mask[:-1] & mask[1:]
    diffs = np.diff(rr)[adjacent] if rr.size > 1 else np.zeros(0)
    n = int(nn.size)
    mean_rr = float(np.mean(nn)) if n >= 1 else None
    sdnn = float(np.std(nn, ddof=1)) if n >= 2 else None
    rmssd = float(np.sqrt(np.mean(diffs**2))) if diffs.size >= 1 else None
    pnn50 = float(100.0 * np.mean(np.abs(diffs) > NN50_THRESHOLD_MS)) if diffs.size >= 1 else None
    return HrvTimeDomain(
        n_rr_intervals=int(rr.size),
        n_intervals=n,
        n_successive=int(diffs.size),
        mean_rr_ms=mean_rr,
        sdnn_ms=sdnn,
        rmssd_ms=rmssd,
        pnn50_pct=pnn50,
        mean_hr_bpm=60000.0 / mean_rr if mean_rr is not None else None,
        min_hr_bpm=float(60000.0 / nn.max()) if n >= 1 else None,
        max_hr_bpm=float(60000.0 / nn.min()) if n >= 1 else None,
    )
