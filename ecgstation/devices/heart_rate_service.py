"""Bluetooth SIG Heart Rate (0x180D), Battery (0x180F) and Device Information (0x180A) parsing.

Pure byte handling: HR in bpm, RR intervals in s (sent in 1/1024 s), energy in kJ.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ecgstation.devices.errors import FrameError

__all__ = [
    "BATTERY_LEVEL_UUID",
    "BATTERY_SERVICE_UUID",
    "BODY_SENSOR_LOCATION_UUID",
    "DEVICE_INFO_SERVICE_UUID",
    "DEVICE_INFO_UUIDS",
    "HEART_RATE_MEASUREMENT_UUID",
    "HEART_RATE_SERVICE_UUID",
    "HeartRateMeasurement",
    "parse_battery_level",
    "parse_body_sensor_location",
    "parse_device_info_string",
    "parse_heart_rate_measurement",
]


def _uuid16(short: int) -> str:
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


HEART_RATE_SERVICE_UUID = _uuid16(0x180D)
HEART_RATE_MEASUREMENT_UUID = _uuid16(0x2A37)
BODY_SENSOR_LOCATION_UUID = _uuid16(0x2A38)
BATTERY_SERVICE_UUID = _uuid16(0x180F)
BATTERY_LEVEL_UUID = _uuid16(0x2A19)
DEVICE_INFO_SERVICE_UUID = _uuid16(0x180A)
#: Device Information characteristics, by field name.
DEVICE_INFO_UUIDS: dict[str, str] = {
    "manufacturer": _uuid16(0x2A29),
    "model": _uuid16(0x2A24),
    "serial": _uuid16(0x2A25),
    "firmware": _uuid16(0x2A26),
    "software": _uuid16(0x2A28),
}

BODY_SENSOR_LOCATIONS = {0: "other", 1: "chest", 2: "wrist", 3: "finger", 4: "hand", 5: "ear lobe", 6: "foot"}

_FLAG_HR_UINT16 = 0x01
_FLAG_CONTACT_SUPPORTED = 0x04
_FLAG_CONTACT_DETECTED = 0x02
_FLAG_ENERGY = 0x08
_FLAG_RR = 0x10


@dataclass(frozen=True)
class HeartRateMeasurement:
    """One Heart Rate Measurement (0x2A37) notification.

    ``heart_rate_bpm`` as sent; ``contact`` None when the sensor does not report it;
    ``energy_kj`` None when absent; ``rr_s`` RR intervals in s (oldest first) and
    ``rr_raw`` the same in 1/1024 s.
    """

    heart_rate_bpm: int
    contact: bool | None
    energy_kj: int | None
    rr_raw: tuple[int, ...]

    @property
    def rr_s(self) -> tuple[float, ...]:
        """RR intervals in s."""
        return tuple(r / 1024.0 for r in self.rr_raw)


def parse_heart_rate_measurement(data: bytes | bytearray) -> HeartRateMeasurement:
    """Parse a 0x2A37 packet; raises :class:`FrameError` when it is truncated."""
    data = bytes(data)
    if not data:
        raise FrameError("empty heart-rate packet")
    flags = data[0]
    i = 1
    if flags & _FLAG_HR_UINT16:
        if len(data) < i + 2:
            raise FrameError(f"heart-rate packet of {len(data)} bytes truncated: uint16 HR needs 3")
        hr = struct.unpack_from("<H", data, i)[0]
        i += 2
    else:
        if len(data) < i + 1:
            raise FrameError("heart-rate packet truncated: no HR byte")
        hr = data[i]
        i += 1
    contact: bool | None = bool(flags & _FLAG_CONTACT_DETECTED) if flags & _FLAG_CONTACT_SUPPORTED else None
    energy: int | None = None
    if flags & _FLAG_ENERGY:
        if len(data) < i + 2:
            raise FrameError(f"heart-rate packet truncated: energy field needs bytes {i}-{i + 1}")
        energy = struct.unpack_from("<H", data, i)[0]
        i += 2
    rr: tuple[int, ...] = ()
    if flags & _FLAG_RR:
        rest = data[i:]
        if len(rest) % 2:
            raise FrameError(f"heart-rate packet truncated: {len(rest)} RR bytes is not a whole number of uint16")
        rr = tuple(struct.unpack(f"<{len(rest) // 2}H", rest))
    elif len(data) > i:
        raise FrameError(f"heart-rate packet has {len(data) - i} unexpected trailing bytes")
    return HeartRateMeasurement(int(hr), contact, energy, rr)


def parse_battery_level(data: bytes | bytearray) -> int:
    """Battery level (0x2A19) in %; raises :class:`FrameError` when not one byte of 0-100."""
    data = bytes(data)
    if len(data) != 1:
        raise FrameError(f"battery level of {len(data)} bytes; 1 expected")
    if data[0] > 100:
        raise FrameError(f"battery level {data[0]} % is invalid (> 100)")
    return int(data[0])


def parse_body_sensor_location(data: bytes | bytearray) -> str:
    """Body sensor location (0x2A38) in words."""
    data = bytes(data)
    if len(data) != 1:
        raise FrameError(f"body sensor location of {len(data)} bytes; 1 expected")
    return BODY_SENSOR_LOCATIONS.get(data[0], f"reserved ({data[0]})")


def parse_device_info_string(data: bytes | bytearray) -> str:
    """A Device Information string (UTF-8, trailing NULs and spaces removed, bad bytes replaced)."""
    return bytes(data).decode("utf-8", errors="replace").rstrip("\x00 ").strip()
