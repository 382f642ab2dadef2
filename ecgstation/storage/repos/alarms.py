"""Alarms of monitoring sessions: raised by the monitor, acknowledged by a named nurse or cardiologist, escalated."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from ecgstation.storage.access import Permission, require
from ecgstation.storage.column_types import require_aware, utcnow
from ecgstation.storage.orm import AlarmRow, MonitoringSessionRow
from ecgstation.storage.repos.base import Repository
from ecgstation.storage.views import AlarmView

__all__ = ["AlarmRepository"]

_SEVERITIES = ("low", "medium", "high")


class AlarmRepository(Repository):
    """Alarms; every raise, acknowledgement and escalation is stored and audited."""

    def _view(self, row: AlarmRow) -> AlarmView:
        return AlarmView(
            id=row.id, session_id=row.session_id, patient_id=row.patient_id, kind=row.kind, severity=row.severity,
            message=row.message, raised_at=row.raised_at, offset_s=row.offset_s, details=row.details,
            acknowledged_by=self._username(row.acknowledged_by), acknowledged_at=row.acknowledged_at,
            escalation_level=row.escalation_level, version=row.version,
        )  # fmt: skip

    def raise_alarm(
        self,
        session_id: int,
        kind: str,
        severity: str,
        message: str,
        raised_at: datetime | None = None,
        offset_s: float | None = None,
        details: dict[str, Any] | None = None,
    ) -> AlarmView:
        """Store a new alarm of a session (``offset_s``: time in s from the session start)."""
        require(self.actor, Permission.MONITOR)
        if severity not in _SEVERITIES:
            raise ValueError(f"severity is one of {', '.join(_SEVERITIES)}, not {severity!r}")
        session = self._get(MonitoringSessionRow, session_id, "Monitoring session")
        row = AlarmRow(
            session_id=session_id, patient_id=session.patient_id, kind=kind, severity=severity, message=message,
            raised_at=utcnow() if raised_at is None else require_aware(raised_at, "alarm time"), offset_s=offset_s, details=details, escalation_level=0,
        )  # fmt: skip
        self.session.add(row)
        self.session.flush()
        self.audit.record("create", "alarm", row.id, kind=kind, severity=severity, session_id=session_id)
        return self._view(row)

    def acknowledge(self, alarm_id: int, expected_version: int) -> AlarmView:
        """Acknowledge an alarm as the signed-in user; a second acknowledgement keeps the first one's name."""
        require(self.actor, Permission.ACKNOWLEDGE_ALARMS)
        row = self._get(AlarmRow, alarm_id, "Alarm")
        if row.acknowledged_at is not None:
            return self._view(row)
        self._check_version(row, expected_version, f"Alarm #{alarm_id}")
        row.acknowledged_by, row.acknowledged_at = self.actor.user_id, utcnow()
        self.session.flush()
        self.audit.record("acknowledge", "alarm", row.id)
        return self._view(row)

    def escalate(self, alarm_id: int) -> AlarmView:
        """Raise the escalation level of an unacknowledged alarm by one."""
        require(self.actor, Permission.MONITOR)
        row = self._get(AlarmRow, alarm_id, "Alarm")
        if row.acknowledged_at is None:
            row.escalation_level += 1
            row.escalated_at = utcnow()
            self.session.flush()
            self.audit.record("escalate", "alarm", row.id, level=row.escalation_level)
        return self._view(row)

    def for_session(self, session_id: int, unacknowledged_only: bool = False) -> list[AlarmView]:
        """A session's alarms in the order raised."""
        require(self.actor, Permission.READ_CLINICAL)
        q = select(AlarmRow).where(AlarmRow.session_id == session_id)
        if unacknowledged_only:
            q = q.where(AlarmRow.acknowledged_at.is_(None))
        return [self._view(r) for r in self.session.scalars(q.order_by(AlarmRow.id))]
