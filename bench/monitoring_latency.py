"""Monitoring slice latency: slice complete -> analysis, findings and alarms committed, through a real session.

Run from the repository root::

    python -m bench.monitoring_latency [--record PATH] [--seconds 600] [--speed 60] [--json FILE]

A :class:`~ecgstation.devices.simulated_patch.SimulatedPatch` replays ``--seconds`` of the record
(default MIT-BIH 208 from ``$ECGSTATION_DATA/mitdb``, else the bundled ``resources/samples/208``)
at ``--speed`` x real time into a :class:`~ecgstation.monitoring.session.MonitoringSession` with
the bundled models, on a fresh SQLite file in a temporary folder. The latency of each slice is
measured from the moment the slicer completes it (asyncio thread) to the commit of the
transaction holding its analysis, findings and alarms (worker thread): it includes waiting
behind the previous slice, the commit of the samples, the analysis and both commits.
Goal (the issue's): median < 200 ms. The exit status is 1 when the goal fails.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BUDGET_MS = 200.0
REPO_ROOT = Path(__file__).resolve().parents[1]


def _default_record() -> Path:
    data = Path(os.environ.get("ECGSTATION_DATA", REPO_ROOT.parent / "shared" / "data"))
    full = data / "mitdb" / "208.hea"
    return full if full.is_file() else REPO_ROOT / "resources" / "samples" / "208.hea"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--record", type=Path, default=None)
    ap.add_argument("--seconds", type=float, default=600.0)
    ap.add_argument("--speed", type=float, default=60.0)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO_ROOT))
    from ecgstation.storage import Actor, Database, DatabaseSettings, Role
    from tests.monitoring._runner import clip, run_session

    record = args.record or _default_record()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database.open(DatabaseSettings(url=f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"))
        setup = Actor(None, "setup", Role.ADMIN)
        with db.session(setup) as s:
            s.users.create("admin", Role.ADMIN, "benchmark password 1")
        with db.session(setup) as s:
            admin = s.users.authenticate("admin", "benchmark password 1")
        with db.session(admin) as s:
            s.users.create("nurse", Role.NURSE, "benchmark password 1")
        with db.session(setup) as s:
            nurse = s.users.authenticate("nurse", "benchmark password 1")
        t0 = time.perf_counter()
        session = run_session(db, nurse, clip(record, 0.0, args.seconds), speed=args.speed)
        wall = time.perf_counter() - t0
        db.dispose()
    lat = np.asarray(session.latencies_ms, dtype=np.float64)
    analysis = np.asarray([d["analysis_ms"] for d in session.analyses], dtype=np.float64)
    out = {
        "record": str(record), "seconds": args.seconds, "speed": args.speed, "slices": int(lat.size),
        "median_ms": round(float(np.median(lat)), 1), "p90_ms": round(float(np.percentile(lat, 90)), 1),
        "max_ms": round(float(lat.max()), 1), "analysis_median_ms": round(float(np.median(analysis)), 1),
        "budget_ms": BUDGET_MS, "median_over_budget": round(float(np.median(lat)) / BUDGET_MS, 3),
        "alarms": len(session.alarms), "wall_s": round(wall, 1), "errors": session.errors,
    }  # fmt: skip
    print(f"record {record.name}: {out['slices']} slices of 10 s at {args.speed:g}x in {out['wall_s']} s")
    print(f"slice latency (complete -> findings stored): median {out['median_ms']} ms, p90 {out['p90_ms']} ms, "
          f"max {out['max_ms']} ms; analysis alone median {out['analysis_median_ms']} ms")  # fmt: skip
    print(f"median / budget {BUDGET_MS:g} ms = {out['median_over_budget']}")
    if args.json is not None:
        args.json.write_text(json.dumps(out, indent=2))
    return 0 if out["median_ms"] < BUDGET_MS and lat.size > 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
