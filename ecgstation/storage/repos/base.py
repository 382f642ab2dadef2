"""What every repository shares: the session, the actor, the audit log, and lookups that name what is missing."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.orm import Session

from ecgstation.storage.access import Actor
from ecgstation.storage.errors import ConcurrentEditError, NotFoundError
from ecgstation.storage.orm import UserRow
from ecgstation.storage.repos.audit import AuditLog

__all__ = ["Repository"]

RowT = TypeVar("RowT")


class Repository:
    """Base of the repositories: holds the transaction's session, the actor and the audit log."""

    def __init__(self, session: Session, actor: Actor, audit: AuditLog) -> None:
        self.session = session
        self.actor = actor
        self.audit = audit

    def _get(self, row_type: type[RowT], row_id: int, what: str) -> RowT:
        row = self.session.get(row_type, row_id)
        if row is None:
            raise NotFoundError(f"{what} #{row_id} does not exist.")
        return row

    def _check_version(self, row: Any, expected_version: int | None, what: str) -> None:
        """Refuse an edit made on an older version of the row (another workstation changed it since)."""
        current = row.version
        if expected_version is not None and current != expected_version:
            raise ConcurrentEditError(
                f"{what} was changed by someone else since you opened it (your version {expected_version}, "
                f"now {current}); reload it and apply your change again."
            )

    def _username(self, user_id: int | None) -> str | None:
        if user_id is None:
            return None
        user = self.session.get(UserRow, user_id)
        return None if user is None else user.username
