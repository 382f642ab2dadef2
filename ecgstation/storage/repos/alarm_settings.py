"""Per-patient alarm thresholds: one JSON document per patient, set by nurses and cardiologists, audited."""

from __future__ import annotations

from typing import Any

from ecgstation.storage.access import Permission, require
from ecgstation.storage.column_types import utcnow
from ecgstation.storage.orm import PatientAlarmSettingsRow, PatientRow
from ecgstation.storage.repos.base import Repository
from ecgstation.storage.views import AlarmSettingsView

__all__ = ["AlarmSettingsRepository"]


class AlarmSettingsRepository(Repository):
    """Alarm thresholds of patients (the document's keys are checked by ``ecgstation.monitoring.alarms``)."""

    def _view(self, row: PatientAlarmSettingsRow) -> AlarmSettingsView:
        return AlarmSettingsView(
            patient_id=row.patient_id, settings=dict(row.settings), updated_by=self._username(row.updated_by),
            updated_at=row.updated_at, version=row.version,
        )  # fmt: skip

    def get(self, patient_id: int) -> AlarmSettingsView | None:
        """The thresholds stored for a patient, or None when the defaults apply."""
        require(self.actor, Permission.READ_CLINICAL)
        row = self.session.get(PatientAlarmSettingsRow, patient_id)
        return None if row is None else self._view(row)

    def set(self, patient_id: int, settings: dict[str, Any], expected_version: int | None = None) -> AlarmSettingsView:
        """Store a patient's thresholds (replacing the previous document); ``expected_version`` guards edits."""
        require(self.actor, Permission.SET_ALARM_LIMITS)
        if not isinstance(settings, dict):
            raise TypeError("alarm settings are a mapping of setting name to value")
        self._get(PatientRow, patient_id, "Patient")
        row = self.session.get(PatientAlarmSettingsRow, patient_id)
        old: dict[str, Any] = {}
        if row is None:
            row = PatientAlarmSettingsRow(
                patient_id=patient_id, settings=dict(settings), updated_by=self.actor.user_id, updated_at=utcnow()
            )
            self.session.add(row)
            action = "create"
        else:
            self._check_version(row, expected_version, f"The alarm settings of patient #{patient_id}")
            old = dict(row.settings)
            row.settings, row.updated_by, row.updated_at = dict(settings), self.actor.user_id, utcnow()
            action = "update"
        self.session.flush()
        changed = sorted(k for k in set(settings) | set(old) if old.get(k) != settings.get(k))
        self.audit.record(action, "alarm-settings", patient_id, changed=changed)
        return self._view(row)
