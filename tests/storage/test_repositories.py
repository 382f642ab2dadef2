"""The repositories on real SQLite and PostgreSQL databases: what they store, who may do what, and the audit trail."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from sqlalchemy import func, select

from ecgstation.core.recording import LeadCalibration, Recording
from ecgstation.io import read_recording
from ecgstation.storage import (
    Actor,
    ConcurrentEditError,
    ConflictError,
    Database,
    NotFoundError,
    PermissionDeniedError,
    Role,
)
from ecgstation.storage.column_types import utcnow
from ecgstation.storage.orm import AuditEventRow, EcgImageRow, PatientRow, RecordingRow, UserRow, WaveformChunkRow
from ecgstation.storage.repos.patients import body_mass_index
from ecgstation.storage.store import Store
from ecgstation.tracing import traced
from tests.storage.conftest import PASSWORD

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"
UV = 1e-3  # 1 µV in mV


@pytest.fixture(scope="module")
def record_100() -> Recording:
    """MIT-BIH record 100: 2 leads x 650000 samples at 360 Hz, gain 200 counts/mV, with its beat annotations."""
    return read_recording(SAMPLES / "100.hea")


def make_recording(
    signals: NDArray[Any],
    fs: float = 250.0,
    names: tuple[str, ...] | None = None,
    gains: tuple[float | None, ...] | None = None,
    start_time: datetime | None = None,
) -> Recording:
    signals = np.ascontiguousarray(signals, dtype=np.float32)
    names = names or tuple(f"L{i + 1}" for i in range(signals.shape[0]))
    calibration = tuple(LeadCalibration(gain=g) for g in gains) if gains else ()
    return Recording(signals, fs, names, start_time=start_time, calibration=calibration)


def on_grid(counts: NDArray[Any], gain: float) -> NDArray[np.float32]:
    """Samples that are whole counts at ``gain`` counts/mV (as a WFDB reader produces them)."""
    return (np.asarray(counts, dtype=np.float64) / gain).astype(np.float32)


def count(db: Database, actor: Actor, column: Any, *where: Any) -> int:
    with db.reader(actor) as s:
        return int(s.session.scalar(select(func.count(column)).where(*where)) or 0)


def store(db: Database, actor: Actor, rec: Recording, name: str = "rec.hea", **kw: Any) -> int:
    with db.session(actor) as s:
        result = s.recordings.store(rec, source_name=name, source_format="WFDB", file_sha256="0" * 64, **kw)
    assert not result.duplicate
    return result.recording.id


# --- patients -------------------------------------------------------------------------------------------------


def test_patient_create_get_search_and_bmi(db: Database, actors: dict[str, Actor]) -> None:
    nurse = actors["nurse"]
    with db.session(nurse) as s:
        p = s.patients.create(
            " MRN-001 ", family_name="Müller", given_name="Zoë", sex="F", birth_date=date(1960, 2, 29),
            height_cm=165.0, weight_kg=60.0, phone="+41 44 000", email="z@example.org", address="Gasse 1",
        )  # fmt: skip
        s.patients.create("MRN-002", family_name="Meier", given_name="Hans", sex="M")
        s.patients.create("XYZ-777", family_name="Schmidt", given_name="Anna")
    assert (p.mrn, p.family_name, p.given_name, p.sex, p.birth_date) == (
        "MRN-001",
        "Müller",
        "Zoë",
        "F",
        date(1960, 2, 29),
    )
    assert (p.height_cm, p.weight_kg, p.phone, p.email, p.address) == (
        165.0,
        60.0,
        "+41 44 000",
        "z@example.org",
        "Gasse 1",
    )
    assert p.version == 1 and not p.deidentified and p.display_name == "Müller, Zoë (MRN-001)"
    assert p.bmi == 22.0 == body_mass_index(165.0, 60.0)
    today = utcnow().date()
    assert p.age_years == today.year - 1960 - ((today.month, today.day) < (2, 29))

    with db.session(actors["cardio"]) as s:
        got = s.patients.get(p.id)
        assert got == p
        assert s.patients.by_mrn("MRN-001") == p and s.patients.by_mrn("nope") is None
        assert s.patients.require_id("MRN-002") != p.id
        with pytest.raises(NotFoundError, match="MRN-404"):
            s.patients.require_id("MRN-404")
        with pytest.raises(NotFoundError):
            s.patients.get(10_000)
        assert [v.mrn for v in s.patients.search("MÜL")] == ["MRN-001"]
        assert [v.mrn for v in s.patients.search("hans")] == ["MRN-002"]
        assert sorted(str(v.mrn) for v in s.patients.search("mrn-00")) == ["MRN-001", "MRN-002"]
        assert [v.mrn for v in s.patients.search("777")] == ["XYZ-777"]
        assert s.patients.search("nobody") == []
        assert sorted(str(v.mrn) for v in s.patients.search("")) == ["MRN-001", "MRN-002", "XYZ-777"]
        assert len(s.patients.search("", limit=2)) == 2
        other = s.patients.by_mrn("MRN-002")
        assert other is not None and other.bmi is None and other.age_years is None and other.sex == "M"
    # What the user types is matched literally: % and _ are no wildcards, a backslash is a backslash.
    with db.session(nurse) as s:
        for mrn in ("Q_1", "QX1", "Q%2", "Q\\3", "QQ3"):
            s.patients.create(mrn)
    with db.reader(nurse) as s:
        for text, mrns in (("q_1", ["Q_1"]), ("q%", ["Q%2"]), ("q\\", ["Q\\3"]), ("_", ["Q_1"]), ("%", ["Q%2"])):
            assert [v.mrn for v in s.patients.search(text)] == mrns, text
    # BMI is derived, never stored.
    assert "bmi" not in PatientRow.__table__.columns


def test_patient_search_ignores_case_beyond_ascii(db: Database) -> None:
    # SQLite's built-in lower() folds ASCII only; the connection replaces it with Python's str.lower.
    nurse = Actor(None, "nurse", Role.NURSE)
    with db.session(nurse) as s:
        s.patients.create("M-1", family_name="Özdemir", given_name="Elif")
        s.patients.create("M-2", family_name="ÄRNI", given_name="Ueli")
        s.patients.create("M-3", family_name="Muller", given_name="Jo")
    with db.reader(nurse) as s:
        for text, mrns in (("Özdemir", ["M-1"]), ("özdemir", ["M-1"]), ("ÖZ", ["M-1"]), ("ärni", ["M-2"]),
                           ("Ärni", ["M-2"]), ("rni", ["M-2"]), ("mul", ["M-3"])):  # fmt: skip
            assert [p.mrn for p in s.patients.search(text)] == mrns, text


def test_patient_duplicates_and_validation(db: Database, actors: dict[str, Actor]) -> None:
    nurse = actors["nurse"]
    with db.session(nurse) as s:
        s.patients.create("MRN-1", family_name="First")
    with pytest.raises(ConflictError, match="MRN-1"), db.session(nurse) as s:
        s.patients.create("MRN-1", family_name="Second")
    with pytest.raises(ConflictError), db.session(nurse) as s:
        s.patients.create("  MRN-1\t", family_name="Third")
    future = utcnow().date() + timedelta(days=2)
    bad: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"mrn": "   "}, ValueError, "medical record number"),
        ({"mrn": "M2", "sex": "X"}, ValueError, "sex"),
        ({"mrn": "M3", "height_cm": 5.0}, ValueError, "height"),
        ({"mrn": "M4", "height_cm": 300.0}, ValueError, "height"),
        ({"mrn": "M5", "weight_kg": 0.1}, ValueError, "weight"),
        ({"mrn": "M6", "weight_kg": 700.0}, ValueError, "weight"),
        ({"mrn": "M7", "birth_date": future}, ValueError, "future"),
        ({"mrn": "M8", "shoe_size": 44}, TypeError, "shoe_size"),
    ]
    for fields, error, words in bad:
        with pytest.raises(error, match=words), db.session(nurse) as s:
            s.patients.create(**fields)
    assert count(db, nurse, PatientRow.id) == 1
    with db.reader(nurse) as s:
        (only,) = s.patients.search("")
        assert (only.mrn, only.family_name) == ("MRN-1", "First")


def test_patient_update_with_versions(db: Database, actors: dict[str, Actor]) -> None:
    nurse, cardio = actors["nurse"], actors["cardio"]
    with db.session(nurse) as s:
        p = s.patients.create("MRN-9", family_name="Alt", height_cm=180.0, weight_kg=90.0)
    assert (p.version, p.bmi) == (1, 27.8)
    with db.session(cardio) as s:
        p2 = s.patients.update(p.id, expected_version=1, weight_kg=72.9, family_name="Neu")
    assert (p2.version, p2.weight_kg, p2.family_name, p2.bmi) == (2, 72.9, "Neu", 22.5)
    with db.session(cardio) as s:  # nothing changes: no new version
        assert s.patients.update(p.id, expected_version=2, family_name="Neu").version == 2
    with pytest.raises(ConcurrentEditError, match="version 1"), db.session(nurse) as s:
        s.patients.update(p.id, expected_version=1, family_name="Stale")
    with pytest.raises(ValueError), db.session(nurse) as s:
        s.patients.update(p.id, expected_version=2, height_cm=1.0)
    with pytest.raises(TypeError), db.session(nurse) as s:
        s.patients.update(p.id, expected_version=2, mrn="changed")
    with pytest.raises(NotFoundError), db.session(nurse) as s:
        s.patients.update(999, expected_version=1, family_name="x")
    with db.reader(nurse) as s:
        now = s.patients.get(p.id)
    assert (now.family_name, now.weight_kg, now.height_cm, now.version) == ("Neu", 72.9, 180.0, 2)

    if db.dialect == "postgresql":
        # Two workstations at once: the first one's edit is refused once the second one has committed.
        with pytest.raises(ConcurrentEditError, match="reload it"), db.session(cardio) as first:
            assert first.patients.get(p.id).version == 2
            with db.session(nurse) as second:
                assert second.patients.update(p.id, expected_version=2, phone="123").version == 3
            first.patients.update(p.id, expected_version=2, phone="456")
        with db.reader(nurse) as s:
            now = s.patients.get(p.id)
        assert (now.phone, now.version) == ("123", 3)


# --- roles ----------------------------------------------------------------------------------------------------


def test_student_never_sees_identity(db: Database, actors: dict[str, Actor]) -> None:
    cardio, student = actors["cardio"], actors["student"]
    acquired = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    with db.session(cardio) as s:
        p = s.patients.create(
            "MRN-S", family_name="Geheim", given_name="Greta", sex="F", birth_date=date(1920, 1, 1),
            height_cm=160.0, weight_kg=64.0, phone="555", email="g@example.org", address="Weg 2",
        )  # fmt: skip
    rec = make_recording(
        on_grid(np.arange(-500, 500).reshape(2, 500), 200.0), gains=(200.0, 200.0), start_time=acquired
    )
    rec_id = store(db, cardio, rec, name="/home/geheim/greta_2024.hea", patient_id=p.id)
    with db.session(cardio) as s:
        image, _ = s.images.add(b"scan", file_name="greta.png", media_type="image/png", patient_id=p.id)
        full = s.recordings.get(rec_id)
        assert (full.source_name, full.acquired_at) == ("/home/geheim/greta_2024.hea", acquired)

    for open_ in (db.session, db.reader):
        with open_(student) as s:
            views = [s.patients.get(p.id), *s.patients.search("")]
            for v in views:
                assert v.deidentified and v.display_name == f"Patient #{p.id}"
                assert (v.mrn, v.family_name, v.given_name, v.birth_date) == (None, None, None, None)
                assert (v.phone, v.email, v.address) == (None, None, None)
                assert (v.sex, v.height_cm, v.weight_kg, v.bmi, v.age_years) == ("F", 160.0, 64.0, 25.0, 90)
            for r in (s.recordings.get(rec_id), *s.recordings.for_patient(p.id)):
                assert (r.source_name, r.acquired_at) == (None, None)
                assert r.n_samples == 500 and r.patient_id == p.id
            loaded = s.recordings.load(rec_id)
            assert (loaded.source_path, loaded.start_time, dict(loaded.metadata)) == (None, None, {})
            assert np.array_equal(loaded.signals, rec.signals)
            assert s.images.get(image.id).file_name is None
    denied_ops: list[Callable[[Store], Any]] = [
        lambda s: s.patients.search("Geheim"),
        lambda s: s.patients.search("MRN"),
        lambda s: s.patients.by_mrn("MRN-S"),
        lambda s: s.patients.require_id("MRN-S"),
    ]
    for denied in denied_ops:
        with pytest.raises(PermissionDeniedError, match="student"), db.reader(student) as s:
            denied(s)


def test_role_permissions(db: Database, actors: dict[str, Actor], record_100: Recording) -> None:
    admin, cardio, nurse, student = (actors[k] for k in ("admin", "cardio", "nurse", "student"))
    rec = make_recording(on_grid(np.arange(2000).reshape(1, 2000) % 300, 200.0), gains=(200.0,))
    rec_id = store(db, nurse, rec)
    with db.session(nurse) as s:
        pid = s.patients.create("MRN-R").id
        s.beats.add_many(rec_id, [10, 400], ["N", "N"], "file", "atr")
        beat_id = s.beats.list(rec_id)[0].id
        finding_id = s.findings.add(
            code="SR", label="Sinus", source_kind="rule", source_name="r", recording_id=rec_id
        ).id
        session_id = s.monitoring.start(fs=130.0, lead_names=("ECG",)).id
        alarm_id = s.alarms.raise_alarm(session_id, "asystole", "high", "no beats").id
    other = make_recording(np.zeros((1, 100), np.float32))

    def nothing_written(actor: Actor, op: Callable[[Store], Any]) -> None:
        before = count(db, admin, AuditEventRow.id)
        with pytest.raises(PermissionDeniedError, match=actor.role.value), db.session(actor) as s:
            op(s)
        assert count(db, admin, AuditEventRow.id) == before

    everyone_but_admin: list[Callable[[Store], Any]] = [
        lambda s: s.users.create("new", Role.NURSE, "pw"),
        lambda s: s.users.list(),
        lambda s: s.users.set_active("nurse", False),
        lambda s: s.users.set_password("admin", "hijacked"),
        lambda s: s.audit.events(),
    ]
    for actor in (cardio, nurse, student):
        for op in everyone_but_admin:
            nothing_written(actor, op)
    student_denied: list[Callable[[Store], Any]] = [
        lambda s: s.patients.create("MRN-X"),
        lambda s: s.patients.update(pid, expected_version=1, family_name="x"),
        lambda s: s.recordings.store(other, source_name="x", source_format="CSV", file_sha256="1" * 64),
        lambda s: s.beats.add_many(rec_id, [5], ["N"], "algorithm", "qrs"),
        lambda s: s.beats.relabel(beat_id, "V", expected_version=1),
        lambda s: s.images.add(b"img", file_name="a.png", media_type="image/png"),
        lambda s: s.findings.add(code="X", label="x", source_kind="user", source_name="me", recording_id=rec_id),
        lambda s: s.findings.review(finding_id, "confirmed", expected_version=1),
        lambda s: s.monitoring.start(fs=130.0, lead_names=("ECG",)),
        lambda s: s.alarms.acknowledge(alarm_id, expected_version=1),
        lambda s: s.devices.register("SER-1", "polar_h10"),
    ]
    for op in student_denied:
        nothing_written(student, op)
    nurse_denied: list[Callable[[Store], Any]] = [
        lambda s: s.findings.review(finding_id, "confirmed", expected_version=1),
        lambda s: s.findings.review(finding_id, "rejected", expected_version=1),
        lambda s: s.beats.relabel(beat_id, "V", expected_version=1),
        lambda s: s.beats.add(rec_id, 100, "N"),
        lambda s: s.beats.delete(beat_id, expected_version=1),
    ]
    for op in nurse_denied:
        nothing_written(nurse, op)
    for op in (
        lambda s: s.beats.relabel(beat_id, "V", expected_version=1),
        lambda s: s.findings.review(finding_id, "confirmed", expected_version=1),
        lambda s: s.alarms.acknowledge(alarm_id, expected_version=1),
    ):
        nothing_written(admin, op)
    # an administrator connects patches (runs sessions) but acknowledging alarms is clinical work
    with db.session(admin) as s:
        assert s.monitoring.start(fs=130.0, lead_names=("ECG",)).state == "active"
    nothing_written(cardio, lambda s: s.devices.register("SER-2", "hrs"))

    # What each role may do, it can.
    with db.session(admin) as s:
        assert [u.username for u in s.users.list()] == ["admin", "cardio", "nurse", "student"]
        assert s.audit.events(limit=1)
        assert s.devices.register("SER-3", "polar_h10").serial == "SER-3"
    with db.session(nurse) as s:
        assert s.findings.add(code="AF", label="AF?", source_kind="user", source_name="nurse", recording_id=rec_id)
        assert s.alarms.acknowledge(alarm_id, expected_version=1).acknowledged_by == "nurse"
    with db.session(cardio) as s:
        assert s.findings.review(finding_id, "confirmed", expected_version=1).status == "confirmed"
        assert s.beats.relabel(beat_id, "V", expected_version=1).label == "V"
    with db.reader(student) as s:
        assert [b.label for b in s.beats.list(rec_id)] == ["V", "N"]
        assert [f.code for f in s.findings.for_recording(rec_id)] == ["SR", "AF"]
        assert s.devices.list()[0].serial == "SER-3"


# --- users ----------------------------------------------------------------------------------------------------


def test_users_authenticate_and_deactivate(db: Database, actors: dict[str, Actor]) -> None:
    admin = actors["admin"]
    assert {a.role for a in actors.values()} == set(Role)
    login = Actor(None, "login", Role.STUDENT)
    with db.session(login) as s:
        cardio = s.users.authenticate("cardio", PASSWORD)
    assert cardio == actors["cardio"] and cardio.role is Role.CARDIOLOGIST and cardio.user_id is not None
    for username, password in (("cardio", "wrong"), ("cardio", ""), ("cardio", None), ("ghost", PASSWORD)):
        with pytest.raises(PermissionDeniedError, match="unknown user or wrong password"), db.session(login) as s:
            s.users.authenticate(username, password)
    with pytest.raises(ConflictError, match="cardio"), db.session(admin) as s:
        s.users.create("cardio", Role.NURSE, "x")
    with db.session(admin) as s:
        s.users.set_active("cardio", False)
        assert not next(u for u in s.users.list() if u.username == "cardio").active
    with pytest.raises(PermissionDeniedError, match="deactivated"), db.session(login) as s:
        s.users.authenticate("cardio", PASSWORD)
    # A wrong password gives no hint that the account exists.
    with pytest.raises(PermissionDeniedError, match="wrong password"), db.session(login) as s:
        s.users.authenticate("cardio", "wrong")
    with db.session(admin) as s:
        s.users.set_active("cardio", True)
    with db.session(cardio) as s:  # everyone may change their own password
        s.users.set_password("cardio", "a new secret")
    with pytest.raises(PermissionDeniedError), db.session(login) as s:
        s.users.authenticate("cardio", PASSWORD)
    with db.session(login) as s:
        assert s.users.authenticate("cardio", "a new secret") == cardio
    with db.reader(admin) as s:
        stored = s.session.scalar(select(UserRow.password_hash).where(UserRow.username == "cardio"))
        logins = s.audit.events(action="login", username="cardio")  # the actors fixture's, and two here
    assert stored is not None and "a new secret" not in stored and stored.startswith("scrypt$")
    assert len(logins) == 3 and all(e.entity_type == "user" and e.role == "cardiologist" for e in logins)


def test_first_account_must_be_admin(db: Database) -> None:
    anyone = Actor(None, "setup", Role.STUDENT)
    with pytest.raises(PermissionDeniedError, match="administrator"), db.session(anyone) as s:
        assert s.users.count() == 0
        s.users.create("nurse", Role.NURSE, "pw")
    with pytest.raises(ValueError), db.session(anyone) as s:
        s.users.create("   ", Role.ADMIN, "pw")
    with db.session(anyone) as s:
        assert s.users.count() == 0
        first = s.users.create("boss", Role.ADMIN, "pw", display_name="The Boss")
    assert (first.username, first.role, first.active, first.display_name) == ("boss", "admin", True, "The Boss")
    # From now on only admins create accounts.
    with pytest.raises(PermissionDeniedError), db.session(anyone) as s:
        s.users.create("second", Role.ADMIN, "pw")
    with db.session(anyone) as s:
        boss = s.users.authenticate("boss", "pw")
        assert s.users.get_by_name("second") is None
    with db.session(boss) as s:
        s.users.create("second", Role.STUDENT, "pw")
        assert s.users.count() == 2
        (line,) = s.audit.events(entity_type="user", action="create", username="setup")
        assert line.details == {"username": "boss", "role": "admin", "first_account": True}


# --- recordings -----------------------------------------------------------------------------------------------


def test_store_recording_and_duplicates(db: Database, actors: dict[str, Actor], record_100: Recording) -> None:
    nurse, admin = actors["nurse"], actors["admin"]
    rec = record_100
    with db.session(nurse) as s:
        pid = s.patients.create("MRN-100").id
        first = s.recordings.store(
            rec, source_name="100.hea", source_format="WFDB", file_sha256="a" * 64, patient_id=pid
        )
    assert not first.duplicate
    view = first.recording
    assert (view.n_leads, view.n_samples, view.fs, view.lead_names) == (2, 650000, 360.0, ("MLII", "V5"))
    assert (view.sample_encoding, view.patient_id, view.source_name, view.file_sha256) == (
        "int16",
        pid,
        "100.hea",
        "a" * 64,
    )
    assert view.duration_s == pytest.approx(650000 / 360.0)
    n_chunks = count(db, nurse, WaveformChunkRow.chunk_index, WaveformChunkRow.recording_id == view.id)
    assert n_chunks == -(-650000 // 3600)

    # The same samples again, from another file name: found by content, not stored twice.
    with db.session(actors["cardio"]) as s:
        again = s.recordings.store(rec, source_name="copy_of_100.hea", source_format="WFDB", file_sha256="b" * 64)
        assert s.recordings.find_duplicate(view.signal_sha256) == again.recording
    assert again.duplicate and again.recording.id == view.id and again.recording.source_name == "100.hea"
    assert count(db, nurse, RecordingRow.id) == 1
    assert count(db, nurse, WaveformChunkRow.chunk_index) == n_chunks
    with db.reader(admin) as s:
        (dup_line,) = s.audit.events(action="import-duplicate")
    assert (dup_line.entity_id, dup_line.username, dup_line.details) == (
        str(view.id), "cardio", {"source_name": "copy_of_100.hea"})  # fmt: skip

    # Not duplicates: other lead names, another rate, one sample changed, the same counts at another gain.
    base = on_grid(np.arange(-1000, 1000).reshape(2, 1000), 200.0)
    changed = base.copy()
    changed[1, 999] += np.float32(1 / 200)
    variants = [
        make_recording(base, 250.0, ("I", "II"), (200.0, 200.0)),
        make_recording(base, 250.0, ("I", "III"), (200.0, 200.0)),
        make_recording(base, 500.0, ("I", "II"), (200.0, 200.0)),
        make_recording(changed, 250.0, ("I", "II"), (200.0, 200.0)),
        make_recording(on_grid(np.arange(-1000, 1000).reshape(2, 1000), 1000.0), 250.0, ("I", "II")),
        make_recording(base, 250.0, ("I", "II")),  # the same mV without a source gain: the same ECG
    ]
    ids = []
    for i, variant in enumerate(variants):
        with db.session(nurse) as s:
            r = s.recordings.store(variant, source_name=f"v{i}.csv", source_format="CSV", file_sha256=f"{i}" * 64)
        ids.append((r.recording.id, r.duplicate))
    assert [d for _, d in ids] == [False] * 5 + [True]
    assert ids[5][0] == ids[0][0]
    assert count(db, nurse, RecordingRow.id) == 6
    with db.reader(nurse) as s:
        for (rid, _), variant in zip(ids, variants, strict=True):
            assert np.array_equal(s.recordings.read_samples(rid, 0, 1000), variant.signals)
        assert [r.id for r in s.recordings.for_patient(pid)] == [view.id]
        assert [r.id for r in s.recordings.for_patient(None)] == [rid for rid, _ in ids[:5]]
        with pytest.raises(NotFoundError, match="Recording #4242"):
            s.recordings.get(4242)


def test_read_window_is_exact_on_the_lossless_path(
    db: Database, actors: dict[str, Actor], record_100: Recording
) -> None:
    rec = record_100
    rec_id = store(db, actors["nurse"], rec, "100.hea")
    n = rec.n_samples
    with db.reader(actors["student"]) as s:
        for start_s, dur in [
            (0.0, 10.0),  # exactly the first chunk
            (10.0, 10.0),  # exactly the second
            (5.0, 10.0),  # across a boundary
            (9.0, 2.0),
            (3599 / 360, 2 / 360),  # the last sample of chunk 0 and the first of chunk 1
            (10.0, 1 / 360),
            (123.456, 30.0),  # spans four chunks
            (1800.0, 5.5),  # the last, short chunk
            (1795.0, 30.0),  # past the end: clipped
            (n / 360 - 1 / 360, 10.0),  # only the very last sample
            (-5.0, 10.0),  # before the start: clipped
        ]:
            got = s.recordings.read_window(rec_id, start_s, dur)
            want = rec.window(start_s, start_s + dur)
            assert got.dtype == np.float32 and got.shape == want.shape, (start_s, dur)
            assert np.array_equal(got, want), (start_s, dur)
        for a, b in [(0, 1), (3599, 3601), (3600, 7200), (7199, 7201), (n - 3601, n), (n - 1, n), (0, n)]:
            assert np.array_equal(s.recordings.read_samples(rec_id, a, b), rec.signals[:, a:b]), (a, b)
        assert s.recordings.read_samples(rec_id, n, n + 100).shape == (2, 0)
        assert s.recordings.read_window(rec_id, 2000.0, 10.0).shape == (2, 0)
        loaded = s.recordings.load(rec_id)
    assert np.array_equal(loaded.signals, rec.signals) and not loaded.signals.flags.writeable
    assert (loaded.fs, loaded.lead_names, loaded.n_samples) == (rec.fs, rec.lead_names, n)
    assert [c.gain for c in loaded.calibration] == [200.0, 200.0]


def test_recordings_without_gains_and_beyond_int16(db: Database, actors: dict[str, Actor]) -> None:
    nurse = actors["nurse"]
    rng = np.random.default_rng(7)
    # A CSV-like recording in mV with arbitrary float32 values and no gain: stored at 1000 counts/mV.
    csv_like = make_recording((rng.standard_normal((3, 5000)) * 1.5).astype(np.float32), 500.0, ("I", "II", "V1"))
    # Amplitudes beyond ±32.767 mV cannot be int16 at 1 µV: float32, bit exact.
    big = rng.standard_normal((2, 3000)).astype(np.float32)
    big[1] += np.float32(40.0)
    beyond = make_recording(big, 250.0, ("A", "B"))
    # NaN (lead off) forces float32 too, and comes back as NaN in the same places.
    gappy = rng.standard_normal((1, 2600)).astype(np.float32)
    gappy[0, 100:200] = np.nan
    with_nan = make_recording(gappy, 250.0, ("X",), (200.0,))
    ids = [store(db, nurse, r, f"r{i}.csv") for i, r in enumerate((csv_like, beyond, with_nan))]
    with db.reader(nurse) as s:
        views = [s.recordings.get(i) for i in ids]
        assert [v.sample_encoding for v in views] == ["int16", "float32", "float32"]
        gains = [s.session.scalar(select(RecordingRow.storage_gains).where(RecordingRow.id == i)) for i in ids]
        assert gains == [[1000.0, 1000.0, 1000.0], [], []]
        got = s.recordings.load(ids[0]).signals
        err = np.abs(got.astype(np.float64) - csv_like.signals.astype(np.float64))
        assert err.max() <= 0.5 * UV + 1e-6 and err.max() > 0  # lossy, but at most half a µV
        window = s.recordings.read_window(ids[0], 3.0, 5.0)
        assert window.shape == (3, 2500) and np.abs(window - csv_like.window(3.0, 8.0)).max() <= 0.5 * UV + 1e-6
        assert np.array_equal(s.recordings.load(ids[1]).signals, big)
        assert np.array_equal(s.recordings.read_window(ids[1], 2.0, 4.0), beyond.window(2.0, 6.0))
        loaded = s.recordings.load(ids[2])
        assert np.array_equal(loaded.signals, gappy, equal_nan=True)
        assert np.isnan(loaded.signals[0, 100:200]).all() and not np.isnan(loaded.signals[0, :100]).any()


# --- beats ----------------------------------------------------------------------------------------------------


def test_beat_annotations_and_their_history(db: Database, actors: dict[str, Actor], record_100: Recording) -> None:
    nurse, cardio = actors["nurse"], actors["cardio"]
    rec_id = store(db, nurse, record_100)
    ann = record_100.annotations
    with db.session(nurse) as s:
        assert s.beats.add_many(rec_id, list(ann.samples), list(ann.labels), "file", "atr") == len(ann)
        assert s.beats.add_many(rec_id, [], [], "algorithm", "qrs") == 0
        with pytest.raises(ValueError, match="labels"):
            s.beats.add_many(rec_id, [1, 2], ["N"], "algorithm", "qrs")
        with pytest.raises(ValueError):
            s.beats.add_many(rec_id, [1], ["N"], "user", "me")
        with pytest.raises(ValueError, match="label"):
            s.beats.add_many(rec_id, [1], ["TOOLONGLABEL"], "algorithm", "qrs")
        with pytest.raises(NotFoundError):
            s.beats.add_many(999, [1], ["N"], "algorithm", "qrs")
    with db.reader(cardio) as s:
        every = s.beats.list(rec_id)
        assert [b.sample for b in every] == [int(x) for x in ann.samples]
        assert [b.label for b in every] == list(ann.labels) == [b.original_label for b in every]
        assert {(b.author_kind, b.author_name, b.version, b.deleted, b.updated_by) for b in every} == {
            ("file", "atr", 1, False, None)
        }
        lo, hi = 36000, 72000  # 100 s .. 200 s
        window = s.beats.list(rec_id, lo, hi)
        expected = [(int(x), lab) for x, lab in zip(ann.samples, ann.labels, strict=True) if lo <= x < hi]
        assert [(b.sample, b.label) for b in window] == expected and expected
        assert [b.sample for b in s.beats.list(rec_id, int(ann.samples[5]), int(ann.samples[6]))] == [
            int(ann.samples[5])
        ]
        target = window[3]

    with db.session(cardio) as s:
        relabelled = s.beats.relabel(target.id, " V ", expected_version=1)
    assert (relabelled.label, relabelled.original_label, relabelled.version) == ("V", target.label, 2)
    assert relabelled.updated_by == "cardio" and relabelled.updated_at is not None
    with pytest.raises(ConcurrentEditError), db.session(cardio) as s:
        s.beats.relabel(target.id, "A", expected_version=1)
    with db.session(cardio) as s:
        again = s.beats.relabel(target.id, "A", expected_version=2)
        assert (again.label, again.original_label, again.version) == ("A", target.label, 3)
        samples = sorted(b.sample for b in s.beats.list(rec_id))
        spot = max((b - a, (a + b) // 2) for a, b in itertools.pairwise(samples) if lo <= a < hi)[1]
        added = s.beats.add(rec_id, spot, "F")  # the middle of the widest gap: > 150 ms from any beat
        assert (added.author_kind, added.author_name, added.label, added.original_label) == ("user", "cardio", "F", "F")
        with pytest.raises(ValueError, match="outside"):
            s.beats.add(rec_id, 650000, "N")
        deleted = s.beats.delete(added.id, expected_version=added.version)
        assert deleted.deleted and deleted.version == added.version + 1
    with db.reader(cardio) as s:
        assert added.id not in {b.id for b in s.beats.list(rec_id, lo, hi)}
        shown = {b.id: b for b in s.beats.list(rec_id, lo, hi, include_deleted=True)}
        assert shown[added.id].deleted and shown[target.id].label == "A"
    with pytest.raises(ConcurrentEditError), db.session(cardio) as s:
        s.beats.restore(added.id, expected_version=added.version)
    with db.session(cardio) as s:
        restored = s.beats.restore(added.id, expected_version=deleted.version)
        assert not restored.deleted
        history = s.beats.history(target.id)
        assert [(h.action, h.old_label, h.new_label, h.edited_by) for h in history] == [
            ("relabel", target.label, "V", "cardio"), ("relabel", "V", "A", "cardio")]  # fmt: skip
        assert history[0].edited_at <= history[1].edited_at
        assert [(h.action, h.old_label, h.new_label) for h in s.beats.history(added.id)] == [
            ("add", None, "F"), ("delete", "F", None), ("restore", None, "F")]  # fmt: skip
        loaded = s.recordings.load(rec_id)
    assert len(loaded.annotations) == len(ann) + 1
    labels = dict(zip(loaded.annotations.samples.tolist(), loaded.annotations.labels, strict=True))
    assert labels[spot] == "F" and labels[target.sample] == "A"


# --- findings -------------------------------------------------------------------------------------------------


def test_findings_and_their_review(db: Database, actors: dict[str, Actor]) -> None:
    nurse, cardio = actors["nurse"], actors["cardio"]
    rec_id = store(db, nurse, make_recording(on_grid(np.arange(1000).reshape(1, 1000) % 50, 200.0), gains=(200.0,)))
    with db.session(nurse) as s:
        session_id = s.monitoring.start(fs=250.0, lead_names=("I",)).id
        f1 = s.findings.add(code="AF", label="Atrial fibrillation", source_kind="model", source_name="af-net",
                            source_version="2.1", recording_id=rec_id, confidence=0.87, start_s=1.0, end_s=3.5)  # fmt: skip
        f2 = s.findings.add(code="PVC", label="Ventricular ectopy", source_kind="rule", source_name="rules",
                            recording_id=rec_id)  # fmt: skip
        f3 = s.findings.add(code="BRADY", label="Bradycardia", source_kind="rule", source_name="rules",
                            session_id=session_id)  # fmt: skip
        for bad in (
            {"source_kind": "oracle"},
            {"recording_id": None},
            {"session_id": session_id},
            {"confidence": 1.5},
            {"confidence": -0.1},
        ):
            kw: dict[str, Any] = {"code": "X", "label": "x", "source_kind": "user", "source_name": "me",
                                  "recording_id": rec_id} | bad  # fmt: skip
            with pytest.raises(ValueError):
                s.findings.add(**kw)
        with pytest.raises(NotFoundError):
            s.findings.add(code="X", label="x", source_kind="user", source_name="me", recording_id=999)
    assert (f1.status, f1.version, f1.reviewed_by, f1.reviewed_at, f1.confidence) == ("proposed", 1, None, None, 0.87)
    assert (f1.source_kind, f1.source_name, f1.source_version, f1.start_s, f1.end_s) == (
        "model",
        "af-net",
        "2.1",
        1.0,
        3.5,
    )

    before = utcnow()
    with db.session(cardio) as s:
        confirmed = s.findings.review(f1.id, "confirmed", expected_version=1, note="clear AF")
        rejected = s.findings.review(f2.id, "rejected", expected_version=1)
        with pytest.raises(ValueError):
            s.findings.review(f3.id, "maybe", expected_version=1)
    after = utcnow()
    assert (confirmed.status, confirmed.reviewed_by, confirmed.review_note, confirmed.version) == (
        "confirmed", "cardio", "clear AF", 2)  # fmt: skip
    assert confirmed.reviewed_at is not None and before <= confirmed.reviewed_at <= after
    assert (rejected.status, rejected.reviewed_by, rejected.version) == ("rejected", "cardio", 2)
    with pytest.raises(ConcurrentEditError, match="Finding"), db.session(cardio) as s:
        s.findings.review(f1.id, "rejected", expected_version=1)
    with db.reader(actors["student"]) as s:
        assert [(f.code, f.status) for f in s.findings.for_recording(rec_id)] == [
            ("AF", "confirmed"),
            ("PVC", "rejected"),
        ]
        assert [f.id for f in s.findings.for_session(session_id)] == [f3.id]
        assert s.findings.get(f1.id) == confirmed
    with db.reader(actors["admin"]) as s:
        lines = {(e.action, e.entity_id, e.username, e.role) for e in s.audit.events(entity_type="finding")}
    assert {("confirm", str(f1.id), "cardio", "cardiologist"), ("reject", str(f2.id), "cardio", "cardiologist"),
            ("create", str(f3.id), "nurse", "nurse")} <= lines  # fmt: skip


# --- monitoring and alarms ------------------------------------------------------------------------------------


def test_monitoring_sessions_and_alarms(db: Database, actors: dict[str, Actor]) -> None:
    nurse, cardio = actors["nurse"], actors["cardio"]
    start = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    rng = np.random.default_rng(3)
    # Polar H10 style: whole µV.
    slices = [on_grid(rng.integers(-3000, 3000, size=(1, 1300)), 1000.0) for _ in range(3)]
    with db.session(nurse) as s:
        pid = s.patients.create("MRN-M").id
        device = s.devices.register("H10-1", "polar_h10", model="H10")
        session = s.monitoring.start(
            fs=130.0, lead_names=("ECG",), patient_id=pid, device_id=device.id, started_at=start
        )
        for i, sig in enumerate(slices):
            s.monitoring.append_slice(session.id, i, start + timedelta(seconds=10 * i), sig, 130.0, analysis={"i": i})
    assert (session.state, session.started_at, session.n_slices, session.patient_id) == ("active", start, 0, pid)
    with pytest.raises(ConflictError, match="Slice 1"), db.session(nurse) as s:
        s.monitoring.append_slice(session.id, 1, start, slices[0], 130.0)
    with pytest.raises(ValueError), db.session(nurse) as s:
        s.monitoring.start(fs=0.0, lead_names=("ECG",))
    lossy = (rng.standard_normal((2, 500)) * 0.8).astype(np.float32)
    with db.session(nurse) as s:
        other = s.monitoring.start(fs=50.0, lead_names=("I", "II"))
        s.monitoring.append_slice(other.id, 0, start, lossy, 50.0)
        s.monitoring.set_slice_analysis(session.id, 2, {"hr_bpm": 61})
        alarm = s.alarms.raise_alarm(session.id, "bradycardia", "medium", "HR 38 bpm", offset_s=12.5,
                                     details={"hr_bpm": 38})  # fmt: skip
        second = s.alarms.raise_alarm(session.id, "lead-off", "low", "electrode off")
        with pytest.raises(ValueError, match="severity"):
            s.alarms.raise_alarm(session.id, "x", "critical", "x")
    assert (alarm.patient_id, alarm.severity, alarm.offset_s, alarm.details, alarm.version) == (
        pid, "medium", 12.5, {"hr_bpm": 38}, 1)  # fmt: skip
    assert (alarm.acknowledged_by, alarm.acknowledged_at, alarm.escalation_level) == (None, None, 0)

    with db.session(nurse) as s:
        escalated = s.alarms.escalate(alarm.id)
        assert (escalated.escalation_level, escalated.version) == (1, 2)
        assert s.alarms.escalate(alarm.id).escalation_level == 2
    # Acknowledging what one saw before the escalation is refused.
    with pytest.raises(ConcurrentEditError), db.session(cardio) as s:
        s.alarms.acknowledge(alarm.id, expected_version=1)
    with db.session(cardio) as s:
        acked = s.alarms.acknowledge(alarm.id, expected_version=3)
    assert acked.acknowledged_by == "cardio" and acked.acknowledged_at is not None and acked.version == 4
    with db.session(nurse) as s:
        again = s.alarms.acknowledge(alarm.id, expected_version=4)
        assert (again.acknowledged_by, again.acknowledged_at) == ("cardio", acked.acknowledged_at)
        assert s.alarms.escalate(alarm.id).escalation_level == 2  # acknowledged alarms do not escalate
        assert [a.id for a in s.alarms.for_session(session.id)] == [alarm.id, second.id]
        assert [a.id for a in s.alarms.for_session(session.id, unacknowledged_only=True)] == [second.id]
        ended = s.monitoring.end(session.id, summary={"mean_hr_bpm": 44.0, "alarms": 2})
    assert (ended.state, ended.summary, ended.n_slices) == ("ended", {"mean_hr_bpm": 44.0, "alarms": 2}, 3)
    assert ended.ended_at is not None
    with pytest.raises(ConflictError, match="ended"), db.session(nurse) as s:
        s.monitoring.append_slice(session.id, 3, start, slices[0], 130.0)
    with pytest.raises(ValueError), db.session(nurse) as s:
        s.monitoring.end(other.id, state="paused")

    with db.reader(actors["student"]) as s:
        got = s.monitoring.slices(session.id)
        assert [g.index for g in got] == [0, 1, 2] == s.monitoring.slice_indices(session.id)
        for g, sig in zip(got, slices, strict=True):
            assert g.signals.dtype == np.float32 and np.array_equal(g.signals, sig)  # slice 1: the first copy kept
            assert (g.fs, g.session_id, g.started_at) == (130.0, session.id, start + timedelta(seconds=10 * g.index))
        assert [g.analysis for g in got] == [{"i": 0}, {"i": 1}, {"hr_bpm": 61}]
        assert [g.index for g in s.monitoring.slices(session.id, 1, 2)] == [1]
        (lossy_back,) = s.monitoring.slices(other.id)
        assert np.abs(lossy_back.signals - lossy).max() <= 0.5 * UV + 1e-6
        assert [v.id for v in s.monitoring.sessions()] == [other.id, session.id]
        assert [v.id for v in s.monitoring.sessions(active_only=True)] == [other.id]
        assert [v.id for v in s.monitoring.sessions(patient_id=pid)] == [session.id]
    with db.reader(actors["admin"]) as s:
        alarm_lines = [
            (e.action, e.username) for e in reversed(s.audit.events(entity_type="alarm", entity_id=alarm.id))
        ]
    assert alarm_lines == [("create", "nurse"), ("escalate", "nurse"), ("escalate", "nurse"), ("acknowledge", "cardio")]


# --- images ---------------------------------------------------------------------------------------------------


def test_images(db: Database, actors: dict[str, Actor]) -> None:
    nurse = actors["nurse"]
    data = bytes(range(256)) * 40 + b"\x00\xff"
    with db.session(nurse) as s:
        view, dup = s.images.add(data, file_name="ecg_scan.png", media_type="image/png", analysis={"leads": 12})
        with pytest.raises(ValueError):
            s.images.add(b"", file_name="empty.png", media_type="image/png")
    assert not dup and (view.file_name, view.media_type, view.size_bytes, view.analysis) == (
        "ecg_scan.png", "image/png", len(data), {"leads": 12})  # fmt: skip
    with db.session(actors["cardio"]) as s:
        view2, dup2 = s.images.add(data, file_name="same_again.jpg", media_type="image/jpeg")
    assert dup2 and view2.id == view.id and view2.file_name == "ecg_scan.png"
    assert count(db, nurse, EcgImageRow.id) == 1
    rec_id = store(db, nurse, make_recording(np.zeros((1, 10), np.float32)))
    with db.session(nurse) as s:
        assert s.images.data(view.id) == data
        assert s.images.get(view.id).size_bytes == len(data)
        updated = s.images.set_analysis(view.id, {"leads": 12, "ok": True}, recording_id=rec_id)
        assert (updated.analysis, updated.recording_id) == ({"leads": 12, "ok": True}, rec_id)
        with pytest.raises(NotFoundError):
            s.images.data(999)
    with db.reader(actors["admin"]) as s:
        lines = [(e.action, e.username) for e in reversed(s.audit.events(entity_type="image"))]
    assert lines == [("create", "nurse"), ("import-duplicate", "cardio"), ("view", "nurse"), ("update", "nurse")]


# --- audit and transactions -----------------------------------------------------------------------------------


def test_audit_lines_name_who_did_what_with_the_trace_id(db: Database, actors: dict[str, Actor]) -> None:
    nurse, cardio, admin = actors["nurse"], actors["cardio"], actors["admin"]
    rec = make_recording(on_grid(np.arange(3000).reshape(1, 3000) % 400, 200.0), gains=(200.0,))
    with traced("import recording") as import_trace, db.session(nurse) as s:
        pid = s.patients.create("MRN-A", family_name="Audit").id
        rec_id = s.recordings.store(rec, source_name="a.hea", source_format="WFDB", file_sha256="c" * 64,
                                    patient_id=pid).recording.id  # fmt: skip
        s.beats.add_many(rec_id, [100, 200], ["N", "V"], "algorithm", "qrs-detector")
        finding_id = s.findings.add(code="PVC", label="PVC", source_kind="rule", source_name="r",
                                    recording_id=rec_id).id  # fmt: skip
    with traced("review", trace_id="feedfacecafe"), db.session(cardio) as s:
        s.patients.get(pid)
        s.patients.update(pid, expected_version=1, weight_kg=70.0)
        beat_id = s.beats.list(rec_id)[0].id
        s.beats.relabel(beat_id, "A", expected_version=1)
        s.findings.review(finding_id, "confirmed", expected_version=1)
        s.recordings.load(rec_id)
    with db.session(nurse) as s:  # outside any traced action
        s.patients.get(pid)
    with db.reader(nurse) as s:  # read-only transactions write no view lines
        s.patients.get(pid)
        s.recordings.load(rec_id)

    with db.reader(admin) as s:
        lines = list(reversed(s.audit.events(since=datetime(2000, 1, 1, tzinfo=UTC))))
        assert s.audit.events(username="cardio", action="relabel")[0].entity_id == str(beat_id)
        assert [e.id for e in s.audit.events(entity_type="patient", entity_id=pid)] == sorted(
            (e.id for e in lines if e.entity_type == "patient"), reverse=True)  # fmt: skip
        assert s.audit.events(since=utcnow() + timedelta(hours=1)) == []
    got = [(e.username, e.role, e.action, e.entity_type, e.entity_id, e.trace_id) for e in lines
           if e.username in ("nurse", "cardio") and e.action != "login"]  # fmt: skip
    assert got == [
        ("nurse", "nurse", "create", "patient", str(pid), import_trace),
        ("nurse", "nurse", "create", "recording", str(rec_id), import_trace),
        ("nurse", "nurse", "create", "beats", str(rec_id), import_trace),
        ("nurse", "nurse", "create", "finding", str(finding_id), import_trace),
        ("cardio", "cardiologist", "view", "patient", str(pid), "feedfacecafe"),
        ("cardio", "cardiologist", "update", "patient", str(pid), "feedfacecafe"),
        ("cardio", "cardiologist", "relabel", "beat", str(beat_id), "feedfacecafe"),
        ("cardio", "cardiologist", "confirm", "finding", str(finding_id), "feedfacecafe"),
        ("cardio", "cardiologist", "view", "recording", str(rec_id), "feedfacecafe"),
        ("nurse", "nurse", "view", "patient", str(pid), None),
    ]
    by_action = {(e.action, e.entity_type): e for e in lines}
    assert by_action[("update", "patient")].details == {"fields": ["weight_kg"]}
    assert by_action[("create", "beats")].details == {"count": 2, "author": "qrs-detector"}
    assert by_action[("relabel", "beat")].details == {"recording_id": rec_id, "old": "N", "new": "A"}
    assert all(e.workstation for e in lines) and len(import_trace) == 12
    assert all(e.occurred_at.tzinfo is not None for e in lines)
    assert [e.occurred_at for e in lines] == sorted(e.occurred_at for e in lines)


def test_failed_transaction_leaves_nothing(db: Database, actors: dict[str, Actor]) -> None:
    nurse, admin = actors["nurse"], actors["admin"]
    audit_before = count(db, admin, AuditEventRow.id)

    class Boom(Exception):
        pass

    with pytest.raises(Boom), db.session(nurse) as s:
        created = s.patients.create("MRN-GONE", family_name="Ghost")
        assert s.patients.by_mrn("MRN-GONE") == created  # visible inside the transaction
        raise Boom
    # A storage error half-way rolls back what the same transaction did before it.
    with db.session(nurse) as s:
        s.patients.create("MRN-KEPT")
    with pytest.raises(ConflictError), db.session(nurse) as s:
        s.patients.create("MRN-ALSO-GONE")
        store_id = s.recordings.store(make_recording(np.ones((1, 50), np.float32)), source_name="x",
                                      source_format="CSV", file_sha256="d" * 64).recording.id  # fmt: skip
        assert store_id
        s.patients.create("MRN-KEPT")
    with db.reader(nurse) as s:
        assert [p.mrn for p in s.patients.search("")] == ["MRN-KEPT"]
        assert s.patients.by_mrn("MRN-GONE") is None
    assert count(db, nurse, RecordingRow.id) == 0 and count(db, nurse, WaveformChunkRow.chunk_index) == 0
    assert count(db, admin, AuditEventRow.id) == audit_before + 1


def test_relabel_a_whole_family_at_once(db: Database, actors: dict[str, Actor]) -> None:
    """Template review: many beats relabelled in one transaction, each with its history, all or nothing."""
    from ecgstation.storage.errors import ConcurrentEditError as Stale

    rec = make_recording(np.sin(np.arange(2 * 15000, dtype=np.float64) / 40.0).reshape(2, 15000))
    rec_id = store(db, actors["nurse"], rec, "family.hea")
    with db.session(actors["nurse"]) as s:
        s.beats.add_many(rec_id, list(range(100, 14000, 200)), ["N"] * 70, "algorithm", "ecgstation")
    with db.reader(actors["cardio"]) as s:
        beats = s.beats.list(rec_id)
    family = beats[::2]
    with db.session(actors["cardio"]) as s:
        out = s.beats.relabel_many([(b.id, b.version) for b in family], "V")
    assert [b.label for b in out] == ["V"] * len(family)
    assert all(b.original_label == "N" and b.version == 2 and b.updated_by == "cardio" for b in out)
    with db.reader(actors["cardio"]) as s:
        labels = [b.label for b in s.beats.list(rec_id)]
        assert labels == ["V" if i % 2 == 0 else "N" for i in range(70)]
        assert [(h.action, h.old_label, h.new_label) for h in s.beats.history(family[3].id)] == [("relabel", "N", "V")]
    # Stale versions (loaded before the relabel): refused as a whole, nothing changes.
    with pytest.raises(Stale, match="35 of 70 beats were changed"), db.session(actors["cardio"]) as s:
        s.beats.relabel_many([(b.id, b.version) for b in beats], "S")
    with db.reader(actors["cardio"]) as s:
        assert [b.label for b in s.beats.list(rec_id)] == labels
    with pytest.raises(PermissionDeniedError), db.session(actors["nurse"]) as s:
        s.beats.relabel_many([(beats[1].id, beats[1].version)], "V")


def test_a_beat_cannot_be_added_on_top_of_another(db: Database, actors: dict[str, Actor]) -> None:
    """Two QRS complexes cannot lie within 150 ms: a second beat there is refused, saying where the first is."""
    rec = make_recording(np.zeros((1, 2500)), fs=250.0)
    rec_id = store(db, actors["nurse"], rec, "refractory.hea")
    with db.session(actors["nurse"]) as s:
        s.beats.add_many(rec_id, [1000], ["N"], "algorithm", "ecgstation")
    with pytest.raises(ConflictError, match=r"already at 4\.00 s"), db.session(actors["cardio"]) as s:
        s.beats.add(rec_id, 1030, "V")  # 120 ms later
    with db.session(actors["cardio"]) as s:
        added = s.beats.add(rec_id, 1040, "V")  # 160 ms later: a beat can be there
        assert added.version == 1 and added.author_kind == "user"
        s.beats.delete(added.id, added.version)
    with db.session(actors["cardio"]) as s:  # a deleted beat does not block the spot
        assert s.beats.add(rec_id, 1045, "V").sample == 1045
