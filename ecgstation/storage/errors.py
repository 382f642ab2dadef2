"""Storage errors: the environment's (database unreachable, locked, disk full) and the user's (not allowed, stale edit)."""

from __future__ import annotations

from ecgstation.core.errors import EcgStationError


class StorageError(EcgStationError):
    """Base of the errors the storage layer raises on purpose; ``str()`` is the user-facing message."""


class DatabaseUnavailableError(StorageError):
    """The database cannot be opened or reached (server down, file unreadable, disk full, locked too long)."""


class PermissionDeniedError(StorageError):
    """The signed-in user's role does not allow this action."""


class NotFoundError(StorageError):
    """A patient, recording, finding, ... named by id or key does not exist."""


class ConflictError(StorageError):
    """The action conflicts with what is stored (a duplicate MRN, username, serial, ...)."""


class ConcurrentEditError(StorageError):
    """Another workstation changed the same item since it was loaded; the edit was not applied."""


class BackupError(StorageError):
    """A backup cannot be written, or a backup cannot be verified or restored."""


class MigrationError(StorageError):
    """The database schema cannot be brought to this version of ECG Station."""


class ImportCancelled(StorageError):
    """The user cancelled an import; its transaction is rolled back, so nothing of the file is stored."""
