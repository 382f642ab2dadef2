"""Polar PMD: commands, control-point responses, ECG frames built byte by byte, and the PMD clock."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from ecgstation.devices.errors import FrameError
from ecgstation.devices.polar_pmd import (
    PMD_CONTROL_UUID,
    PMD_DATA_UUID,
    PMD_SERVICE_UUID,
    STATUS_TEXT,
    PmdClock,
    decode_ecg_frame,
    get_ecg_settings_command,
    parse_control_response,
    parse_settings,
    pmd_time,
    start_ecg_command,
    stop_ecg_command,
)

NS = 1_000_000_000
FS = 130.0


def ecg_frame(timestamp_ns: int, samples_uv: list[int], *, mtype: int = 0x00, frame_type: int = 0x00) -> bytes:
    """A PMD ECG notification, byte by byte: type, u64 LE ns, frame type, 3-byte signed LE µV samples."""
    out = bytearray([mtype])
    out += timestamp_ns.to_bytes(8, "little")
    out.append(frame_type)
    for v in samples_uv:
        out += (v & 0xFFFFFF).to_bytes(3, "little")
    return bytes(out)


def test_uuids_share_the_pmd_suffix() -> None:
    for uuid, head in ((PMD_SERVICE_UUID, "fb005c80"), (PMD_CONTROL_UUID, "fb005c81"), (PMD_DATA_UUID, "fb005c82")):
        assert uuid == f"{head}-02e7-f387-1cad-8acd2d8df0c8"


def test_commands_are_the_published_bytes() -> None:
    assert start_ecg_command() == bytes.fromhex("02 00 00 01 82 00 01 01 0E 00")
    assert stop_ecg_command() == bytes.fromhex("03 00")
    assert get_ecg_settings_command() == bytes.fromhex("01 00")


@pytest.mark.parametrize("status", range(15))
def test_control_response_each_status(status: int) -> None:
    data = bytes([0xF0, 0x02, 0x00, status]) + (b"\x00" if status == 0 else b"")
    resp = parse_control_response(data)
    assert resp.op_code == 2 and resp.measurement_type == 0 and resp.status == status
    assert resp.ok is (status == 0)
    assert resp.status_text == STATUS_TEXT[status]
    assert resp.mtu_too_small is (status == 10)


def test_mtu_too_small_response() -> None:
    resp = parse_control_response(bytes.fromhex("F0 01 00 0A"))
    assert resp.mtu_too_small and not resp.ok and "MTU" in resp.status_text


def test_unknown_status_is_named() -> None:
    assert "unknown status 99" in parse_control_response(bytes([0xF0, 1, 0, 99])).status_text


def test_settings_response_with_more_frames_flag() -> None:
    # get ECG settings: 130 Hz, 14 bit; more-frames flag set
    data = bytes.fromhex("F0 01 00 00 01") + bytes.fromhex("00 01 82 00 01 01 0E 00")
    resp = parse_control_response(data)
    assert resp.ok and resp.more_frames
    assert parse_settings(resp.parameters) == {0: (130.0,), 1: (14.0,)}


def test_settings_parse_all_types() -> None:
    params = (
        bytes([0, 2]) + struct.pack("<HH", 130, 256)
        + bytes([2, 1]) + struct.pack("<H", 2000)
        + bytes([4, 1, 2])
        + bytes([5, 1]) + struct.pack("<f", 1.5)
    )  # fmt: skip
    assert parse_settings(params) == {0: (130.0, 256.0), 2: (2000.0,), 4: (2.0,), 5: (1.5,)}


@pytest.mark.parametrize(
    ("params", "reason"),
    [(bytes([0]), "without a count"), (bytes([0, 2, 0x82, 0]), "truncated"), (bytes([9, 1, 0]), "unknown setting")],
)
def test_settings_truncated_or_unknown(params: bytes, reason: str) -> None:
    with pytest.raises(FrameError, match=reason):
        parse_settings(params)


@pytest.mark.parametrize(
    ("data", "reason"), [(b"\xf0\x01\x00", "at least 4"), (bytes.fromhex("0F 05 00 00"), "not a control-point")]
)
def test_control_response_malformed(data: bytes, reason: str) -> None:
    with pytest.raises(FrameError, match=reason) as err:
        parse_control_response(data)
    assert reason in err.value.reason


def test_ecg_frame_of_73_samples_with_negatives_and_extremes() -> None:
    values = [0, 1, -1, 8_388_607, -8_388_608, 1234, -1234, 256, -256, 65_536, -65_537]
    values += [int(v) for v in np.random.default_rng(3).integers(-3000, 3000, 73 - len(values))]
    ts = 599_616_000 * NS + 123_456_789
    data = ecg_frame(ts, values)
    assert len(data) == 229
    frame = decode_ecg_frame(data)
    assert frame.n == 73 and frame.timestamp_ns == ts and frame.frame_type == 0
    assert frame.samples_uv.tolist() == values
    assert frame.samples_mv.dtype == np.float32
    np.testing.assert_allclose(frame.samples_mv, np.array(values) / 1000.0, rtol=1e-6)


def test_frame_size_follows_the_notification_length() -> None:
    assert decode_ecg_frame(ecg_frame(NS, [5] * 7)).n == 7
    assert decode_ecg_frame(bytes(memoryview(ecg_frame(NS, [-5])))).samples_uv.tolist() == [-5]


def test_measurement_type_masks_upper_bits() -> None:
    assert decode_ecg_frame(ecg_frame(NS, [1, 2], mtype=0x40)).samples_uv.tolist() == [1, 2]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "shorter than its 10-byte header"),
        (ecg_frame(NS, [1])[:9], "shorter than its 10-byte header"),
        (ecg_frame(NS, [1, 2], mtype=0x02), "measurement type 2 is not ECG"),
        (ecg_frame(NS, [1, 2], frame_type=0x01), "frame type 1 is not decoded"),
        (ecg_frame(NS, [1, 2], frame_type=0x03), "frame type 3 is not decoded"),
        (ecg_frame(NS, [1, 2], frame_type=0x80), "delta-compressed"),
        (ecg_frame(NS, [1, 2])[:-1], "not a whole number of 3-byte samples"),
        (ecg_frame(NS, [1] * 73)[:200], "not a whole number of 3-byte samples"),
        (ecg_frame(NS, []), "no samples"),
    ],
)
def test_malformed_ecg_frames_are_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(FrameError, match=reason):
        decode_ecg_frame(data)


def test_pmd_time_epoch() -> None:
    assert pmd_time(0).isoformat() == "2000-01-01T00:00:00+00:00"
    assert pmd_time(599_616_000 * NS).year == 2019


def frames_ts(start_ns: int, count: int, n: int = 73) -> list[int]:
    """Timestamps (ns, last sample) of ``count`` consecutive frames of ``n`` samples at 130 Hz."""
    step = round(n / FS * NS)
    return [start_ns + (n - 1) * round(NS / FS) + k * step for k in range(count)]


def test_pmd_clock_anchors_and_follows_continuous_frames() -> None:
    clock = PmdClock(FS)
    ts = frames_ts(700_000_000 * NS, 4)
    first = clock.place(ts[0], 73, arrival_s=2.0)
    assert first.kind == "first" and first.t0_s == pytest.approx(2.0 - 72 / FS)
    for k in range(1, 4):
        p = clock.place(ts[k], 73, arrival_s=2.0 + k * 73 / FS + 0.01 * k)
        assert p.kind == "continuous" and p.gap_s == 0.0
        assert p.t0_s == pytest.approx(first.t0_s + k * 73 / FS)
    assert clock.device_time_unset is False


def test_pmd_clock_reports_missing_frames_as_a_gap() -> None:
    clock = PmdClock(FS)
    ts = frames_ts(700_000_000 * NS, 5)
    a = clock.place(ts[0], 73, 1.0)
    clock.place(ts[1], 73, 1.6)
    p = clock.place(ts[4], 73, 3.2)  # frames 2 and 3 lost
    assert p.kind == "gap"
    assert p.gap_s == pytest.approx(2 * 73 / FS, abs=1e-6)
    assert p.gap_start_s == pytest.approx(a.t0_s + 2 * 73 / FS)
    assert p.t0_s == pytest.approx(a.t0_s + 4 * 73 / FS)


def test_pmd_clock_detects_reset_to_2019_and_never_goes_back() -> None:
    clock = PmdClock(FS)
    ts = frames_ts(760_000_000 * NS, 2)
    clock.place(ts[0], 73, 1.0)
    p1 = clock.place(ts[1], 73, 1.56)
    reset_ts = 599_616_000 * NS + 72 * round(NS / FS)  # back to 2019-01-01
    p = clock.place(reset_ts, 73, 12.0)  # arrives 10 s later: the gap is measured on the host clock
    assert p.kind == "reset" and "reset" in p.message
    assert p.t0_s >= p1.t0_s + 73 / FS
    assert p.gap_s == pytest.approx(12.0 - 72 / FS - (p1.t0_s + 73 / FS))
    nxt = clock.place(reset_ts + round(73 / FS * NS), 73, 12.56)
    assert nxt.kind == "continuous" and nxt.t0_s == pytest.approx(p.t0_s + 73 / FS)


def test_pmd_clock_unset_device_time_is_flagged() -> None:
    clock = PmdClock(FS)
    clock.place(599_616_000 * NS + 5 * NS, 73, 1.0)
    assert clock.device_time_unset is True


def test_pmd_clock_jump_ahead_is_reanchored() -> None:
    clock = PmdClock(FS)
    ts = frames_ts(700_000_000 * NS, 2)
    clock.place(ts[0], 73, 1.0)
    p = clock.place(ts[1] + 3600 * NS, 73, 1.56)  # device says an hour passed, host says 0.56 s
    assert p.kind == "jump" and p.gap_s == 0.0
    assert p.t0_s == pytest.approx(1.0 - 72 / FS + 73 / FS)


def test_pmd_clock_overlap_keeps_time_moving_forward() -> None:
    clock = PmdClock(FS)
    ts = frames_ts(700_000_000 * NS, 2)
    a = clock.place(ts[0], 73, 1.0)
    p = clock.place(ts[0] + NS // 10, 73, 1.56)  # forward, but only 0.1 s
    assert p.kind == "overlap" and p.t0_s == pytest.approx(a.t0_s + 73 / FS)
