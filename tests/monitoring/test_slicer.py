"""The slicer cuts chunks into 10 s slices on the session clock and records gaps without inventing samples."""

from __future__ import annotations

import numpy as np
import pytest

from ecgstation.devices.events import SampleChunk
from ecgstation.monitoring.slicer import Slicer, nan_spans

FS = 100.0


def _chunk(t0_s: float, n: int, seq: int = 0, value: float | None = None) -> SampleChunk:
    start = round(t0_s * FS)
    x = (np.arange(start, start + n, dtype=np.float32) / 1000.0) if value is None else np.full(n, value, np.float32)
    return SampleChunk(x[None, :].astype(np.float32), FS, t0_s, seq)


def _feed(slicer: Slicer, chunks: list[SampleChunk]) -> list:  # type: ignore[type-arg]
    out = []
    for c in chunks:
        out += slicer.push(c)
    return out


def test_consecutive_chunks_make_whole_slices_with_the_right_samples() -> None:
    slicer = Slicer(FS, 1)
    slices = _feed(slicer, [_chunk(k * 0.25, 25, k) for k in range(100)])  # 25 s
    assert [s.index for s in slices] == [0, 1]
    assert [s.start_s for s in slices] == [0.0, 10.0]
    for s in slices:
        assert s.n == 1000 and s.gaps == ()
        expected = np.arange(s.index * 1000, (s.index + 1) * 1000, dtype=np.float32) / 1000.0
        np.testing.assert_array_equal(s.samples[0], expected)
    last = slicer.flush()
    assert last is not None and last.index == 2 and last.n == 500 and last.end_s == 25.0


def test_a_jump_in_time_is_a_recorded_gap_never_filled() -> None:
    slicer = Slicer(FS, 1)
    # 0-3 s, then nothing until 4.5 s (1.5 s missing), then on to 10 s
    slices = _feed(slicer, [_chunk(0.0, 300), _chunk(4.5, 550, 2)])
    assert len(slices) == 1
    s = slices[0]
    assert s.gaps == ((3.0, 4.5),)
    assert np.isnan(s.samples[0, 300:450]).all() and not np.isnan(s.samples[0, :300]).any()
    assert s.missing_s == pytest.approx(1.5)
    assert (s.storable()[0, 300:450] == 0).all()  # stored as 0 mV, the gap list says where


def test_a_long_disconnect_emits_no_empty_slices() -> None:
    slicer = Slicer(FS, 1)
    slices = _feed(slicer, [_chunk(0.0, 1000), _chunk(10.0, 600), _chunk(47.0, 200)])  # 16-47 s missing
    assert [s.index for s in slices] == [0, 1]
    assert slices[1].gaps == ((16.0, 20.0),) and slices[1].start_s == 10.0
    last = slicer.flush()
    assert last is not None and last.index == 4 and last.start_s == 40.0
    assert last.gaps == ((40.0, 47.0),)


def test_overlapping_samples_are_dropped_not_written_backwards() -> None:
    slicer = Slicer(FS, 1)
    slices = _feed(slicer, [_chunk(0.0, 600), _chunk(5.0, 500, value=9.0)])  # 5-6 s sent twice
    s = slices[0]
    assert s.samples[0, 599] == pytest.approx(0.599) and (s.samples[0, 600:] == 9.0).all()


def test_device_nan_is_a_gap_and_shapes_are_checked() -> None:
    slicer = Slicer(FS, 1)
    slices = _feed(slicer, [_chunk(0.0, 200), _chunk(2.0, 100, value=float("nan")), _chunk(3.0, 700)])
    assert slices[0].gaps == ((2.0, 3.0),)
    with pytest.raises(ValueError, match="leads"):
        slicer.push(SampleChunk(np.zeros((2, 10), np.float32), FS, 10.0, 9))
    assert nan_spans(np.array([True, True, False, True])) == [(0, 2), (3, 4)]
    assert Slicer(FS, 1).flush() is None
