"""Per-lead, per-window ECG signal quality: flat line, lead off, clipping, noise, wander, mains hum.

:func:`assess_quality` cuts every lead into windows (10 s by default) and
measures, for each lead and window, without detecting beats:

- *flat line*: samples inside constant runs (consecutive samples within
  ``flat_tolerance_mv``) of at least ``flat_run_s`` seconds, or a window whose
  0.5-40 Hz content has a peak-to-peak amplitude below ``min_amplitude_mv``;
- *clipping*: samples inside constant runs of at least ``clip_run_s`` seconds that
  sit at the window's maximum or minimum (the ADC or amplifier rail), or at given rails;
- *lead off*: sustained saturation (clipping over half the window), a flat line over
  half the window at a level at least ``lead_off_step_mv`` away from the median
  of the lead's non-flat samples (a DC step, then flat), or an excursion of more than
  ``extreme_amplitude_mv`` from that median;
- *noise*: mean power density above 40 Hz (up to 100 Hz, mains bands excluded)
  relative to the mean density in 0.5-40 Hz (1.0 for white noise, ~0.01 for a
  clean ECG); not measurable when fs <= 80 Hz (reported as 0), coarse at 100 Hz;
- *no clear QRS*: little of the 0.5-40 Hz power in the QRS band (5-15 Hz) and a
  low kurtosis of the 0.5-40 Hz signal, as with electrode motion or pure artefact.
  Ventricular flutter/fibrillation look the same, so this alone never makes a
  window unusable: quality must not gate a VF alarm;
- *baseline wander*: fraction of the power below 0.5 Hz;
- *powerline*: fraction of power within +-1 Hz of the mains frequency and its
  harmonics (``mains_hz`` is a parameter: 50 or 60 Hz).

Spectra are taken per window on the mean-removed signal (rectangular window, no
filtering of the signal itself). The per-window score is the product of one
factor per finding (1 = no problem) and maps to ``'good'``, ``'acceptable'`` or
``'unusable'``. All seconds are converted to samples once, from ``fs``.

Everything is vectorised over leads and windows: a 30 min, 2-lead, 360 Hz record
takes a few tens of milliseconds. For very long records, call it on chunks (e.g.
10 min, a multiple of the window) and concatenate; only constant runs that cross
a chunk boundary and the lead median differ from a whole-record call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.fft as sfft
from numpy.typing import ArrayLike, NDArray

from ecgstation.core.errors import SignalError
from ecgstation.core.recording import MAX_FS_HZ, MIN_FS_HZ

#: Quality levels, best first; ``QualityReport.level_codes`` index this tuple.
LEVELS: tuple[str, str, str] = ("good", "acceptable", "unusable")
GOOD, ACCEPTABLE, UNUSABLE = 0, 1, 2

#: Reason strings; bit ``i`` of ``QualityReport.flags`` stands for ``REASONS[i]``.
FLAT_LINE = "flat line"
LEAD_OFF = "lead off"
CLIPPING = "clipping"
NOISE = "noise"
NO_CLEAR_QRS = "no clear QRS"
BASELINE_WANDER = "baseline wander"
POWERLINE = "powerline"
REASONS: tuple[str, ...] = (LEAD_OFF, FLAT_LINE, CLIPPING, NOISE, NO_CLEAR_QRS, BASELINE_WANDER, POWERLINE)

_MIN_WINDOW_S = 1.0


@dataclass(frozen=True)
class QualitySettings:
    """Thresholds of :func:`assess_quality`; units in the names (s, mV, Hz) or plain ratios.

    A ``(lo, hi)`` ramp means: no penalty at or below ``lo`` (above, for the
    ``*_low`` ramps), full penalty at ``hi``, linear between.
    """

    flat_run_s: float = 2.0
    flat_tolerance_mv: float = 1e-4
    min_amplitude_mv: float = 0.05
    clip_run_s: float = 0.02
    lead_off_step_mv: float = 2.0
    extreme_amplitude_mv: float = 10.0
    unusable_fraction: float = 0.5  # flat / clipped fraction of a window that makes it unusable
    ecg_band_hz: tuple[float, float] = (0.5, 40.0)
    qrs_band_hz: tuple[float, float] = (5.0, 15.0)
    hf_band_hz: tuple[float, float] = (40.0, 100.0)
    mains_halfwidth_hz: float = 1.0
    hf_ramp: tuple[float, float] = (0.05, 0.5)
    hf_flag: float = 0.1
    qrs_ratio_ramp_low: tuple[float, float] = (0.2, 0.05)
    kurtosis_ramp_low: tuple[float, float] = (5.0, 3.0)
    no_qrs_flag: tuple[float, float] = (0.12, 4.0)  # flagged when QRS ratio < a and kurtosis < b
    no_qrs_max_penalty: float = 0.5
    baseline_ramp: tuple[float, float] = (0.5, 0.95)
    baseline_flag: float = 0.7
    baseline_max_penalty: float = 0.4
    powerline_ramp: tuple[float, float] = (0.1, 0.6)
    powerline_flag: float = 0.1
    powerline_max_penalty: float = 0.3
    clip_ramp: tuple[float, float] = (0.002, 0.05)
    clip_max_penalty: float = 0.5
    good_score: float = 0.75
    acceptable_score: float = 0.4

    def __post_init__(self) -> None:
        positive = {
            "flat_run_s": self.flat_run_s,
            "flat_tolerance_mv": self.flat_tolerance_mv,
            "clip_run_s": self.clip_run_s,
            "lead_off_step_mv": self.lead_off_step_mv,
            "extreme_amplitude_mv": self.extreme_amplitude_mv,
            "mains_halfwidth_hz": self.mains_halfwidth_hz,
        }
        for name, value in positive.items():
            if not value > 0:
                raise SignalError(f"quality setting {name} = {value} must be positive")
        for name, band in (("ecg_band_hz", self.ecg_band_hz), ("qrs_band_hz", self.qrs_band_hz),
                           ("hf_band_hz", self.hf_band_hz)):
            if not 0 <= band[0] < band[1]:
                raise SignalError(f"quality setting {name} = {band} is not a frequency band")
        if not 0 < self.acceptable_score <= self.good_score <= 1:
            raise SignalError("quality score limits need 0 < acceptable_score <= good_score <= 1")
        if not 0 < self.unusable_fraction <= 1:
            raise SignalError("unusable_fraction must lie in (0, 1]")


@dataclass(frozen=True, eq=False)
class QualityReport:
    """Quality of each lead in each window; every array has shape ``(leads, windows)``.

    Windows are ``[window_starts[w], window_stops[w])`` in samples at ``fs`` Hz.

    - ``score``: 0 (unusable) .. 1 (clean);
    - ``level_codes``: index into :data:`LEVELS`;
    - ``flags``: bit ``i`` set when ``REASONS[i]`` applies;
    - ``flat_fraction`` / ``clipped_fraction``: fraction of the window's samples;
    - ``amplitude_mv``: peak-to-peak of the 0.5-40 Hz content (mV);
    - ``hf_noise_ratio``: mean power density in 40-100 Hz over that in 0.5-40 Hz;
    - ``qrs_energy_ratio``: power in 5-15 Hz over power in 0.5-40 Hz;
    - ``kurtosis``: of the 0.5-40 Hz content (3 for Gaussian noise; 0 when flat);
    - ``baseline_ratio``: power below 0.5 Hz over power below 40 Hz;
    - ``powerline_ratio``: mains power over mains plus 0.5-40 Hz power (0 when
      ``mains_hz`` is at or above fs/2 and cannot be measured).
    """

    fs: float
    window_s: float
    mains_hz: float
    window_starts: NDArray[np.int64]
    window_stops: NDArray[np.int64]
    score: NDArray[np.float32]
    level_codes: NDArray[np.int8]
    flags: NDArray[np.uint16]
    flat_fraction: NDArray[np.float32]
    clipped_fraction: NDArray[np.float32]
    amplitude_mv: NDArray[np.float32]
    hf_noise_ratio: NDArray[np.float32]
    qrs_energy_ratio: NDArray[np.float32]
    kurtosis: NDArray[np.float32]
    baseline_ratio: NDArray[np.float32]
    powerline_ratio: NDArray[np.float32]
    settings: QualitySettings = field(default_factory=QualitySettings)

    @property
    def n_leads(self) -> int:
        """Number of leads."""
        return int(self.score.shape[0])

    @property
    def n_windows(self) -> int:
        """Number of windows."""
        return int(self.score.shape[1])

    def window_times_s(self) -> NDArray[np.float64]:
        """Start and stop of each window in seconds, shape ``(windows, 2)``."""
        return np.stack([self.window_starts, self.window_stops], axis=1) / self.fs

    def level(self, lead: int, window: int) -> str:
        """Quality level (``'good'``, ``'acceptable'``, ``'unusable'``) of one lead in one window."""
        return LEVELS[int(self.level_codes[lead, window])]

    def levels(self) -> tuple[tuple[str, ...], ...]:
        """Levels of every lead (outer) and window (inner)."""
        return tuple(tuple(LEVELS[int(c)] for c in row) for row in self.level_codes)

    def reasons(self, lead: int, window: int) -> tuple[str, ...]:
        """Short human-readable findings of one lead in one window, most serious first."""
        bits = int(self.flags[lead, window])
        return tuple(name for i, name in enumerate(REASONS) if bits & (1 << i))


@dataclass(frozen=True)
class LeadQuality:
    """Quality of one lead over the whole record (fractions of time, 0..1).

    ``level`` follows the time-weighted ``mean_score``; ``reasons`` lists the
    findings present in at least 10 % of the time, most frequent first.
    """

    lead: int
    duration_s: float
    good_fraction: float
    acceptable_fraction: float
    unusable_fraction: float
    mean_score: float
    level: str
    reasons: tuple[str, ...]


def _bit(reason: str) -> np.uint16:
    """The flag bit of one of :data:`REASONS`."""
    return np.uint16(1 << REASONS.index(reason))


def _ramp(value: NDArray[np.float64], lo: float, hi: float) -> NDArray[np.float64]:
    """0 at ``lo``, 1 at ``hi`` (either order), linear between, clipped."""
    return np.clip((value - lo) / (hi - lo), 0.0, 1.0)


def _as_signals(signals: ArrayLike) -> NDArray[np.float32]:
    try:
        arr = np.asarray(signals, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise SignalError(f"signals are not numeric: {exc}") from exc
    if arr.ndim == 1:
        arr = arr[np.newaxis, :]
    if arr.ndim != 2:
        raise SignalError(f"signals must have shape (leads, samples), got {arr.shape}")
    if arr.shape[0] < 1:
        raise SignalError("signals have no leads")
    if arr.shape[1] < 2:
        raise SignalError(f"signals have {arr.shape[1]} sample(s) per lead; at least 2 are needed")
    if not np.all(np.isfinite(arr)):
        bad = sorted({int(i) for i in np.nonzero(~np.isfinite(arr))[0]})
        raise SignalError(f"signals contain NaN or infinite values (lead index {bad}); fill or cut the gap first")
    return arr


def _window_bounds(n: int, win: int) -> NDArray[np.int64]:
    """Window start samples; a tail shorter than half a window joins the last window."""
    if n <= win:
        return np.zeros(1, dtype=np.int64)
    n_full = n // win
    tail = n - n_full * win
    count = n_full + (1 if tail >= win // 2 and tail > 0 else 0)
    return np.arange(count, dtype=np.int64) * win


def _run_lengths(x: NDArray[np.float32], tol: float, min_run: int) -> NDArray[np.int32]:
    """For each sample, the length (samples) of the constant run containing it, 0 if under ``min_run``.

    A constant run is a stretch of consecutive samples each within ``tol`` (mV) of the
    one before. Runs are found from their boundaries, so the cost is a few passes over
    the signal whatever the number of runs.
    """
    n_leads, n = x.shape
    out = np.zeros((n_leads, n), dtype=np.int32)
    for lead in range(n_leads):
        eq = np.abs(np.diff(x[lead])) <= tol
        edges = np.diff(eq.view(np.int8), prepend=np.int8(0), append=np.int8(0))
        first = np.flatnonzero(edges == 1)  # first pair of a run: samples first..last
        last = np.flatnonzero(edges == -1)  # one past the last pair = last sample of the run
        length = last - first + 1
        keep = length >= min_run
        if not np.any(keep):
            continue
        first, last, length = first[keep], last[keep], length[keep]
        marks = np.zeros(n + 1, dtype=np.int32)
        marks[first] = length
        marks[last + 1] -= length  # may share a slot with the next run's start
        out[lead] = np.cumsum(marks[:n], dtype=np.int32)
    return out


def _band_matrix(freqs: NDArray[np.float64], fs: float, mains_hz: float,
                 s: QualitySettings) -> tuple[NDArray[np.float32], NDArray[np.bool_], NDArray[np.float64]]:
    """Band-membership matrix (nfreq, 5): baseline, ecg, qrs, hf, mains; the ecg mask; bin counts."""
    mains = np.zeros(freqs.shape, dtype=bool)
    if mains_hz < fs / 2:
        harmonics = np.arange(mains_hz, fs / 2, mains_hz)
        mains = np.any(np.abs(freqs[:, None] - harmonics[None, :]) <= s.mains_halfwidth_hz, axis=1)
    lo, hi = s.ecg_band_hz
    positive = freqs > 0
    baseline = positive & (freqs < lo)
    ecg = (freqs >= lo) & (freqs <= hi) & ~mains
    qrs = (freqs >= s.qrs_band_hz[0]) & (freqs <= s.qrs_band_hz[1]) & ~mains
    hf = (freqs > s.hf_band_hz[0]) & (freqs <= min(s.hf_band_hz[1], fs / 2)) & ~mains
    bands = np.stack([baseline, ecg, qrs, hf, mains], axis=1)
    return bands.astype(np.float32), ecg, bands.sum(axis=0).astype(np.float64)


def _spectral_metrics(w: NDArray[np.float32], fs: float, mains_hz: float,
                      s: QualitySettings) -> dict[str, NDArray[np.float64]]:
    """Band ratios, 0.5-40 Hz amplitude and kurtosis of windows ``w`` of shape (leads, nw, L)."""
    length = w.shape[-1]
    centred = w - w.mean(axis=-1, keepdims=True)
    spec = sfft.rfft(centred, axis=-1)
    power = (spec.real**2 + spec.imag**2).astype(np.float32)
    freqs = sfft.rfftfreq(length, 1.0 / fs)
    bands, ecg_mask, counts = _band_matrix(freqs, fs, mains_hz, s)
    p = (power.reshape(-1, power.shape[-1]) @ bands).reshape(*power.shape[:-1], 5).astype(np.float64)
    p_base, p_ecg, p_qrs, p_hf, p_mains = (p[..., i] for i in range(5))
    tiny = np.finfo(np.float64).tiny
    with np.errstate(divide="ignore", invalid="ignore"):
        if counts[3] > 0 and counts[1] > 0:
            hf = (p_hf / counts[3]) / np.maximum(p_ecg / counts[1], tiny)
            hf = np.where(p_hf > 0, hf, 0.0)
        else:
            hf = np.zeros_like(p_ecg)
        qrs = np.where(p_ecg > 0, p_qrs / np.maximum(p_ecg, tiny), 0.0)
        base = np.where(p_base + p_ecg > 0, p_base / np.maximum(p_base + p_ecg, tiny), 0.0)
        mains = np.where(p_mains + p_ecg > 0, p_mains / np.maximum(p_mains + p_ecg, tiny), 0.0)
    filtered = sfft.irfft(spec * ecg_mask, n=length, axis=-1)
    amplitude = (filtered.max(axis=-1) - filtered.min(axis=-1)).astype(np.float64)
    squared = filtered * filtered
    var = np.einsum("...k,...k->...", filtered, filtered).astype(np.float64) / length
    fourth = np.einsum("...k,...k->...", squared, squared).astype(np.float64) / length
    with np.errstate(divide="ignore", invalid="ignore"):
        kurt = np.where(var > 1e-12, fourth / np.maximum(var, tiny) ** 2, 0.0)
    return {
        "hf": np.minimum(hf, 1e6),
        "qrs": qrs,
        "base": base,
        "mains": mains,
        "amplitude": amplitude,
        "kurtosis": kurt,
    }


def _active_median(x: NDArray[np.float32], flat_mask: NDArray[np.bool_]) -> NDArray[np.float32]:
    """Per-lead median (mV, shape (leads, 1)) of the samples outside flat runs (all samples if none).

    Taken on at most ~200 000 evenly spaced samples per lead, which is plenty for a level.
    """
    step = max(1, x.shape[1] // 200_000)
    sub, sub_flat = x[:, ::step], flat_mask[:, ::step]
    out = np.empty((x.shape[0], 1), dtype=np.float32)
    for lead in range(x.shape[0]):
        active = sub[lead][~sub_flat[lead]]
        out[lead, 0] = np.median(active if active.size else sub[lead])
    return out


def _rails(rails_mv: ArrayLike | None, n_leads: int) -> NDArray[np.float32] | None:
    if rails_mv is None:
        return None
    arr = np.asarray(rails_mv, dtype=np.float32)
    if arr.shape == (2,):
        arr = np.broadcast_to(arr, (n_leads, 2))
    if arr.shape != (n_leads, 2) or not np.all(np.isfinite(arr)) or np.any(arr[:, 0] >= arr[:, 1]):
        raise SignalError("rails_mv must be (low, high) in mV, or one such pair per lead, with low < high")
    return arr


def assess_quality(
    signals: ArrayLike,
    fs: float,
    window_s: float = 10.0,
    *,
    mains_hz: float = 50.0,
    rails_mv: ArrayLike | None = None,
    settings: QualitySettings | None = None,
) -> QualityReport:
    """Signal quality of each lead of ``signals`` (mV, shape (leads, samples) or (samples,)) per window.

    ``fs`` is the sampling rate (Hz), ``window_s`` the window length (s, >= 1 s;
    a record shorter than one window is one window, and a last part shorter than
    half a window joins the window before it). ``mains_hz`` is the local mains
    frequency (50 or 60 Hz). ``rails_mv``, when the acquisition range is known
    (e.g. from ADC resolution and gain), is ``(low, high)`` in mV for all leads or
    one pair per lead: samples held at a rail count as clipped even when the
    whole window sits there.

    Raises :class:`SignalError` for empty, one-sample, NaN-containing input or
    an out-of-range ``fs``, ``window_s`` or ``mains_hz``.
    """
    s = settings or QualitySettings()
    x = _as_signals(signals)
    fs_f = float(fs)
    if not np.isfinite(fs_f) or not MIN_FS_HZ <= fs_f <= MAX_FS_HZ:
        raise SignalError(f"sampling rate {fs!r} Hz is outside {MIN_FS_HZ:g}-{MAX_FS_HZ:g} Hz")
    if not np.isfinite(window_s) or window_s < _MIN_WINDOW_S:
        raise SignalError(f"quality window {window_s!r} s is too short; use at least {_MIN_WINDOW_S:g} s")
    if not np.isfinite(mains_hz) or mains_hz <= 0:
        raise SignalError(f"mains frequency {mains_hz!r} Hz must be positive (50 or 60 Hz)")
    rails = _rails(rails_mv, x.shape[0])
    n_leads, n = x.shape

    # seconds -> samples, once
    win = max(2, int(round(window_s * fs_f)))
    flat_n = max(2, int(round(s.flat_run_s * fs_f)))
    clip_n = max(3, int(round(s.clip_run_s * fs_f)))
    tol = np.float32(s.flat_tolerance_mv)

    starts = _window_bounds(n, win)
    stops = np.append(starts[1:], n)
    lengths = (stops - starts).astype(np.float64)

    # --- sample-level masks, reduced per window -------------------------------------------
    runs = _run_lengths(x, float(tol), min(clip_n, flat_n))
    flat_mask = runs >= flat_n
    wmax = np.maximum.reduceat(x, starts, axis=-1)
    wmin = np.minimum.reduceat(x, starts, axis=-1)
    reps = np.diff(np.append(starts, n))
    varying = (wmax - wmin) > tol
    at_extreme = (x >= np.repeat(wmax, reps, axis=-1) - tol) | (x <= np.repeat(wmin, reps, axis=-1) + tol)
    at_extreme &= np.repeat(varying, reps, axis=-1)
    if rails is not None:
        at_extreme |= (x >= rails[:, 1:2] - tol) | (x <= rails[:, 0:1] + tol)
    clipped = at_extreme & (runs >= clip_n)
    flat_fraction = np.add.reduceat(flat_mask, starts, axis=-1) / lengths
    clipped_fraction = np.add.reduceat(clipped, starts, axis=-1) / lengths

    lead_median = _active_median(x, flat_mask)
    flat_count = np.add.reduceat(flat_mask, starts, axis=-1)
    flat_sum = np.add.reduceat(np.where(flat_mask, x, 0).astype(np.float64), starts, axis=-1)
    flat_level = np.divide(flat_sum, flat_count, out=np.zeros_like(flat_sum), where=flat_count > 0)
    flat_offset = np.abs(flat_level - lead_median)
    excursion = np.maximum.reduceat(np.abs(x - lead_median), starts, axis=-1)

    # --- spectral metrics: equal-length windows reshaped, a longer last window apart ------
    n_equal = len(starts) if stops[-1] - starts[-1] == win else len(starts) - 1
    parts = []
    if n_equal:
        parts.append(_spectral_metrics(x[:, : n_equal * win].reshape(n_leads, n_equal, win), fs_f, mains_hz, s))
    if n_equal < len(starts):
        last = x[:, starts[-1]:][:, np.newaxis, :]
        parts.append(_spectral_metrics(last, fs_f, mains_hz, s))
    m = {k: np.concatenate([p[k] for p in parts], axis=1) for k in parts[0]}

    # --- findings ------------------------------------------------------------------------
    no_signal = m["amplitude"] < s.min_amplitude_mv
    mostly_flat = (flat_fraction >= s.unusable_fraction) | no_signal
    lead_off = (
        (clipped_fraction >= s.unusable_fraction)
        | ((flat_fraction >= s.unusable_fraction) & (flat_offset >= s.lead_off_step_mv))
        | (excursion > s.extreme_amplitude_mv)
    )
    has_flat = (flat_fraction > 0) | no_signal
    has_clip = (clipped_fraction >= s.clip_ramp[0]) & ~(mostly_flat & ~lead_off)
    noisy = m["hf"] >= s.hf_flag
    no_qrs = (m["qrs"] < s.no_qrs_flag[0]) & (m["kurtosis"] < s.no_qrs_flag[1]) & ~no_signal
    wander = (m["base"] >= s.baseline_flag) & ~no_signal
    hum = m["mains"] >= s.powerline_flag

    flags = np.zeros(flat_fraction.shape, dtype=np.uint16)
    for name, cond in ((LEAD_OFF, lead_off), (FLAT_LINE, has_flat), (CLIPPING, has_clip), (NOISE, noisy),
                       (NO_CLEAR_QRS, no_qrs), (BASELINE_WANDER, wander), (POWERLINE, hum)):
        flags |= np.where(cond, _bit(name), np.uint16(0))

    # --- score -----------------------------------------------------------------------------
    f_flat = 1.0 - flat_fraction
    f_clip = 1.0 - s.clip_max_penalty * _ramp(clipped_fraction, *s.clip_ramp)
    f_hf = 1.0 - _ramp(m["hf"], *s.hf_ramp)
    # 1 = bad: little QRS-band power, low kurtosis; both are needed for the full penalty
    bad_qrs = _ramp(m["qrs"], *s.qrs_ratio_ramp_low)
    bad_kurt = _ramp(m["kurtosis"], *s.kurtosis_ramp_low)
    f_morph = 1.0 - s.no_qrs_max_penalty * 0.5 * (bad_qrs + bad_kurt)
    f_base = 1.0 - s.baseline_max_penalty * _ramp(m["base"], *s.baseline_ramp)
    f_mains = 1.0 - s.powerline_max_penalty * _ramp(m["mains"], *s.powerline_ramp)
    score = f_flat * f_clip * f_hf * f_morph * f_base * f_mains
    score = np.where(mostly_flat | lead_off, 0.0, score)

    codes = np.full(score.shape, UNUSABLE, dtype=np.int8)
    codes[score >= s.acceptable_score] = ACCEPTABLE
    codes[score >= s.good_score] = GOOD

    def f32(a: NDArray[np.float64]) -> NDArray[np.float32]:
        return np.ascontiguousarray(a, dtype=np.float32)

    return QualityReport(
        fs=fs_f,
        window_s=float(window_s),
        mains_hz=float(mains_hz),
        window_starts=starts,
        window_stops=stops.astype(np.int64),
        score=f32(score),
        level_codes=codes,
        flags=flags,
        flat_fraction=f32(flat_fraction),
        clipped_fraction=f32(clipped_fraction),
        amplitude_mv=f32(m["amplitude"]),
        hf_noise_ratio=f32(m["hf"]),
        qrs_energy_ratio=f32(m["qrs"]),
        kurtosis=f32(m["kurtosis"]),
        baseline_ratio=f32(m["base"]),
        powerline_ratio=f32(m["mains"]),
        settings=s,
    )


def lead_summary(report: QualityReport) -> tuple[LeadQuality, ...]:
    """Whole-record quality of each lead: time fractions per level, mean score, main reasons."""
    s = report.settings
    dur = (report.window_stops - report.window_starts).astype(np.float64)
    total = float(dur.sum())
    weights = dur / total
    out = []
    for lead in range(report.n_leads):
        codes = report.level_codes[lead]
        frac = [float(weights[codes == c].sum()) for c in (GOOD, ACCEPTABLE, UNUSABLE)]
        mean_score = float(np.dot(weights, report.score[lead].astype(np.float64)))
        level = LEVELS[GOOD] if mean_score >= s.good_score else (
            LEVELS[ACCEPTABLE] if mean_score >= s.acceptable_score else LEVELS[UNUSABLE])
        shares = [(float(weights[(report.flags[lead] & _bit(name)) > 0].sum()), i, name)
                  for i, name in enumerate(REASONS)]
        reasons = tuple(name for share, _, name in sorted(shares, key=lambda t: (-t[0], t[1])) if share >= 0.1)
        out.append(LeadQuality(lead=lead, duration_s=total / report.fs, good_fraction=frac[0],
                               acceptable_fraction=frac[1], unusable_fraction=frac[2],
                               mean_score=mean_score, level=level, reasons=reasons))
    return tuple(out)
