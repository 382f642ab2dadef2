"""Monitoring writes and viewer reads at the same time: no lost slice, no "database is locked".

A writer thread appends a 10 s two-lead 250 Hz slice every 100 ms (one ``db.session`` per
slice, as the monitoring pipeline commits them); a reader thread meanwhile lists the stored
slice indices, decodes the last few slices and lists the recordings, each in its own
``db.reader`` transaction, as the viewer does. On SQLite (WAL) neither may fail or wait out
the busy timeout; afterwards every slice 0..N-1 is stored and equal to what was written.

Duration: ``$ECGSTATION_CONCURRENCY_SECONDS`` (default 120 s) on SQLite, at most 30 s on PostgreSQL.
"""

from __future__ import annotations

import os
import threading
import time
import traceback

import numpy as np
from sqlalchemy import text

from ecgstation.storage import Actor, Database
from tests.storage._slice_writer import GAIN, SLICE_FS_HZ, SLICE_LEADS, slice_signals, slice_start, synthetic_recording

DURATION_ENV = "ECGSTATION_CONCURRENCY_SECONDS"
#: One slice is appended every this many seconds.
PERIOD_S = 0.1
#: The reader decodes this many of the newest slices each round.
LAST_FEW = 3


def _duration_s(dialect: str) -> float:
    seconds = float(os.environ.get(DURATION_ENV, "120"))
    return seconds if dialect == "sqlite" else min(seconds, 30.0)


def test_writer_and_reader_threads_lose_nothing(db: Database, actors: dict[str, Actor]) -> None:
    duration = _duration_s(db.dialect)
    nurse, cardio = actors["nurse"], actors["cardio"]
    if db.dialect == "sqlite":
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
            conn.rollback()
    with db.session(nurse) as s:
        recording_id = s.recordings.store(
            synthetic_recording(60 / 3600), source_name="short.hea", source_format="WFDB", file_sha256="1" * 64
        ).recording.id
        session_id = s.monitoring.start(fs=SLICE_FS_HZ, lead_names=("I", "II")).id
    # Generated before the clock starts, so the writer's pace measures storage, not numpy.
    n_planned = int(duration / PERIOD_S) + 1
    data = [slice_signals(i) for i in range(n_planned)]

    errors: list[str] = []
    written = 0
    write_times: list[float] = []
    reads = {"rounds": 0, "slices_checked": 0, "max_seen": -1}
    writer_done = threading.Event()

    def writer() -> None:
        nonlocal written
        t0 = time.monotonic()
        try:
            for index in range(n_planned):
                due = t0 + index * PERIOD_S
                if due >= t0 + duration:
                    break
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)  # a device delivers at a fixed rate: late slices are written at once
                w0 = time.monotonic()
                with db.session(nurse) as s:
                    s.monitoring.append_slice(
                        session_id, index, slice_start(index), data[index], SLICE_FS_HZ,
                        analysis={"index": index}, source_gains=(GAIN,) * SLICE_LEADS,
                    )  # fmt: skip
                write_times.append(time.monotonic() - w0)
                written = index + 1
        except Exception:  # noqa: BLE001 - whatever stops the writer fails the test (errors)
            errors.append("writer: " + traceback.format_exc())
        finally:
            writer_done.set()

    def reader() -> None:
        try:
            while not writer_done.is_set():
                with db.reader(cardio) as s:
                    indices = s.monitoring.slice_indices(session_id)
                # A reader sees a prefix of the slices: each was committed on its own, in order.
                assert indices == list(range(len(indices))), f"gap in {indices[-10:]}"
                assert len(indices) >= reads["max_seen"] + 1, "a committed slice disappeared"
                with db.reader(cardio) as s:
                    views = s.monitoring.slices(session_id, max(0, len(indices) - LAST_FEW))
                    listed = s.recordings.for_patient(None)
                assert [r.id for r in listed] == [recording_id]
                for view in views:
                    assert np.array_equal(view.signals, data[view.index]), f"slice {view.index} read back differs"
                reads["rounds"] += 1
                reads["slices_checked"] += len(views)
                reads["max_seen"] = max(reads["max_seen"], len(indices) - 1)
                time.sleep(0.02)  # the viewer refreshes at most ~50 times a second
        except Exception:  # noqa: BLE001 - whatever stops the reader fails the test (errors)
            errors.append("reader: " + traceback.format_exc())

    threads = [threading.Thread(target=writer, name="writer"), threading.Thread(target=reader, name="reader")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration + 120)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"

    stats = (
        f"{db.dialect}, {duration:g} s: wrote {written} slices (planned {int(duration / PERIOD_S)}), "
        f"write max {max(write_times, default=0) * 1000:.0f} ms, "
        f"median {float(np.median(write_times or [0])) * 1000:.1f} ms; reader rounds {reads['rounds']}, "
        f"slices checked {reads['slices_checked']}"
    )
    assert not errors, stats + "\n" + "\n".join(errors)
    with db.reader(cardio) as s:
        indices = s.monitoring.slice_indices(session_id)
        stored = s.monitoring.slices(session_id)
    assert indices == list(range(written)), f"lost slices: {sorted(set(range(written)) - set(indices))}; {stats}"
    for view in stored:
        assert np.array_equal(view.signals, data[view.index]), f"slice {view.index} differs; {stats}"
        assert view.analysis == {"index": view.index}
    assert reads["rounds"] > 0, stats
    # Throughput sustained (the writer catches up when late, so only storage slower than 100 ms/slice fails).
    assert written >= 0.8 * duration / PERIOD_S, stats
    print(stats)
