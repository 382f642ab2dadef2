"""Open the database (SQLite or PostgreSQL), keep it migrated, and hand out transactions as :class:`Store` objects."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from ecgstation.core.errors import EcgStationError
from ecgstation.storage.errors import (
    ConcurrentEditError,
    ConflictError,
    DatabaseUnavailableError,
    StorageError,
)
from ecgstation.storage.settings import DatabaseSettings

if TYPE_CHECKING:
    from ecgstation.storage.access import Actor
    from ecgstation.storage.store import Store

__all__ = ["Database", "display_url", "translate_db_error"]

log = logging.getLogger(__name__)


def display_url(url: str | URL) -> str:
    """The URL with any password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def translate_db_error(error: Exception, where: str) -> StorageError:
    """Turn a driver error into one of ours with a message a user can act on."""
    if isinstance(error, StaleDataError):
        return ConcurrentEditError(
            "Another workstation changed this item while you were editing it; reload it and try again."
        )
    if isinstance(error, exc.IntegrityError):
        return ConflictError(f"The change conflicts with what is stored in {where}: {error.orig}")
    text = str(getattr(error, "orig", error)).strip().splitlines()[0] if str(error) else type(error).__name__
    if "locked" in text or "busy" in text:
        return DatabaseUnavailableError(
            f"The database {where} stayed busy (another program is writing to it); try again in a moment."
        )
    if "disk" in text and ("full" in text or "I/O" in text):
        return DatabaseUnavailableError(f"The database {where} cannot be written: {text}. Free disk space and retry.")
    return DatabaseUnavailableError(f"The database {where} cannot be used: {text}")


def _sqlite_engine(url: URL, settings: DatabaseSettings, immediate: bool) -> Engine:
    """A SQLite engine in WAL mode with foreign keys on; ``immediate`` takes the write lock at BEGIN.

    Writers use BEGIN IMMEDIATE so that two writers queue on ``busy_timeout`` instead of failing
    with "database is locked" when one upgrades a read lock; readers use a deferred BEGIN and never
    block writers (WAL).
    """
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": settings.sqlite_busy_timeout_s})
    busy_ms = int(settings.sqlite_busy_timeout_s * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _on_begin)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {busy_ms}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = FULL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()
        # SQLite's lower() folds ASCII only; patient search must find "Özdemir" from "özd".
        dbapi_conn.create_function("lower", 1, _unicode_lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


class Database:
    """One database (SQLite file or PostgreSQL server): engines, migrations and transactions.

    Use :meth:`session` for a unit of work that may write (one transaction, committed when the
    block ends without error) and :meth:`reader` for a read-only one (waveform windows, lists).
    """

    def __init__(self, url: str, settings: DatabaseSettings | None = None) -> None:
        self.settings = settings or DatabaseSettings(url=url)
        self.url: URL = make_url(url)
        self.dialect = self.url.get_backend_name()
        if self.dialect == "sqlite":
            self._write_engine = _sqlite_engine(self.url, self.settings, immediate=True)
            self._read_engine = _sqlite_engine(self.url, self.settings, immediate=False)
        elif self.dialect == "postgresql":
            engine = create_engine(self.url, pool_size=self.settings.pool_size, pool_pre_ping=True)
            self._write_engine = self._read_engine = engine
        else:
            raise StorageError(f"Unsupported database {display_url(self.url)}: use SQLite or PostgreSQL.")
        self._writer = sessionmaker(self._write_engine, expire_on_commit=False)
        self._reader = sessionmaker(self._read_engine, expire_on_commit=False)

    @classmethod
    def open(cls, settings: DatabaseSettings | None = None) -> Database:
        """Open (and by default migrate) the database the settings name; raises DatabaseUnavailableError."""
        settings = settings or DatabaseSettings()
        url = settings.resolved_url()
        db = cls(url, settings)
        try:
            with db._write_engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except exc.DBAPIError as error:
            db.dispose()
            raise translate_db_error(error, display_url(url)) from error
        if settings.migrate:
            from ecgstation.storage.migrate import upgrade_to_head

            try:
                upgrade_to_head(db)
            except BaseException:
                db.dispose()
                raise
        log.info("database %s open", display_url(url))
        return db

    @property
    def engine(self) -> Engine:
        """The engine that writes (migrations, backup and tests use it)."""
        return self._write_engine

    def describe(self) -> str:
        """The database URL without its password."""
        return display_url(self.url)

    @contextlib.contextmanager
    def _transaction(self, factory: sessionmaker[Session]) -> Iterator[Session]:
        session = factory()
        try:
            yield session
            session.commit()
        except EcgStationError:
            session.rollback()
            raise
        except (exc.DBAPIError, StaleDataError) as error:
            session.rollback()
            raise translate_db_error(error, self.describe()) from error
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextlib.contextmanager
    def session(self, actor: Actor) -> Iterator[Store]:
        """One transaction for ``actor``: everything in the block is committed together, or nothing."""
        from ecgstation.storage.store import Store

        with self._transaction(self._writer) as session:
            yield Store(session, actor)

    @contextlib.contextmanager
    def reader(self, actor: Actor) -> Iterator[Store]:
        """A transaction for reads that write nothing (not even audit lines); it never blocks writers."""
        from ecgstation.storage.store import Store

        with self._transaction(self._reader) as session:
            yield Store(session, actor, audit_views=False)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self._write_engine.dispose()
        if self._read_engine is not self._write_engine:
            self._read_engine.dispose()
