"""Storage tests run twice: on a real SQLite file and on a real PostgreSQL server (skipped only without a URL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ecgstation.storage import Actor, Database, DatabaseSettings, Role
from tests.storage.pg import SKIP_REASON, create_database, drop_database, postgres_base_url

PASSWORD = "correct horse battery staple"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file in tmp_path, or a fresh database on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ecgstation.sqlite3'}"
        return
    base = postgres_base_url()
    if base is None:
        pytest.skip(SKIP_REASON)
    url = create_database(base)
    try:
        yield url
    finally:
        drop_database(base, url)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """The database at ``db_url``, opened and migrated to the newest schema."""
    database = Database.open(DatabaseSettings(url=db_url))
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def actors(db: Database) -> dict[str, Actor]:
    """One signed-in actor per role: admin, cardiologist, nurse, student (passwords: PASSWORD)."""
    setup = Actor(None, "setup", Role.ADMIN)
    with db.session(setup) as s:
        s.users.create("admin", Role.ADMIN, PASSWORD)
    with db.session(setup) as s:
        admin = s.users.authenticate("admin", PASSWORD)
    with db.session(admin) as s:
        for name, role in (("cardio", Role.CARDIOLOGIST), ("nurse", Role.NURSE), ("student", Role.STUDENT)):
            s.users.create(name, role, PASSWORD)
    out = {"admin": admin}
    for name in ("cardio", "nurse", "student"):
        with db.session(setup) as s:
            out[name] = s.users.authenticate(name, PASSWORD)
    return out
