"""Backup and restore of the whole database (SQLite and PostgreSQL), the manifest checks, and the CLI."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from ecgstation.cli import main
from ecgstation.io import read_recording
from ecgstation.storage import Actor, BackupError, Database, DatabaseSettings, PermissionDeniedError, Role, StorageError
from ecgstation.storage.backup import (
    MANIFEST_NAME,
    SUMS_NAME,
    _find_pg_tool,
    _libpq_args,
    backup_database,
    restore_database,
    verify_backup,
)
from ecgstation.storage.migrate import current_revision, head_revision, upgrade
from ecgstation.storage.orm import Base
from tests.storage.pg import create_database, drop_database, postgres_base_url

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"
DATA_FILE = {"sqlite": "ecgstation.sqlite3", "postgresql": "ecgstation.pgdump"}


# ------------------------------------------------------------------------------------------ helpers


def _snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order (waveform chunks' bytes included)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            out[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
    return out


def _populate(db: Database, actors: dict[str, Actor]) -> dict[str, int]:
    """Patients, the MIT-BIH record 100 with its beats, an edited beat, and findings (one reviewed)."""
    admin, cardio, nurse = actors["admin"], actors["cardio"], actors["nurse"]
    with db.session(nurse) as s:
        p1 = s.patients.create("MRN-1", family_name="Doe", given_name="Jane", sex="F", birth_date=date(1950, 3, 1))
        s.patients.create("MRN-2", family_name="Roe", given_name="Rick", sex="M", height_cm=180.0, weight_kg=80.5)
    rec = read_recording(SAMPLES / "100.hea")
    sha = hashlib.sha256((SAMPLES / "100.dat").read_bytes()).hexdigest()
    with db.session(admin) as s:
        stored = s.recordings.store(rec, source_name="100.hea", source_format="WFDB", file_sha256=sha, patient_id=p1.id)
        rid = stored.recording.id
        labels = list(rec.annotations.labels)
        keep = [i for i, lab in enumerate(labels) if lab in ("N", "A", "V")]
        n = s.beats.add_many(
            rid, [int(rec.annotations.samples[i]) for i in keep], [labels[i] for i in keep], "file", "atr"
        )
        assert n > 2000
    with db.session(cardio) as s:
        beats = s.beats.list(rid, 0, 5000)
        s.beats.relabel(beats[1].id, "V", beats[1].version)
        f1 = s.findings.add(code="SR", label="Sinus rhythm", source_kind="rule", source_name="rhythm", recording_id=rid)
        s.findings.add(
            code="PVC", label="Ventricular ectopy", source_kind="user", source_name="cardio", recording_id=rid
        )
        s.findings.review(f1.id, "confirmed", f1.version, note="ok")
    return {"patient": p1.id, "recording": rid}


def _window(db: Database, actor: Actor, recording_id: int) -> bytes:
    with db.reader(actor) as s:
        data = s.recordings.read_window(recording_id, 100.0, 25.0)
    assert data.shape == (2, 9000) and np.isfinite(data).all()
    return data.tobytes()


def _rewrite_manifest(src: Path, **changes: Any) -> None:
    """Edit MANIFEST.json and write a matching SHA256SUMS (a consistent backup, only with other facts)."""
    manifest = json.loads((src / MANIFEST_NAME).read_text())
    manifest.update(changes)
    (src / MANIFEST_NAME).write_text(json.dumps(manifest))
    lines = [f"{entry['sha256']}  {name}\n" for name, entry in manifest["files"].items()]
    lines.append(f"{hashlib.sha256((src / MANIFEST_NAME).read_bytes()).hexdigest()}  {MANIFEST_NAME}\n")
    (src / SUMS_NAME).write_text("".join(lines))


def _flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.fixture
def second_url(db: Database, tmp_path: Path) -> Iterator[str]:
    """Another empty database of the same engine as ``db``."""
    if db.dialect == "sqlite":
        yield f"sqlite:///{tmp_path / 'second.sqlite3'}"
        return
    base = postgres_base_url()
    assert base is not None
    url = create_database(base)
    try:
        yield url
    finally:
        drop_database(base, url)


# ------------------------------------------------------------------------------------------ round trip


def test_round_trip_restores_the_state_at_backup_time(db: Database, actors: dict[str, Actor], tmp_path: Path) -> None:
    ids = _populate(db, actors)
    admin, cardio = actors["admin"], actors["cardio"]
    window = _window(db, cardio, ids["recording"])
    before = _snapshot(db)
    dest = tmp_path / "backups" / "monday"

    manifest = backup_database(db, admin, dest)

    data_name = DATA_FILE[db.dialect]
    assert sorted(p.name for p in dest.iterdir()) == sorted([data_name, MANIFEST_NAME, SUMS_NAME])
    assert [p.name for p in dest.parent.iterdir()] == ["monday"]  # no temporary folder left behind
    on_disk = json.loads((dest / MANIFEST_NAME).read_text())
    assert on_disk["format"] == "ecgstation-backup" and on_disk["format_version"] == 1
    assert on_disk["engine"] == db.dialect and on_disk["schema_revision"] == head_revision()
    assert on_disk["files"][data_name] == {
        "sha256": hashlib.sha256((dest / data_name).read_bytes()).hexdigest(),
        "bytes": (dest / data_name).stat().st_size,
    }
    assert manifest.engine == db.dialect and manifest.files[data_name].bytes > 100_000
    assert verify_backup(dest) == manifest
    if shutil.which("sha256sum"):
        subprocess.run(["sha256sum", "--check", "--quiet", SUMS_NAME], cwd=dest, check=True)
    with db.reader(admin) as s:
        line = s.audit.events(action="backup", limit=1)[0]
    assert line.entity_type == "database" and line.username == "admin"
    assert line.details is not None and line.details["manifest_sha256"] == manifest.manifest_sha256

    # Work goes on after the backup: new and changed patients, edits, a new user.
    with db.session(actors["nurse"]) as s:
        s.patients.create("MRN-3", family_name="Late", given_name="Lucy", sex="F")
        p1 = s.patients.get(ids["patient"])
        s.patients.update(p1.id, p1.version, family_name="Changed")
    with db.session(cardio) as s:
        beat = s.beats.list(ids["recording"], 0, 2000)[0]
        s.beats.delete(beat.id, beat.version)
        finding = s.findings.for_recording(ids["recording"])[1]
        s.findings.review(finding.id, "rejected", finding.version)
    with db.session(admin) as s:
        s.users.create("latecomer", Role.NURSE, "pw")
    assert _snapshot(db) != before

    # Another workstation has the database open while it is restored; afterwards it sees the backup.
    other = Database.open(DatabaseSettings(url=db.url.render_as_string(hide_password=False), migrate=False))
    try:
        with other.reader(admin) as s:
            assert s.patients.by_mrn("MRN-3") is not None
        restored = restore_database(db, admin, dest)
        with other.reader(admin) as s:
            assert s.patients.by_mrn("MRN-3") is None and s.patients.by_mrn("MRN-2") is not None
    finally:
        other.dispose()

    assert restored == manifest and restored.manifest_sha256 == manifest.manifest_sha256
    after = _snapshot(db)
    audit_before, audit_after = before.pop("audit_events"), after.pop("audit_events")
    assert after == before  # every table as it was at backup time, waveform chunk bytes included
    assert audit_after[: len(audit_before)] == audit_before
    assert len(audit_after) == len(audit_before) + 1  # only the restore line was added
    assert _window(db, cardio, ids["recording"]) == window
    assert current_revision(db) == head_revision()
    with db.reader(admin) as s:
        line = s.audit.events(limit=1)[0]
        assert s.patients.by_mrn("MRN-3") is None and s.users.get_by_name("latecomer") is None
        assert s.patients.get(ids["patient"]).family_name == "Doe"
    assert (line.action, line.entity_type, line.username) == ("restore", "database", "admin")
    assert line.details is not None
    assert line.details["backup_created_at"] == manifest.created_at
    assert line.details["manifest_sha256"] == manifest.manifest_sha256
    # The restored database is fully usable: ids continue after the restored rows.
    with db.session(actors["nurse"]) as s:
        again = s.patients.create("MRN-3", family_name="Late")
    assert again.id > max(r[0] for r in before["patients"])


def test_older_backup_is_upgraded_on_restore(
    db: Database, actors: dict[str, Actor], second_url: str, tmp_path: Path
) -> None:
    old = Database.open(DatabaseSettings(url=second_url, migrate=False))
    try:
        upgrade(old, "0001_baseline")
        setup = Actor(None, "setup", Role.ADMIN)
        with old.session(setup) as s:
            s.users.create("root", Role.ADMIN)
        with old.session(setup) as s:
            root = s.users.authenticate("root", None)
        dest = tmp_path / "old-backup"
        manifest = backup_database(old, root, dest)
    finally:
        old.dispose()
    assert manifest.schema_revision == "0001_baseline"
    restore_database(db, actors["admin"], dest)
    assert current_revision(db) == head_revision()
    with db.reader(actors["admin"]) as s:
        assert s.users.get_by_name("root") is not None and s.users.get_by_name("cardio") is None
        line = s.audit.events(limit=1)[0]
    # "admin" is not an account of the restored database: the line names it without a user id.
    assert line.action == "restore" and line.username == "admin"


# ------------------------------------------------------------------------------------------ refusals


def test_tampered_backup_is_refused_and_the_database_untouched(
    db: Database, actors: dict[str, Actor], tmp_path: Path
) -> None:
    _populate(db, actors)
    dest = tmp_path / "bk"
    backup_database(db, actors["admin"], dest)
    with db.session(actors["nurse"]) as s:
        s.patients.create("MRN-AFTER")
    live = _snapshot(db)
    data = dest / DATA_FILE[db.dialect]
    _flip_byte(data, data.stat().st_size // 2)

    with pytest.raises(BackupError, match="sha256 mismatch") as info:
        restore_database(db, actors["admin"], dest)
    assert str(data) in str(info.value) and "altered or damaged" in str(info.value)
    with pytest.raises(BackupError, match="sha256 mismatch"):
        verify_backup(dest)
    assert _snapshot(db) == live  # not a row changed, not even an audit line


def test_tampered_manifest_is_refused(db: Database, actors: dict[str, Actor], tmp_path: Path) -> None:
    dest = tmp_path / "bk"
    backup_database(db, actors["admin"], dest)
    manifest = dest / MANIFEST_NAME
    manifest.write_text(manifest.read_text().replace('"format_version": 1', '"format_version":  1'))
    with pytest.raises(BackupError, match=f"{MANIFEST_NAME} has been altered or damaged: sha256 mismatch"):
        restore_database(db, actors["admin"], dest)


def test_truncated_file_is_refused(db: Database, actors: dict[str, Actor], tmp_path: Path) -> None:
    dest = tmp_path / "bk"
    backup_database(db, actors["admin"], dest)
    data = dest / DATA_FILE[db.dialect]
    data.write_bytes(data.read_bytes()[:-10])
    with pytest.raises(BackupError, match="altered or damaged: it has .* bytes"):
        verify_backup(dest)


@pytest.mark.parametrize("missing", ["data", MANIFEST_NAME, SUMS_NAME])
def test_missing_file_is_refused(db: Database, actors: dict[str, Actor], tmp_path: Path, missing: str) -> None:
    dest = tmp_path / "bk"
    backup_database(db, actors["admin"], dest)
    with db.session(actors["nurse"]) as s:
        s.patients.create("MRN-AFTER")
    live = _snapshot(db)
    name = DATA_FILE[db.dialect] if missing == "data" else missing
    (dest / name).unlink()
    with pytest.raises(BackupError, match=f"{name} is missing"):
        restore_database(db, actors["admin"], dest)
    assert _snapshot(db) == live


@pytest.mark.parametrize("role", ["cardio", "nurse", "student"])
def test_only_admins_back_up_and_restore(db: Database, actors: dict[str, Actor], tmp_path: Path, role: str) -> None:
    with pytest.raises(PermissionDeniedError, match="back up and restore"):
        backup_database(db, actors[role], tmp_path / "nope")
    assert not (tmp_path / "nope").exists()
    dest = tmp_path / "bk"
    backup_database(db, actors["admin"], dest)
    live = _snapshot(db)
    with pytest.raises(PermissionDeniedError, match="back up and restore"):
        restore_database(db, actors[role], dest)
    assert _snapshot(db) == live


def test_existing_non_empty_destination_is_refused(db: Database, actors: dict[str, Actor], tmp_path: Path) -> None:
    dest = tmp_path / "bk"
    dest.mkdir()
    (dest / "notes.txt").write_text("keep me")
    with pytest.raises(BackupError, match="already exists and is not empty") as info:
        backup_database(db, actors["admin"], dest)
    assert str(dest) in str(info.value)
    assert [p.name for p in dest.iterdir()] == ["notes.txt"] and (dest / "notes.txt").read_text() == "keep me"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".bk")]
    # An existing but empty folder is fine.
    empty = tmp_path / "empty"
    empty.mkdir()
    backup_database(db, actors["admin"], empty)
    assert (empty / MANIFEST_NAME).is_file()


def test_failed_backup_leaves_nothing_behind(db: Database, actors: dict[str, Actor], tmp_path: Path) -> None:
    if db.dialect == "sqlite":
        broken_file = tmp_path / "broken.sqlite3"
        broken_file.write_bytes(b"this is not a SQLite database" * 200)
        broken = Database(f"sqlite:///{broken_file}")
    else:
        broken = Database(db.url.set(database="ecgst_no_such_database").render_as_string(hide_password=False))
    out = tmp_path / "backups"
    out.mkdir()
    try:
        with pytest.raises(StorageError):
            backup_database(broken, actors["admin"], out / "bk")
    finally:
        broken.dispose()
    assert list(out.iterdir()) == []


def test_backup_of_the_other_engine_is_refused(db: Database, actors: dict[str, Actor], tmp_path: Path) -> None:
    dest = tmp_path / "bk"
    backup_database(db, actors["admin"], dest)
    live = _snapshot(db)
    other = "postgresql" if db.dialect == "sqlite" else "sqlite"
    manifest = json.loads((dest / MANIFEST_NAME).read_text())
    entry = manifest["files"].pop(DATA_FILE[db.dialect])
    (dest / DATA_FILE[db.dialect]).rename(dest / DATA_FILE[other])
    _rewrite_manifest(dest, engine=other, files={DATA_FILE[other]: entry})
    assert verify_backup(dest).engine == other  # a sound backup, only of the other engine
    with pytest.raises(BackupError, match=f"is of a {other} database; it cannot be restored into the {db.dialect}"):
        restore_database(db, actors["admin"], dest)
    assert _snapshot(db) == live


def test_backup_of_a_newer_schema_is_refused(db: Database, actors: dict[str, Actor], tmp_path: Path) -> None:
    dest = tmp_path / "bk"
    backup_database(db, actors["admin"], dest)
    live = _snapshot(db)
    _rewrite_manifest(dest, schema_revision="9999_from_the_future")
    with pytest.raises(BackupError, match="9999_from_the_future.*newer version"):
        restore_database(db, actors["admin"], dest)
    assert _snapshot(db) == live


# ------------------------------------------------------------------------------------------ CLI


def test_cli_backup_and_restore(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ECGSTATION_PASSWORD", raising=False)
    monkeypatch.delenv("ECGSTATION_DATABASE_URL", raising=False)
    url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    dest = tmp_path / "bk"

    # A database without accounts: the CLI user becomes its first administrator.
    assert main(["backup", str(dest), "--database", url, "--user", "alice"]) == 0
    out = capsys.readouterr().out
    assert "Backed up" in out and str(dest) in out
    assert verify_backup(dest).engine == "sqlite"

    db = Database.open(DatabaseSettings(url=url))
    try:
        setup = Actor(None, "setup", Role.ADMIN)
        with db.session(setup) as s:
            alice = s.users.authenticate("alice", None)
        with db.session(alice) as s:
            s.patients.create("MRN-NEW", family_name="After")
            s.users.create("bob", Role.ADMIN, "s3cret")
            s.users.create("carol", Role.NURSE, "pw")
    finally:
        db.dispose()

    # bob exists only in the live database; he signs in with $ECGSTATION_PASSWORD.
    monkeypatch.setenv("ECGSTATION_PASSWORD", "wrong")
    assert main(["restore", str(dest), "--database", url, "--user", "bob"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ecgstation: Sign-in refused for bob") and "Traceback" not in err
    monkeypatch.setenv("ECGSTATION_PASSWORD", "pw")
    assert main(["restore", str(dest), "--database", url, "--user", "carol"]) == 1
    assert "is not allowed to back up and restore" in capsys.readouterr().err
    monkeypatch.setenv("ECGSTATION_PASSWORD", "s3cret")
    assert main(["restore", str(dest), "--database", url, "--user", "bob"]) == 0
    assert "Restored" in capsys.readouterr().out

    db = Database.open(DatabaseSettings(url=url))
    try:
        with db.reader(Actor(None, "check", Role.ADMIN)) as s:
            assert s.patients.by_mrn("MRN-NEW") is None and s.users.get_by_name("bob") is None
            line = s.audit.events(limit=1)[0]
        assert (line.action, line.username) == ("restore", "bob")
    finally:
        db.dispose()

    # A non-empty destination, and a tampered backup: one line on stderr, exit status 1.
    monkeypatch.delenv("ECGSTATION_PASSWORD")
    assert main(["backup", str(dest), "--database", url, "--user", "alice"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already exists and is not empty" in err
    _flip_byte(dest / "ecgstation.sqlite3", 5000)
    assert main(["restore", str(dest), "--database", url, "--user", "alice"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ecgstation: The backup file") and err.count("\n") == 1
    assert "ecgstation.sqlite3 has been altered or damaged: sha256 mismatch" in err and "Traceback" not in err


# ------------------------------------------------------------------------------------------ tools


def test_postgres_password_is_passed_in_the_environment_only() -> None:
    conninfo, env = _libpq_args(make_url("postgresql+psycopg://ecg:p%40ss w'rd@db.local:5433/ecg?sslmode=require"))
    assert "p@ss" not in conninfo and "password" not in conninfo
    assert env["PGPASSWORD"] == "p@ss w'rd"
    assert conninfo == "host='db.local' port='5433' user='ecg' dbname='ecg' sslmode='require'"


def test_missing_postgres_tool_is_named() -> None:
    with pytest.raises(BackupError, match="pg_no_such_tool was not found"):
        _find_pg_tool("pg_no_such_tool")
