"""Movesense GATT SensorData: commands and notifications (02 data + 03 continuation) built byte by byte."""

from __future__ import annotations

import struct

import pytest

from ecgstation.devices.errors import DeviceError, FrameError
from ecgstation.devices.movesense import (
    MovesenseAssembler,
    MovesenseData,
    MovesenseResponse,
    subscribe_ecg_command,
    unsubscribe_command,
)


def data_packet(ref: int, ts_ms: int, samples: list[int]) -> bytes:
    """``02 ref`` + u32 LE timestamp (ms) + int32 LE samples (µV)."""
    return bytes([0x02, ref]) + struct.pack("<I", ts_ms) + struct.pack(f"<{len(samples)}i", *samples)


def test_subscribe_and_unsubscribe_bytes() -> None:
    assert subscribe_ecg_command(99, 125) == b"\x01\x63/Meas/ECG/125"
    assert subscribe_ecg_command(1, 512) == b"\x01\x01/Meas/ECG/512"
    assert unsubscribe_command(99) == b"\x02\x63"


@pytest.mark.parametrize("rate", [100, 124, 513, 1000])
def test_rates_outside_the_offer_are_refused(rate: int) -> None:
    with pytest.raises(DeviceError, match="not offered"):
        subscribe_ecg_command(1, rate)


def test_ref_out_of_range() -> None:
    with pytest.raises(DeviceError):
        unsubscribe_command(256)


def test_response_packet() -> None:
    (resp,) = MovesenseAssembler().feed(bytes([0x01, 99]) + struct.pack("<H", 200))
    assert resp == MovesenseResponse(99, 200) and resp.ok
    (bad,) = MovesenseAssembler().feed(bytes([0x01, 99]) + struct.pack("<H", 404))
    assert isinstance(bad, MovesenseResponse) and not bad.ok


def test_data_packet_emitted_when_full() -> None:
    asm = MovesenseAssembler(samples_per_packet=4)
    (msg,) = asm.feed(data_packet(99, 123_456, [100, -100, 2_000_000_000, -2_000_000_000]))
    assert isinstance(msg, MovesenseData)
    assert msg.ref == 99 and msg.timestamp_ms == 123_456
    assert msg.samples_uv.tolist() == [100, -100, 2_000_000_000, -2_000_000_000]
    assert msg.samples_mv[0] == pytest.approx(0.1)


def test_continuation_joined_to_the_previous_data_packet() -> None:
    samples = list(range(-8, 8))
    whole = data_packet(7, 5000, samples)
    first, rest = whole[:30], whole[30:]
    asm = MovesenseAssembler(samples_per_packet=16)
    assert asm.feed(first) == []
    (msg,) = asm.feed(bytes([0x03, 7]) + rest)
    assert isinstance(msg, MovesenseData) and msg.samples_uv.tolist() == samples and msg.timestamp_ms == 5000


def test_unknown_length_held_until_the_next_packet() -> None:
    asm = MovesenseAssembler()
    assert asm.feed(data_packet(7, 0, [1, 2])) == []
    assert asm.feed(bytes([0x03, 7]) + struct.pack("<i", 3)) == []
    (msg,) = asm.feed(data_packet(7, 24, [4]))
    assert isinstance(msg, MovesenseData) and msg.samples_uv.tolist() == [1, 2, 3]
    (last,) = asm.flush()
    assert isinstance(last, MovesenseData) and last.samples_uv.tolist() == [4]


@pytest.mark.parametrize(
    ("packets", "reason"),
    [
        ([b"\x02"], "at least 2"),
        ([bytes([0x03, 7, 1, 2, 3, 4])], "without a preceding data packet"),
        ([data_packet(7, 0, [1]), bytes([0x03, 8, 0, 0, 0, 0])], "reference 8"),
        ([bytes([0x05, 7])], "unknown Movesense packet type 0x05"),
        ([bytes([0x01, 7, 200])], "truncated"),
        ([data_packet(7, 0, [1, 2])[:-1]], "not a whole number of int32"),
        ([bytes([0x02, 7, 1, 2])], "no room for the u32 timestamp"),
        ([bytes([0x02, 7, 1, 2, 3, 4])], "no samples"),
    ],
)
def test_malformed_packets(packets: list[bytes], reason: str) -> None:
    asm = MovesenseAssembler()
    with pytest.raises(FrameError, match=reason):
        for p in packets:
            asm.feed(p)
        asm.flush()


def test_too_many_samples_and_recovery() -> None:
    asm = MovesenseAssembler(samples_per_packet=2)
    with pytest.raises(FrameError, match="3 samples; 2 expected"):
        asm.feed(data_packet(7, 0, [1, 2, 3]))
    (msg,) = asm.feed(data_packet(7, 16, [4, 5]))
    assert isinstance(msg, MovesenseData) and msg.samples_uv.tolist() == [4, 5]
