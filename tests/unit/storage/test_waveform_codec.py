"""The sample codec without a database: exact round trips, the choice of encoding, and the content hash."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ecgstation.storage.waveform_codec import (
    DEFAULT_GAIN_COUNTS_PER_MV,
    SampleEncoding,
    choose_encoding,
    decode_block,
    encode_block,
    signal_sha256,
)

GAINS = st.sampled_from([1.0, 100.0, 200.0, 400.0, 1000.0, 2000.0, 6.4, 1000.0 / 3])
SHAPES = st.tuples(st.integers(1, 4), st.integers(0, 300))


def roundtrip(signals: np.ndarray, encoding: SampleEncoding) -> np.ndarray:
    data = encode_block(signals, encoding)
    assert isinstance(data, bytes)
    return decode_block(data, encoding, signals.shape[0], signals.shape[1])


@st.composite
def on_grid_block(draw: st.DrawFn) -> tuple[np.ndarray, tuple[float, ...]]:
    """Samples that are whole counts (anywhere in the int16 range) of a per-lead gain, as float32 mV."""
    n_leads, n = draw(SHAPES)
    gains = tuple(draw(GAINS) for _ in range(n_leads))
    counts = draw(hnp.arrays(np.int64, (n_leads, n), elements=st.integers(-32767, 32767)))
    signals = (counts / np.asarray(gains)[:, None]).astype(np.float32)
    return signals, gains


@settings(max_examples=150, deadline=None)
@given(on_grid_block())
def test_int16_round_trip_is_exact_on_the_grid(block: tuple[np.ndarray, tuple[float, ...]]) -> None:
    signals, gains = block
    encoding = SampleEncoding("int16", gains)
    back = roundtrip(signals, encoding)
    assert back.dtype == np.float32 and back.shape == signals.shape
    assert np.array_equal(back, signals)
    # choose_encoding finds the source grid again (it is the most compact faithful storage).
    assert choose_encoding(signals, list(gains)) == encoding


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.float32, SHAPES, elements=st.floats(-32.0, 32.0, width=32)))
def test_int16_at_1_uv_is_within_half_a_microvolt(signals: np.ndarray) -> None:
    encoding = choose_encoding(signals, [None] * signals.shape[0])
    assert encoding == SampleEncoding("int16", (DEFAULT_GAIN_COUNTS_PER_MV,) * signals.shape[0])
    back = roundtrip(signals, encoding)
    err = np.abs(back.astype(np.float64) - signals.astype(np.float64))
    assert err.size == 0 or err.max() <= 0.5e-3 + 4e-6  # half a count, plus float32 rounding near 32 mV


@settings(max_examples=150, deadline=None)
@given(hnp.arrays(np.float32, SHAPES, elements=st.floats(width=32, allow_nan=True, allow_infinity=True)))
def test_float32_round_trip_is_bit_exact(signals: np.ndarray) -> None:
    back = roundtrip(signals, SampleEncoding("float32"))
    assert back.dtype == np.float32 and back.shape == signals.shape
    assert np.array_equal(back.view(np.uint32), signals.view(np.uint32))  # NaN payloads and -0.0 included


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float32, SHAPES, elements=st.floats(-5.0, 5.0, width=32)), st.data())
def test_nan_or_infinity_forces_float32(signals: np.ndarray, data: st.DataObject) -> None:
    if signals.size == 0:
        return
    bad = data.draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    lead = data.draw(st.integers(0, signals.shape[0] - 1))
    sample = data.draw(st.integers(0, signals.shape[1] - 1))
    signals = signals.copy()
    signals[lead, sample] = bad
    encoding = choose_encoding(signals, [200.0] * signals.shape[0])
    assert encoding == SampleEncoding("float32")
    back = roundtrip(signals, encoding)
    assert np.array_equal(back, signals, equal_nan=True)


def test_choose_encoding_choices() -> None:
    ramp = (np.arange(-100, 100, dtype=np.float64) / 200.0).astype(np.float32)[None, :]
    two = np.vstack([ramp, ramp])
    # The source gain when the samples are on its grid.
    assert choose_encoding(ramp, [200.0]) == SampleEncoding("int16", (200.0,))
    # Off its grid (here: a gain of 300 does not fit samples in 1/200 mV steps): 1 µV steps.
    assert choose_encoding(ramp, [300.0]) == SampleEncoding("int16", (1000.0,))
    # No gain, a missing gain, a zero, negative or non-finite gain: 1 µV steps.
    for gains in ([], [None], [0.0], [-200.0], [float("nan")], [float("inf")]):
        assert choose_encoding(ramp, gains) == SampleEncoding("int16", (1000.0,)), gains
    # Per lead.
    assert choose_encoding(two, [200.0, None]) == SampleEncoding("int16", (200.0, 1000.0))
    # On the grid but beyond int16 at the source gain: 1 µV steps while they still fit.
    big = (np.arange(0, 20000, 100, dtype=np.float64) / 1000.0).astype(np.float32)[None, :]  # up to 19.9 mV
    assert choose_encoding(big, [2000.0]) == SampleEncoding("int16", (1000.0,))
    # Beyond ±32.767 mV at 1 µV steps: float32, whatever the gain.
    huge = np.array([[0.0, 32.768, -1.0]], dtype=np.float32)
    assert choose_encoding(huge, [None]) == SampleEncoding("float32")
    assert choose_encoding(-huge, [None]) == SampleEncoding("float32")
    assert choose_encoding(np.array([[0.0, 32.767]], np.float32), [None]) == SampleEncoding("int16", (1000.0,))
    # Whole counts right at the int16 limit stay int16 although float32 puts them a hair beyond it.
    edge = np.array([[327.67, -327.67, 0.01]], dtype=np.float32)  # 32767 counts at 100 counts/mV
    assert float(edge[0, 0]) * 100.0 > 32767
    assert choose_encoding(edge, [100.0]) == SampleEncoding("int16", (100.0,))
    assert np.array_equal(roundtrip(edge, SampleEncoding("int16", (100.0,))), edge)
    # One lead out of range makes the whole block float32.
    mixed = np.vstack([ramp[:, :3], huge])
    assert choose_encoding(mixed, [200.0, None]) == SampleEncoding("float32")
    # Within 0.01 count of the grid counts as on it; further off does not.
    nudged = ramp.astype(np.float64) + 0.004 / 200.0
    assert choose_encoding(nudged.astype(np.float32), [200.0]) == SampleEncoding("int16", (200.0,))
    off = ramp.astype(np.float64) + 0.3 / 200.0
    assert choose_encoding(off.astype(np.float32), [200.0]) == SampleEncoding("int16", (1000.0,))


def test_sample_encoding_validation() -> None:
    with pytest.raises(ValueError, match="encoding"):
        SampleEncoding("int8")
    for gains in ((), (0.0,), (-1.0,), (float("nan"),), (float("inf"),), (200.0, 0.0)):
        with pytest.raises(ValueError, match="gain"):
            SampleEncoding("int16", gains)
    assert SampleEncoding("float32").gains == ()


@pytest.mark.parametrize("kind", ["int16", "float32"])
@pytest.mark.parametrize("n_leads", [1, 3])
def test_empty_blocks(kind: str, n_leads: int) -> None:
    empty = np.zeros((n_leads, 0), dtype=np.float32)
    encoding = choose_encoding(empty, [200.0] * n_leads) if kind == "int16" else SampleEncoding("float32")
    assert encoding.kind == kind
    back = roundtrip(empty, encoding)
    assert back.shape == (n_leads, 0) and back.dtype == np.float32
    assert len(signal_sha256(empty, 250.0, [f"L{i}" for i in range(n_leads)], encoding)) == 64


def test_decode_refuses_a_block_of_the_wrong_size() -> None:
    signals = np.ones((2, 50), dtype=np.float32)
    for encoding in (SampleEncoding("float32"), SampleEncoding("int16", (1000.0, 1000.0))):
        data = encode_block(signals, encoding)
        with pytest.raises(ValueError, match="expected"):
            decode_block(data, encoding, 2, 51)
        with pytest.raises(ValueError):
            decode_block(data, encoding, 3, 50)


def test_int16_blocks_compress() -> None:
    t = np.arange(3600) / 360.0
    ecg = np.round(np.sin(2 * np.pi * 1.2 * t) * 200).astype(np.float64) / 200.0
    signals = np.vstack([ecg, ecg * 0.5]).astype(np.float32)
    data = encode_block(signals, choose_encoding(signals, [200.0, 200.0]))
    assert len(data) < signals.size * 2 / 3  # well under the raw 2 bytes a sample


def _hash(
    signals: np.ndarray,
    fs: float = 360.0,
    names: tuple[str, ...] = ("MLII", "V5"),
    gains: tuple[float | None, ...] = (200.0, 200.0),
) -> str:
    return signal_sha256(signals, fs, names, choose_encoding(signals, list(gains)))


def test_signal_hash_is_stable_and_sensitive() -> None:
    rng = np.random.default_rng(0)
    counts = rng.integers(-2000, 2000, size=(2, 5000))
    signals = (counts / 200.0).astype(np.float32)
    h = _hash(signals)
    assert len(h) == 64 and int(h, 16) >= 0
    assert _hash(signals.copy()) == h == _hash(np.asfortranarray(signals))  # the same content, any memory layout
    assert _hash(signals, fs=360) == h  # int and float rates are the same rate
    # The hash is of the samples as they read back: stored losslessly as int16 or as float32, the same ECG.
    assert signal_sha256(signals, 360.0, ("MLII", "V5"), SampleEncoding("float32")) == h
    assert _hash(signals, gains=(None, None)) == h
    different = {
        "fs": _hash(signals, fs=250.0),
        "lead name": _hash(signals, names=("MLII", "V1")),
        "lead order": _hash(signals, names=("V5", "MLII")),
        "one sample": _hash(
            np.where(np.arange(5000) == 4999, signals + np.float32(1 / 200), signals).astype(np.float32)
        ),
        "shorter": _hash(signals[:, :4999]),
        "leads swapped": _hash(signals[::-1].copy()),
    }
    assert h not in different.values(), [k for k, v in different.items() if v == h]
    assert len(set(different.values())) == len(different)


def test_signal_hash_tells_apart_the_same_counts_at_another_gain() -> None:
    counts = np.arange(-500, 500, dtype=np.float64).reshape(1, -1)
    at_200 = (counts / 200.0).astype(np.float32)
    at_1000 = (counts / 1000.0).astype(np.float32)  # five times smaller: another ECG
    assert _hash(at_200, names=("I",), gains=(200.0,)) != _hash(at_1000, names=("I",), gains=(None,))
    # The same samples are the same ECG whether or not the file gave their gain.
    assert _hash(at_200, names=("I",), gains=(200.0,)) == _hash(at_200, names=("I",), gains=(None,))


def test_signal_hash_lead_names_cannot_run_together() -> None:
    signals = np.zeros((2, 10), dtype=np.float32)
    assert _hash(signals, names=("a,b", "c")) != _hash(signals, names=("a", "b,c"))


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float32, SHAPES, elements=st.floats(-40.0, 40.0, width=32)), st.lists(st.none() | GAINS))
def test_signal_hash_is_the_hash_of_what_reads_back(signals: np.ndarray, gains: list[float | None]) -> None:
    """Hashing a block equals hashing its decoded samples as float32: equal hashes mean equal read-backs."""
    encoding = choose_encoding(signals, gains)
    back = roundtrip(signals, encoding)
    names = [f"L{i}" for i in range(signals.shape[0])]
    h = signal_sha256(signals, 500.0, names, encoding)
    assert h == signal_sha256(back, 500.0, names, SampleEncoding("float32"))
    assert h == signal_sha256(back, 500.0, names, encoding)  # decoding and storing again changes nothing
