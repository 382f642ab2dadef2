"""Importing files into the database: one transaction per file, duplicates found by content, clear refusals."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from ecgstation.io import read_recording
from ecgstation.storage import Actor, Database, DatabaseUnavailableError
from ecgstation.storage.importing import import_file, import_files, record_files
from ecgstation.storage.orm import AuditEventRow, BeatAnnotationRow, RecordingRow, WaveformChunkRow
from ecgstation.storage.repos.beats import BeatRepository


def _counts(db: Database, actor: Actor) -> dict[str, int]:
    with db.reader(actor) as s:
        return {
            "recordings": s.session.scalar(select(func.count(RecordingRow.id))) or 0,
            "chunks": s.session.scalar(select(func.count()).select_from(WaveformChunkRow)) or 0,
            "beats": s.session.scalar(select(func.count(BeatAnnotationRow.id))) or 0,
        }


def test_wfdb_record_files_are_header_and_signal(samples_dir: Path) -> None:
    names = [p.name for p in record_files(samples_dir / "100.hea")]
    assert names == ["100.hea", "100.dat"]


def test_import_stores_samples_and_reference_beats(db: Database, actors: dict[str, Actor], samples_dir: Path) -> None:
    nurse = actors["nurse"]
    with db.session(nurse) as s:
        s.patients.create("MRN-100", family_name="Test", given_name="Patient")
    out = import_file(db, nurse, samples_dir / "100.hea", patient_mrn="MRN-100")
    assert out.status == "imported", out.message
    assert out.recording_id is not None and out.trace_id != "-"
    source = read_recording(samples_dir / "100.hea")
    with db.reader(actors["cardio"]) as s:
        view = s.recordings.get(out.recording_id)
        assert view.patient_id == s.patients.by_mrn("MRN-100").id  # type: ignore[union-attr]
        assert (view.n_leads, view.n_samples, view.fs) == (source.n_leads, source.n_samples, source.fs)
        assert np.array_equal(s.recordings.read_window(out.recording_id, 1234.5, 10.0), source.window(1234.5, 1244.5))
        beats = s.beats.list(out.recording_id)
    n_ref = sum(1 for lab in source.annotations.labels if lab in "NLRBAaJSVrFejnE/fQ?")
    assert len(beats) == n_ref == 2273
    assert {b.author_kind for b in beats} == {"file"}
    assert sum(b.label == "A" for b in beats) == 33


def test_same_content_twice_is_reported_not_duplicated(
    db: Database, actors: dict[str, Actor], samples_dir: Path, tmp_path: Path
) -> None:
    nurse = actors["nurse"]
    first = import_file(db, nurse, samples_dir / "119.hea")
    before = _counts(db, nurse)
    # The same record under another name is still the same ECG.
    for ext in (".hea", ".dat", ".atr"):
        shutil.copy(samples_dir / f"119{ext}", tmp_path / f"renamed{ext}")
    (tmp_path / "renamed.hea").write_text(
        (tmp_path / "renamed.hea").read_text().replace("119", "renamed"), encoding="ascii"
    )
    again = import_files(db, nurse, [samples_dir / "119.hea", tmp_path / "renamed.hea"])
    assert [o.status for o in again] == ["duplicate", "duplicate"]
    assert all(o.recording_id == first.recording_id for o in again)
    assert f"#{first.recording_id}" in again[0].message
    assert _counts(db, nurse) == before


def test_unknown_patient_and_bad_file_leave_nothing(
    db: Database, actors: dict[str, Actor], samples_dir: Path, tmp_path: Path
) -> None:
    nurse = actors["nurse"]
    before = _counts(db, nurse)
    out = import_file(db, nurse, samples_dir / "100.hea", patient_mrn="NO-SUCH-MRN")
    assert out.status == "failed" and "NO-SUCH-MRN" in out.message
    bad = tmp_path / "broken.csv"
    bad.write_text("time,I\n0,abc\n", encoding="utf-8")
    out = import_file(db, nurse, bad)
    assert out.status == "failed" and "broken.csv" in out.message
    assert _counts(db, nurse) == before


def test_failure_after_samples_were_written_rolls_back_everything(
    db: Database, actors: dict[str, Actor], samples_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The environment fails (disk full) after the chunks are written: nothing of the file remains."""
    nurse = actors["nurse"]
    before = _counts(db, nurse)
    with db.reader(actors["admin"]) as s:
        audit_before = s.session.scalar(select(func.count(AuditEventRow.id)))

    def disk_full(*_args: object, **_kwargs: object) -> int:
        raise DatabaseUnavailableError("The database cannot be written: disk full (injected by the test).")

    monkeypatch.setattr(BeatRepository, "add_many", disk_full)
    out = import_file(db, nurse, samples_dir / "208.hea")
    assert out.status == "failed" and "disk full" in out.message
    assert _counts(db, nurse) == before
    with db.reader(actors["admin"]) as s:
        assert s.session.scalar(select(func.count(AuditEventRow.id))) == audit_before
    monkeypatch.undo()
    assert import_file(db, nurse, samples_dir / "208.hea").status == "imported"


