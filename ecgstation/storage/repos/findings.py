"""Findings: proposed by rules, models or users; confirmed or rejected by a cardiologist."""

from __future__ import annotations

from sqlalchemy import select

from ecgstation.storage.access import Permission, require
from ecgstation.storage.column_types import utcnow
from ecgstation.storage.errors import PermissionDeniedError
from ecgstation.storage.orm import FindingRow, MonitoringSessionRow, RecordingRow
from ecgstation.storage.repos.base import Repository
from ecgstation.storage.views import FindingView

__all__ = ["FindingRepository"]


class FindingRepository(Repository):
    """Findings of recordings and monitoring sessions, with their review."""

    def _view(self, row: FindingRow) -> FindingView:
        return FindingView(
            id=row.id, recording_id=row.recording_id, session_id=row.session_id, source_kind=row.source_kind,
            source_name=row.source_name, source_version=row.source_version, code=row.code, label=row.label,
            confidence=row.confidence, start_s=row.start_s, end_s=row.end_s, status=row.status,
            reviewed_by=self._username(row.reviewed_by), reviewed_at=row.reviewed_at, review_note=row.review_note,
            version=row.version,
        )  # fmt: skip

    def add(
        self,
        *,
        code: str,
        label: str,
        source_kind: str,
        source_name: str,
        source_version: str | None = None,
        recording_id: int | None = None,
        session_id: int | None = None,
        confidence: float | None = None,
        start_s: float | None = None,
        end_s: float | None = None,
    ) -> FindingView:
        """Record a proposed finding on a recording or a session (exactly one of the two)."""
        if source_kind not in ("rule", "model", "user"):
            raise ValueError(f"source_kind is rule, model or user, not {source_kind!r}")
        if not (self.actor.can(Permission.PROPOSE_FINDINGS) or self.actor.can(Permission.IMPORT_RECORDINGS)):
            raise PermissionDeniedError(f"{self.actor.username} ({self.actor.role.value}) may not record findings.")
        if (recording_id is None) == (session_id is None):
            raise ValueError("a finding belongs to exactly one recording or one monitoring session")
        if confidence is not None and not 0.0 <= confidence <= 1.0:
            raise ValueError(f"confidence {confidence} is outside 0..1")
        if recording_id is not None:
            self._get(RecordingRow, recording_id, "Recording")
        if session_id is not None:
            self._get(MonitoringSessionRow, session_id, "Monitoring session")
        row = FindingRow(
            recording_id=recording_id, session_id=session_id, source_kind=source_kind, source_name=source_name,
            source_version=source_version, code=code, label=label, confidence=confidence, start_s=start_s,
            end_s=end_s, status="proposed",
        )  # fmt: skip
        self.session.add(row)
        self.session.flush()
        self.audit.record("create", "finding", row.id, code=code, source=source_name)
        return self._view(row)

    def for_recording(self, recording_id: int) -> list[FindingView]:
        """The findings of a recording in the order they were made."""
        require(self.actor, Permission.READ_CLINICAL)
        q = select(FindingRow).where(FindingRow.recording_id == recording_id).order_by(FindingRow.id)
        return [self._view(r) for r in self.session.scalars(q)]

    def for_session(self, session_id: int) -> list[FindingView]:
        """The findings of a monitoring session."""
        require(self.actor, Permission.READ_CLINICAL)
        q = select(FindingRow).where(FindingRow.session_id == session_id).order_by(FindingRow.id)
        return [self._view(r) for r in self.session.scalars(q)]

    def get(self, finding_id: int) -> FindingView:
        """One finding."""
        require(self.actor, Permission.READ_CLINICAL)
        return self._view(self._get(FindingRow, finding_id, "Finding"))

    def review(self, finding_id: int, decision: str, expected_version: int, note: str | None = None) -> FindingView:
        """Confirm or reject a finding (cardiologists only); refused when it changed since ``expected_version``."""
        if decision not in ("confirmed", "rejected"):
            raise ValueError(f"a review decision is confirmed or rejected, not {decision!r}")
        require(self.actor, Permission.CONFIRM_FINDINGS)
        row = self._get(FindingRow, finding_id, "Finding")
        self._check_version(row, expected_version, f"Finding #{finding_id} ({row.code})")
        previous = row.status
        row.status, row.reviewed_by, row.reviewed_at, row.review_note = decision, self.actor.user_id, utcnow(), note
        self.session.flush()
        action = {"confirmed": "confirm", "rejected": "reject"}[decision]
        self.audit.record(action, "finding", row.id, previous=previous, decision=decision)
        return self._view(row)
