"""Polar H10 over Bluetooth LE: the PMD ECG stream (130 Hz, µV) as session events.

:class:`PolarEcgHandler` turns PMD bytes into events (pure, tested with real frame
layouts); :class:`PolarH10Source` is the thin bleak part: scan, connect, subscribe to
control-point indications and data notifications *before* writing start, wait for the
first ECG frame (15-30 s on an H10), stop before disconnecting.
"""

from __future__ import annotations

import logging
from typing import Any

from ecgstation.devices.ble_base import BleSourceBase, ClientFactory, DeviceFinder
from ecgstation.devices.clock import SessionClock
from ecgstation.devices.errors import FrameError
from ecgstation.devices.events import DeviceStatus, SampleChunk, SourceEvent
from ecgstation.devices.polar_pmd import (
    H10_ECG_FS_HZ,
    OP_START,
    PMD_CONTROL_UUID,
    PMD_DATA_UUID,
    PmdClock,
    decode_ecg_frame,
    parse_control_response,
    parse_settings,
    start_ecg_command,
    stop_ecg_command,
)
from ecgstation.devices.reconnect import ReconnectingSource

__all__ = ["PolarEcgHandler", "PolarH10Source", "open_polar_h10"]

logger = logging.getLogger(__name__)


class PolarEcgHandler:
    """PMD control-point responses and ECG frames -> events on the session ``clock``.

    The first ECG frame gives ``streaming``; frames are placed by :class:`PmdClock`
    (missing frames -> ``gap``); refused frames and commands -> ``error`` with the reason.
    Chunk ``seq`` jumps by the number of frames a gap swallowed. The sensor sends frames
    of one size within a connection (73 samples at the H10's MTU), so a frame of another
    size after the first is refused as truncated.
    """

    def __init__(self, clock: SessionClock, fs: float = H10_ECG_FS_HZ) -> None:
        self.clock = clock
        self.fs = float(fs)
        self.pmd_clock = PmdClock(fs)
        self.ecg_started = False
        self.frame_samples: int | None = None
        self._seq = 0

    def on_data(self, data: bytes) -> list[SourceEvent]:
        """Events for one PMD data notification."""
        now = self.clock.now()
        try:
            frame = decode_ecg_frame(data)
        except FrameError as exc:
            logger.warning("Polar ECG frame refused: %s", exc.reason)
            return [DeviceStatus("error", now, message=f"ECG frame refused: {exc.reason}")]
        if self.frame_samples is not None and frame.n != self.frame_samples:
            reason = f"frame of {frame.n} samples where the stream sends {self.frame_samples} (truncated?)"
            logger.warning("Polar ECG frame refused: %s", reason)
            return [DeviceStatus("error", now, message=f"ECG frame refused: {reason}")]
        self.frame_samples = frame.n
        events: list[SourceEvent] = []
        if not self.ecg_started:
            self.ecg_started = True
            events.append(DeviceStatus("streaming", now))
        place = self.pmd_clock.place(frame.timestamp_ns, frame.n, now)
        if place.gap_s > 0:
            events.append(DeviceStatus("gap", place.gap_start_s, place.gap_s, place.message))
            self._seq += max(1, round(place.gap_s * self.fs / frame.n))
        events.append(SampleChunk(frame.samples_mv[None, :], self.fs, place.t0_s, self._seq))
        self._seq += 1
        return events

    def on_control(self, data: bytes) -> list[SourceEvent]:
        """Events for one control-point indication (errors only; settings are logged)."""
        now = self.clock.now()
        try:
            resp = parse_control_response(data)
        except FrameError as exc:
            logger.warning("Polar control-point response refused: %s", exc.reason)
            return [DeviceStatus("error", now, message=f"control-point response refused: {exc.reason}")]
        if resp.mtu_too_small:
            msg = "Polar H10 refused the stream: the Bluetooth MTU is too small (update BlueZ/the adapter driver)"
            logger.error(msg)
            return [DeviceStatus("error", now, message=msg)]
        if not resp.ok:
            msg = f"Polar H10 refused command 0x{resp.op_code:02X}: {resp.status_text}"
            if resp.op_code == OP_START and resp.status == 6:
                logger.info("%s (stream already running)", msg)
                return []
            logger.warning(msg)
            return [DeviceStatus("error", now, message=msg)]
        if resp.parameters and resp.op_code != OP_START:
            try:
                logger.info("Polar settings: %s", parse_settings(resp.parameters))
            except FrameError as exc:
                logger.warning("Polar settings refused: %s", exc.reason)
        return []


class PolarH10Source(BleSourceBase):
    """One connection to a Polar H10 (by ``address`` or the first named ``name_prefix``).

    Emits connecting, connected, device_info, battery, waiting_for_ecg, streaming, chunks of
    73 samples (1 lead, mV, 130 Hz), and disconnected. If no ECG arrives within
    ``ecg_timeout_s`` the start command is sent again. A pairing refusal ("Insufficient
    Authentication") ends the source with a clear ``error``. For reconnects use
    :func:`open_polar_h10`.
    """

    fs = H10_ECG_FS_HZ
    lead_names: tuple[str, ...] = ("ECG",)
    device_label = "Polar H10"

    def __init__(
        self,
        address: str | None = None,
        *,
        name_prefix: str = "Polar H10",
        clock: SessionClock | None = None,
        scan_timeout_s: float = 10.0,
        ecg_timeout_s: float = 40.0,
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
        self.ecg_timeout_s = ecg_timeout_s
        self.handler = PolarEcgHandler(self.clock, self.fs)

    async def _start(self, client: Any) -> list[SourceEvent]:
        await client.start_notify(PMD_CONTROL_UUID, lambda _c, data: self._push(self.handler.on_control(bytes(data))))
        await client.start_notify(PMD_DATA_UUID, lambda _c, data: self._push(self.handler.on_data(bytes(data))))
        await client.write_gatt_char(PMD_CONTROL_UUID, start_ecg_command(), response=True)
        return [DeviceStatus("waiting_for_ecg", self.clock.now(), message="ECG may take 15-30 s to start")]

    def _idle_timeout_s(self) -> float | None:
        return None if self.handler.ecg_started else self.ecg_timeout_s

    async def _on_idle(self, client: Any) -> list[SourceEvent]:
        if self.handler.ecg_started:
            return []
        await client.write_gatt_char(PMD_CONTROL_UUID, start_ecg_command(), response=True)
        return [self._error(f"no ECG {self.ecg_timeout_s:g} s after start; start command sent again")]

    async def _stop_stream(self, client: Any) -> None:
        await client.write_gatt_char(PMD_CONTROL_UUID, stop_ecg_command(), response=True)


def open_polar_h10(
    address: str | None = None, *, clock: SessionClock | None = None, max_attempts: int = 10, **kwargs: Any
) -> ReconnectingSource:
    """A Polar H10 source that reconnects (re-sending start each time) and records the gaps."""
    shared = clock if clock is not None else SessionClock()
    return ReconnectingSource(
        lambda: PolarH10Source(address, clock=shared, **kwargs), max_attempts=max_attempts, clock=shared
    )
