"""The thin bleak part shared by the BLE sources: scan, connect, device information, queue, stop.

The byte handling lives in the pure protocol modules; a source here only wires
notifications to a handler and the handler's events to ``events()``. One source object
is one connection: wrap it in :class:`~ecgstation.devices.reconnect.ReconnectingSource`
to retry after a disconnect.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from ecgstation.devices.clock import SessionClock
from ecgstation.devices.errors import DeviceError, FrameError
from ecgstation.devices.events import DeviceStatus, SourceEvent
from ecgstation.devices.heart_rate_service import (
    BATTERY_LEVEL_UUID,
    DEVICE_INFO_UUIDS,
    parse_battery_level,
    parse_device_info_string,
)

__all__ = ["BleSourceBase", "ClientFactory", "DeviceFinder", "is_pairing_error"]

logger = logging.getLogger(__name__)

#: Makes a bleak-like client: ``factory(device_or_address, disconnected_callback=cb)``.
ClientFactory = Callable[..., Any]
#: Finds a device: ``await finder(address, name_prefix, timeout_s)`` -> a BLEDevice or address, or None.
DeviceFinder = Callable[[str | None, str | None, float], Awaitable[Any]]

_PAIRING_HINTS = ("insufficient authentication", "insufficient encryption", "not permitted", "notpermitted")


def is_pairing_error(exc: BaseException) -> bool:
    """True when a GATT error says the device wants to be paired first (Windows: "Insufficient Authentication")."""
    text = str(exc).lower()
    return any(hint in text for hint in _PAIRING_HINTS)


async def _bleak_find(address: str | None, name_prefix: str | None, timeout_s: float) -> Any:
    from bleak import BleakScanner

    if address:
        return await BleakScanner.find_device_by_address(address, timeout=timeout_s)
    prefix = name_prefix or ""
    return await BleakScanner.find_device_by_filter(
        lambda dev, adv: (dev.name or adv.local_name or "").startswith(prefix), timeout=timeout_s
    )


def _bleak_client(device: Any, **kwargs: Any) -> Any:
    from bleak import BleakClient

    return BleakClient(device, **kwargs)


def _gatt_errors() -> tuple[type[BaseException], ...]:
    from bleak.exc import BleakError

    return (BleakError, OSError, TimeoutError)


_LINK_LOST = object()
_CLOSE = object()


class BleSourceBase:
    """One BLE connection to an ECG or heart-rate device, producing :mod:`events` (see module doc).

    Subclasses set ``fs``/``lead_names`` and implement :meth:`_start` (subscribe, then write
    the start command; returns the first events) and may override :meth:`_stop_stream`
    and :meth:`_on_idle`. Handlers push events with :meth:`_push`.
    """

    fs: float = 0.0
    lead_names: tuple[str, ...] = ()
    device_label = "device"

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
        if not address and not name_prefix:
            raise DeviceError("give the device's address or the start of its name")
        self.address = address
        self.name_prefix = name_prefix
        self.name = f"{self.device_label} {address or name_prefix}"
        self.clock = clock if clock is not None else SessionClock()
        self.scan_timeout_s = scan_timeout_s
        self._client_factory = client_factory or _bleak_client
        self._finder = finder or _bleak_find
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._client: Any = None
        self._closing = False
        self.finished = False

    # -- hooks -------------------------------------------------------------------------
    async def _start(self, client: Any) -> list[SourceEvent]:
        raise NotImplementedError

    async def _stop_stream(self, client: Any) -> None:
        """Tell the device to stop streaming (before disconnecting)."""

    def _idle_timeout_s(self) -> float | None:
        """Seconds without events after which :meth:`_on_idle` runs (None: never)."""
        return None

    async def _on_idle(self, client: Any) -> list[SourceEvent]:
        return []

    # -- plumbing ----------------------------------------------------------------------
    def _push(self, events: list[SourceEvent]) -> None:
        for ev in events:
            self._queue.put_nowait(ev)

    def _on_disconnect(self, _client: Any) -> None:
        self._queue.put_nowait(_LINK_LOST)

    def _error(self, message: str) -> DeviceStatus:
        logger.warning("%s: %s", self.name, message)
        return DeviceStatus("error", self.clock.now(), message=message)

    async def _read_info(self, client: Any) -> list[SourceEvent]:
        """Device information (logged with the session) and the battery level."""
        fields: list[str] = []
        for key, uuid in DEVICE_INFO_UUIDS.items():
            try:
                fields.append(f"{key}: {parse_device_info_string(await client.read_gatt_char(uuid))}")
            except _gatt_errors() as exc:
                logger.debug("%s: no %s (%s)", self.name, key, exc)
        events: list[SourceEvent] = []
        if fields:
            info = "; ".join(fields)
            logger.info("%s: %s", self.name, info)
            events.append(DeviceStatus("device_info", self.clock.now(), message=info))
        try:
            level = parse_battery_level(await client.read_gatt_char(BATTERY_LEVEL_UUID))
            events.append(DeviceStatus("battery", self.clock.now(), float(level)))
        except FrameError as exc:
            events.append(self._error(f"battery level refused: {exc.reason}"))
        except _gatt_errors() as exc:
            logger.debug("%s: no battery level (%s)", self.name, exc)
        return events

    async def events(self) -> AsyncIterator[SourceEvent]:
        """Connect, start the stream and yield its events until the link is lost or :meth:`close`."""
        self.clock.start()
        yield DeviceStatus("connecting", self.clock.now(), message=self.name)
        try:
            device = await self._finder(self.address, self.name_prefix, self.scan_timeout_s)
            if device is None:
                raise DeviceError(f"{self.name} not found: is it worn (electrodes moist) and within reach?")
            client = self._client_factory(device, disconnected_callback=self._on_disconnect)
            await client.connect()
        except _gatt_errors() as exc:
            raise DeviceError(f"cannot connect to {self.name}: {exc}") from exc
        self._client = client
        yield DeviceStatus("connected", self.clock.now(), message=self.name)
        for ev in await self._read_info(client):
            yield ev
        try:
            first = await self._start(client)
        except _gatt_errors() as exc:
            if is_pairing_error(exc):
                self.finished = True
                msg = (
                    f"{self.name} refused the command (insufficient authentication): pair it in the "
                    "system's Bluetooth settings first, then connect again"
                )
                yield self._error(msg)
                await self._disconnect(client)
                yield DeviceStatus("disconnected", self.clock.now(), message="not paired")
                return
            await self._disconnect(client)
            raise DeviceError(f"{self.name}: starting the stream failed: {exc}") from exc
        for ev in first:
            yield ev
        while True:
            try:
                item = await asyncio.wait_for(self._queue.get(), timeout=self._idle_timeout_s())
            except TimeoutError:
                for ev in await self._on_idle(client):
                    yield ev
                continue
            if item is _LINK_LOST:
                if self._closing:
                    continue
                logger.warning("%s: link lost", self.name)
                yield DeviceStatus("disconnected", self.clock.now(), message="link lost")
                return
            if item is _CLOSE:
                break
            assert isinstance(item, SourceEvent)
            yield item
        await self._stop_and_disconnect(client)
        self.finished = True
        yield DeviceStatus("disconnected", self.clock.now(), message="closed")

    async def _stop_and_disconnect(self, client: Any) -> None:
        try:
            if client.is_connected:
                await self._stop_stream(client)
        except _gatt_errors() as exc:
            logger.warning("%s: stop command failed: %s", self.name, exc)
        await self._disconnect(client)

    async def _disconnect(self, client: Any) -> None:
        try:
            await client.disconnect()
        except _gatt_errors() as exc:
            logger.warning("%s: disconnect failed: %s", self.name, exc)

    async def close(self) -> None:
        """Send the stop command, then disconnect (``events()`` ends with ``disconnected``)."""
        self._closing = True
        self.finished = True
        self._queue.put_nowait(_CLOSE)
