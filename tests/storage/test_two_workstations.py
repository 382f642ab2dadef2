"""Two workstations (two processes) on one database: they see each other's changes and lose no edit silently.

Each workstation is a child process running this file as a script: it signs in, then obeys
JSON commands on stdin and answers on stdout. The test is the barrier between them: both
load, then both are told to edit. Every edit made with a stale ``expected_version`` must
either win or raise :class:`ConcurrentEditError`; exactly one edit per item wins, its version
is 1 + the number of edits that won, and the history (beats) or audit log (findings) holds
exactly the edits that won.

The "race" tests go further: each workstation stops *after* its version check passed and
before its UPDATE is flushed, until both have loaded the same version (PostgreSQL). That is the
window the ORM version column (``UPDATE ... WHERE version = :loaded``) must close. On SQLite the
second writer cannot get there: writers take the lock at BEGIN (BEGIN IMMEDIATE), so it loads
only after the first committed and its version check refuses the edit.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ecgstation.storage import Actor, ConcurrentEditError, Database, Role

REPO_ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"  # tests/storage/conftest.py's
N_BEATS = 30
N_RACES = 4
TIMEOUT_S = 60.0


# -- the workstation (child process) -------------------------------------------------------------


def _workstation(url: str) -> None:  # pragma: no cover - runs in the child processes
    from ecgstation.storage import Database, DatabaseSettings
    from ecgstation.storage.repos.base import Repository

    def emit(obj: dict[str, Any]) -> None:
        print(json.dumps(obj), flush=True)

    hold = False
    check_version = Repository._check_version

    def check_then_wait(self: Repository, row: object, expected_version: int | None, what: str) -> None:
        check_version(self, row, expected_version, what)
        if hold:  # loaded, version accepted, UPDATE not yet sent: wait for the test's "go"
            emit({"event": "checked", "version": row.version})  # type: ignore[attr-defined]
            command = json.loads(sys.stdin.readline())
            assert command["op"] == "go", command

    Repository._check_version = check_then_wait  # type: ignore[method-assign]

    def edit(store: Any, kind: str, item_id: int, value: str, expected_version: int) -> Any:
        if kind == "beat":
            return store.beats.relabel(item_id, value, expected_version=expected_version)
        return store.findings.review(item_id, value, expected_version=expected_version)

    def attempt(actor: Any, kind: str, item_id: int, value: str, expected_version: int) -> str:
        try:
            with db.session(actor) as s:
                edit(s, kind, item_id, value, expected_version)
        except ConcurrentEditError as error:
            conflicts.append(str(error))
            return "conflict"
        except Exception as error:  # noqa: BLE001 - reported to the test, which fails on it
            return f"error: {type(error).__name__}: {error}"
        return "ok"

    db = Database.open(DatabaseSettings(url=url, migrate=False))
    conflicts: list[str] = []
    sign_in = json.loads(sys.stdin.readline())
    assert sign_in["op"] == "sign_in", sign_in
    with db.session(Actor(None, "sign-in", Role.STUDENT)) as s:
        actor = s.users.authenticate(sign_in["username"], sign_in["password"])
    emit({"user_id": actor.user_id})
    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd["op"]
        if op == "load_beats":
            with db.reader(actor) as s:
                emit({"versions": {str(b.id): b.version for b in s.beats.list(cmd["recording_id"])}})
        elif op == "load_findings":
            with db.reader(actor) as s:
                emit({"versions": {str(f.id): f.version for f in s.findings.for_recording(cmd["recording_id"])}})
        elif op == "edit_all":
            results = {
                item_id: attempt(actor, cmd["kind"], int(item_id), cmd["value"], version)
                for item_id, version in cmd["versions"].items()
            }
            emit({"results": results})
        elif op == "race":
            hold = True
            try:
                result = attempt(actor, cmd["kind"], cmd["id"], cmd["value"], cmd["expected_version"])
            finally:
                hold = False
            emit({"result": result, "message": conflicts[-1] if result == "conflict" else ""})
        elif op == "create_patient":
            with db.session(actor) as s:
                patient = s.patients.create(cmd["mrn"], family_name=cmd["family_name"])
            emit({"id": patient.id})  # after the commit
        elif op == "list_patients":
            with db.reader(actor) as s:
                emit({"mrns": sorted(p.mrn for p in s.patients.search())})
        elif op == "quit":
            break
    db.dispose()


# -- the test side -------------------------------------------------------------------------------


class Workstation:
    """A child process running :func:`_workstation`, driven over its stdin/stdout."""

    def __init__(self, url: str, name: str) -> None:
        self.name = name
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
        self.proc = subprocess.Popen(
            [sys.executable, __file__, url], cwd=REPO_ROOT, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()
        threading.Thread(target=self._pump_err, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))
        self.lines.put(None)

    def _pump_err(self) -> None:
        assert self.proc.stderr is not None
        self.stderr.extend(self.proc.stderr)

    def send(self, **cmd: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def recv(self, timeout: float = TIMEOUT_S) -> dict[str, Any]:
        try:
            msg = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"workstation {self.name} did not answer in {timeout:g} s") from None
        if msg is None:
            self.proc.wait(timeout=10)
            raise AssertionError(f"workstation {self.name} exited: {''.join(self.stderr)[-3000:]}")
        return msg

    def ask(self, **cmd: Any) -> dict[str, Any]:
        self.send(**cmd)
        return self.recv()

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send(op="quit")
                self.proc.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(timeout=20)


@contextlib.contextmanager
def _workstations(db_url: str, *signed_in: Actor) -> Iterator[list[Workstation]]:
    """One workstation per actor, each signed in as that actor."""
    stations = [Workstation(db_url, actor.username) for actor in signed_in]
    try:
        for station, actor in zip(stations, signed_in, strict=True):
            assert station.ask(op="sign_in", username=actor.username, password=PASSWORD)["user_id"] == actor.user_id
        yield stations
    finally:
        for station in stations:
            station.close()


@pytest.fixture
def two_cardiologists(db: Database, actors: dict[str, Actor]) -> tuple[Actor, Actor]:
    with db.session(actors["admin"]) as s:
        s.users.create("cardio2", Role.CARDIOLOGIST, PASSWORD)
    with db.session(Actor(None, "setup", Role.ADMIN)) as s:
        second = s.users.authenticate("cardio2", PASSWORD)
    return actors["cardio"], second


@pytest.fixture
def recording_id(db: Database, actors: dict[str, Actor]) -> int:
    """A stored recording with N_BEATS beats labelled N by the file and N_RACES proposed findings."""
    from tests.storage._slice_writer import synthetic_recording

    recording = synthetic_recording(60 / 3600)
    with db.session(actors["cardio"]) as s:
        stored = s.recordings.store(recording, source_name="two.hea", source_format="WFDB", file_sha256="2" * 64)
        rid = stored.recording.id
        s.beats.add_many(rid, [100 + 500 * i for i in range(N_BEATS)], ["N"] * N_BEATS, "file", "atr")
        for i in range(N_RACES):
            s.findings.add(code=f"CODE{i}", label=f"finding {i}", source_kind="rule", source_name="rules",
                           recording_id=rid)  # fmt: skip
    return rid


def test_each_workstation_sees_the_others_changes(db_url: str, actors: dict[str, Actor]) -> None:
    with _workstations(db_url, actors["nurse"], actors["cardio"]) as (a, b):
        assert b.ask(op="list_patients")["mrns"] == []  # b's connection is open before a writes
        a.ask(op="create_patient", mrn="MRN-A", family_name="Alpha")
        assert b.ask(op="list_patients")["mrns"] == ["MRN-A"]
        b.ask(op="create_patient", mrn="MRN-B", family_name="Beta")
        assert a.ask(op="list_patients")["mrns"] == ["MRN-A", "MRN-B"]


def test_concurrent_beat_relabels_lose_no_edit(
    db: Database, db_url: str, actors: dict[str, Actor], two_cardiologists: tuple[Actor, Actor], recording_id: int
) -> None:
    labels = {"cardio": "V", "cardio2": "A"}
    with _workstations(db_url, *two_cardiologists) as stations:
        loaded = [st.ask(op="load_beats", recording_id=recording_id)["versions"] for st in stations]
        assert loaded[0] == loaded[1] and set(loaded[0].values()) == {1} and len(loaded[0]) == N_BEATS
        # Both have loaded (the barrier): both edit now, the second from the last beat back. On PostgreSQL they
        # meet midway; on SQLite the first usually takes them all (the second waits in SQLite's busy handler).
        for st, versions in zip(stations, loaded, strict=True):
            order = list(versions) if st is stations[0] else list(reversed(versions))
            st.send(op="edit_all", kind="beat", value=labels[st.name], versions={k: versions[k] for k in order})
        results = {st.name: st.recv()["results"] for st in stations}

    for name, res in results.items():
        assert set(res.values()) <= {"ok", "conflict"}, f"{name}: {res}"
    with db.reader(actors["cardio"]) as s:
        beats = {str(b.id): b for b in s.beats.list(recording_id)}
        history = {beat_id: s.beats.history(int(beat_id)) for beat_id in beats}
    for beat_id, beat in beats.items():
        winners = [name for name in results if results[name][beat_id] == "ok"]
        assert len(winners) == 1, f"beat {beat_id}: {winners} won"
        assert beat.version == 1 + len(winners)
        assert beat.label == labels[winners[0]] and beat.updated_by == winners[0]
        assert [(h.action, h.old_label, h.new_label, h.edited_by) for h in history[beat_id]] == [
            ("relabel", "N", labels[winners[0]], winners[0])
        ]
    print({name: sum(v == "ok" for v in res.values()) for name, res in results.items()})


def _race(
    stations: list[Workstation], kind: str, item_id: int, values: dict[str, str], hold_s: float
) -> tuple[dict[str, str], bool, list[str]]:
    """Both workstations edit ``item_id`` from version 1; each stops after its version check until both got there.

    Returns each one's result, whether both passed their version check before either wrote, and
    the messages of the ConcurrentEditErrors.
    """
    for st in stations:
        st.send(op="race", kind=kind, id=item_id, value=values[st.name], expected_version=1)
    checked: set[str] = set()
    results: dict[str, str] = {}
    messages: list[str] = []
    deadline = time.monotonic() + hold_s
    while len(checked) < len(stations) and time.monotonic() < deadline:
        for st in stations:
            if st.name in checked or st.name in results:
                continue
            try:
                msg = st.lines.get(timeout=0.02)
            except queue.Empty:
                continue
            if msg is None:
                raise AssertionError(f"workstation {st.name} exited: {''.join(st.stderr)[-3000:]}")
            if msg.get("event") == "checked":
                assert msg["version"] == 1
                checked.add(st.name)
            else:
                results[st.name] = msg["result"]
                messages += [msg["message"]] if msg["message"] else []
        if len(checked) + len(results) == len(stations) and results:
            break
    raced = len(checked) == len(stations)
    for st in stations:
        if st.name in checked:
            st.send(op="go")
    for st in stations:
        while st.name not in results:
            msg = st.recv()
            if msg.get("event") == "checked":  # got past its check late: let it write (and fail)
                st.send(op="go")
            else:
                results[st.name] = msg["result"]
                messages += [msg["message"]] if msg["message"] else []
    return results, raced, messages


def test_beat_relabel_race_between_load_and_write(
    db: Database, db_url: str, actors: dict[str, Actor], two_cardiologists: tuple[Actor, Actor], recording_id: int
) -> None:
    labels = {"cardio": "V", "cardio2": "A"}
    with db.reader(actors["cardio"]) as s:
        beat_ids = [b.id for b in s.beats.list(recording_id)][:N_RACES]
    hold_s = 1.0 if db.dialect == "sqlite" else 10.0
    with _workstations(db_url, *two_cardiologists) as stations:
        rounds = [_race(stations, "beat", beat_id, labels, hold_s) for beat_id in beat_ids]

    with db.reader(actors["cardio"]) as s:
        beats = {b.id: b for b in s.beats.list(recording_id)}
        history = {beat_id: s.beats.history(beat_id) for beat_id in beat_ids}
    for beat_id, (results, _raced, _messages) in zip(beat_ids, rounds, strict=True):
        assert sorted(results.values()) == ["conflict", "ok"], f"beat {beat_id}: {results}"
        winner = next(name for name, r in results.items() if r == "ok")
        assert beats[beat_id].version == 2 and beats[beat_id].label == labels[winner]
        assert [(h.new_label, h.edited_by) for h in history[beat_id]] == [(labels[winner], winner)]
    raced = sum(r for _, r, _ in rounds)
    print(db.dialect, "beat race: both past the version check in", raced, "of", len(rounds), "rounds;",
          "conflicts:", sorted({m for _, _, ms in rounds for m in ms}))  # fmt: skip
    if db.dialect == "postgresql":
        assert raced == len(rounds), f"both workstations passed their version check in only {raced} rounds"
    else:
        assert raced == 0, "SQLite writers are serialised at BEGIN IMMEDIATE: no two can hold a loaded row at once"


def test_finding_review_race_second_reviewer_gets_concurrent_edit_error(
    db: Database, db_url: str, actors: dict[str, Actor], two_cardiologists: tuple[Actor, Actor], recording_id: int
) -> None:
    decisions = {"cardio": "confirmed", "cardio2": "rejected"}
    with db.reader(actors["cardio"]) as s:
        finding_ids = [f.id for f in s.findings.for_recording(recording_id)]
    hold_s = 1.0 if db.dialect == "sqlite" else 10.0
    with _workstations(db_url, *two_cardiologists) as stations:
        # Plain: both load, then both review with the version they loaded.
        loaded = [st.ask(op="load_findings", recording_id=recording_id)["versions"] for st in stations]
        first, rest = finding_ids[0], finding_ids[1:]
        for st, versions in zip(stations, loaded, strict=True):
            st.send(
                op="edit_all", kind="finding", value=decisions[st.name], versions={str(first): versions[str(first)]}
            )
        plain = {st.name: st.recv()["results"][str(first)] for st in stations}
        # Race: both stop between their version check and their UPDATE.
        rounds = [_race(stations, "finding", fid, decisions, hold_s) for fid in rest]

    with db.reader(actors["admin"]) as s:
        findings = {f.id: f for f in s.findings.for_recording(recording_id)}
        audit = {fid: s.audit.events(entity_type="finding", entity_id=fid) for fid in finding_ids}
    for fid, results in zip(finding_ids, [plain] + [r for r, _, _ in rounds], strict=True):
        assert sorted(results.values()) == ["conflict", "ok"], f"finding {fid}: {results}"
        winner = next(name for name, r in results.items() if r == "ok")
        f = findings[fid]
        assert (f.status, f.reviewed_by, f.version) == (decisions[winner], winner, 2)
        reviews = [(e.action, e.username) for e in audit[fid] if e.action in ("confirm", "reject")]
        assert reviews == [({"confirmed": "confirm", "rejected": "reject"}[decisions[winner]], winner)]
    raced = sum(r for _, r, _ in rounds)
    print(db.dialect, "finding race: both past the version check in", raced, "of", len(rounds), "rounds;",
          "conflicts:", sorted({m for _, _, ms in rounds for m in ms}))  # fmt: skip
    if db.dialect == "postgresql":
        assert raced == len(rounds), f"both reviewers passed their version check in only {raced} rounds"
    else:
        assert raced == 0


if __name__ == "__main__":
    _workstation(sys.argv[1])
