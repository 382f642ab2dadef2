"""Alembic migrations run from inside the application: bring any database to the newest schema revision."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import exc

from ecgstation.storage.errors import MigrationError

if TYPE_CHECKING:
    from ecgstation.storage.database import Database

__all__ = ["MIGRATIONS_DIR", "alembic_config", "current_revision", "head_revision", "upgrade"]

log = logging.getLogger(__name__)

#: The Alembic script directory shipped inside the package.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: PostgreSQL advisory lock key held while migrating, so two workstations starting at once do not race.
_PG_LOCK_KEY = 0x45_43_47_53  # "ECGS"


def alembic_config() -> Config:
    """An Alembic configuration pointing at the packaged migrations (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    """The newest schema revision this version of ECG Station knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    """The schema revision the database is at (None for an empty database)."""
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> None:
    """Upgrade the database schema to ``revision`` in one transaction (PostgreSQL: under an advisory lock)."""
    cfg = alembic_config()
    known = {s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions()}
    at = current_revision(db)
    if at is not None and at not in known:
        raise MigrationError(
            f"The database {db.describe()} is at schema revision {at}, which this version of ECG Station "
            "does not know (it was written by a newer version). Update ECG Station."
        )
    try:
        with db.engine.begin() as conn:
            if db.dialect == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except exc.DBAPIError as error:
        raise MigrationError(f"The database {db.describe()} cannot be upgraded: {error.orig}") from error
    log.info("database %s at schema revision %s", db.describe(), current_revision(db))


def upgrade_to_head(db: Database) -> None:
    """Upgrade to the newest revision unless the database is there already."""
    if current_revision(db) != head_revision():
        upgrade(db, "head")
