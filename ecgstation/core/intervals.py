"""ECG interval measurements (PR, QRS, QT, RR, QTc) and the frontal QRS axis from a delineation."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ecgstation.core.delineation import Delineation

log = logging.getLogger(__name__)

#: Per-beat values outside these ranges (ms) are treated as mis-measured and ignored.
PLAUSIBLE_MS: dict[str, tuple[float, float]] = {
    "pr": (50.0, 450.0),
    "qrs": (30.0, 250.0),
    "qt": (150.0, 750.0),
    "rr": (200.0, 3000.0),
}


@dataclass(frozen=True)
class Intervals:
    """Global intervals of a recording, in ms (medians over beats); None where not measurable.

    ``qtc_bazett_ms`` = QT / sqrt(RR in s) and ``qtc_fridericia_ms`` = QT / cbrt(RR in s),
    both from the median QT and the median RR. ``n_beats`` counts the beats given,
    ``n_pr``/``n_qrs``/``n_qt`` the beats where that interval was measured.
    """

    pr_ms: float | None
    qrs_ms: float | None
    qt_ms: float | None
    rr_ms: float | None
    qtc_bazett_ms: float | None
    qtc_fridericia_ms: float | None
    n_beats: int
    n_pr: int
    n_qrs: int
    n_qt: int


def qtc_bazett(qt_ms: float, rr_ms: float) -> float:
    """Bazett's corrected QT (ms): QT / sqrt(RR in s)."""
    return qt_ms / math.sqrt(rr_ms / 1000.0)


def qtc_fridericia(qt_ms: float, rr_ms: float) -> float:
    """Fridericia's corrected QT (ms): QT / cbrt(RR in s)."""
    return qt_ms / (rr_ms / 1000.0) ** (1.0 / 3.0)


def _median_interval(
    start: NDArray[np.int64], stop: NDArray[np.int64], fs: float, kind: str, n_beats: int, min_fraction: float
) -> tuple[float | None, int]:
    ok = (start >= 0) & (stop >= 0)
    ms = (stop[ok] - start[ok]).astype(np.float64) * 1000.0 / fs
    lo, hi = PLAUSIBLE_MS[kind]
    ms = ms[(ms >= lo) & (ms <= hi)]
    if ms.size == 0 or ms.size < min_fraction * n_beats:
        return None, int(ms.size)
    return float(np.median(ms)), int(ms.size)


def measure_intervals(
    delineation: Delineation, r_peaks: ArrayLike, fs: float, min_fraction: float = 0.5
) -> Intervals:
    """Median PR, QRS, QT (ms), RR (ms) and QTc (Bazett, Fridericia; ms).

    ``delineation`` comes from :func:`ecgstation.core.delineation.delineate` on the same
    ``r_peaks`` (sample indices) at ``fs`` Hz. Per beat: PR = P onset to QRS onset,
    QRS = QRS onset to offset, QT = QRS onset to T end; values outside
    :data:`PLAUSIBLE_MS` are dropped. An interval is given only when measured in at
    least ``min_fraction`` of the beats (so a P wave found in a few beats of atrial
    fibrillation gives no PR). RR is the median of successive R-peak differences
    between 200 and 3000 ms; QTc needs both QT and RR. Never raises on valid input.
    """
    fs = float(fs)
    d = delineation
    n = len(d)
    r = np.sort(np.asarray(r_peaks, dtype=np.int64).ravel())
    pr = qrs = qt = rr_ms = None
    n_pr = n_qrs = n_qt = 0
    if np.isfinite(fs) and fs > 0 and n > 0:
        pr, n_pr = _median_interval(d.p_on, d.qrs_on, fs, "pr", n, min_fraction)
        qrs, n_qrs = _median_interval(d.qrs_on, d.qrs_off, fs, "qrs", n, min_fraction)
        qt, n_qt = _median_interval(d.qrs_on, d.t_end, fs, "qt", n, min_fraction)
    if np.isfinite(fs) and fs > 0 and r.size >= 2:
        rr = np.diff(r).astype(np.float64) * 1000.0 / fs
        lo, hi = PLAUSIBLE_MS["rr"]
        rr = rr[(rr >= lo) & (rr <= hi)]
        if rr.size:
            rr_ms = float(np.median(rr))
    qtc_b = qtc_bazett(qt, rr_ms) if qt is not None and rr_ms is not None else None
    qtc_f = qtc_fridericia(qt, rr_ms) if qt is not None and rr_ms is not None else None
    return Intervals(pr, qrs, qt, rr_ms, qtc_b, qtc_f, n, n_pr, n_qrs, n_qt)


# ----------------------------------------------------------------------------- axis

