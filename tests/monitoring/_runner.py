"""Run one monitoring session of a SimulatedPatch replay on a database (tests, benchmark, kill -9 child).

python tests/monitoring/_runner.py URL USER_ID USERNAME RECORD START_S STOP_S SPEED
    runs a session as that nurse, printing "slice <index>" after each slice's commit and
    "ended" at the end (the kill -9 test's child).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from ecgstation.core.recording import Recording
from ecgstation.devices.simulated_patch import SimulatedPatch
from ecgstation.inference.model_analysis import AnalysisModels, load_analysis_models
from ecgstation.inference.registry import ModelRegistry
from ecgstation.io import read_recording
from ecgstation.monitoring.alarms import AlarmSettings
from ecgstation.monitoring.bed_feed import BedFeed
from ecgstation.monitoring.session import MonitoringSession
from ecgstation.storage import Actor, Database

_MODELS: AnalysisModels | None = None


def models() -> AnalysisModels:
    """The bundled models, loaded once per process (one intra-op thread: the CI has two cores)."""
    global _MODELS
    if _MODELS is None:
        _MODELS = load_analysis_models(ModelRegistry.from_folder(), intra_op_threads=1)
    return _MODELS


PASSWORD = "correct horse battery staple"


def sqlite_with_nurse(path: Path) -> tuple[Database, Actor, Actor]:
    """A new SQLite database at ``path`` with an administrator and a nurse: (db, admin, nurse), signed in."""
    from ecgstation.storage import DatabaseSettings, Role

    db = Database.open(DatabaseSettings(url=f"sqlite:///{path}"))
    setup = Actor(None, "setup", Role.ADMIN)
    with db.session(setup) as s:
        s.users.create("admin", Role.ADMIN, PASSWORD)
    with db.session(setup) as s:
        admin = s.users.authenticate("admin", PASSWORD)
    with db.session(admin) as s:
        s.users.create("nurse", Role.NURSE, PASSWORD)
    with db.session(setup) as s:
        nurse = s.users.authenticate("nurse", PASSWORD)
    return db, admin, nurse


def clip(path: str | Path, start_s: float, stop_s: float) -> Recording:
    """The part ``start_s`` .. ``stop_s`` of a record (session time 0 = ``start_s``)."""
    rec = read_recording(path)
    a, b = round(start_s * rec.fs), round(stop_s * rec.fs)
    return Recording(signals=rec.signals[:, a:b].copy(), fs=rec.fs, lead_names=rec.lead_names,
                     source_path=rec.source_path)  # fmt: skip


def run_session(
    db: Database, actor: Actor, recording: Recording, *, speed: float = 60.0,
    alarm_settings: AlarmSettings | None = None, patient_id: int | None = None, echo: bool = False,
    **patch_kw: object,
) -> MonitoringSession:  # fmt: skip
    """Replay ``recording`` through a SimulatedPatch into a full session; the finished session."""
    patch = SimulatedPatch(recording, speed=speed, **patch_kw)  # type: ignore[arg-type]
    feed = BedFeed("bed 1", "test patient", patch.fs, patch.lead_names)

    def stored(index: int) -> None:
        if echo:
            print(f"slice {index}", flush=True)

    session = MonitoringSession(patch, db, actor, patient_id=patient_id, feed=feed, models=models(),
                                alarm_settings=alarm_settings, on_slice_stored=stored)  # fmt: skip
    asyncio.run(session.run())
    return session


def main(argv: list[str]) -> int:
    from ecgstation.storage import DatabaseSettings, Role

    url, user_id, username, record, start, stop, speed = argv
    db = Database.open(DatabaseSettings(url=url, migrate=False))
    actor = Actor(int(user_id), username, Role.NURSE)
    run_session(db, actor, clip(record, float(start), float(stop)), speed=float(speed), echo=True)
    print("ended", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