def test_student_cannot_import(db: Database, actors: dict[str, Actor], samples_dir: Path) -> None:
    out = import_file(db, actors["student"], samples_dir / "100.hea")
    assert out.status == "failed" and "not allowed" in out.message
    assert _counts(db, actors["admin"])["recordings"] == 0


def test_import_with_analysis_stores_algorithm_beats_and_rule_findings(
    db: Database, actors: dict[str, Actor], samples_dir: Path
) -> None:
    from ecgstation.core.analysis import AnalysisSettings, analyze_recording

    expected = analyze_recording(read_recording(samples_dir / "ptbxl_00003_hr.hea"), AnalysisSettings())
    out = import_file(db, actors["cardio"], samples_dir / "ptbxl_00003_hr.hea", analyze=AnalysisSettings())
    assert out.status == "imported", out.message
    assert out.recording_id is not None
    with db.reader(actors["cardio"]) as s:
        beats = s.beats.list(out.recording_id)
        findings = s.findings.for_recording(out.recording_id)
    assert [b.sample for b in beats] == expected.r_peaks.tolist()
    assert {b.author_kind for b in beats} == {"algorithm"}
    assert [(f.code, f.label) for f in findings] == [(f.code, f.text) for f in expected.findings]
    assert all(f.source_version for f in findings)


def test_progress_reports_the_samples_written(db: Database, actors: dict[str, Actor], samples_dir: Path) -> None:
    calls: list[tuple[int, int]] = []
    out = import_file(
        db, actors["nurse"], samples_dir / "119.hea", progress=lambda done, total: calls.append((done, total))
    )
    assert out.status == "imported", out.message
    assert len(calls) >= 2  # 30 min of signal: several batches of chunks
    dones = [d for d, _ in calls]
    assert dones == sorted(dones) and dones[0] > 0
    assert {t for _, t in calls} == {650000}
    assert calls[-1] == (650000, 650000)


@pytest.mark.parametrize("cancel_after", [0, 1, 3, 10_000])
def test_cancelled_import_leaves_nothing(
    db: Database, actors: dict[str, Actor], samples_dir: Path, cancel_after: int
) -> None:
    """A cancel after the file was read, between chunk batches, or just before the commit: nothing is stored."""
    nurse = actors["nurse"]
    before = _counts(db, nurse)
    with db.reader(actors["admin"]) as s:
        audit_before = s.session.scalar(select(func.count(AuditEventRow.id)))
    asked: list[int] = []

    def should_cancel() -> bool:
        asked.append(1)
        # 10_000: never during the chunks, so the check before the commit is the one that cancels.
        return len(asked) > cancel_after if cancel_after < 10_000 else len(asked) > 2 and done[-1] == 650000

    done: list[int] = [0]
    out = import_file(
        db, nurse, samples_dir / "100.hea", should_cancel=should_cancel, progress=lambda d, _t: done.append(d)
    )
    assert out.status == "cancelled", out.message
    assert out.recording_id is None and "nothing was stored" in out.message
    assert _counts(db, nurse) == before
    with db.reader(actors["admin"]) as s:
        assert s.session.scalar(select(func.count(AuditEventRow.id))) == audit_before
    again = import_file(db, nurse, samples_dir / "100.hea", should_cancel=lambda: False)
    assert again.status == "imported", again.message
