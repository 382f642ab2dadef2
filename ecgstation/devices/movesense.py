"""Movesense GATT SensorData protocol: ECG subscribe/unsubscribe commands and notification parsing.

Pure byte handling. Notifications: ``01 ref status(u16 LE)`` command response; ``02 ref``
data (u32 LE timestamp in ms, then int32 LE samples in µV); ``03 ref`` continuation of
the previous ``02``.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ecgstation.devices.errors import DeviceError, FrameError

__all__ = [
    "ECG_RATES_HZ",
    "MOVESENSE_NOTIFY_UUID",
    "MOVESENSE_SERVICE_UUID",
    "MOVESENSE_WRITE_UUID",
    "MovesenseAssembler",
    "MovesenseData",
    "MovesenseResponse",
    "subscribe_ecg_command",
    "unsubscribe_command",
]

logger = logging.getLogger(__name__)

MOVESENSE_SERVICE_UUID = "34802252-7185-4d5d-b431-630e7050e8f0"
MOVESENSE_WRITE_UUID = "34800001-7185-4d5d-b431-630e7050e8f0"
MOVESENSE_NOTIFY_UUID = "34800002-7185-4d5d-b431-630e7050e8f0"

#: ECG sample rates (Hz) the sensors offer (some units accept 125 only).
ECG_RATES_HZ = (125, 128, 200, 250, 256, 500, 512)

CMD_SUBSCRIBE = 0x01
CMD_UNSUBSCRIBE = 0x02
PKT_RESPONSE = 0x01
PKT_DATA = 0x02
PKT_DATA_PART2 = 0x03


def _check_ref(ref: int) -> None:
    if not 0 <= ref <= 255:
        raise DeviceError(f"Movesense subscription reference {ref} is outside 0-255")


def subscribe_ecg_command(ref: int, rate_hz: int) -> bytes:
    """``01 <ref> "/Meas/ECG/<rate>"``; raises :class:`DeviceError` for a rate the sensors do not offer."""
    _check_ref(ref)
    if rate_hz not in ECG_RATES_HZ:
        raise DeviceError(f"Movesense ECG rate {rate_hz} Hz is not offered (choose one of {ECG_RATES_HZ})")
    return bytes([CMD_SUBSCRIBE, ref]) + f"/Meas/ECG/{rate_hz}".encode("ascii")


def unsubscribe_command(ref: int) -> bytes:
    """``02 <ref>``: end the subscription ``ref``."""
    _check_ref(ref)
    return bytes([CMD_UNSUBSCRIBE, ref])


@dataclass(frozen=True)
class MovesenseResponse:
    """A command response: ``status`` is an HTTP-like code (200 = OK)."""

    ref: int
    status: int

    @property
    def ok(self) -> bool:
        """True for a 2xx status."""
        return 200 <= self.status < 300


@dataclass(frozen=True)
class MovesenseData:
    """ECG data of subscription ``ref``: ``timestamp_ms`` (sensor clock) and ``samples_uv`` int32 µV."""

    ref: int
    timestamp_ms: int
    samples_uv: NDArray[np.int32]

    @property
    def samples_mv(self) -> NDArray[np.float32]:
        """Samples in mV."""
        return (self.samples_uv.astype(np.float64) / 1000.0).astype(np.float32)


MovesenseMessage = MovesenseResponse | MovesenseData


class MovesenseAssembler:
    """Joins ``02`` data packets with their ``03`` continuations and parses the result.

    With ``samples_per_packet`` known, a data packet is emitted as soon as it holds that
    many samples; otherwise it is held until the next ``02``/``01`` or :meth:`flush`.
    Bad packets raise :class:`FrameError` (the pending packet is dropped; the next one is fine).
    """

    def __init__(self, samples_per_packet: int | None = None) -> None:
        self.samples_per_packet = samples_per_packet
        self._pending: tuple[int, bytearray] | None = None

    def feed(self, data: bytes | bytearray) -> list[MovesenseMessage]:
        """Parse one notification; returns the messages it completes."""
        data = bytes(data)
        if len(data) < 2:
            raise FrameError(f"Movesense notification of {len(data)} bytes; at least 2 are needed")
        kind, ref = data[0], data[1]
        out: list[MovesenseMessage] = []
        if kind == PKT_RESPONSE:
            out.extend(self.flush())
            if len(data) < 4:
                raise FrameError(f"Movesense response of {len(data)} bytes truncated: u16 status needs 4")
            out.append(MovesenseResponse(ref, struct.unpack_from("<H", data, 2)[0]))
            return out
        if kind == PKT_DATA:
            out.extend(self.flush())
            self._pending = (ref, bytearray(data[2:]))
        elif kind == PKT_DATA_PART2:
            if self._pending is None:
                raise FrameError("continuation (03) without a preceding data packet (02)")
            if self._pending[0] != ref:
                pending_ref = self._pending[0]
                self._pending = None
                raise FrameError(f"continuation for reference {ref} follows data of reference {pending_ref}")
            self._pending[1].extend(data[2:])
        else:
            raise FrameError(f"unknown Movesense packet type 0x{kind:02X}")
        if self.samples_per_packet is not None and self._pending is not None:
            have = (len(self._pending[1]) - 4) // 4
            if have > self.samples_per_packet:
                self._pending = None
                raise FrameError(f"data packet holds {have} samples; {self.samples_per_packet} expected")
            if have == self.samples_per_packet:
                out.extend(self.flush())
        return out

    def flush(self) -> list[MovesenseMessage]:
        """Emit the held data packet, if any (raises :class:`FrameError` when it is malformed)."""
        if self._pending is None:
            return []
        ref, body = self._pending
        self._pending = None
        return [_parse_data(ref, bytes(body))]


def _parse_data(ref: int, body: bytes) -> MovesenseData:
    if len(body) < 4:
        raise FrameError(f"Movesense data of {len(body)} bytes: no room for the u32 timestamp")
    payload = body[4:]
    if not payload:
        raise FrameError("Movesense data carries no samples")
    if len(payload) % 4:
        raise FrameError(f"Movesense ECG payload of {len(payload)} bytes is not a whole number of int32 (truncated?)")
    samples = np.frombuffer(payload, dtype="<i4").astype(np.int32)
    return MovesenseData(ref, struct.unpack_from("<I", body, 0)[0], samples)
