"""Declared frames: layouts built byte by byte (both endiannesses, widths 1-4), resync, truncation, gaps."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from ecgstation.devices.declared_frame import FrameDecoder, FrameSpec
from ecgstation.devices.errors import DeviceError


def ads1292_frame(seq: int, status: int, counts: list[tuple[int, int]]) -> bytes:
    """An ADS1292-style frame by hand: A5 5A, u16 BE seq, status, 2 ch x 24-bit BE two's complement."""
    out = bytearray(b"\xa5\x5a") + seq.to_bytes(2, "big") + bytes([status])
    for c1, c2 in counts:
        out += (c1 & 0xFFFFFF).to_bytes(3, "big") + (c2 & 0xFFFFFF).to_bytes(3, "big")
    return bytes(out)


ADS = FrameSpec(sync=b"\xa5\x5a", seq_bytes=2, sample_bytes=3, byte_order="big", signed=True,
                samples_per_frame=3, channels=2, gain_uv_per_count=0.5, lead_status=True)  # fmt: skip


def test_hand_built_ads1292_frame_decodes() -> None:
    data = ads1292_frame(7, 0, [(1, -1), (8_388_607, -8_388_608), (-2000, 2000)])
    assert len(data) == ADS.frame_bytes == 5 + 18
    (frame,) = FrameDecoder(ADS).feed(data, end_of_packet=True)
    assert frame.seq == 7 and frame.lead_off is False and frame.calibrated
    assert frame.counts.tolist() == [[1, 8_388_607, -2000], [-1, -8_388_608, 2000]]
    np.testing.assert_allclose(frame.values, frame.counts * 0.5 / 1000, rtol=1e-6)
    assert ADS.encode(7, frame.counts) == data


def test_hand_built_ad8232_frame_little_endian_unsigned_uncalibrated() -> None:
    spec = FrameSpec(sync=b"\xaa", seq_bytes=1, sample_bytes=2, byte_order="little", signed=False,
                     samples_per_frame=4, channels=1, gain_uv_per_count=None, baseline_counts=2048)  # fmt: skip
    data = b"\xaa\x05" + b"".join(v.to_bytes(2, "little") for v in (0, 2048, 4095, 65535))
    (frame,) = FrameDecoder(spec).feed(data, end_of_packet=True)
    assert frame.counts.tolist() == [[0, 2048, 4095, 65535]]
    assert not frame.calibrated and frame.lead_off is None
    assert frame.values.tolist() == [[-2048.0, 0.0, 2047.0, 63487.0]]


