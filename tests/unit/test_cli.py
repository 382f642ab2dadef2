"""The command line: analyze (text and JSON), errors, version; runs without the databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench._ec57 import match, reference_beats
from ecgstation import __version__
from ecgstation.cli import main
from ecgstation.io import read_recording


def test_analyze_json_schema_and_beats(samples_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = samples_dir / "100.hea"
    assert main(["analyze", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["fs"] == 360.0 and out["leads"] == ["MLII", "V5"]
    assert out["duration_s"] == pytest.approx(650000 / 360)
    assert isinstance(out["heart_rate_bpm"], float) and 70 < out["heart_rate_bpm"] < 80
    assert set(out["intervals_ms"]) >= {"pr", "qrs", "qt", "qtc_bazett", "qtc_fridericia", "rr"}
    assert isinstance(out["findings"], list) and isinstance(out["trace_id"], str)
    samples = np.array([b["sample"] for b in out["beats"]])
    assert all(b["label"] in {"N", "S", "V", "F", "Q"} for b in out["beats"])
    assert samples.dtype.kind == "i" and np.all(np.diff(samples) > 0)
    rec = read_recording(path)
    ref, excluded = reference_beats(rec.annotations.samples, list(rec.annotations.labels))
    score = match(ref, samples, rec.fs, excluded)
    assert score.se >= 99.9 and score.ppv >= 99.9, score


def test_analyze_12_lead_text(samples_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(samples_dir / "ptbxl_00003_hr.hea")]) == 0
    text = capsys.readouterr().out
    assert "12 lead(s)" in text and "QTC FRIDERICIA" in text and "Frontal axis" in text


def test_bad_file_gives_message_not_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "broken.hea"
    bad.write_bytes(b"\x00\xff\x13junk")
    assert main(["analyze", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "broken.hea" in err and "Traceback" not in err


def test_csv_without_fs_names_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "strip.csv"
    t = np.arange(2500) / 250.0
    np.savetxt(path, np.sin(2 * np.pi * t) * 0.5, header="II", comments="")
    assert main(["analyze", str(path)]) == 2
    assert "strip.csv" in capsys.readouterr().err
    assert main(["analyze", str(path), "--fs", "250", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["fs"] == 250.0


def test_console_script_without_shared_data(samples_dir: Path, tmp_path: Path) -> None:
    """``ecgstation analyze resources/samples/100.hea --json`` on a machine without ../shared."""
    env = dict(os.environ, ECGSTATION_DATA=str(tmp_path / "absent"))
    repo = samples_dir.parents[1]
    proc = subprocess.run(
        [sys.executable, "-m", "ecgstation.cli", "analyze", "resources/samples/100.hea", "--json"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["n_beats"] > 2000
    version = subprocess.run(
        [sys.executable, "-m", "ecgstation.cli", "--version"], capture_output=True, text=True, check=False
    )
    assert version.stdout.strip() == f"ecgstation {__version__}"


def test_every_log_line_of_an_analysis_carries_one_trace_id(
    samples_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-v", "analyze", str(samples_dir / "ptbxl_00003_hr.hea"), "--json"]) == 0
    captured = capsys.readouterr()
    trace_id = json.loads(captured.out)["trace_id"]
    lines = [line for line in captured.err.splitlines() if " INFO " in line]
    assert len(lines) >= 3
    assert all(f"[{trace_id}]" in line for line in lines), lines


@pytest.mark.parametrize("bad", ["-5", "0", "nan", "fast"])
def test_bad_fs_option_is_a_usage_error(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["analyze", "x.csv", "--fs", bad])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--fs" in err and "Traceback" not in err


def test_beat_samples_follow_the_files_own_numbering(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rec = read_recording(Path(__file__).resolve().parents[2] / "resources" / "samples" / "100.hea")
    start = 10000
    x = rec.signals[0, start : start + 3600]
    path = tmp_path / "excerpt.csv"
    path.write_text("sample,MLII\n" + "\n".join(f"{start + i},{v:.4f}" for i, v in enumerate(x)) + "\n")
    assert main(["analyze", str(path), "--fs", "360", "--json"]) == 0
    beats = np.array([b["sample"] for b in json.loads(capsys.readouterr().out)["beats"]])
    ref = rec.annotations.samples
    ref = ref[(ref >= start + 50) & (ref < start + 3550)]
    score = match(ref, beats, 360.0)
    assert score.fn == 0 and score.fp <= 1, score