_LEAD_ALIASES: dict[str, str] = {
    "i": "I", "di": "I", "d1": "I", "lead i": "I",
    "ii": "II", "dii": "II", "d2": "II", "lead ii": "II",
    "iii": "III", "diii": "III", "d3": "III", "lead iii": "III",
    "avf": "aVF", "lead avf": "aVF",
}


def _lead_map(lead_names: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i, name in enumerate(lead_names):
        key = _LEAD_ALIASES.get(str(name).strip().lower())
        if key is not None and key not in out:
            out[key] = i
    return out


def _net_qrs(x: NDArray[np.float64], d: Delineation, fs: float, method: str) -> float | None:
    """Median over beats of one lead's net QRS, relative to the level at the QRS onset.

    ``method`` "amplitude": largest positive plus largest negative deflection (mV);
    "area": signed area (mV*ms).
    """
    ok = (d.qrs_on >= 0) & (d.qrs_off > d.qrs_on) & (d.qrs_off < x.size)
    if not ok.any():
        return None
    on, off = d.qrs_on[ok], d.qrs_off[ok]
    pre = max(1, round(0.01 * fs))
    lo = np.maximum(on - pre, 0)
    csum = np.concatenate([[0.0], np.cumsum(x)])
    base = (csum[on + 1] - csum[lo]) / (on + 1 - lo)  # mean of the 10 ms up to the onset
    if method == "area":
        net = (csum[off + 1] - csum[on]) - (off - on + 1) * base
        return float(np.median(net)) * 1000.0 / fs
    width = int((off - on).max()) + 1
    cols = on[:, None] + np.arange(width)[None, :]
    inside = cols <= off[:, None]
    seg = x[np.minimum(cols, x.size - 1)] - base[:, None]
    net = np.where(inside, seg, -np.inf).max(axis=1) + np.where(inside, seg, np.inf).min(axis=1)
    return float(np.median(net))


def frontal_axis_deg(
    signals: ArrayLike, lead_names: Sequence[str], fs: float, delineation: Delineation,
    method: str = "area",
) -> float | None:
    """Frontal-plane QRS axis in degrees (-180..180] from the net QRS of leads I and aVF.

    ``method`` "area" (default) uses the signed QRS area, i.e. the mean QRS vector;
    "amplitude" the net deflection (tallest positive plus deepest negative wave, as read
    on paper), which terminal conduction delay (bundle branch block) pulls less. On
    PTB-XL, "area" puts left anterior fascicular block at a median of -55 deg, "amplitude"
    at -39 deg; with right bundle branch block "area" gives more extreme axes.

    ``signals`` (leads, samples) in mV at ``fs`` Hz with ``lead_names``; aVF is derived
    as (II + III) / 2 or II - I / 2 when absent, and I as II - III when absent. The axis
    is atan2(2 / sqrt(3) x net aVF, net I) (aVF, an augmented lead, sees sqrt(3)/2 of
    the projection on +90 deg): 0 deg points to lead I, +90 deg to aVF. Returns None
    when the leads are missing or flat, no beat has a QRS, or both nets vanish.
    """
    x = np.asarray(signals)  # a view: only the leads needed are converted, one at a time
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[0] != len(lead_names) or x.shape[1] < 2 or not fs or fs <= 0:
        return None
    leads = _lead_map(lead_names)

    def lead(name: str) -> NDArray[np.float64] | None:
        i = leads.get(name)
        if i is None:
            return None
        try:
            row = np.nan_to_num(np.asarray(x[i], dtype=np.float64))
        except (TypeError, ValueError):
            return None
        return None if np.ptp(row) <= 1e-6 else row

    lead_i, lead_ii, lead_iii, lead_avf = lead("I"), lead("II"), lead("III"), lead("aVF")
    if lead_i is None and lead_ii is not None and lead_iii is not None:
        lead_i = lead_ii - lead_iii
    if lead_avf is None:
        if lead_ii is not None and lead_iii is not None:
            lead_avf = 0.5 * (lead_ii + lead_iii)
        elif lead_ii is not None and lead_i is not None:
            lead_avf = lead_ii - 0.5 * lead_i
    if lead_i is None or lead_avf is None:
        return None
    if method not in ("amplitude", "area"):
        raise ValueError(f"unknown axis method {method!r}: use 'amplitude' or 'area'")
    a_i = _net_qrs(lead_i, delineation, fs, method)
    a_f = _net_qrs(lead_avf, delineation, fs, method)
    if a_i is None or a_f is None or math.hypot(a_i, a_f) < 1e-6:
        return None
    # Goldberger's aVF is (II + III) / 2 = sqrt(3)/2 of the projection on +90 deg
    angle = math.degrees(math.atan2(a_f * 2.0 / math.sqrt(3.0), a_i))
    return 180.0 if angle == -180.0 else angle
