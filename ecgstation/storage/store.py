"""One unit of work for one actor: the repositories, sharing a transaction (see Database.session)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ecgstation.storage.access import Actor
from ecgstation.storage.repos.alarm_settings import AlarmSettingsRepository
from ecgstation.storage.repos.alarms import AlarmRepository
from ecgstation.storage.repos.audit import AuditLog
from ecgstation.storage.repos.beats import BeatRepository
from ecgstation.storage.repos.devices import DeviceRepository
from ecgstation.storage.repos.findings import FindingRepository
from ecgstation.storage.repos.images import ImageRepository
from ecgstation.storage.repos.monitoring import MonitoringRepository
from ecgstation.storage.repos.patients import PatientRepository
from ecgstation.storage.repos.recordings import RecordingRepository
from ecgstation.storage.repos.users import UserRepository

__all__ = ["Store"]


class Store:
    """The repositories the rest of the application calls; no SQL lives outside ecgstation.storage.

    ``audit_views``: record "view" lines in the audit log when patients and recordings are opened
    (off for the read-only transactions of :meth:`Database.reader`, which write nothing).
    """

    def __init__(self, session: Session, actor: Actor, audit_views: bool = True) -> None:
        self.session = session
        self.actor = actor
        self.audit = AuditLog(session, actor, record_views=audit_views)
        self.users = UserRepository(session, actor, self.audit)
        self.patients = PatientRepository(session, actor, self.audit)
        self.devices = DeviceRepository(session, actor, self.audit)
        self.recordings = RecordingRepository(session, actor, self.audit)
        self.beats = BeatRepository(session, actor, self.audit)
        self.findings = FindingRepository(session, actor, self.audit)
        self.monitoring = MonitoringRepository(session, actor, self.audit)
        self.alarms = AlarmRepository(session, actor, self.audit)
        self.alarm_settings = AlarmSettingsRepository(session, actor, self.audit)
        self.images = ImageRepository(session, actor, self.audit)