@pytest.mark.parametrize("width", [1, 2, 3, 4])
@pytest.mark.parametrize("order", ["little", "big"])
@pytest.mark.parametrize("signed", [True, False])
def test_round_trip_every_width_and_order(width: int, order: str, signed: bool) -> None:
    spec = FrameSpec(sample_bytes=width, byte_order=order, signed=signed, samples_per_frame=5, channels=2)  # type: ignore[arg-type]
    lo, hi = spec.count_range
    counts = np.array([[lo, hi, 0 if signed else 1, hi // 2, lo + 1], [hi, lo, 1, -1 if signed else 3, 7]])
    data = spec.encode(3, counts)
    first_sample = data[len(spec.sync) + 2 : len(spec.sync) + 2 + width]
    assert first_sample == (lo & ((1 << 8 * width) - 1)).to_bytes(width, order)  # type: ignore[arg-type]
    (frame,) = FrameDecoder(spec).feed(data, end_of_packet=True)
    assert frame.counts.tolist() == counts.tolist()


def test_sequence_wraps_around_without_a_gap() -> None:
    spec = FrameSpec(seq_bytes=1, samples_per_frame=2)
    dec = FrameDecoder(spec)
    seqs = [254, 255, 0, 1]
    frames = dec.feed(b"".join(spec.encode(s, [s, -s]) for s in seqs), end_of_packet=True)
    assert [f.seq for f in frames] == seqs
    assert [f.index for f in frames] == [254, 255, 256, 257]
    assert all(f.missing_before == 0 for f in frames)


def test_gap_across_the_wrap_is_counted() -> None:
    spec = FrameSpec(seq_bytes=1, samples_per_frame=2)
    dec = FrameDecoder(spec)
    frames = dec.feed(spec.encode(253, [0, 0]) + spec.encode(2, [0, 0]), end_of_packet=True)
    assert frames[1].missing_before == 4 and frames[1].index == 258


def test_repeated_sequence_is_refused(caplog: pytest.LogCaptureFixture) -> None:
    spec = FrameSpec(samples_per_frame=2)
    dec = FrameDecoder(spec)
    with caplog.at_level(logging.WARNING):
        frames = dec.feed(
            spec.encode(10, [1, 1]) + spec.encode(10, [2, 2]) + spec.encode(11, [3, 3]), end_of_packet=True
        )
    assert [f.seq for f in frames] == [10, 11]
    assert any("repeats or goes back" in e for e in dec.pop_errors())
    assert "repeats or goes back" in caplog.text


def test_resync_after_garbage_and_split_feeds() -> None:
    spec = FrameSpec(samples_per_frame=4, checksum=True)
    stream = b"\x00\x13\xa5" + spec.encode(1, [1, 2, 3, 4]) + b"\xff" + spec.encode(2, [5, 6, 7, 8])
    dec = FrameDecoder(spec)
    frames = []
    for byte in stream:  # one byte at a time, as from a serial port
        frames += dec.feed(bytes([byte]))
    assert [f.counts.tolist() for f in frames] == [[[1, 2, 3, 4]], [[5, 6, 7, 8]]]
    errors = dec.pop_errors()
    assert any("before a sync header" in e for e in errors)


def test_truncated_frame_at_end_of_packet_is_refused_and_the_next_packet_decodes() -> None:
    spec = FrameSpec(samples_per_frame=4)
    dec = FrameDecoder(spec)
    good = spec.encode(1, [1, 2, 3, 4])
    assert dec.feed(good[:-2], end_of_packet=True) == []
    assert any("truncated frame" in e for e in dec.pop_errors())
    (frame,) = dec.feed(spec.encode(2, [5, 6, 7, 8]), end_of_packet=True)
    assert frame.seq == 2 and frame.missing_before == 0


def test_truncated_frame_in_a_stream_is_refused_by_the_sync_check() -> None:
    spec = FrameSpec(sync=b"\xa5\x5a\xc3", samples_per_frame=4)
    dec = FrameDecoder(spec)
    data = spec.encode(1, [1, 2, 3, 4])[:-3] + spec.encode(2, [5, 6, 7, 8]) + spec.encode(3, [9, 9, 9, 9])
    frames = dec.feed(data, end_of_packet=True)
    assert [f.seq for f in frames] == [2, 3]
    assert dec.pop_errors() == ["no sync header after the frame (garbled or truncated frame)"]


def test_garbled_frame_fails_the_checksum() -> None:
    spec = FrameSpec(samples_per_frame=4, checksum=True)
    bad = bytearray(spec.encode(1, [1, 2, 3, 4]))
    bad[6] ^= 0x10
    dec = FrameDecoder(spec)
    frames = dec.feed(bytes(bad) + spec.encode(2, [5, 6, 7, 8]), end_of_packet=True)
    assert [f.seq for f in frames] == [2]
    assert frames[0].missing_before == 0  # the garbled frame never set the sequence
    assert dec.pop_errors() == ["checksum mismatch (garbled or truncated frame)"]


def test_no_sync_at_all() -> None:
    dec = FrameDecoder(FrameSpec())
    assert dec.feed(b"\x00" * 10, end_of_packet=True) == []
    assert any("no sync header in 10 bytes" in e for e in dec.pop_errors())


def test_lead_status_byte() -> None:
    spec = FrameSpec(samples_per_frame=2, lead_status=True)
    frames = FrameDecoder(spec).feed(spec.encode(0, [0, 0], lead_off=True) + spec.encode(1, [5, 5]), end_of_packet=True)
    assert [f.lead_off for f in frames] == [True, False]
    assert frames[0].lead_status == 1


def test_invalid_specs_and_counts() -> None:
    with pytest.raises(DeviceError):
        FrameSpec(sample_bytes=5)
    with pytest.raises(DeviceError):
        FrameSpec(sync=b"")
    with pytest.raises(DeviceError):
        FrameSpec(gain_uv_per_count=0.0)
    with pytest.raises(DeviceError, match="do not fit"):
        FrameSpec(sample_bytes=1, samples_per_frame=1).encode(0, [200])
    with pytest.raises(DeviceError, match="shape"):
        FrameSpec(samples_per_frame=3).encode(0, [1, 2])
