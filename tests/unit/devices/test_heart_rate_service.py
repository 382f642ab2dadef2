"""Heart Rate Service, Battery and Device Information parsing with packets built from the SIG layouts."""

from __future__ import annotations

import struct

import pytest

from ecgstation.devices.errors import FrameError
from ecgstation.devices.heart_rate_service import (
    HEART_RATE_MEASUREMENT_UUID,
    parse_battery_level,
    parse_body_sensor_location,
    parse_device_info_string,
    parse_heart_rate_measurement,
)


def hr_packet(
    hr: int, *, uint16: bool = False, contact: int = 0, energy: int | None = None, rr: tuple[int, ...] = ()
) -> bytes:
    """A 0x2A37 packet: flags, HR (uint8/uint16 LE), energy (uint16 LE), RR (uint16 LE, 1/1024 s)."""
    flags = (1 if uint16 else 0) | (contact << 1) | (0x08 if energy is not None else 0) | (0x10 if rr else 0)
    out = bytearray([flags])
    out += struct.pack("<H", hr) if uint16 else bytes([hr])
    if energy is not None:
        out += struct.pack("<H", energy)
    for r in rr:
        out += struct.pack("<H", r)
    return bytes(out)


def test_uuid() -> None:
    assert HEART_RATE_MEASUREMENT_UUID == "00002a37-0000-1000-8000-00805f9b34fb"


def test_uint8_hr_without_extras() -> None:
    m = parse_heart_rate_measurement(bytes([0x00, 72]))
    assert m.heart_rate_bpm == 72 and m.contact is None and m.energy_kj is None and m.rr_s == ()


def test_uint16_hr() -> None:
    m = parse_heart_rate_measurement(hr_packet(300, uint16=True))
    assert m.heart_rate_bpm == 300


@pytest.mark.parametrize(("bits", "contact"), [(0, None), (1, None), (2, False), (3, True)])
def test_contact_bits(bits: int, contact: bool | None) -> None:
    assert parse_heart_rate_measurement(hr_packet(60, contact=bits)).contact is contact


def test_energy_and_several_rr_intervals() -> None:
    data = hr_packet(65, uint16=True, contact=3, energy=513, rr=(1024, 922, 1100))
    assert data == bytes.fromhex("1F 41 00 01 02 00 04 9A 03 4C 04")
    m = parse_heart_rate_measurement(data)
    assert m.heart_rate_bpm == 65 and m.energy_kj == 513 and m.contact is True
    assert m.rr_raw == (1024, 922, 1100)
    assert m.rr_s == pytest.approx((1.0, 922 / 1024, 1100 / 1024))


def test_rr_without_energy() -> None:
    m = parse_heart_rate_measurement(bytes.fromhex("10 3C 00 04 00 04"))
    assert m.heart_rate_bpm == 60 and m.rr_s == (1.0, 1.0)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (bytes([0x01, 0x40]), "uint16 HR"),
        (bytes([0x00]), "no HR byte"),
        (bytes([0x08, 60, 0x01]), "energy"),
        (bytes([0x10, 60, 0x00, 0x04, 0x9A]), "RR bytes"),
        (bytes([0x00, 60, 0x99]), "trailing"),
    ],
)
def test_truncated_packets(data: bytes, reason: str) -> None:
    with pytest.raises(FrameError, match=reason):
        parse_heart_rate_measurement(data)


def test_battery_level() -> None:
    assert parse_battery_level(b"\x57") == 87
    assert parse_battery_level(bytearray([100])) == 100
    with pytest.raises(FrameError, match="invalid"):
        parse_battery_level(bytes([101]))
    with pytest.raises(FrameError, match="1 expected"):
        parse_battery_level(b"")


def test_device_info_and_location() -> None:
    assert parse_device_info_string(b"Polar Electro Oy\x00") == "Polar Electro Oy"
    assert parse_device_info_string(b"3.1.1 \xff") == "3.1.1 \ufffd"
    assert parse_body_sensor_location(b"\x01") == "chest"
    assert parse_body_sensor_location(b"\x09").startswith("reserved")
