"""Open-hardware patches sending declared frames by notification on one characteristic."""

from __future__ import annotations

import logging
from typing import Any, Literal

from ecgstation.devices.ble_base import BleSourceBase, ClientFactory, DeviceFinder
from ecgstation.devices.clock import SessionClock
from ecgstation.devices.declared_frame import FrameSpec
from ecgstation.devices.events import DeviceStatus, SourceEvent
from ecgstation.devices.frame_events import DeclaredFrameHandler

__all__ = ["DeclaredFrameSource"]

logger = logging.getLogger(__name__)


class DeclaredFrameSource(BleSourceBase):
    """Declared frames (``spec``) at ``fs`` Hz arriving as notifications on ``data_uuid``.

    ``start_command``/``stop_command`` are written to ``command_uuid`` when given. Each
    notification is taken as whole frames (a frame cut short is refused). Lead names
    default to ``ch1..chN``; uncalibrated layouts (no gain) are announced by a status.
    """

    device_label = "ECG patch"

    def __init__(
        self,
        spec: FrameSpec,
        fs: float,
        data_uuid: str,
        address: str | None = None,
        *,
        name_prefix: str | None = None,
        lead_names: tuple[str, ...] | None = None,
        command_uuid: str | None = None,
        start_command: bytes | None = None,
        stop_command: bytes | None = None,
        lead_off_fill: Literal["nan", "flat"] = "nan",
        clock: SessionClock | None = None,
        scan_timeout_s: float = 10.0,
        client_factory: ClientFactory | None = None,
        finder: DeviceFinder | None = None,
    ) -> None:
        super().__init__(
            address,
            name_prefix=name_prefix,
            clock=clock,
            scan_timeout_s=scan_timeout_s,
            client_factory=client_factory,
            finder=finder,
        )
        self.spec = spec
        self.fs = float(fs)
        self.lead_names = lead_names or tuple(f"ch{i + 1}" for i in range(spec.channels))
        self.data_uuid = data_uuid
        self.command_uuid = command_uuid
        self.start_command = start_command
        self.stop_command = stop_command
        self.handler = DeclaredFrameHandler(spec, fs, lead_off_fill=lead_off_fill)

    def on_notification(self, data: bytes) -> list[SourceEvent]:
        """Events for one notification."""
        return self.handler.on_packet(bytes(data), self.clock.now(), end_of_packet=True)

    async def _start(self, client: Any) -> list[SourceEvent]:
        await client.start_notify(self.data_uuid, lambda _c, d: self._push(self.on_notification(bytes(d))))
        if self.command_uuid and self.start_command:
            await client.write_gatt_char(self.command_uuid, self.start_command, response=True)
        return [DeviceStatus("waiting_for_ecg", self.clock.now())]

    async def _stop_stream(self, client: Any) -> None:
        if self.command_uuid and self.stop_command:
            await client.write_gatt_char(self.command_uuid, self.stop_command, response=True)
        else:
            await client.stop_notify(self.data_uuid)
