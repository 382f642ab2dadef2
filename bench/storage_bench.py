"""Waveform storage: write time, size on disk and random 10 s window reads, SQLite and PostgreSQL side by side.

Run from the repository root::

    python -m bench.storage_bench [--hours 24] [--engines sqlite,postgresql] [--json FILE]

The recording: the MIT-BIH Arrhythmia records (``$ECGSTATION_DATA/mitdb``, default
``../shared/data`` beside the repository) read with :func:`ecgstation.io.read_recording`,
their two leads kept and concatenated in record order (starting again from the first when
they run out) until ``--hours`` of signal at 360 Hz (24 h = 31,104,000 samples per lead).
Calibration is 200 counts/mV, MIT-BIH's ADC gain, so the int16 storage path is lossless.

Per engine: the time of ``Store.recordings.store`` in one ``db.session`` (commit included);
the size (SQLite: the file after ``PRAGMA wal_checkpoint(TRUNCATE)``; PostgreSQL:
``pg_total_relation_size`` of ``waveform_chunks`` + ``recordings``, and ``pg_database_size``
for reference) per hour of signal and against the raw int16 size (2 bytes x 2 leads x
samples); the time of one random 10 s window read the way the viewer reads it (a new
``db.reader`` transaction, then ``read_window``), median of ``--reads``. Correctness:
random windows and the whole record read back are compared with the source array
(``np.array_equal``).

Goals (the issue's): a random 10 s window in < 20 ms on SQLite; size <= 1.2 x raw int16.
PostgreSQL runs on the server named by ``$ECGSTATION_BENCH_POSTGRES_URL`` (else
``$ECGSTATION_TEST_POSTGRES_URL``), in a fresh database dropped afterwards; without a URL it
is skipped with the reason printed. The exit status is 1 when a goal fails or a check differs.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench import _pg
from ecgstation.core.recording import LeadCalibration, Recording
from ecgstation.io import read_recording
from ecgstation.storage import Actor, Database, DatabaseSettings, Role

FS_HZ = 360.0
N_LEADS = 2
GAIN_COUNTS_PER_MV = 200.0
WINDOW_S = 10.0
#: Goal: median time of a random 10 s window read on SQLite, ms.
WINDOW_GOAL_MS = 20.0
#: Goal: stored size / raw int16 size.
SIZE_GOAL_RATIO = 1.2
BENCH_POSTGRES_ENV = "ECGSTATION_BENCH_POSTGRES_URL"
TEST_POSTGRES_ENV = "ECGSTATION_TEST_POSTGRES_URL"
PASSWORD = "storage bench password"
REPO_ROOT = Path(__file__).resolve().parents[1]


# -- the recording ---------------------------------------------------------------------------------


def build_recording(data_dir: Path, hours: float) -> tuple[Recording, list[str]]:
    """MIT-BIH records, two leads each, concatenated until ``hours`` at 360 Hz; and the records used."""
    headers = sorted((data_dir / "mitdb").glob("*.hea"))
    if not headers:
        raise FileNotFoundError(f"no MIT-BIH records in {data_dir / 'mitdb'} (set ECGSTATION_DATA)")
    total = round(hours * 3600 * FS_HZ)
    signals = np.empty((N_LEADS, total), dtype=np.float32)
    filled, used, k = 0, [], 0
    while filled < total:
        rec = read_recording(headers[k % len(headers)])
        k += 1
        if rec.fs != FS_HZ or rec.n_leads < N_LEADS:
            continue
        gains = {c.gain for c in rec.calibration[:N_LEADS]}
        if gains != {GAIN_COUNTS_PER_MV}:
            raise ValueError(f"{rec.source_path}: gains {gains}, expected {GAIN_COUNTS_PER_MV} counts/mV")
        n = min(rec.n_samples, total - filled)
        signals[:, filled : filled + n] = rec.signals[:N_LEADS, :n]
        filled += n
        used.append(Path(str(rec.source_path or headers[(k - 1) % len(headers)])).stem)
    recording = Recording(
        signals=signals,
        fs=FS_HZ,
        lead_names=("ECG1", "ECG2"),
        calibration=tuple(LeadCalibration(gain=GAIN_COUNTS_PER_MV) for _ in range(N_LEADS)),
        metadata={"bench": "storage", "records": used},
    )
    return recording, used


def postgres_base_url() -> str | None:
    """The server for the PostgreSQL column: $ECGSTATION_BENCH_POSTGRES_URL, else the tests' URL."""
    return _pg.postgres_base_url(BENCH_POSTGRES_ENV, TEST_POSTGRES_ENV)


