"""Tests of ecgstation.core.intervals: QTc formulas, median intervals, frontal axis."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from ecgstation.core.delineation import Delineation, delineate
from ecgstation.core.intervals import (
    Intervals,
    frontal_axis_deg,
    measure_intervals,
    qtc_bazett,
    qtc_fridericia,
)

FS = 500.0


def _delineation(n: int, fs: float = FS, pr_ms: float = 160.0, qrs_ms: float = 90.0, qt_ms: float = 400.0,
                 rr_ms: float = 800.0) -> tuple[Delineation, NDArray[np.int64]]:
    """A regular rhythm with exact intervals (multiples of the sample period)."""
    s = fs / 1000.0
    r = (np.arange(n) * rr_ms * s + 500).astype(np.int64)
    qrs_on = r - int(40 * s)
    d = Delineation(
        p_on=qrs_on - int(pr_ms * s), p_peak=qrs_on - int((pr_ms - 50) * s), p_off=qrs_on - int((pr_ms - 100) * s),
        qrs_on=qrs_on, qrs_off=qrs_on + int(qrs_ms * s),
        t_peak=qrs_on + int((qt_ms - 80) * s), t_end=qrs_on + int(qt_ms * s), fs=fs,
    )
    return d, r


def test_qtc_formulas_exact() -> None:
    assert qtc_bazett(400.0, 1000.0) == 400.0
    assert qtc_bazett(400.0, 640.0) == pytest.approx(500.0)
    assert qtc_fridericia(400.0, 1000.0) == 400.0
    assert qtc_fridericia(400.0, 512.0) == pytest.approx(500.0)
    assert qtc_bazett(360.0, 810.0) == pytest.approx(360.0 / math.sqrt(0.81))
    assert qtc_fridericia(360.0, 729.0) == pytest.approx(400.0)


def test_measure_intervals_exact_medians() -> None:
    d, r = _delineation(12, rr_ms=640.0)
    iv = measure_intervals(d, r, FS)
    assert isinstance(iv, Intervals)
    assert iv.pr_ms == pytest.approx(160.0)
    assert iv.qrs_ms == pytest.approx(90.0)
    assert iv.qt_ms == pytest.approx(400.0)
    assert iv.rr_ms == pytest.approx(640.0)
    assert iv.qtc_bazett_ms == pytest.approx(500.0)
    assert iv.qtc_fridericia_ms == pytest.approx(400.0 / 0.64 ** (1 / 3))
    assert (iv.n_beats, iv.n_pr, iv.n_qrs, iv.n_qt) == (12, 12, 12, 12)


def test_median_resists_outliers_and_drops_implausible_values() -> None:
    d, r = _delineation(11)
    t_end = d.t_end.copy()
    t_end[0] += int(0.2 * FS)  # one mis-read T end (QT 600 ms): the median ignores it
    t_end[1] = d.qrs_on[1] + int(0.9 * FS)  # QT 900 ms: implausible, dropped
    qrs_off = d.qrs_off.copy()
    qrs_off[2] = d.qrs_on[2] + 5  # QRS 10 ms: implausible, dropped
    d2 = Delineation(d.p_on, d.p_peak, d.p_off, d.qrs_on, qrs_off, d.t_peak, t_end, FS)
    iv = measure_intervals(d2, r, FS)
    assert iv.qt_ms == pytest.approx(400.0) and iv.n_qt == 10
    assert iv.qrs_ms == pytest.approx(90.0) and iv.n_qrs == 10


def test_pr_needs_p_waves_in_most_beats() -> None:
    d, r = _delineation(10)
    p_on = np.full(10, -1, dtype=np.int64)
    p_on[:3] = d.p_on[:3]
    iv = measure_intervals(Delineation(p_on, d.p_peak, d.p_off, d.qrs_on, d.qrs_off, d.t_peak, d.t_end, FS), r, FS)
    assert iv.pr_ms is None and iv.n_pr == 3
    assert iv.qrs_ms is not None
    assert measure_intervals(d, r, FS, min_fraction=0.0).pr_ms == pytest.approx(160.0)


def test_empty_and_one_beat() -> None:
    iv = measure_intervals(Delineation.empty(0, FS), np.zeros(0, np.int64), FS)
    assert iv == Intervals(None, None, None, None, None, None, 0, 0, 0, 0)
    d, r = _delineation(1)
    one = measure_intervals(d, r, FS)
    assert one.qrs_ms == pytest.approx(90.0) and one.qt_ms == pytest.approx(400.0)
    assert one.rr_ms is None and one.qtc_bazett_ms is None and one.qtc_fridericia_ms is None
    none = measure_intervals(Delineation.empty(5, FS), np.arange(5) * 400, FS)
    assert none.qt_ms is None and none.rr_ms == pytest.approx(800.0) and none.qtc_bazett_ms is None


def test_rr_ignores_gaps_and_unsorted_peaks() -> None:
    d, r = _delineation(6)
    peaks = np.concatenate([r[::-1], [r[-1] + int(10 * FS)]])  # unsorted, plus a 10 s gap
    assert measure_intervals(d, peaks, FS).rr_ms == pytest.approx(800.0)


# ----------------------------------------------------------------------------- axis

def _limb_leads(axis_deg: float, names: tuple[str, ...], fs: float = FS, n_beats: int = 8
                ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """Limb leads of a heart whose QRS vector points at ``axis_deg`` (T vector at +45 deg):
    I, II, III are the projections on 0, 60, 120 deg (Einthoven) and the augmented leads
    follow Goldberger: aVR = -(I + II) / 2, aVL = (I - III) / 2, aVF = (II + III) / 2."""
    t = np.arange(int(n_beats * 0.8 * fs)) / fs
    r_s = (np.arange(n_beats) + 0.5) * 0.8
    qrs = sum(np.exp(-0.5 * ((t - rk) / 0.012) ** 2) for rk in r_s)
    twave = sum(np.exp(-0.5 * ((t - rk - 0.28) / 0.04) ** 2) for rk in r_s)

    def bipolar(angle: float) -> NDArray[np.float64]:
        a = math.radians(angle)
        return 1.2 * math.cos(math.radians(axis_deg) - a) * qrs + 0.3 * math.cos(math.radians(45.0) - a) * twave

    i, ii, iii = bipolar(0.0), bipolar(60.0), bipolar(120.0)
    leads = {"I": i, "II": ii, "III": iii, "aVR": -(i + ii) / 2, "aVL": (i - iii) / 2, "aVF": (ii + iii) / 2}
    rows = [leads[{"i": "I", "ii": "II", "iii": "III", "avf": "aVF"}.get(n, n)] for n in names]
    return np.array(rows, dtype=np.float32), np.round(r_s * fs).astype(np.int64)


@pytest.mark.parametrize("axis", [-150.0, -90.0, -45.0, 0.0, 30.0, 60.0, 90.0, 120.0, 179.0])
def test_axis_from_i_and_avf(axis: float) -> None:
    names = ("I", "II", "III", "aVR", "aVL", "aVF")
    x, r = _limb_leads(axis, names)
    got = frontal_axis_deg(x, names, FS, delineate(x, FS, r))
    assert got is not None
    assert abs((got - axis + 180.0) % 360.0 - 180.0) <= 3.0


def test_axis_plus_60_amplitudes() -> None:
    """Axis +60 deg: lead I sees cos 60 = 1/2 of the QRS vector, aVF (sqrt(3)/2) x sin 60 = 3/4,
    II all of it and aVL (perpendicular) nothing."""
    names = ("I", "II", "aVL", "aVF")
    x, r = _limb_leads(60.0, names)
    peak = x[:, r[0]]
    assert peak == pytest.approx([1.2 * 0.5, 1.2, 0.0, 1.2 * 0.75], abs=1e-3)
    got = frontal_axis_deg(x[[0, 3]], ("I", "aVF"), FS, delineate(x, FS, r))
    assert got == pytest.approx(60.0, abs=2.0)


@pytest.mark.parametrize("names", [("I", "II"), ("II", "III"), ("I", "II", "III"), ("i", "ii", "iii", "avf")])
def test_axis_with_derived_leads(names: tuple[str, ...]) -> None:
    x, r = _limb_leads(-40.0, names)
    got = frontal_axis_deg(x, names, FS, delineate(x, FS, r))
    assert got == pytest.approx(-40.0, abs=3.0)


@pytest.mark.parametrize("axis", [-60.0, 30.0, 150.0])
def test_axis_amplitude_method_agrees_on_symmetric_qrs(axis: float) -> None:
    names = ("I", "II", "III", "aVF")
    x, r = _limb_leads(axis, names)
    got = frontal_axis_deg(x, names, FS, delineate(x, FS, r), method="amplitude")
    assert got == pytest.approx(axis, abs=3.0)
    with pytest.raises(ValueError):
        frontal_axis_deg(x, names, FS, delineate(x, FS, r), method="vector")


def test_axis_none_when_unmeasurable() -> None:
    x, r = _limb_leads(60.0, ("I", "aVF"))
    d = delineate(x, FS, r)
    assert frontal_axis_deg(x, ("V1", "V2"), FS, d) is None  # no limb leads
    assert frontal_axis_deg(x, ("I", "V2"), FS, d) is None  # aVF cannot be derived
    flat = x.copy()
    flat[1] = 0.0
    assert frontal_axis_deg(flat, ("I", "aVF"), FS, d) is None  # flat aVF
    assert frontal_axis_deg(x, ("I", "aVF"), FS, Delineation.empty(len(r), FS)) is None  # no QRS
    assert frontal_axis_deg(x, ("I",), FS, d) is None  # names do not match the leads
    assert frontal_axis_deg(np.zeros((2, 0)), ("I", "aVF"), FS, Delineation.empty(0, FS)) is None


# ----------------------------------------------------------------------------- real data


def _data_dir() -> Path:
    env = os.environ.get("ECGSTATION_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[3] / ".." / "shared" / "data"


@pytest.mark.data
def test_ptbxl_intervals_and_axis_follow_the_diagnoses() -> None:
    """PTB-XL 12-lead 500 Hz: normal ECGs have normal intervals, LAFB a left axis, 1AVB a long
    PR, complete bundle branch blocks a wide QRS, atrial fibrillation no PR."""
    root = _data_dir() / "ptbxl"
    if not (root / "ptbxl_database.csv").exists():
        pytest.skip(f"PTB-XL not found at {root} (set ECGSTATION_DATA)")
    wfdb = pytest.importorskip("wfdb")
    import ast
    import csv

    from ecgstation.core.qrs import detect_qrs

    with open(root / "ptbxl_database.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    wanted = {"NORM": 40, "LAFB": 40, "1AVB": 40, "CLBBB": 40, "CRBBB": 40, "AFIB": 40}
    results: dict[str, list[tuple[Intervals, float | None]]] = {k: [] for k in wanted}
    for row in rows:
        codes = ast.literal_eval(row["scp_codes"])
        hits = [k for k in wanted if codes.get(k, 0) >= 80 and len(results[k]) < wanted[k]]
        if not hits:
            continue
        rec = wfdb.rdrecord(str(root / row["filename_hr"]))
        x = rec.p_signal.T.astype(np.float32)
        r = detect_qrs(x, rec.fs)
        d = delineate(x, rec.fs, r)
        out = (measure_intervals(d, r, rec.fs), frontal_axis_deg(x, rec.sig_name, rec.fs, d))
        for k in hits:
            results[k].append(out)

    def med(key: str, field: str) -> float:
        vals = [getattr(iv, field) for iv, _ in results[key] if getattr(iv, field) is not None]
        return float(np.median(vals))

    norm = results["NORM"]
    assert len(norm) >= 30
    assert 120.0 <= med("NORM", "pr_ms") <= 200.0
    assert 70.0 <= med("NORM", "qrs_ms") <= 110.0
    assert 360.0 <= med("NORM", "qtc_bazett_ms") <= 450.0
    norm_axes = [a for _, a in norm if a is not None]
    assert np.mean([-30.0 <= a <= 100.0 for a in norm_axes]) >= 0.9
    if results["LAFB"]:
        assert np.median([a for _, a in results["LAFB"] if a is not None]) < -30.0
    if results["1AVB"]:
        assert med("1AVB", "pr_ms") > 200.0
    for bbb in ("CLBBB", "CRBBB"):
        if results[bbb]:
            assert med(bbb, "qrs_ms") >= 120.0
    if results["AFIB"]:
        assert np.mean([iv.pr_ms is None for iv, _ in results["AFIB"]]) >= 0.8
