"""``ecgstation import`` / ``patient`` / ``user`` end to end on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecgstation.cli import main
from ecgstation.storage import Actor, Database, DatabaseSettings, Role


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("ECGSTATION_DATABASE_URL", raising=False)
    monkeypatch.delenv("ECGSTATION_PASSWORD", raising=False)
    return str(tmp_path / "ecg.sqlite3")


def test_first_run_makes_the_user_admin_then_imports(
    db_path: str, samples_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["patient", "add", "MRN-1", "--family", "Doe", "--sex", "F", "--database", db_path, "--user", "ana"]) == 0
    files = [str(samples_dir / "100.hea"), str(samples_dir / "100.hea"), str(tmp_path / "missing.hea")]
    rc = main(["import", *files, "--patient", "MRN-1", "--database", db_path, "--user", "ana"])
    out, err = capsys.readouterr()
    assert rc == 1  # one file failed
    assert "imported as recording #1" in out and "already stored as recording #1" in out
    assert "1 imported, 1 already stored, 1 failed" in out
    assert "missing.hea" in err and "Traceback" not in err
    db = Database.open(DatabaseSettings(url=db_path))
    try:
        with db.reader(Actor(None, "ana", Role.ADMIN)) as s:
            user = s.users.get_by_name("ana")
            assert user is not None and user.role == "admin"
            patient = s.patients.by_mrn("MRN-1")
            assert patient is not None
            assert [r.source_name for r in s.recordings.for_patient(patient.id)] == ["100.hea"]
    finally:
        db.dispose()


def test_other_users_need_their_password_and_role(
    db_path: str, samples_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["patient", "list", "--database", db_path, "--user", "root"]) == 0  # bootstraps admin "root"
    monkeypatch.setenv("NEWPW", "s3cret")
    args = ["--database", db_path, "--user", "root", "--new-password-env", "NEWPW"]
    assert main(["user", "add", "sam", "--role", "student", *args]) == 0
    capsys.readouterr()
    # Wrong password: refused with one line.
    monkeypatch.setenv("ECGSTATION_PASSWORD", "wrong")
    assert main(["import", str(samples_dir / "119.hea"), "--database", db_path, "--user", "sam"]) == 1
    assert "Sign-in refused for sam" in capsys.readouterr().err
    # Right password, but a student may not import.
    monkeypatch.setenv("ECGSTATION_PASSWORD", "s3cret")
    assert main(["import", str(samples_dir / "119.hea"), "--database", db_path, "--user", "sam"]) == 1
    assert "not allowed to import recordings" in capsys.readouterr().err
    # A student may not create users either.
    assert main(["user", "add", "eve", "--role", "admin", "--database", db_path, "--user", "sam",
                 "--new-password-env", "NEWPW"]) == 1  # fmt: skip
    assert "not allowed to manage users" in capsys.readouterr().err


def test_import_for_unknown_patient_is_refused(
    db_path: str, samples_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(["import", str(samples_dir / "208.hea"), "--patient", "NOPE", "--database", db_path, "--user", "a"])
    assert rc == 1
    assert "No patient with MRN NOPE" in capsys.readouterr().err


def test_patient_alarm_limits_are_set_checked_and_used(
    db_path: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ecgstation.monitoring.session import load_alarm_settings

    assert main(["patient", "add", "MRN-7", "--database", db_path, "--user", "root"]) == 0  # admin "root"
    monkeypatch.setenv("NEWPW", "pw")
    assert main(["user", "add", "nina", "--role", "nurse", "--database", db_path, "--user", "root",
                 "--new-password-env", "NEWPW"]) == 0  # fmt: skip
    monkeypatch.setenv("ECGSTATION_PASSWORD", "pw")
    nurse = ["--database", db_path, "--user", "nina"]
    capsys.readouterr()
    assert main(["patient", "alarms", "MRN-7", *nurse]) == 0
    assert "(defaults)" in capsys.readouterr().out
    assert main(["patient", "alarms", "MRN-7", "--set", "tachy_bpm=130", "--set", "severity.pause=high", *nurse]) == 0
    out = capsys.readouterr().out
    assert "tachy_bpm: 130.0" in out and "'pause': 'high'" in out
    # an inconsistent limit is refused with the reason; the stored limits stay
    assert main(["patient", "alarms", "MRN-7", "--set", "pause_s=9", *nurse]) == 1
    assert "must be below the asystole limit" in capsys.readouterr().err
    assert main(["patient", "alarms", "MRN-7", "--set", "bogus=1", *nurse]) == 1
    assert "unknown alarm settings" in capsys.readouterr().err
    db = Database.open(DatabaseSettings(url=db_path))
    try:
        actor = Actor(None, "nina", Role.NURSE)
        with db.reader(actor) as s:
            patient = s.patients.by_mrn("MRN-7")
            assert patient is not None
        used = load_alarm_settings(db, actor, patient.id)  # what a monitoring session of this patient applies
        assert used.tachy_bpm == 130.0 and used.pause_s == 2.5 and used.severities["pause"] == "high"
    finally:
        db.dispose()
    assert main(["patient", "alarms", "MRN-7", "--reset", *nurse]) == 0
    assert "tachy_bpm: 150.0" in capsys.readouterr().out
