"""Storage: patients, recordings, monitoring sessions, findings, alarms and the audit log in SQLite or PostgreSQL.

The rest of the application calls :class:`Database` and the repositories of a :class:`Store`;
no SQL lives outside this package. Role checks are enforced here (see :mod:`.access`).
"""

from __future__ import annotations

from ecgstation.storage.access import Actor, Permission, Role
from ecgstation.storage.database import Database
from ecgstation.storage.errors import (
    BackupError,
    ConcurrentEditError,
    ConflictError,
    DatabaseUnavailableError,
    MigrationError,
    NotFoundError,
    PermissionDeniedError,
    StorageError,
)
from ecgstation.storage.settings import DATABASE_URL_ENV, DatabaseSettings, default_sqlite_path
from ecgstation.storage.store import Store

__all__ = [
    "DATABASE_URL_ENV",
    "Actor",
    "BackupError",
    "ConcurrentEditError",
    "ConflictError",
    "Database",
    "DatabaseSettings",
    "DatabaseUnavailableError",
    "MigrationError",
    "NotFoundError",
    "Permission",
    "PermissionDeniedError",
    "Role",
    "StorageError",
    "Store",
    "default_sqlite_path",
]
