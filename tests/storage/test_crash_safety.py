"""A writer killed with SIGKILL loses nothing it reported committed, and leaves nothing half-written.

The writer is a child process (tests/storage/_slice_writer.py). It prints each monitoring slice
index after its transaction commits; the test kills it mid-stream and checks that every printed
slice is in the database, intact. A second child is killed in the middle of storing a 2 h
recording (chunks already sent, not committed): afterwards there is no recording row and no
orphan chunk row, and the same recording can be stored again.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from ecgstation.storage import Actor, Database, DatabaseSettings
from ecgstation.storage.orm import WaveformChunkRow
from tests.storage._slice_writer import SLICE_FS_HZ, SLICE_LEADS, slice_signals, synthetic_recording

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

REPO_ROOT = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("_slice_writer.py")
#: Kill the slice writer once it has reported this many committed slices.
KILL_AFTER = 20
RECORDING_HOURS = 2.0


def _spawn(stderr: Path, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
    with stderr.open("w") as err:
        return subprocess.Popen(
            [sys.executable, str(WRITER), *args], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=err, text=True
        )


@contextlib.contextmanager
def _deadline(proc: subprocess.Popen[str], seconds: float) -> Iterator[None]:
    """Kill the child if the block takes longer than ``seconds`` (its stdout then ends and the test fails)."""
    timer = threading.Timer(seconds, proc.kill)
    timer.start()
    try:
        yield
    except BaseException:
        proc.kill()
        proc.wait(timeout=30)
        raise
    finally:
        timer.cancel()


def _kill(proc: subprocess.Popen[str]) -> str:
    """SIGKILL the child, then return the rest of its stdout (what it printed before it died)."""
    os.kill(proc.pid, signal.SIGKILL)
    out, _err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return out


def _integrity_ok(db_url: str) -> None:
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite":
        return
    assert url.database
    with sqlite3.connect(url.database) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_killed_slice_writer_loses_no_committed_slice(
    db: Database, db_url: str, actors: dict[str, Actor], tmp_path: Path
) -> None:
    nurse = actors["nurse"]
    with db.session(nurse) as s:
        session_id = s.monitoring.start(fs=SLICE_FS_HZ, lead_names=("I", "II")).id
    assert nurse.user_id is not None
    stderr = tmp_path / "writer.err"
    proc = _spawn(stderr, "slices", db_url, str(session_id), str(nurse.user_id), nurse.username)
    assert proc.stdout is not None
    printed: list[int] = []
    with _deadline(proc, 120):
        for line in proc.stdout:
            printed.append(int(line))
            if len(printed) >= KILL_AFTER:
                break
        else:
            proc.wait(timeout=30)
            pytest.fail(f"the writer exited after {len(printed)} slices: {stderr.read_text()[-2000:]}")
        rest = _kill(proc)
    printed += [int(x) for x in rest.split()]
    assert printed == list(range(len(printed)))

    # Reopen as a workstation would after the crash.
    db.dispose()
    _integrity_ok(db_url)
    reopened = Database.open(DatabaseSettings(url=db_url))
    try:
        with reopened.reader(actors["cardio"]) as s:
            indices = s.monitoring.slice_indices(session_id)
            slices = s.monitoring.slices(session_id)
    finally:
        reopened.dispose()
    # Everything reported is there; at most one more (committed but killed before it printed).
    assert indices[: len(printed)] == printed, f"lost slices: {sorted(set(printed) - set(indices))}"
    assert indices == list(range(len(indices))) and len(indices) <= len(printed) + 1
    for view in slices:
        assert view.signals.shape == (SLICE_LEADS, int(SLICE_FS_HZ * 10))
        assert np.array_equal(view.signals, slice_signals(view.index)), f"slice {view.index} differs"
        assert view.analysis == {"index": view.index}
    assert len(slices) == len(indices)


def test_killed_recording_import_leaves_no_partial_recording(
    db: Database, db_url: str, actors: dict[str, Actor], tmp_path: Path
) -> None:
    nurse = actors["nurse"]
    assert nurse.user_id is not None
    stderr = tmp_path / "importer.err"
    proc = _spawn(stderr, "recording", db_url, str(nurse.user_id), nurse.username, str(RECORDING_HOURS))
    assert proc.stdout is not None
    seen: list[str] = []
    with _deadline(proc, 180):
        for line in proc.stdout:
            seen.append(line.strip())
            if seen[-1] == "mid-store":
                break
        else:
            proc.wait(timeout=30)
            pytest.fail(f"the importer exited before the middle of the store ({seen}): {stderr.read_text()[-2000:]}")
        if make_url(db_url).get_backend_name() == "postgresql":
            # The batches sent so far are inside the child's open transaction on the server.
            with db.engine.connect() as conn:
                active = conn.exec_driver_sql(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state = 'idle in transaction'"
                ).scalar_one()
                conn.rollback()
            assert active >= 1
        rest = _kill(proc)
    assert "stored" not in rest, "the import committed before it was killed"

    db.dispose()
    _integrity_ok(db_url)
    reopened = Database.open(DatabaseSettings(url=db_url))
    try:
        with reopened.reader(actors["cardio"]) as s:
            assert s.recordings.for_patient(None) == []
            assert s.session.scalar(select(func.count()).select_from(WaveformChunkRow)) == 0
        # The half-written import left no trace: the same recording stores as new and reads back.
        recording = synthetic_recording(RECORDING_HOURS)
        with reopened.session(nurse) as s:
            result = s.recordings.store(recording, source_name="crash.hea", source_format="WFDB", file_sha256="0" * 64)
        assert not result.duplicate
        with reopened.reader(actors["cardio"]) as s:
            n_chunks = s.session.scalar(select(func.count()).select_from(WaveformChunkRow))
            window = s.recordings.read_samples(result.recording.id, 1_000_000, 1_003_600)
        assert n_chunks == -(-recording.n_samples // 3600)
        assert np.array_equal(window, recording.signals[:, 1_000_000:1_003_600])
    finally:
        reopened.dispose()
