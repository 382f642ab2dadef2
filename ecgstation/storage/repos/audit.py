"""The append-only audit log: who viewed, created, changed or exported what, and when."""

from __future__ import annotations

import socket
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecgstation.storage.access import Actor, Permission, require
from ecgstation.storage.column_types import utcnow
from ecgstation.storage.orm import AuditEventRow
from ecgstation.storage.views import AuditView
from ecgstation.tracing import current_trace_id

__all__ = ["AuditLog"]


class AuditLog:
    """Writes audit lines in the caller's transaction (so an action and its audit line commit together)."""

    def __init__(self, session: Session, actor: Actor, record_views: bool = True) -> None:
        self.session = session
        self.actor = actor
        self.record_views = record_views

    def record(self, action: str, entity_type: str, entity_id: object = None, **details: Any) -> None:
        """Append one line: ``action`` (view, create, update, export, ...) on ``entity_type`` #``entity_id``."""
        if action == "view" and not self.record_views:
            return
        trace = current_trace_id()
        self.session.add(
            AuditEventRow(
                occurred_at=utcnow(),
                user_id=self.actor.user_id,
                username=self.actor.username,
                role=self.actor.role.value,
                action=action,
                entity_type=entity_type,
                entity_id=None if entity_id is None else str(entity_id),
                details=details or None,
                trace_id=None if trace == "-" else trace,
                workstation=socket.gethostname()[:128],
            )
        )

    def events(
        self,
        *,
        entity_type: str | None = None,
        entity_id: object = None,
        username: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
    ) -> list[AuditView]:
        """The newest audit lines first, filtered (admins only)."""
        require(self.actor, Permission.READ_AUDIT)
        q = select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(limit)
        if entity_type is not None:
            q = q.where(AuditEventRow.entity_type == entity_type)
        if entity_id is not None:
            q = q.where(AuditEventRow.entity_id == str(entity_id))
        if username is not None:
            q = q.where(AuditEventRow.username == username)
        if action is not None:
            q = q.where(AuditEventRow.action == action)
        if since is not None:
            q = q.where(AuditEventRow.occurred_at >= since)
        return [
            AuditView(
                id=r.id,
                occurred_at=r.occurred_at,
                username=r.username,
                role=r.role,
                action=r.action,
                entity_type=r.entity_type,
                entity_id=r.entity_id,
                details=r.details,
                trace_id=r.trace_id,
                workstation=r.workstation,
            )
            for r in self.session.scalars(q)
        ]
