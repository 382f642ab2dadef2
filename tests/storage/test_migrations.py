"""Schema migrations on real SQLite and PostgreSQL databases.

An old database keeps every row through an upgrade, the ORM matches the migrated schema, the audit
log stays append-only at the database level, a database from a newer version is refused clearly,
and an empty database goes down to nothing and up again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import exc, text

from ecgstation.core.recording import Recording
from ecgstation.io import read_recording
from ecgstation.storage import Actor, Database, DatabaseSettings, MigrationError, Role
from ecgstation.storage.column_types import UtcDateTime
from ecgstation.storage.migrate import (
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    upgrade,
    upgrade_to_head,
)
from ecgstation.storage.orm import Base
from ecgstation.storage.passwords import hash_password
from ecgstation.storage.waveform_codec import choose_encoding, encode_block, signal_sha256

BASELINE = "0001_baseline"
PASSWORD = "an old password from the baseline"
SAMPLE_100 = Path(__file__).resolve().parents[2] / "resources" / "samples" / "100.hea"

#: The tables of the baseline schema with the column(s) that order their rows.
BASELINE_TABLES = {
    "users": "id",
    "patients": "id",
    "devices": "id",
    "recordings": "id",
    "waveform_chunks": "recording_id, chunk_index",
    "beat_annotations": "id",
    "beat_edits": "id",
    "findings": "id",
    "monitoring_sessions": "id",
    "monitoring_slices": "id",
    "alarms": "id",
    "ecg_images": "id",
    "audit_events": "id",
}
VERSIONED_TABLES = ("patients", "findings", "beat_annotations", "alarms")

#: Bind types of the columns that need one (the rest are plain numbers and strings).
_TIMES = {
    "created_at", "updated_at", "last_login_at", "last_seen_at", "acquired_at", "imported_at", "started_at",
    "ended_at", "reviewed_at", "edited_at", "raised_at", "acknowledged_at", "escalated_at", "occurred_at",
}  # fmt: skip
_JSONS = {"lead_names", "storage_gains", "extra", "summary", "analysis", "details"}


def _bind_type(column: str) -> sa.types.TypeEngine[Any] | None:
    if column in _TIMES:
        return UtcDateTime()
    if column in _JSONS:
        return sa.JSON()
    if column == "data":
        return sa.LargeBinary()
    if column == "birth_date":
        return sa.Date()
    if column in ("active", "deleted"):
        return sa.Boolean()
    return None


def _insert(conn: sa.Connection, table: str, row: dict[str, Any], returning: bool = True) -> int | None:
    """A raw INSERT of ``row`` into ``table`` (ids assigned by the database, as the baseline version did)."""
    cols = list(row)
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"
    if returning:
        sql += " RETURNING id"
    stmt = text(sql).bindparams(*[sa.bindparam(c, type_=t) for c in cols if (t := _bind_type(c)) is not None])
    result = conn.execute(stmt, row)
    return int(result.scalar_one()) if returning else None


def _insert_many(conn: sa.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    cols = list(rows[0])
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"
    stmt = text(sql).bindparams(*[sa.bindparam(c, type_=t) for c in cols if (t := _bind_type(c)) is not None])
    conn.execute(stmt, rows)


def _snapshot(conn: sa.Connection, columns: dict[str, list[str]]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every baseline table, baseline columns only, as the driver returns them."""
    return {
        table: [
            tuple(r) for r in conn.execute(text(f"SELECT {', '.join(columns[table])} FROM {table} ORDER BY {order}"))
        ]
        for table, order in BASELINE_TABLES.items()
    }


def _t(day: int, hour: int = 8, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, second, micro, tzinfo=UTC)


@pytest.fixture
def bare_db(db_url: str) -> Iterator[Database]:
    """The database at ``db_url``, empty and not migrated."""
    database = Database(db_url, DatabaseSettings(url=db_url, migrate=False))
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture(scope="module")
def record_100() -> Recording:
    return read_recording(SAMPLE_100)


