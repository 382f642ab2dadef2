"""Tables of review: findings, beat annotations with their edit history, alarms, and the append-only audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ecgstation.storage.column_types import UtcDateTime, utcnow
from ecgstation.storage.orm_base import Base

__all__ = ["AlarmRow", "AuditEventRow", "BeatAnnotationRow", "BeatEditRow", "FindingRow"]


class FindingRow(Base):
    """A finding on a recording or a monitoring session.

    ``source_kind`` is rule, model or user; ``source_name``/``source_version`` name the rule set or
    model. ``status`` is proposed, confirmed or rejected; ``reviewed_by``/``reviewed_at`` say by whom.
    ``start_s``/``end_s``: time span in s from the start of the signal.
    """

    __tablename__ = "findings"
    __table_args__ = (
        CheckConstraint("source_kind IN ('rule', 'model', 'user')", name="source_kind"),
        CheckConstraint("status IN ('proposed', 'confirmed', 'rejected')", name="status"),
        CheckConstraint("confidence IS NULL OR (confidence >= 0 AND confidence <= 1)", name="confidence"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int | None] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("monitoring_sessions.id", ondelete="CASCADE"), index=True)
    source_kind: Mapped[str] = mapped_column(String(8))
    source_name: Mapped[str] = mapped_column(String(128))
    source_version: Mapped[str | None] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float | None] = mapped_column(Float)
    start_s: Mapped[float | None] = mapped_column(Float)
    end_s: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    review_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it at class creation)


class BeatAnnotationRow(Base):
    """One beat of a recording at ``sample`` (0-based sample index).

    ``author_kind`` is algorithm, file (the source's reference annotations) or user; ``original_label``
    keeps the first label whoever changes it later; ``deleted`` hides a beat without losing it.
    """

    __tablename__ = "beat_annotations"
    __table_args__ = (
        CheckConstraint("author_kind IN ('algorithm', 'file', 'user')", name="author_kind"),
        Index("ix_beat_annotations_recording_sample", "recording_id", "sample"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"))
    sample: Mapped[int] = mapped_column(BigInteger)
    label: Mapped[str] = mapped_column(String(8))
    original_label: Mapped[str] = mapped_column(String(8))
    author_kind: Mapped[str] = mapped_column(String(16))
    author_name: Mapped[str] = mapped_column(String(128))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it at class creation)


class BeatEditRow(Base):
    """One edit of a beat annotation (relabel, add, delete, restore), kept for undo and review."""

    __tablename__ = "beat_edits"
    __table_args__ = (CheckConstraint("action IN ('relabel', 'add', 'delete', 'restore')", name="action"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    annotation_id: Mapped[int] = mapped_column(ForeignKey("beat_annotations.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    old_label: Mapped[str | None] = mapped_column(String(8))
    new_label: Mapped[str | None] = mapped_column(String(8))
    edited_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    edited_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AlarmRow(Base):
    """An alarm of a monitoring session: kind, severity (low, medium, high), when raised, acknowledged, escalated."""

    __tablename__ = "alarms"
    __table_args__ = (CheckConstraint("severity IN ('low', 'medium', 'high')", name="severity"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("monitoring_sessions.id", ondelete="CASCADE"), index=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(8))
    message: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime)
    offset_s: Mapped[float | None] = mapped_column(Float)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it at class creation)


class AuditEventRow(Base):
    """One line of the audit log: who did what to which item, when. Database triggers refuse UPDATE and DELETE."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    trace_id: Mapped[str | None] = mapped_column(String(32))
    workstation: Mapped[str | None] = mapped_column(String(128))
