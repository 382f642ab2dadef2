"""Alembic migrations run from inside the application: bring any database to the newest schema revision."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, exc

from ecgstation.storage.errors import MigrationError

if TYPE_CHECKING:
    from ecgstation.storage.database import Database

__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "current_revision",
    "downgrade",
    "head_revision",
    "upgrade",
    "upgrade_to_head",
]

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


@contextlib.contextmanager
def _migration_transaction(db: Database) -> Iterator[Connection]:
    """One transaction for a migration.

    SQLite: foreign keys are switched off for it (batch migrations copy, drop and rename tables;
    with foreign keys on, dropping the old table would cascade into its children) and checked
    with ``PRAGMA foreign_key_check`` before commit. PostgreSQL: under an advisory lock, so two
    workstations starting at once do not migrate together.
    """
    with db.engine.connect() as conn:
        sqlite = db.dialect == "sqlite"
        # Straight on the driver connection: the pragma only works outside a transaction, and
        # SQLAlchemy would begin one around any statement it runs.
        raw: Any = conn.connection.driver_connection
        if sqlite:
            raw.execute("PRAGMA foreign_keys = OFF")
        try:
            with conn.begin():
                if db.dialect == "postgresql":
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
                yield conn
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise MigrationError(
                            f"Migrating {db.describe()} would leave {len(broken)} rows pointing at missing rows "
                            f"(first: table {broken[0][0]}); nothing was changed."
                        )
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys = ON")


def _run(db: Database, verb: str, revision: str) -> None:
    cfg = alembic_config()
    known = {s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions()}
    at = current_revision(db)
    if at is not None and at not in known:
        raise MigrationError(
            f"The database {db.describe()} is at schema revision {at}, which this version of ECG Station "
            "does not know (it was written by a newer version). Update ECG Station."
        )
    try:
        with _migration_transaction(db) as conn:
            cfg.attributes["connection"] = conn
            (command.upgrade if verb == "upgrade" else command.downgrade)(cfg, revision)
    except exc.DBAPIError as error:
        raise MigrationError(f"The database {db.describe()} cannot be migrated: {error.orig}") from error
    log.info("database %s at schema revision %s", db.describe(), current_revision(db))


def upgrade(db: Database, revision: str = "head") -> None:
    """Upgrade the database schema to ``revision`` in one transaction."""
    _run(db, "upgrade", revision)


def downgrade(db: Database, revision: str) -> None:
    """Take the schema back to ``revision`` (``"base"``: empty) in one transaction; data in dropped columns is lost."""
    _run(db, "downgrade", revision)


def upgrade_to_head(db: Database) -> None:
    """Upgrade to the newest revision unless the database is there already."""
    if current_revision(db) != head_revision():
        upgrade(db, "head")