# -- one engine ------------------------------------------------------------------------------------


def _sign_in(db: Database) -> Actor:
    setup = Actor(None, "setup", Role.ADMIN)
    with db.session(setup) as s:
        s.users.create("bench", Role.ADMIN, PASSWORD)
    with db.session(setup) as s:
        return s.users.authenticate("bench", PASSWORD)


def _size_sqlite(url: str) -> dict[str, Any]:
    path = make_url(url).database
    assert path
    with sqlite3.connect(path) as conn:
        busy, log_frames, checkpointed = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    wal = Path(path + "-wal")
    return {
        "stored_bytes": os.path.getsize(path),
        "wal_bytes_after_checkpoint": wal.stat().st_size if wal.exists() else 0,
        "checkpoint": {"busy": busy, "log_frames": log_frames, "checkpointed": checkpointed},
        "size_measure": "SQLite file size after PRAGMA wal_checkpoint(TRUNCATE)",
    }


def _size_postgresql(db: Database) -> dict[str, Any]:
    with db.engine.connect() as conn:
        chunks = conn.execute(text("SELECT pg_total_relation_size('waveform_chunks')")).scalar_one()
        recs = conn.execute(text("SELECT pg_total_relation_size('recordings')")).scalar_one()
        whole = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        conn.rollback()
    return {
        "stored_bytes": int(chunks) + int(recs),
        "waveform_chunks_bytes": int(chunks),
        "recordings_bytes": int(recs),
        "database_bytes": int(whole),
        "size_measure": "pg_total_relation_size(waveform_chunks) + pg_total_relation_size(recordings)",
    }


def _read_once(db: Database, actor: Actor, recording_id: int, start_s: float) -> tuple[float, NDArray[np.float32]]:
    t0 = time.perf_counter()
    with db.reader(actor) as s:
        window = s.recordings.read_window(recording_id, start_s, WINDOW_S)
    return time.perf_counter() - t0, window


def bench_engine(engine: str, url: str, recording: Recording, reads: int, checks: int, seed: int) -> dict[str, Any]:
    """Store ``recording`` in the empty database at ``url``, measure size and window reads, check contents."""
    n = recording.n_samples
    hours = recording.duration_s / 3600.0
    raw_int16 = 2 * N_LEADS * n
    db = Database.open(DatabaseSettings(url=url))
    try:
        actor = _sign_in(db)
        t0 = time.perf_counter()
        with db.session(actor) as s:
            result = s.recordings.store(
                recording, source_name="bench: MIT-BIH concatenated", source_format="WFDB", file_sha256="0" * 64
            )
        write_s = time.perf_counter() - t0
        recording_id = result.recording.id
        encoding = result.recording.sample_encoding
        db.dispose()
        size = _size_sqlite(url) if engine == "sqlite" else _size_postgresql(db)

        # The viewer: a fresh transaction per 10 s window, random positions.
        rng = np.random.default_rng(seed)
        max_start = n - int(WINDOW_S * FS_HZ)
        first_s, _ = _read_once(db, actor, recording_id, float(rng.integers(0, max_start)) / FS_HZ)
        times = []
        for _ in range(reads):
            start = int(rng.integers(0, max_start))
            dt, _window = _read_once(db, actor, recording_id, start / FS_HZ)
            times.append(dt)
        times_ms = sorted(1000.0 * t for t in times)

        # Correctness: random windows and the whole record, sample for sample.
        src = recording.signals
        width = int(WINDOW_S * FS_HZ)
        bad_windows = []
        for _ in range(checks):
            start = int(rng.integers(0, max_start))
            _, window = _read_once(db, actor, recording_id, start / FS_HZ)
            if not np.array_equal(window, src[:, start : start + width]):
                bad_windows.append(start)
        t1 = time.perf_counter()
        with db.reader(actor) as s:
            whole = s.recordings.read_samples(recording_id, 0, n)
        full_read_s = time.perf_counter() - t1
        whole_equal = bool(np.array_equal(whole, src))
        del whole
    finally:
        db.dispose()

    stored = size["stored_bytes"]
    median_ms = statistics.median(times_ms)
    return {
        "engine": engine,
        "url": make_url(url).render_as_string(hide_password=True),
        "hours": hours,
        "samples_per_lead": n,
        "sample_encoding": encoding,
        "write_s": write_s,
        "write_x_realtime": recording.duration_s / write_s,
        **size,
        "raw_int16_bytes": raw_int16,
        "size_ratio_vs_raw_int16": stored / raw_int16,
        "mb_per_hour": stored / 1e6 / hours,
        "raw_int16_mb_per_hour": raw_int16 / 1e6 / hours,
        "window_reads": reads,
        "window_first_read_ms": 1000.0 * first_s,
        "window_median_ms": median_ms,
        "window_p95_ms": times_ms[min(len(times_ms) - 1, round(0.95 * (len(times_ms) - 1)))],
        "window_max_ms": times_ms[-1],
        "window_ratio_vs_goal": median_ms / WINDOW_GOAL_MS,
        "checked_windows": checks,
        "bad_windows": bad_windows,
        "full_read_s": full_read_s,
        "full_read_equal": whole_equal,
    }


