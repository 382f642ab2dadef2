"""Kill -9 during a session: after restart the session is "interrupted" and keeps every slice committed before.

The child (tests/monitoring/_runner.py) runs a real session (SimulatedPatch at 60x, the bundled record
100) on a SQLite file and prints each slice index after its commit; the test kills it with SIGKILL
after at least 3 slices, then runs recovery as a restarted workstation would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ecgstation.monitoring.recovery import recover_interrupted_sessions
from ecgstation.storage import Actor, Database, DatabaseSettings
from tests.monitoring._runner import sqlite_with_nurse

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

REPO_ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("_runner.py")
SAMPLE_100 = REPO_ROOT / "resources" / "samples" / "100.hea"
KILL_AFTER = 3


def _database(path: Path) -> tuple[Database, Actor, Actor]:
    return sqlite_with_nurse(path)


def test_kill_9_then_recovery_keeps_every_committed_slice(tmp_path: Path) -> None:
    path = tmp_path / "kill.sqlite3"
    db, _admin, nurse = _database(path)
    db.dispose()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
    with (tmp_path / "child.err").open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, str(RUNNER), f"sqlite:///{path}", str(nurse.user_id), "nurse", str(SAMPLE_100),
             "0", "600", "60"],
            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=err, text=True,
        )  # fmt: skip
    timer = threading.Timer(120, proc.kill)  # a hung child ends the test instead of hanging it
    timer.start()
    printed: list[int] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("slice "):
                printed.append(int(line.split()[1]))
            if len(printed) >= KILL_AFTER:
                os.kill(proc.pid, signal.SIGKILL)
                break
    finally:
        timer.cancel()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, (tmp_path / "child.err").read_text()[-2000:]
    assert len(printed) >= KILL_AFTER

    db = Database.open(DatabaseSettings(url=f"sqlite:///{path}"))
    try:
        with db.reader(nurse) as s:
            (session,) = s.monitoring.sessions()
        assert session.state == "active"  # what the crash left
        assert recover_interrupted_sessions(db, nurse) == [session.id]
        assert recover_interrupted_sessions(db, nurse) == []  # once
        with db.reader(nurse) as s:
            view = s.monitoring.get(session.id)
            indices = s.monitoring.slice_indices(session.id)
            slices = s.monitoring.slices(session.id)
        assert view.state == "interrupted"
        assert set(printed) <= set(indices), (printed, indices)
        assert all(v.signals.shape == (1, 3600) for v in slices)
        summary = view.summary or {}
        assert summary["interrupted"] is True and summary["stored_slices"] == len(indices)
        assert summary["n_slices"] + len(summary["unanalysed_slices"]) == len(indices)
    finally:
        db.dispose()


def test_a_live_session_of_this_process_is_left_alone(tmp_path: Path) -> None:
    db, _admin, nurse = _database(tmp_path / "live.sqlite3")
    try:
        with db.session(nurse) as s:
            live = s.monitoring.start(
                fs=250.0, lead_names=("I",), owner_host=socket.gethostname(), owner_pid=os.getpid()
            )
            dead = s.monitoring.start(fs=250.0, lead_names=("I",), owner_host="elsewhere", owner_pid=1)
        # another host's session is judged by its heartbeat: fresh, so alive
        assert recover_interrupted_sessions(db, nurse, live_session_ids=[live.id]) == []
        assert recover_interrupted_sessions(db, nurse, live_session_ids=[live.id], stale_after_s=0.0) == [dead.id]
        with db.reader(nurse) as s:
            assert s.monitoring.get(live.id).state == "active"
    finally:
        db.dispose()
