"""Movesense single-lead ECG over the GATT SensorData protocol."""

from __future__ import annotations

import logging
from typing import Any

from ecgstation.devices.ble_base import BleSourceBase, ClientFactory, DeviceFinder
from ecgstation.devices.clock import DeviceClock, SessionClock
from ecgstation.devices.errors import FrameError
from ecgstation.devices.events import DeviceStatus, SampleChunk, SourceEvent
from ecgstation.devices.movesense import (
    MOVESENSE_NOTIFY_UUID,
    MOVESENSE_WRITE_UUID,
    MovesenseAssembler,
    MovesenseData,
    subscribe_ecg_command,
    unsubscribe_command,
)

__all__ = ["MovesenseHandler", "MovesenseSource"]

logger = logging.getLogger(__name__)

#: Subscription reference used for the ECG stream.
ECG_REF = 99


class MovesenseHandler:
    """SensorData notifications -> events: responses (errors only), ECG data -> chunks.

    The sensor's ms timestamp (taken as the first sample's) places packets with a
    :class:`DeviceClock`; missing packets give ``gap``.
    """

    def __init__(self, clock: SessionClock, fs: float, *, ref: int = ECG_REF, samples_per_packet: int | None = None):
        self.clock = clock
        self.fs = float(fs)
        self.ref = ref
        self.assembler = MovesenseAssembler(samples_per_packet)
        self.device_clock = DeviceClock(fs)
        self.started = False
        self._seq = 0

    def on_notification(self, data: bytes) -> list[SourceEvent]:
        """Events for one notification."""
        now = self.clock.now()
        try:
            messages = self.assembler.feed(data)
        except FrameError as exc:
            logger.warning("Movesense packet refused: %s", exc.reason)
            return [DeviceStatus("error", now, message=f"Movesense packet refused: {exc.reason}")]
        events: list[SourceEvent] = []
        for msg in messages:
            if not isinstance(msg, MovesenseData):
                if not msg.ok:
                    text = f"Movesense refused subscription {msg.ref} (status {msg.status}); is the SensorData app installed?"
                    logger.warning(text)
                    events.append(DeviceStatus("error", now, message=text))
                continue
            if msg.ref != self.ref:
                logger.debug("Movesense data for reference %d ignored", msg.ref)
                continue
            if not self.started:
                self.started = True
                events.append(DeviceStatus("streaming", now))
            n = int(msg.samples_uv.size)
            place = self.device_clock.place(msg.timestamp_ms / 1000.0, n, now)
            if place.gap_s > 0:
                events.append(DeviceStatus("gap", place.gap_start_s, place.gap_s, place.message))
                self._seq += max(1, round(place.gap_s * self.fs / n))
            events.append(SampleChunk(msg.samples_mv[None, :], self.fs, place.t0_s, self._seq))
            self._seq += 1
        return events


class MovesenseSource(BleSourceBase):
    """One connection to a Movesense sensor streaming ECG at ``rate_hz`` (125-512 Hz)."""

    lead_names: tuple[str, ...] = ("ECG",)
    device_label = "Movesense"

    def __init__(
        self,
        address: str | None = None,
        *,
        rate_hz: int = 125,
        name_prefix: str = "Movesense",
        clock: SessionClock | None = None,
        scan_timeout_s: float = 10.0,
        client_factory: ClientFactory | None = None,
        finder: DeviceFinder | None = None,
    ) -> None:
        self._subscribe = subscribe_ecg_command(ECG_REF, rate_hz)  # validates the rate
        super().__init__(
            address,
            name_prefix=name_prefix,
            clock=clock,
            scan_timeout_s=scan_timeout_s,
            client_factory=client_factory,
            finder=finder,
        )
        self.fs = float(rate_hz)
        self.handler = MovesenseHandler(self.clock, self.fs)

    async def _start(self, client: Any) -> list[SourceEvent]:
        await client.start_notify(
            MOVESENSE_NOTIFY_UUID, lambda _c, d: self._push(self.handler.on_notification(bytes(d)))
        )
        await client.write_gatt_char(MOVESENSE_WRITE_UUID, self._subscribe, response=True)
        return [DeviceStatus("waiting_for_ecg", self.clock.now())]

    async def _stop_stream(self, client: Any) -> None:
        await client.write_gatt_char(MOVESENSE_WRITE_UUID, unsubscribe_command(ECG_REF), response=True)