def _populate_baseline(conn: sa.Connection, rec: Recording) -> dict[str, Any]:
    """Rows as the baseline version of ECG Station wrote them; returns their ids and the values to check."""
    ids: dict[str, Any] = {}
    ids["admin"] = _insert(conn, "users", {
        "username": "olga", "display_name": "Olga Admin", "password_hash": hash_password(PASSWORD), "role": "admin",
        "active": True, "created_at": _t(1), "last_login_at": _t(2, 9, 30),
    })  # fmt: skip
    ids["cardio"] = _insert(conn, "users", {
        "username": "hans", "display_name": "Dr. Hans Herz", "password_hash": hash_password(PASSWORD),
        "role": "cardiologist", "active": True, "created_at": _t(1), "last_login_at": None,
    })  # fmt: skip
    ids["nurse"] = _insert(conn, "users", {
        "username": "nina", "display_name": None, "password_hash": hash_password(PASSWORD), "role": "nurse",
        "active": True, "created_at": _t(1), "last_login_at": None,
    })  # fmt: skip
    ids["patient"] = _insert(conn, "patients", {
        "mrn": "MRN-0042", "family_name": "Müller", "given_name": "Zoë", "sex": "F", "birth_date": date(1951, 7, 14),
        "height_cm": 168.5, "weight_kg": 61.2, "phone": "+41 44 123 45 67", "email": "zoe@example.org",
        "address": "Bahnhofstrasse 1\n8001 Zürich", "created_at": _t(2), "updated_at": _t(3, 12, 1, 2, 345678),
    })  # fmt: skip
    ids["device"] = _insert(conn, "devices", {
        "serial": "H10-ABC123", "kind": "polar_h10", "model": "Polar H10", "firmware": "3.1.1",
        "last_seen_at": _t(4, 10), "status": "disconnected", "created_at": _t(2),
    })  # fmt: skip

    encoding = choose_encoding(rec.signals, [c.gain for c in rec.calibration])
    assert encoding.kind == "int16" and encoding.gains == (200.0, 200.0)
    chunk = 3600
    ids["recording"] = _insert(conn, "recordings", {
        "patient_id": ids["patient"], "device_id": None, "source_name": "/data/mitdb/100.hea",
        "source_format": "WFDB", "file_sha256": "f" * 64,
        "signal_sha256": signal_sha256(rec.signals, rec.fs, rec.lead_names, encoding), "fs": rec.fs,
        "n_leads": rec.n_leads, "n_samples": rec.n_samples, "duration_s": rec.duration_s,
        "lead_names": list(rec.lead_names), "acquired_at": _t(5, 7, 45), "chunk_samples": chunk,
        "sample_encoding": encoding.kind, "storage_gains": list(encoding.gains),
        "extra": {"metadata": {"comments": ["Aldomet, Inderal"]}, "source_units": ["mV", "mV"]},
        "imported_at": _t(5, 8), "imported_by": ids["admin"],
    })  # fmt: skip
    _insert_many(conn, "waveform_chunks", [
        {"recording_id": ids["recording"], "chunk_index": i, "start_sample": start,
         "n_samples": min(chunk, rec.n_samples - start),
         "data": encode_block(rec.signals[:, start : start + chunk], encoding)}
        for i, start in enumerate(range(0, rec.n_samples, chunk))
    ])  # fmt: skip
    ids["n_chunks"] = -(-rec.n_samples // chunk)

    beat_samples = [int(s) for s in rec.annotations.samples[:300]]
    beat_labels = list(rec.annotations.labels[:300])
    beat_labels[10] = "V"  # relabelled by the cardiologist at the baseline
    _insert_many(conn, "beat_annotations", [
        {"recording_id": ids["recording"], "sample": s, "label": lab,
         "original_label": rec.annotations.labels[i], "author_kind": "file", "author_name": "atr",
         "deleted": i == 20, "created_at": _t(5, 8), "updated_at": _t(6) if i in (10, 20) else None,
         "updated_by": ids["cardio"] if i in (10, 20) else None}
        for i, (s, lab) in enumerate(zip(beat_samples, beat_labels, strict=True))
    ])  # fmt: skip
    ids["beat_samples"], ids["beat_labels"] = beat_samples, beat_labels
    ids["edited_beat"] = conn.execute(
        text("SELECT id FROM beat_annotations WHERE sample = :s"), {"s": beat_samples[10]}
    ).scalar_one()
    _insert(conn, "beat_edits", {
        "annotation_id": ids["edited_beat"], "action": "relabel", "old_label": rec.annotations.labels[10],
        "new_label": "V", "edited_by": ids["cardio"], "edited_at": _t(6),
    })  # fmt: skip

    ids["session"] = _insert(conn, "monitoring_sessions", {
        "patient_id": ids["patient"], "device_id": ids["device"], "started_at": _t(7, 14), "ended_at": _t(7, 15),
        "state": "ended", "fs": 130.0, "lead_names": ["ECG"], "summary": {"mean_hr_bpm": 71.5, "alarms": 1},
        "started_by": ids["nurse"],
    })  # fmt: skip
    slice_signals = (np.arange(-650, 650, dtype=np.float64).reshape(1, -1) / 1000.0).astype(np.float32)
    slice_encoding = choose_encoding(slice_signals, [None])
    _insert(conn, "monitoring_slices", {
        "session_id": ids["session"], "slice_index": 0, "started_at": _t(7, 14), "fs": 130.0, "n_leads": 1,
        "n_samples": slice_signals.shape[1], "sample_encoding": slice_encoding.kind,
        "storage_gains": list(slice_encoding.gains), "data": encode_block(slice_signals, slice_encoding),
        "analysis": {"hr_bpm": 72, "quality": "good"}, "created_at": _t(7, 14, 0, 10),
    })  # fmt: skip
    ids["slice_signals"] = slice_signals
    ids["alarm"] = _insert(conn, "alarms", {
        "session_id": ids["session"], "patient_id": ids["patient"], "kind": "tachycardia", "severity": "high",
        "message": "HR 152 bpm for 30 s", "raised_at": _t(7, 14, 31), "offset_s": 1860.0,
        "details": {"hr_bpm": 152}, "acknowledged_by": None, "acknowledged_at": None, "escalation_level": 1,
        "escalated_at": _t(7, 14, 33),
    })  # fmt: skip
    ids["finding"] = _insert(conn, "findings", {
        "recording_id": ids["recording"], "session_id": None, "source_kind": "rule", "source_name": "rhythm-rules",
        "source_version": "1.0", "code": "SR", "label": "Sinus rhythm", "confidence": 0.93, "start_s": 0.0,
        "end_s": 1805.5, "status": "proposed", "reviewed_by": None, "reviewed_at": None, "review_note": None,
        "created_at": _t(5, 8, 1),
    })  # fmt: skip
    ids["session_finding"] = _insert(conn, "findings", {
        "recording_id": None, "session_id": ids["session"], "source_kind": "model", "source_name": "af-net",
        "source_version": "0.3", "code": "AF", "label": "Atrial fibrillation", "confidence": 0.12, "start_s": None,
        "end_s": None, "status": "rejected", "reviewed_by": ids["cardio"], "reviewed_at": _t(8),
        "review_note": "artefact", "created_at": _t(7, 15),
    })  # fmt: skip
    ids["image_bytes"] = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    ids["image"] = _insert(conn, "ecg_images", {
        "patient_id": ids["patient"], "recording_id": None, "file_name": "scan.png", "media_type": "image/png",
        "sha256": "a" * 64, "data": ids["image_bytes"], "analysis": None, "created_at": _t(9),
        "created_by": ids["nurse"],
    })  # fmt: skip
    ids["audit"] = _insert(conn, "audit_events", {
        "occurred_at": _t(5, 8), "user_id": ids["admin"], "username": "olga", "role": "admin", "action": "create",
        "entity_type": "recording", "entity_id": str(ids["recording"]), "details": {"source_name": "100.hea"},
        "trace_id": "0123456789ab", "workstation": "ws-1",
    })  # fmt: skip
    return ids


def test_upgrade_from_baseline_keeps_every_row(bare_db: Database, record_100: Recording) -> None:
    db, rec = bare_db, record_100
    upgrade(db, BASELINE)
    assert current_revision(db) == BASELINE
    with db.engine.begin() as conn:
        ids = _populate_baseline(conn, rec)
    inspector = sa.inspect(db.engine)
    columns = {t: [c["name"] for c in inspector.get_columns(t)] for t in BASELINE_TABLES}
    assert not any("version" in cols for cols in columns.values())  # really the baseline schema
    with db.engine.connect() as conn:
        before = _snapshot(conn, columns)
    assert all(before.values()), [t for t, rows in before.items() if not rows]
    assert len(before["waveform_chunks"]) == ids["n_chunks"] and len(before["beat_annotations"]) == 300

    upgrade_to_head(db)
    assert current_revision(db) == head_revision() != BASELINE

    with db.engine.connect() as conn:
        assert _snapshot(conn, columns) == before
        for table in VERSIONED_TABLES:
            versions = conn.execute(text(f"SELECT version FROM {table}")).scalars().all()
            assert versions and set(versions) == {1}, table

    # The repositories read the old rows.
    with db.session(Actor(None, "login", Role.ADMIN)) as s:
        cardio = s.users.authenticate("hans", PASSWORD)
        nurse = s.users.authenticate("nina", PASSWORD)
        admin = s.users.authenticate("olga", PASSWORD)
    assert cardio.role is Role.CARDIOLOGIST and cardio.user_id == ids["cardio"]
    with db.session(cardio) as s:
        patient = s.patients.get(ids["patient"])
        assert (patient.mrn, patient.family_name, patient.given_name, patient.sex) == ("MRN-0042", "Müller", "Zoë", "F")
        assert (patient.birth_date, patient.height_cm, patient.weight_kg) == (date(1951, 7, 14), 168.5, 61.2)
        assert (patient.phone, patient.address, patient.version) == (
            "+41 44 123 45 67",
            "Bahnhofstrasse 1\n8001 Zürich",
            1,
        )

        view = s.recordings.get(ids["recording"])
        assert (view.n_samples, view.fs, view.lead_names, view.acquired_at) == (
            650000,
            360.0,
            ("MLII", "V5"),
            _t(5, 7, 45),
        )
        assert view.source_name == "/data/mitdb/100.hea" and view.sample_encoding == "int16"
        for start_s, dur in ((0.0, 10.0), (9.5, 1.0), (1000.0, 25.0), (1795.0, 20.0)):
            assert np.array_equal(s.recordings.read_window(ids["recording"], start_s, dur),
                                  rec.window(start_s, start_s + dur))  # fmt: skip
        loaded = s.recordings.load(ids["recording"])
        assert np.array_equal(loaded.signals, rec.signals)

        beats = s.beats.list(ids["recording"], include_deleted=True)
        assert [b.sample for b in beats] == ids["beat_samples"]
        assert [b.label for b in beats] == ids["beat_labels"]
        assert [b.original_label for b in beats] == list(rec.annotations.labels[:300])
        assert {b.version for b in beats} == {1}
        assert [b.sample for b in beats if b.deleted] == [ids["beat_samples"][20]]
        assert len(s.beats.list(ids["recording"])) == 299
        edited = next(b for b in beats if b.id == ids["edited_beat"])
        assert (edited.label, edited.updated_by, edited.updated_at) == ("V", "hans", _t(6))
        history = s.beats.history(ids["edited_beat"])
        assert [(h.action, h.old_label, h.new_label, h.edited_by, h.edited_at) for h in history] == [
            ("relabel", rec.annotations.labels[10], "V", "hans", _t(6))
        ]
        relabelled = s.beats.relabel(ids["edited_beat"], "A", expected_version=1)
        assert (relabelled.version, relabelled.original_label) == (2, rec.annotations.labels[10])

        (finding,) = s.findings.for_recording(ids["recording"])
        assert (finding.id, finding.code, finding.label, finding.status, finding.version) == (
            ids["finding"], "SR", "Sinus rhythm", "proposed", 1)  # fmt: skip
        assert (finding.confidence, finding.start_s, finding.end_s, finding.source_version) == (
            0.93,
            0.0,
            1805.5,
            "1.0",
        )
        reviewed = s.findings.review(ids["finding"], "confirmed", expected_version=1, note="agree")
        assert (reviewed.status, reviewed.reviewed_by, reviewed.version) == ("confirmed", "hans", 2)
        (old_review,) = s.findings.for_session(ids["session"])
        assert (old_review.status, old_review.reviewed_by, old_review.reviewed_at) == ("rejected", "hans", _t(8))

        session = s.monitoring.get(ids["session"])
        assert (session.state, session.summary, session.n_slices, session.lead_names) == (
            "ended", {"mean_hr_bpm": 71.5, "alarms": 1}, 1, ("ECG",))  # fmt: skip
        (slice0,) = s.monitoring.slices(ids["session"])
        assert np.array_equal(slice0.signals, ids["slice_signals"])
        assert slice0.analysis == {"hr_bpm": 72, "quality": "good"}
        assert s.images.data(ids["image"]) == ids["image_bytes"]
        # New rows get fresh ids next to the old ones (PostgreSQL sequences were advanced by the inserts).
        new_patient = s.patients.create("MRN-0043", family_name="Neu")
        assert new_patient.id != ids["patient"]
    with db.session(nurse) as s:
        (alarm,) = s.alarms.for_session(ids["session"], unacknowledged_only=True)
        assert (alarm.id, alarm.escalation_level, alarm.details, alarm.version) == (ids["alarm"], 1, {"hr_bpm": 152}, 1)
        acked = s.alarms.acknowledge(ids["alarm"], expected_version=1)
        assert (acked.acknowledged_by, acked.version) == ("nina", 2)
    with db.reader(admin) as s:
        old_line = next(e for e in s.audit.events() if e.id == ids["audit"])
        assert (old_line.username, old_line.action, old_line.entity_id, old_line.trace_id, old_line.occurred_at) == (
            "olga", "create", str(ids["recording"]), "0123456789ab", _t(5, 8))  # fmt: skip
        assert {("confirm", "finding"), ("acknowledge", "alarm"), ("relabel", "beat")} <= {
            (e.action, e.entity_type) for e in s.audit.events()
        }


def _schema_differences(db: Database) -> list[Any]:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return list(compare_metadata(context, Base.metadata))


def test_orm_metadata_matches_the_migrated_schema(db: Database) -> None:
    assert current_revision(db) == head_revision()
    assert _schema_differences(db) == []


def test_schema_comparison_notices_a_difference(db: Database) -> None:
    """The comparison above is not blind: a column the ORM lacks is reported."""
    with db.engine.begin() as conn:
        conn.execute(text("ALTER TABLE devices ADD COLUMN colour VARCHAR(20)"))
    diffs = _schema_differences(db)
    assert any(d[0] == "remove_column" and d[3].name == "colour" for d in diffs), diffs


def _one_audit_line(db: Database) -> None:
    with db.session(Actor(None, "setup", Role.ADMIN)) as s:
        s.users.create("admin", Role.ADMIN, "pw")
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_events")).scalar_one() == 1


def test_audit_log_refuses_update_and_delete_in_the_database(db: Database) -> None:
    _one_audit_line(db)
    for statement in (
        "UPDATE audit_events SET username = 'someone else'",
        "UPDATE audit_events SET details = NULL WHERE id > 0",
        "DELETE FROM audit_events",
        "DELETE FROM audit_events WHERE action = 'create'",
    ):
        with pytest.raises(exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(statement))
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT username FROM audit_events")).scalars().all() == ["setup"], statement
    # Appending still works.
    with db.session(Actor(None, "setup", Role.ADMIN)) as s:
        s.audit.record("export", "patient", 1)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_events")).scalar_one() == 2


def test_audit_log_refuses_truncate_on_postgresql(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    # Row triggers do not fire on TRUNCATE: revision 0003 adds a statement-level guard.
    _one_audit_line(db)
    with pytest.raises(exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_events"))
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_events")).scalar_one() == 1


def test_database_from_a_newer_version_is_refused(db_url: str) -> None:
    first = Database.open(DatabaseSettings(url=db_url))
    try:
        with first.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    finally:
        first.dispose()
    with pytest.raises(MigrationError) as caught:
        Database.open(DatabaseSettings(url=db_url)).dispose()
    message = str(caught.value)
    assert "0099_from_the_future" in message and "newer version" in message and "Update ECG Station" in message
    # Nothing was touched: the revision is still the unknown one.
    check = Database(db_url, DatabaseSettings(url=db_url, migrate=False))
    try:
        assert current_revision(check) == "0099_from_the_future"
    finally:
        check.dispose()


def test_empty_database_with_only_a_newer_revision_is_refused(bare_db: Database) -> None:
    with bare_db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('ffff_newer')"))
    with pytest.raises(MigrationError, match="ffff_newer"):
        upgrade_to_head(bare_db)
    assert sa.inspect(bare_db.engine).get_table_names() == ["alembic_version"]


def _triggers(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            q = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        else:
            q = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        return set(conn.execute(text(q)).scalars())


def _downgrade(db: Database, revision: str) -> None:
    downgrade(db, revision)


def test_downgrade_to_base_and_upgrade_again(db: Database) -> None:
    tables = set(Base.metadata.tables)
    assert tables <= set(sa.inspect(db.engine).get_table_names())
    assert _triggers(db)
    _downgrade(db, "base")
    assert current_revision(db) is None
    assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
    assert _triggers(db) == set()
    if db.dialect == "postgresql":
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM pg_proc WHERE proname = 'ecgstation_audit_append_only'"))\
                .scalar_one() == 0  # fmt: skip
    upgrade_to_head(db)
    assert current_revision(db) == head_revision()
    assert tables <= set(sa.inspect(db.engine).get_table_names())
    assert _schema_differences(db) == []
    # The guards are back and the database works.
    _one_audit_line(db)
    with pytest.raises(exc.DBAPIError), db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events"))


def test_downgrade_one_step_drops_the_versions(db: Database) -> None:
    _downgrade(db, BASELINE)
    assert current_revision(db) == BASELINE
    inspector = sa.inspect(db.engine)
    for table in VERSIONED_TABLES:
        assert "version" not in {c["name"] for c in inspector.get_columns(table)}
    upgrade_to_head(db)
    inspector = sa.inspect(db.engine)
    for table in VERSIONED_TABLES:
        assert "version" in {c["name"] for c in inspector.get_columns(table)}


def test_downgrade_of_a_populated_database_keeps_every_row(
    bare_db: Database, record_100: Recording
) -> None:
    """Going back one revision drops the version columns and nothing else."""
    db = bare_db
    # SQLite batch mode rebuilds each table (copy, DROP, rename): with foreign keys on, the DROP would
    # cascade into the children (beat_edits vanished with beat_annotations); migrations run with them off.
    upgrade(db, BASELINE)
    with db.engine.begin() as conn:
        _populate_baseline(conn, record_100)
        for table in ("recordings", "monitoring_sessions", "alarms", "ecg_images"):
            conn.execute(text(f"UPDATE {table} SET patient_id = NULL"))
    columns = {t: [c["name"] for c in sa.inspect(db.engine).get_columns(t)] for t in BASELINE_TABLES}
    with db.engine.connect() as conn:
        before = _snapshot(conn, columns)
    upgrade_to_head(db)
    _downgrade(db, BASELINE)
    assert current_revision(db) == BASELINE
    with db.engine.connect() as conn:
        after = _snapshot(conn, columns)
    assert {t: len(rows) for t, rows in after.items()} == {t: len(rows) for t, rows in before.items()}
    assert after == before


def test_json_values_survive_as_json(bare_db: Database) -> None:
    """JSON written at the baseline reads back as the same structure after the upgrade."""
    upgrade(bare_db, BASELINE)
    summary = {"nested": {"list": [1, 2.5, None, "x"]}, "ünïcode": "✓"}
    with bare_db.engine.begin() as conn:
        session_id = _insert(conn, "monitoring_sessions", {
            "patient_id": None, "device_id": None, "started_at": _t(1), "ended_at": None, "state": "active",
            "fs": 250.0, "lead_names": ["I", "II"], "summary": summary, "started_by": None,
        })  # fmt: skip
    upgrade_to_head(bare_db)
    with bare_db.engine.connect() as conn:
        raw = conn.execute(text("SELECT summary FROM monitoring_sessions")).scalar_one()
    assert (json.loads(raw) if isinstance(raw, str) else raw) == summary
    with bare_db.reader(Actor(None, "reader", Role.STUDENT)) as s:
        view = s.monitoring.get(session_id or 0)
    assert (view.summary, view.lead_names, view.state) == (summary, ("I", "II"), "active")


def _previous_revision() -> str:
    """The revision just before head (what the last released schema was)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_revision(head_revision())
    assert head is not None and isinstance(head.down_revision, str)
    return head.down_revision


def test_upgrade_from_the_previous_revision_keeps_every_row(bare_db: Database, record_100: Recording) -> None:
    """A database populated at head - 1 (not only the baseline) upgrades with every row and value intact."""
    db = bare_db
    previous = _previous_revision()
    upgrade(db, previous)
    assert current_revision(db) == previous != head_revision()
    with db.engine.begin() as conn:
        _populate_baseline(conn, record_100)
    inspector = sa.inspect(db.engine)
    columns = {t: [c["name"] for c in inspector.get_columns(t)] for t in BASELINE_TABLES}
    with db.engine.connect() as conn:
        before = _snapshot(conn, columns)
    assert all(before.values())
    upgrade_to_head(db)
    assert current_revision(db) == head_revision()
    with db.engine.connect() as conn:
        assert _snapshot(conn, columns) == before
    # The stored recording still reads back exactly through the repositories.
    with db.reader(Actor(None, "reader", Role.CARDIOLOGIST)) as s:
        (view,) = s.recordings.for_patient(s.patients.by_mrn("MRN-0042").id)  # type: ignore[union-attr]
        assert np.array_equal(s.recordings.read_window(view.id, 0.0, 10.0), record_100.window(0.0, 10.0))