# -- report ----------------------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(results: list[dict[str, Any]], skipped: dict[str, str]) -> tuple[list[str], bool]:
    """The table printed, and whether every goal and check passed."""
    lines: list[str] = []
    ok = True
    if results:
        names = [r["engine"] for r in results]
        rows: list[tuple[str, list[str]]] = [
            ("sample encoding", [r["sample_encoding"] for r in results]),
            ("write time (s)", [f"{r['write_s']:.1f}" for r in results]),
            ("write speed (x real time)", [f"{r['write_x_realtime']:.0f}" for r in results]),
            ("stored size (MB)", [f"{r['stored_bytes'] / 1e6:.1f}" for r in results]),
            ("raw int16 size (MB)", [f"{r['raw_int16_bytes'] / 1e6:.1f}" for r in results]),
            ("size per hour of signal (MB/h)", [f"{r['mb_per_hour']:.2f}" for r in results]),
            ("size / raw int16 (goal <= 1.2)", [f"{r['size_ratio_vs_raw_int16']:.3f}" for r in results]),
            ("10 s window: first read (ms)", [f"{r['window_first_read_ms']:.2f}" for r in results]),
            ("10 s window: median (ms)", [f"{r['window_median_ms']:.2f}" for r in results]),
            ("10 s window: p95 / max (ms)", [f"{r['window_p95_ms']:.2f} / {r['window_max_ms']:.2f}" for r in results]),
            ("median window / 20 ms goal", [f"{r['window_ratio_vs_goal']:.3f}" for r in results]),
            ("whole record read back (s)", [f"{r['full_read_s']:.1f}" for r in results]),
        ]
        if any("database_bytes" in r for r in results):
            rows.append(
                ("pg_database_size (MB)", [f"{r['database_bytes'] / 1e6:.1f}" if "database_bytes" in r else "-"
                                           for r in results])
            )  # fmt: skip
        width = max(len(label) for label, _ in rows)
        lines.append(f"{'':<{width}}  " + "  ".join(f"{n:>12}" for n in names))
        for label, values in rows:
            lines.append(f"{label:<{width}}  " + "  ".join(f"{v:>12}" for v in values))
        lines.append("")
        for r in results:
            e = r["engine"]
            size_ok = r["size_ratio_vs_raw_int16"] <= SIZE_GOAL_RATIO
            lines.append(
                f"{e}: size {r['stored_bytes'] / 1e6:.1f} MB = {r['size_ratio_vs_raw_int16']:.3f} x raw int16 "
                f"(goal <= {SIZE_GOAL_RATIO}): {_verdict(size_ok)}"
            )
            ok &= size_ok
            win_ok = r["window_median_ms"] < WINDOW_GOAL_MS
            if e == "sqlite":
                lines.append(
                    f"{e}: random 10 s window median {r['window_median_ms']:.2f} ms = "
                    f"{r['window_ratio_vs_goal']:.3f} x the 20 ms goal (< 1): {_verdict(win_ok)}"
                )
                ok &= win_ok
            else:
                lines.append(
                    f"{e}: random 10 s window median {r['window_median_ms']:.2f} ms = "
                    f"{r['window_ratio_vs_goal']:.3f} x 20 ms (the goal is set for SQLite; for comparison): "
                    f"{_verdict(win_ok)}"
                )
            check_ok = not r["bad_windows"] and r["full_read_equal"]
            lines.append(
                f"{e}: read back == source ({r['checked_windows']} random windows, then the whole record): "
                f"{_verdict(check_ok)}"
                + (f" (differing windows at samples {r['bad_windows']})" if r["bad_windows"] else "")
            )
            ok &= check_ok
    for engine, reason in skipped.items():
        lines.append(f"{engine}: skipped: {reason}")
    return lines, ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_data = Path(os.environ.get("ECGSTATION_DATA", REPO_ROOT.parent / "shared" / "data"))
    parser.add_argument("--data", type=Path, default=default_data)
    parser.add_argument("--hours", type=float, default=24.0, help="hours of two-lead 360 Hz signal (default 24)")
    parser.add_argument("--engines", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--reads", type=int, default=100, help="random 10 s windows timed (default 100)")
    parser.add_argument("--checks", type=int, default=5, help="random windows compared with the source")
    parser.add_argument("--seed", type=int, default=20240)
    parser.add_argument("--workdir", type=Path, default=None, help="folder for the SQLite file (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    engines = [e.strip().lower() for e in args.engines.split(",") if e.strip()]
    unknown = set(engines) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown engines: {', '.join(sorted(unknown))}")
    if args.hours * 3600 < 2 * WINDOW_S:
        parser.error("--hours must cover at least 20 s")

    t0 = time.perf_counter()
    try:
        recording, used = build_recording(args.data, args.hours)
    except (FileNotFoundError, ValueError) as error:
        print(error, file=sys.stderr)
        return 2
    n = recording.n_samples
    print(
        f"# storage bench: {recording.duration_s / 3600:.2f} h, {N_LEADS} leads x {n:,} samples at {FS_HZ:g} Hz "
        f"({len(used)} MIT-BIH records concatenated, {GAIN_COUNTS_PER_MV:g} counts/mV; built in "
        f"{time.perf_counter() - t0:.1f} s); raw int16 {2 * N_LEADS * n / 1e6:.1f} MB"
    )
    print(f"# window reads: {args.reads} random {WINDOW_S:g} s windows, each in a new db.reader transaction")

    results: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="ecgstation-storage-bench-", dir=args.workdir) as tmp:
        for engine in engines:
            if engine == "sqlite":
                url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
                print(f"# sqlite: {url}", flush=True)
                results.append(bench_engine("sqlite", url, recording, args.reads, args.checks, args.seed))
                continue
            base = postgres_base_url()
            if base is None:
                skipped[engine] = (
                    f"set {BENCH_POSTGRES_ENV} or {TEST_POSTGRES_ENV} to a server that may CREATE DATABASE"
                )
                continue
            url = _pg.create_database(base, "ecgst_bench_")
            print(f"# postgresql: {make_url(url).render_as_string(hide_password=True)}", flush=True)
            try:
                results.append(bench_engine("postgresql", url, recording, args.reads, args.checks, args.seed))
            finally:
                _pg.drop_database(base, url)

    lines, ok = report(results, skipped)
    print("\n".join(lines))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "hours": recording.duration_s / 3600,
            "samples_per_lead": n,
            "records": used,
            "goals": {"window_median_ms_sqlite": WINDOW_GOAL_MS, "size_ratio_vs_raw_int16": SIZE_GOAL_RATIO},
            "results": results,
            "skipped": skipped,
            "pass": ok,
        }
        args.json.write_text(json.dumps(payload, indent=2, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
