"""End to end: a SimulatedPatch replays MIT-BIH records at 60x through a full monitoring session.

Reference events come from the records' own annotations, never from our detector:
- a ventricular run is the first run of >= 3 consecutive V beats faster than 100 bpm in the reference
  beat labels; the alarm's onset (its first V beat) and the time it is raised lie within 10 s of it;
- atrial fibrillation: the first "(AFIB" rhythm annotation in the replayed part; the alarm is raised
  once AF has lasted 30 s, so its raise time must lie within 10 s of annotated onset + 30 s, and its
  onset (start of the first AF slice) within 10 s of the annotated onset;
- a clean sinus record (100, whose reference has no rhythm change and no run) raises no alarm in 5 min.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ecgstation.storage import Actor, Database
from tests.monitoring._runner import clip, run_session, sqlite_with_nurse

pytestmark = pytest.mark.data
TOLERANCE_S = 10.0


@pytest.fixture
def nurse_db(tmp_path: Path) -> Iterator[tuple[Database, Actor]]:
    """A fresh SQLite database with one nurse."""
    db, _admin, nurse = sqlite_with_nurse(tmp_path / "e2e.sqlite3")
    try:
        yield db, nurse
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def mitdb(data_dir: Path) -> Path:
    path = data_dir / "mitdb"
    if not (path / "207.hea").is_file():
        pytest.skip(f"MIT-BIH not found in {path}")
    return path


def _reference_vrun(path: Path, start_s: float, stop_s: float) -> float:
    import wfdb

    ann = wfdb.rdann(str(path), "atr")
    t = np.asarray(ann.sample) / ann.fs if ann.fs else np.asarray(ann.sample) / 360.0
    v = np.isin(ann.symbol, ["V"])
    for i in range(len(v) - 2):
        if v[i] and v[i + 1] and v[i + 2] and start_s <= t[i] < stop_s:
            rate = 60.0 * 2 / (t[i + 2] - t[i])
            if rate > 100:
                return float(t[i] - start_s)
    raise AssertionError("no reference ventricular run in the clip")


def _reference_af(path: Path, start_s: float, stop_s: float) -> float:
    import wfdb

    ann = wfdb.rdann(str(path), "atr")
    fs = ann.fs or 360.0
    for s, note in zip(ann.sample, ann.aux_note, strict=True):
        if note.strip("\x00") == "(AFIB" and start_s <= s / fs < stop_s:
            return float(s / fs - start_s)
    raise AssertionError("no reference AF onset in the clip")


def _alarms(db: Database, actor: Actor, session_id: int) -> list[tuple[str, float, float]]:
    with db.reader(actor) as s:
        return [
            (a.kind, (a.details or {})["onset_s"], (a.details or {})["raised_s"])
            for a in s.alarms.for_session(session_id)
        ]


def test_ventricular_run_record_207(mitdb: Path, nurse_db: tuple[Database, Actor]) -> None:
    db, nurse = nurse_db
    start, stop = 0.0, 100.0
    ref = _reference_vrun(mitdb / "207", start, stop)
    session = run_session(db, nurse, clip(mitdb / "207.hea", start, stop), speed=60.0)
    alarms = _alarms(db, nurse, session.session_id or 0)
    assert "device_disconnected" not in {k for k, _, _ in alarms}
    runs = [(o, r) for k, o, r in alarms if k == "ventricular_run"]
    assert runs, f"no ventricular-run alarm; reference run at {ref:.1f} s"
    onset, raised = runs[0]
    assert abs(onset - ref) <= TOLERANCE_S and 0 <= raised - ref <= TOLERANCE_S, (ref, onset, raised)
    with db.reader(nurse) as s:
        view = s.monitoring.get(session.session_id or 0)
        findings = [f.code for f in s.findings.for_session(view.id)]
    assert view.state == "ended" and view.n_slices == 10 and "ventricular_run" in findings
    assert view.summary is not None and view.summary["beat_counts"]["V"] > 20


def test_atrial_fibrillation_record_219(mitdb: Path, nurse_db: tuple[Database, Actor]) -> None:
    db, nurse = nurse_db
    start, stop = 305.0, 420.0  # sinus from 303.3 s, AF from 326.7 s in the reference
    ref = _reference_af(mitdb / "219", start, stop)
    session = run_session(db, nurse, clip(mitdb / "219.hea", start, stop), speed=60.0)
    alarms = _alarms(db, nurse, session.session_id or 0)
    # the replay ends 5 s into a slice: its normal end is no "device disconnected"
    assert {k for k, _, _ in alarms} == {"atrial_fibrillation"}, alarms
    af = [(o, r) for k, o, r in alarms if k == "atrial_fibrillation"]
    assert af, f"no AF alarm; reference onset at {ref:.1f} s"
    onset, raised = af[0]
    assert abs(raised - (ref + 30.0)) <= TOLERANCE_S and abs(onset - ref) <= TOLERANCE_S, (ref, onset, raised)
    assert session.analyses[0]["rhythm"] == "sinus_rhythm"  # the alarm is not there from the start


def test_clean_sinus_record_100_raises_nothing_in_5_minutes(mitdb: Path, nurse_db: tuple[Database, Actor]) -> None:
    db, nurse = nurse_db
    session = run_session(db, nurse, clip(mitdb / "100.hea", 0.0, 300.0), speed=60.0)
    assert _alarms(db, nurse, session.session_id or 0) == []
    with db.reader(nurse) as s:
        view = s.monitoring.get(session.session_id or 0)
    assert view.n_slices == 30 and view.state == "ended"
    summary = view.summary or {}
    assert 60 < summary["hr_bpm"]["mean"] < 85 and summary["alarms"] == {}
    assert summary["longest_pause"]["duration_s"] < 2.0
    assert len(summary["hr_trend"]) == 5
