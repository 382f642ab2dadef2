"""Where the database lives: an explicit URL, ``$ECGSTATION_DATABASE_URL``, or SQLite in the user data folder."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

__all__ = [
    "DATABASE_URL_ENV",
    "DatabaseSettings",
    "default_config_path",
    "default_sqlite_path",
    "load_database_settings",
    "resolve_database_url",
]

#: Environment variable naming the database (a SQLAlchemy URL, e.g. ``postgresql+psycopg://user:pw@host/db``).
DATABASE_URL_ENV = "ECGSTATION_DATABASE_URL"

#: File name of the embedded SQLite database inside the user data folder.
SQLITE_FILE_NAME = "ecgstation.sqlite3"


def default_sqlite_path() -> Path:
    """The embedded database file: ``<user data dir>/ecgstation/ecgstation.sqlite3`` (platformdirs)."""
    return Path(platformdirs.user_data_dir("ecgstation", appauthor=False)) / SQLITE_FILE_NAME


def default_config_path() -> Path:
    """The workstation's settings file: ``<user config dir>/ecgstation/config.toml`` (platformdirs)."""
    return Path(platformdirs.user_config_dir("ecgstation", appauthor=False)) / "config.toml"


def resolve_database_url(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The database URL to use: ``explicit`` first, then ``$ECGSTATION_DATABASE_URL``, then embedded SQLite.

    A bare file path is accepted for ``explicit`` and turned into a SQLite URL.
    """
    env = os.environ if environ is None else environ
    url = explicit or env.get(DATABASE_URL_ENV, "").strip() or None
    if url is None:
        return f"sqlite:///{default_sqlite_path()}"
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    if url.startswith(("postgresql://", "postgres://")):
        # The driver we ship is psycopg 3; plain postgresql:// would ask SQLAlchemy for psycopg2.
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


@dataclass(frozen=True)
class DatabaseSettings:
    """How to open the database.

    ``url``: SQLAlchemy URL (None: see :func:`resolve_database_url`).
    ``sqlite_busy_timeout_s``: how long a SQLite writer waits for another writer, in s.
    ``pool_size``: connections kept open to a server database.
    ``migrate``: bring the schema to the newest revision when the database is opened.
    """

    url: str | None = None
    sqlite_busy_timeout_s: float = 30.0
    pool_size: int = 5
    migrate: bool = True

    def resolved_url(self, environ: Mapping[str, str] | None = None) -> str:
        """The URL this setting stands for (see :func:`resolve_database_url`)."""
        return resolve_database_url(self.url, environ)


def load_database_settings(config_path: Path | None = None, url: str | None = None) -> DatabaseSettings:
    """Settings from the ``[database]`` table of the settings file, with ``url`` (e.g. a CLI option) on top.

    The file is optional; keys: ``url`` (SQLAlchemy URL or SQLite file), ``sqlite_busy_timeout_s``,
    ``pool_size``. Precedence of the URL: ``url`` argument, ``$ECGSTATION_DATABASE_URL``, the file,
    then the embedded SQLite database.
    """
    from ecgstation.storage.errors import StorageError

    path = config_path or default_config_path()
    table: dict[str, Any] = {}
    if path.is_file():
        try:
            table = dict(tomllib.loads(path.read_text(encoding="utf-8")).get("database", {}))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
            raise StorageError(f"Cannot read the settings file {path}: {err}") from err
    unknown = set(table) - {"url", "sqlite_busy_timeout_s", "pool_size"}
    if unknown:
        raise StorageError(f"Unknown keys in [database] of {path}: {', '.join(sorted(unknown))}")
    chosen = url or os.environ.get(DATABASE_URL_ENV, "").strip() or table.get("url") or None
    try:
        return DatabaseSettings(
            url=None if chosen is None else str(chosen),
            sqlite_busy_timeout_s=float(table.get("sqlite_busy_timeout_s", 30.0)),
            pool_size=int(table.get("pool_size", 5)),
        )
    except (TypeError, ValueError) as err:
        raise StorageError(f"Invalid value in [database] of {path}: {err}") from err
