"""Devices: ECG patches and straps, registered by serial, with their last-seen time and status."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ecgstation.storage.access import Permission, require
from ecgstation.storage.column_types import utcnow
from ecgstation.storage.orm import DeviceRow
from ecgstation.storage.repos.base import Repository
from ecgstation.storage.views import DeviceView

__all__ = ["DeviceRepository"]


def _view(row: DeviceRow) -> DeviceView:
    return DeviceView(row.id, row.serial, row.kind, row.model, row.firmware, row.last_seen_at, row.status)


class DeviceRepository(Repository):
    """Devices; nurses and admins register them, monitoring updates their status."""

    def register(
        self, serial: str, kind: str, model: str | None = None, firmware: str | None = None
    ) -> DeviceView:
        """Register a device, or update model/firmware of one already known by serial."""
        require(self.actor, Permission.MANAGE_DEVICES)
        row = self.session.scalar(select(DeviceRow).where(DeviceRow.serial == serial))
        if row is None:
            row = DeviceRow(serial=serial, kind=kind, model=model, firmware=firmware, status="registered")
            self.session.add(row)
            self.session.flush()
            self.audit.record("create", "device", row.id, serial=serial, kind=kind)
        else:
            row.kind, row.model, row.firmware = kind, model or row.model, firmware or row.firmware
            self.session.flush()
            self.audit.record("update", "device", row.id, serial=serial)
        return _view(row)

    def mark_seen(self, serial: str, status: str, when: datetime | None = None) -> DeviceView:
        """Record that a device was seen now (or at ``when``) with ``status`` (connected, disconnected, ...)."""
        require(self.actor, Permission.MONITOR)
        row = self.session.scalar(select(DeviceRow).where(DeviceRow.serial == serial))
        if row is None:
            raise ValueError(f"device {serial} is not registered")
        row.last_seen_at = when or utcnow()
        row.status = status
        return _view(row)

    def list(self) -> list[DeviceView]:
        """Every registered device by serial."""
        require(self.actor, Permission.READ_CLINICAL)
        return [_view(r) for r in self.session.scalars(select(DeviceRow).order_by(DeviceRow.serial))]
