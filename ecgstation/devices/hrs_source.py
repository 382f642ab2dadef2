"""Heart-rate straps over the standard BLE Heart Rate Service: HR and RR intervals, no ECG."""

from __future__ import annotations

import logging
from typing import Any

from ecgstation.devices.ble_base import BleSourceBase, ClientFactory, DeviceFinder
from ecgstation.devices.clock import SessionClock
from ecgstation.devices.errors import FrameError
from ecgstation.devices.events import BeatIntervals, DeviceStatus, SourceEvent
from ecgstation.devices.heart_rate_service import HEART_RATE_MEASUREMENT_UUID, parse_heart_rate_measurement
from ecgstation.devices.reconnect import ReconnectingSource

__all__ = ["HeartRateHandler", "HeartRateSource", "open_heart_rate_strap"]

logger = logging.getLogger(__name__)


class HeartRateHandler:
    """0x2A37 packets -> :class:`BeatIntervals` (stamped on arrival), contact changes -> lead_off/lead_on."""

    def __init__(self, clock: SessionClock) -> None:
        self.clock = clock
        self._contact: bool | None = None

    def on_measurement(self, data: bytes) -> list[SourceEvent]:
        """Events for one Heart Rate Measurement notification."""
        now = self.clock.now()
        try:
            m = parse_heart_rate_measurement(data)
        except FrameError as exc:
            logger.warning("heart-rate packet refused: %s", exc.reason)
            return [DeviceStatus("error", now, message=f"heart-rate packet refused: {exc.reason}")]
        events: list[SourceEvent] = []
        if m.contact is not None and m.contact != self._contact:
            if m.contact is False or self._contact is False:
                events.append(DeviceStatus("lead_on" if m.contact else "lead_off", now))
            self._contact = m.contact
        events.append(BeatIntervals(now, float(m.heart_rate_bpm), m.rr_s, m.contact))
        return events


class HeartRateSource(BleSourceBase):
    """One connection to a strap that offers the Heart Rate Service (0x180D).

    ``fs`` is 0 and ``lead_names`` empty: it sends :class:`BeatIntervals`, never samples.
    """

    fs = 0.0
    lead_names: tuple[str, ...] = ()
    device_label = "heart-rate strap"

    def __init__(
        self,
        address: str | None = None,
        *,
        name_prefix: str | None = None,
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
        self.handler = HeartRateHandler(self.clock)

    async def _start(self, client: Any) -> list[SourceEvent]:
        await client.start_notify(
            HEART_RATE_MEASUREMENT_UUID, lambda _c, data: self._push(self.handler.on_measurement(bytes(data)))
        )
        return [DeviceStatus("streaming", self.clock.now())]

    async def _stop_stream(self, client: Any) -> None:
        await client.stop_notify(HEART_RATE_MEASUREMENT_UUID)


def open_heart_rate_strap(
    address: str | None = None, *, clock: SessionClock | None = None, max_attempts: int = 10, **kwargs: Any
) -> ReconnectingSource:
    """A heart-rate strap source that reconnects."""
    shared = clock if clock is not None else SessionClock()
    return ReconnectingSource(
        lambda: HeartRateSource(address, clock=shared, **kwargs), max_attempts=max_attempts, clock=shared
    )
