"""Per-patient alarm thresholds in the database (both engines): set by nurses and cardiologists, audited, versioned."""

from __future__ import annotations

from datetime import date

import pytest

from ecgstation.monitoring.alarms import AlarmSettings
from ecgstation.monitoring.session import load_alarm_settings
from ecgstation.storage import Actor, Database
from ecgstation.storage.errors import ConcurrentEditError, NotFoundError, PermissionDeniedError


def _patient(db: Database, nurse: Actor) -> int:
    with db.session(nurse) as s:
        return s.patients.create(mrn="MRN-ALARM-1", family_name="Doe", given_name="Jo", sex="F",
                                 birth_date=date(1950, 1, 2)).id  # fmt: skip


def test_set_get_update_and_audit(db: Database, actors: dict[str, Actor]) -> None:
    nurse, cardio, student, admin = actors["nurse"], actors["cardio"], actors["student"], actors["admin"]
    pid = _patient(db, nurse)
    assert load_alarm_settings(db, nurse, pid) == AlarmSettings()
    with db.reader(nurse) as s:
        assert s.alarm_settings.get(pid) is None
    wanted = AlarmSettings(brady_bpm=35.0, tachy_bpm=130.0, severities={"tachycardia": "high"})
    with db.session(nurse) as s:
        view = s.alarm_settings.set(pid, wanted.to_dict())
    assert view.version == 1 and view.updated_by == "nurse"
    assert load_alarm_settings(db, student, pid) == wanted  # students may read
    with db.session(cardio) as s:
        view = s.alarm_settings.set(pid, {**wanted.to_dict(), "af_min_s": 60.0}, expected_version=1)
    assert view.version == 2 and view.updated_by == "cardio"
    assert load_alarm_settings(db, nurse, pid).af_min_s == 60.0
    with db.session(nurse) as s, pytest.raises(ConcurrentEditError):
        s.alarm_settings.set(pid, wanted.to_dict(), expected_version=1)
    for who in (student, admin):
        with db.session(who) as s, pytest.raises(PermissionDeniedError):
            s.alarm_settings.set(pid, wanted.to_dict())
    with db.session(nurse) as s, pytest.raises(NotFoundError):
        s.alarm_settings.set(pid + 999, wanted.to_dict())
    with db.reader(admin) as s:
        lines = s.audit.events(entity_type="alarm-settings")
    assert [(e.action, e.username) for e in lines] == [("update", "cardio"), ("create", "nurse")]
    assert lines[0].details == {"changed": ["af_min_s"]}
