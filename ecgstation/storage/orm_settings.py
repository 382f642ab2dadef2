"""Tables of settings: per-patient alarm thresholds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from ecgstation.storage.column_types import UtcDateTime, utcnow
from ecgstation.storage.orm_base import Base

__all__ = ["PatientAlarmSettingsRow"]


class PatientAlarmSettingsRow(Base):
    """The alarm thresholds of one patient (a JSON document read by ``ecgstation.monitoring.alarms``)."""

    __tablename__ = "patient_alarm_settings"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it at class creation)
