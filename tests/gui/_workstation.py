"""Shared set-up of the workstation GUI tests: a temporary QSettings file and a database seeded with the samples.

Seeding (four sample imports with analysis) takes seconds, so it is done once per test session
into a template SQLite file that each test copies.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from ecgstation.storage import DatabaseSettings, Role
from ecgstation.ui.session import WorkstationSession, ensure_bundled_samples, open_workstation

#: Accounts of the seeded database (none has a password): the first one is its administrator.
ADMIN, CARDIO, NURSE, STUDENT = "doctor", "cardio", "nurse", "student"

_TEMPLATE: dict[str, Path] = {}


def _copy_db(source: Path, dest: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        src = Path(f"{source}{suffix}")
        if src.exists():
            shutil.copy(src, Path(f"{dest}{suffix}"))


def _template(factory: pytest.TempPathFactory) -> Path:
    """The seeded template database: four bundled samples (with algorithm beats) and one user per role."""
    if "db" in _TEMPLATE:
        return _TEMPLATE["db"]
    path = factory.mktemp("template") / "ecg.sqlite3"
    session = open_workstation(DatabaseSettings(url=f"sqlite:///{path}"), username=ADMIN)
    try:
        assert session.bootstrapped and session.actor.role is Role.ADMIN
        ids = ensure_bundled_samples(session)
        assert len(ids) == 4, ids
        with session.db.session(session.actor) as store:
            for name, role in ((CARDIO, Role.CARDIOLOGIST), (NURSE, Role.NURSE), (STUDENT, Role.STUDENT)):
                store.users.create(name, role, None)
    finally:
        session.close()
    _TEMPLATE["db"] = path
    return path


@pytest.fixture
def qsettings_tmp(tmp_path: Path) -> Iterator[Path]:
    """QSettings of the test in tmp_path (INI), never the user's own (the GUI test modules use it for every test)."""
    folder = tmp_path / "qsettings"
    folder.mkdir()
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    yield folder


@pytest.fixture
def db_settings(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> DatabaseSettings:
    """A copy of the seeded database for this test."""
    path = tmp_path / "ecg.sqlite3"
    _copy_db(_template(tmp_path_factory), path)
    return DatabaseSettings(url=f"sqlite:///{path}")


@pytest.fixture
def sessions(db_settings: DatabaseSettings) -> Iterator[dict[str, WorkstationSession]]:
    """One signed-in session per account of the seeded database; closed after the test."""
    opened = {name: open_workstation(db_settings, username=name) for name in (ADMIN, CARDIO, NURSE, STUDENT)}
    yield opened
    for session in opened.values():
        session.close()


def sample_recording_ids(session: WorkstationSession) -> dict[str, int]:
    """Recording id of each bundled sample by file name (e.g. ``"100.hea"``); ``session`` must see file names."""
    with session.db.reader(session.actor) as store:
        return {str(v.source_name): v.id for v in store.recordings.for_patient(None)}


def write_swapped_record(sample_header: Path, folder: Path, name: str = "swapped") -> Path:
    """A new WFDB record: the sample's leads in reverse order (new content, so not a duplicate); its header."""
    import wfdb

    from ecgstation.io import read_recording

    rec = read_recording(sample_header)
    signals = np.ascontiguousarray(rec.signals[::-1].T.astype(np.float64))
    wfdb.wrsamp(
        name, fs=rec.fs, units=["mV"] * rec.n_leads, sig_name=list(rec.lead_names[::-1]), p_signal=signals,
        fmt=["16"] * rec.n_leads, adc_gain=[200.0] * rec.n_leads, baseline=[0] * rec.n_leads,
        write_dir=str(folder),
    )  # fmt: skip
    return folder / f"{name}.hea"


@pytest.fixture
def sample_ids(sessions: dict[str, WorkstationSession]) -> dict[str, int]:
    """Recording id of each bundled sample in this test's database, by file name (e.g. ``"100.hea"``)."""
    return sample_recording_ids(sessions[ADMIN])


@pytest.fixture
def swapped_record(tmp_path: Path) -> Callable[[str, str], Path]:
    """Writes a new record from a bundled sample (``sample id``, ``record name``) into tmp_path; its header."""
    from ecgstation.resources import get_sample

    def write(sample_id: str, name: str = "swapped") -> Path:
        return write_swapped_record(get_sample(sample_id).path, tmp_path, name)

    return write
