"""analyze_recording: the whole measurement chain on real and synthetic records, and its rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ecgstation.core.analysis import AnalysisSettings, analyze_recording
from ecgstation.core.recording import Recording
from ecgstation.io import read_recording
from tests.synthetic import synthetic_ecg


def test_twelve_lead_sample(samples_dir: Path) -> None:
    result = analyze_recording(read_recording(samples_dir / "ptbxl_00003_hr.hea"))
    assert result.r_peaks.size >= 9 and 55 < (result.heart_rate_bpm or 0) < 75
    iv = result.intervals
    assert iv.pr_ms is not None and 110 < iv.pr_ms < 220
    assert iv.qrs_ms is not None and 60 < iv.qrs_ms < 120
    assert iv.qt_ms is not None and 340 < iv.qt_ms < 460
    assert iv.qtc_bazett_ms is not None and iv.qtc_fridericia_ms is not None
    assert result.axis_deg is not None and -30 <= result.axis_deg <= 90  # a normal record
    assert not any(f.code in ("wide_qrs", "long_qtc", "left_axis", "right_axis") for f in result.findings)
    assert len(result.quality) == 12


def test_bradycardia_and_pause_rules() -> None:
    fs = 250.0
    x, _ = synthetic_ecg(fs, 60.0, rr_s=1.5)
    x[int(30 * fs) : int(34 * fs)] = x[int(30 * fs)]  # 4 s without a beat
    rec = Recording(np.stack([x, 0.6 * x]), fs, ("II", "V5"))
    result = analyze_recording(rec, AnalysisSettings(mains_hz=60.0))
    codes = [f.code for f in result.findings]
    assert "bradycardia" in codes and "pause" in codes
    pause = next(f for f in result.findings if f.code == "pause")
    assert pause.start_s is not None and 27.0 < pause.start_s < 31.0


def test_flat_record_is_reported_not_crashing() -> None:
    rec = Recording(np.zeros((2, 5000), np.float32), 500.0, ("I", "II"))
    result = analyze_recording(rec)
    codes = {f.code for f in result.findings}
    assert result.r_peaks.size == 0 and result.heart_rate_bpm is None
    assert "no_beats" in codes and "lead_unusable" in codes
