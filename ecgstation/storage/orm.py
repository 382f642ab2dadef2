"""The whole schema in one import (the ORM classes live in orm_people, orm_signals and orm_review)."""

from __future__ import annotations

from ecgstation.storage.orm_base import Base
from ecgstation.storage.orm_people import DeviceRow, PatientRow, UserRow
from ecgstation.storage.orm_review import AlarmRow, AuditEventRow, BeatAnnotationRow, BeatEditRow, FindingRow
from ecgstation.storage.orm_settings import PatientAlarmSettingsRow
from ecgstation.storage.orm_signals import (
    EcgImageRow,
    MonitoringSessionRow,
    MonitoringSliceRow,
    RecordingRow,
    WaveformChunkRow,
)

__all__ = [
    "AlarmRow",
    "AuditEventRow",
    "Base",
    "BeatAnnotationRow",
    "BeatEditRow",
    "DeviceRow",
    "EcgImageRow",
    "FindingRow",
    "MonitoringSessionRow",
    "MonitoringSliceRow",
    "PatientAlarmSettingsRow",
    "PatientRow",
    "RecordingRow",
    "UserRow",
    "WaveformChunkRow",
]
