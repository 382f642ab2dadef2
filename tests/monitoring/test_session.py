"""A full session on the bundled record 100 with device faults: gaps recorded, alarms stored, acknowledged,
escalated and audited with the session's trace id; the host runs beds on its own thread."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from ecgstation.core.recording import Recording
from ecgstation.devices.simulated_patch import Disconnect, FaultPlan, Interval, SimulatedPatch
from ecgstation.monitoring.alarms import AlarmSettings
from ecgstation.monitoring.bed_feed import BedFeed
from ecgstation.monitoring.host import MonitorHost
from ecgstation.monitoring.session import MonitoringSession
from ecgstation.storage import Actor, Database
from tests.monitoring._runner import clip, models

SAMPLE_100 = Path(__file__).resolve().parents[2] / "resources" / "samples" / "100.hea"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only: one engine is enough for the session flow (the storage tests cover both engines)."""
    return f"sqlite:///{tmp_path / 'session.sqlite3'}"


def test_faults_are_recorded_and_alarms_are_stored_acknowledged_and_escalated(
    db: Database, actors: dict[str, Actor]
) -> None:
    nurse, cardio, admin = actors["nurse"], actors["cardio"], actors["admin"]
    faults = FaultPlan(lead_off=(Interval(21.0, 4.0),), disconnects=(Disconnect(42.0, 5.0),))
    patch = SimulatedPatch(clip(SAMPLE_100, 0.0, 70.0), speed=60.0, faults=faults, backoff_s=1.0)
    feed = BedFeed("bed 3", "Doe, Jo", patch.fs, patch.lead_names)
    session = MonitoringSession(patch, db, nurse, feed=feed, models=models(),
                                alarm_settings=AlarmSettings(escalation_after_s=20.0))  # fmt: skip
    asyncio.run(session.run())
    sid = session.session_id
    assert sid is not None and session.errors == []
    kinds = [a["kind"] for a in session.alarms]
    assert "lead_off" in kinds and "device_disconnected" in kinds
    assert not {"asystole", "pause"} & set(kinds), kinds  # missing signal is not a missing heartbeat
    with db.reader(nurse) as s:
        view = s.monitoring.get(sid)
        slices = s.monitoring.slices(sid)
        stored = s.alarms.for_session(sid)
    summary = view.summary or {}
    gaps = summary["gaps"]
    assert any(a <= 43.0 and b >= 46.0 for a, b in gaps), gaps  # the disconnect is a recorded gap
    assert summary["gap_total_s"] >= 4.0
    assert all("latency_ms" in v.analysis for v in slices if v.analysis and "start_s" in v.analysis)
    # escalation of the unacknowledged alarms was stored
    assert any(a.escalation_level >= 1 for a in stored)
    first = stored[0]
    feed_ids = {a.alarm_id for a in feed.snapshot().alarms}
    assert first.id in feed_ids
    # acknowledgement by a named user after the session ended goes through the repository
    with db.session(cardio) as s:
        acked = s.alarms.acknowledge(first.id, first.version)
    assert acked.acknowledged_by == "cardio"
    with db.reader(admin) as s:
        lines = s.audit.events(entity_type="alarm")
    actions = {(e.action, e.username) for e in lines}
    assert ("create", "nurse") in actions and ("escalate", "nurse") in actions and ("acknowledge", "cardio") in actions
    assert {e.trace_id for e in lines if e.action == "create"} == {session.trace_id}


def test_host_runs_beds_and_acknowledges_by_name(db: Database, actors: dict[str, Actor]) -> None:
    nurse = actors["nurse"]
    host = MonitorHost(db, nurse, models=models())
    try:
        rec = clip(SAMPLE_100, 0.0, 60.0)
        signals = rec.signals.copy()
        signals[:, 20 * 360 :] = 0.0  # flat line from 20 s: asystole
        beats_stop = Recording(signals=signals, fs=rec.fs, lead_names=rec.lead_names)
        feed = host.add_bed("bed 1", SimulatedPatch(beats_stop, speed=60.0), patient_label="Doe, Jo")
        assert set(host.beds()) == {"bed 1"}
        sid = host.done("bed 1").result(timeout=60)
        snap = feed.snapshot()
        assert snap.session_id == sid and snap.end_s > 50
        alarm = next(a for a in snap.alarms if a.kind == "asystole")
        assert 20.0 <= alarm.raised_s <= 30.0 and alarm.severity == "high"
        assert alarm.active and alarm.alarm_id is not None
        view = host.acknowledge("bed 1", alarm.alarm_id, actors["cardio"])
        assert view.acknowledged_by == "cardio"
        deadline = time.monotonic() + 5
        while feed.snapshot().active_alarms and alarm.alarm_id in {a.alarm_id for a in feed.snapshot().active_alarms}:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert host.remove_bed("bed 1") == sid
        with db.reader(nurse) as s:
            assert s.monitoring.get(sid).state == "ended"
    finally:
        host.stop()


def test_removing_a_bed_mid_session_ends_it_with_its_slices(db: Database, actors: dict[str, Actor]) -> None:
    nurse = actors["nurse"]
    host = MonitorHost(db, nurse, models=models())
    try:
        feed = host.add_bed("bed 2", SimulatedPatch(clip(SAMPLE_100, 0.0, 600.0), speed=60.0))
        deadline = time.monotonic() + 60
        while feed.snapshot().end_s < 25.0:  # wait for the replay, not for a fixed time
            assert time.monotonic() < deadline, "the replay did not get going"
            time.sleep(0.02)
        sid = host.remove_bed("bed 2")
        assert sid is not None and host.beds() == {}
        with db.reader(nurse) as s:
            view = s.monitoring.get(sid)
        assert view.state == "ended" and 2 <= view.n_slices < 60
        assert (view.summary or {})["n_slices"] == view.n_slices  # every stored slice was analysed
    finally:
        host.stop()
