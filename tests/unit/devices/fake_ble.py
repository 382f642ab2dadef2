"""A stand-in for bleak's client: records calls and lets a test deliver notifications and drops."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bleak.exc import BleakError


class FakeClient:
    """Connects at once; ``notify(uuid, data)`` calls the subscribed callback; ``drop()`` loses the link."""

    def __init__(self, device: Any, *, disconnected_callback: Callable[[Any], None], reads: dict[str, bytes]) -> None:
        self.device = device
        self.calls: list[tuple[Any, ...]] = []
        self.is_connected = False
        self._disconnected = disconnected_callback
        self._callbacks: dict[str, Callable[[Any, bytearray], None]] = {}
        self.reads = reads
        self.write_error: str | None = None

    async def connect(self) -> None:
        self.calls.append(("connect",))
        self.is_connected = True

    async def disconnect(self) -> None:
        self.calls.append(("disconnect",))
        self.is_connected = False

    async def read_gatt_char(self, uuid: str) -> bytearray:
        if uuid not in self.reads:
            raise BleakError(f"characteristic {uuid} not found")
        return bytearray(self.reads[uuid])

    async def start_notify(self, uuid: str, callback: Callable[[Any, bytearray], None]) -> None:
        self.calls.append(("start_notify", uuid))
        self._callbacks[uuid] = callback

    async def stop_notify(self, uuid: str) -> None:
        self.calls.append(("stop_notify", uuid))

    async def write_gatt_char(self, uuid: str, data: bytes, response: bool = False) -> None:
        if self.write_error:
            raise BleakError(self.write_error)
        self.calls.append(("write", uuid, bytes(data)))

    def notify(self, uuid: str, data: bytes) -> None:
        self._callbacks[uuid](None, bytearray(data))

    def drop(self) -> None:
        self.is_connected = False
        self._disconnected(self)


class FakeRadio:
    """Makes FakeClients (kept in ``clients``) and finds every device at once."""

    def __init__(self, reads: dict[str, bytes] | None = None, write_error: str | None = None) -> None:
        self.clients: list[FakeClient] = []
        self.reads = reads or {}
        self.write_error = write_error

    def client(self, device: Any, **kwargs: Any) -> FakeClient:
        c = FakeClient(device, reads=self.reads, **kwargs)
        c.write_error = self.write_error
        self.clients.append(c)
        return c

    async def find(self, address: str | None, name_prefix: str | None, timeout_s: float) -> Any:
        return address or f"{name_prefix} 1234"
