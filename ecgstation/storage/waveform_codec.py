"""Compact, chunked sample storage: int16 counts (delta-coded, byte-shuffled, zlib) or float32 (shuffled, zlib).

A recording is stored as chunks of ``chunk_samples`` samples of all leads, so a 10 s window is
decoded from at most two chunks without touching the rest. int16 storage keeps, per lead, a gain
in counts per mV: the source's own ADC gain when its samples lie on that grid (lossless), else
1000 counts/mV (1 µV steps). Signals beyond the int16 range at 1 µV steps fall back to float32.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "DEFAULT_GAIN_COUNTS_PER_MV",
    "SampleEncoding",
    "choose_encoding",
    "decode_block",
    "encode_block",
    "signal_sha256",
]

#: Gain used when the source gives none (or its samples are not on its grid): 1 count = 1 µV.
DEFAULT_GAIN_COUNTS_PER_MV = 1000.0
_INT16_MAX = 32767
_ZLIB_LEVEL = 6


@dataclass(frozen=True)
class SampleEncoding:
    """How samples are stored: ``kind`` "int16" (with ``gains`` in counts/mV per lead) or "float32"."""

    kind: str
    gains: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in ("int16", "float32"):
            raise ValueError(f"unknown sample encoding {self.kind!r}")
        if self.kind == "int16" and (not self.gains or any(not np.isfinite(g) or g <= 0 for g in self.gains)):
            raise ValueError("int16 storage needs one positive gain (counts/mV) per lead")


def _on_grid(signals: NDArray[np.float32], gain: float) -> bool:
    """True when every sample times ``gain`` is within 0.01 count of an integer that fits in int16."""
    scaled = signals.astype(np.float64) * gain
    if scaled.size == 0:
        return True
    counts = np.round(scaled)  # the range check is on the counts stored, not on float32 noise around them
    if np.max(np.abs(counts)) > _INT16_MAX:
        return False
    return bool(np.max(np.abs(scaled - counts)) <= 0.01)


def choose_encoding(signals: NDArray[np.float32], source_gains: Sequence[float | None]) -> SampleEncoding:
    """The most compact faithful storage for ``signals`` (leads, samples) in mV.

    ``source_gains``: per lead, the source's ADC gain in counts/mV, or None. Each lead keeps its
    own gain when the samples lie on that grid; otherwise 1000 counts/mV is used. NaN samples or
    amplitudes beyond ±32.767 mV force float32.
    """
    if not np.all(np.isfinite(signals)):
        return SampleEncoding("float32")
    gains: list[float] = []
    for lead in range(signals.shape[0]):
        g = source_gains[lead] if lead < len(source_gains) else None
        row = signals[lead]
        if g is not None and np.isfinite(g) and g > 0 and _on_grid(row, float(g)):
            gains.append(float(g))
        elif row.size == 0 or np.round(np.max(np.abs(row)) * DEFAULT_GAIN_COUNTS_PER_MV) <= _INT16_MAX:
            gains.append(DEFAULT_GAIN_COUNTS_PER_MV)
        else:
            return SampleEncoding("float32")
    return SampleEncoding("int16", tuple(gains))


def _shuffle(raw: NDArray[np.generic]) -> bytes:
    """Group the bytes of each sample by significance (all low bytes, then all high bytes): zlib likes it."""
    width = raw.dtype.itemsize
    return np.ascontiguousarray(raw.reshape(-1).view(np.uint8).reshape(-1, width).T).tobytes()


def _unshuffle(data: bytes, dtype: type[np.generic], count: int) -> NDArray[np.generic]:
    width = np.dtype(dtype).itemsize
    planes = np.frombuffer(data, dtype=np.uint8)
    if planes.size != count * width:
        raise ValueError(f"chunk holds {planes.size} bytes, expected {count * width}")
    return np.ascontiguousarray(planes.reshape(width, count).T).view(dtype).reshape(-1)


def quantize(signals: NDArray[np.float32], encoding: SampleEncoding) -> NDArray[np.int16]:
    """mV → int16 counts with the per-lead gains of ``encoding`` (rounded, clipped to the int16 range)."""
    gains = np.asarray(encoding.gains, dtype=np.float64)[:, None]
    counts = np.round(signals.astype(np.float64) * gains)
    return np.clip(counts, -_INT16_MAX - 1, _INT16_MAX).astype(np.int16)


def encode_block(signals: NDArray[np.float32], encoding: SampleEncoding) -> bytes:
    """Compress one block of samples (leads, n) in mV into bytes."""
    if encoding.kind == "float32":
        return zlib.compress(_shuffle(np.ascontiguousarray(signals, dtype=np.float32)), _ZLIB_LEVEL)
    counts = quantize(signals, encoding)
    # Delta along time in int16 wrap-around arithmetic: exact, and small numbers compress well.
    delta = np.empty_like(counts)
    if counts.shape[1]:
        delta[:, 0] = counts[:, 0]
        np.subtract(counts[:, 1:], counts[:, :-1], out=delta[:, 1:], dtype=np.int16, casting="unsafe")
    return zlib.compress(_shuffle(delta), _ZLIB_LEVEL)


def decode_block(data: bytes, encoding: SampleEncoding, n_leads: int, n_samples: int) -> NDArray[np.float32]:
    """Inverse of :func:`encode_block`: float32 samples (leads, n) in mV."""
    raw = zlib.decompress(data)
    if encoding.kind == "float32":
        return _unshuffle(raw, np.float32, n_leads * n_samples).reshape(n_leads, n_samples).astype(np.float32)
    delta = _unshuffle(raw, np.int16, n_leads * n_samples).reshape(n_leads, n_samples)
    counts = np.cumsum(delta, axis=1, dtype=np.int16)
    gains = np.asarray(encoding.gains, dtype=np.float64)[:, None]
    return (counts / gains).astype(np.float32)


def signal_sha256(signals: NDArray[np.float32], fs: float, lead_names: Sequence[str], encoding: SampleEncoding) -> str:
    """Hash of the content as stored (fs, lead names, samples): equal for the same ECG in any file or name.

    The samples are hashed as they read back (float32 mV after the int16 round trip), so the same
    counts at another gain are another ECG, while the same samples stored at another gain are not;
    lead names are written as a JSON list, so no two lists of names read alike.
    """
    h = hashlib.sha256()
    h.update(f"fs={float(fs)!r};leads={json.dumps(list(lead_names))};n={signals.shape[1]};".encode())
    block = 1 << 20
    for start in range(0, signals.shape[1], block):
        part = signals[:, start : start + block]
        if encoding.kind == "int16":
            gains = np.asarray(encoding.gains, dtype=np.float64)[:, None]
            part = (quantize(part, encoding) / gains).astype(np.float32)  # exactly what decode_block returns
        h.update(np.ascontiguousarray(part, dtype="<f4").tobytes())
    return h.hexdigest()
