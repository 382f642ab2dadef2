"""Declared frames for open-hardware patches (ESP32 + AD8232, ADS129x, MAX30003) and the simulated patch.

A :class:`FrameSpec` declares the layout, in this order::

    sync header | sequence (seq_bytes) | lead status (1 byte, optional) | samples | XOR checksum (optional)

Samples are ``samples_per_frame`` x ``channels`` integers of ``sample_bytes`` each,
interleaved sample by sample (s0c0 s0c1 ... s1c0 ...), in ``byte_order``. Counts become
µV by ``(count - baseline_counts) * gain_uv_per_count``; with no gain the signal is
*uncalibrated* (values stay in counts and are marked so). The checksum is the XOR of
every byte after the sync header.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ecgstation.devices.errors import DeviceError

__all__ = ["DecodedFrame", "FrameDecoder", "FrameSpec"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FrameSpec:
    """The byte layout of a declared frame (see the module docstring).

    ``sync`` header bytes; ``seq_bytes`` width of the sequence counter (0-4, 0 = none;
    it wraps at 2**(8*seq_bytes)); ``sample_bytes`` 1-4; ``byte_order`` of the sequence
    and samples; ``signed`` two's complement samples; ``gain_uv_per_count`` µV per count
    (None = uncalibrated); ``baseline_counts`` the count of 0 µV (e.g. 2048 for a 12-bit
    unsigned AD8232); ``lead_status`` whether a status byte follows the sequence
    (non-zero = lead off); ``checksum`` whether an XOR byte ends the frame.
    """

    sync: bytes = b"\xa5\x5a"
    seq_bytes: int = 2
    sample_bytes: int = 3
    byte_order: Literal["little", "big"] = "big"
    signed: bool = True
    samples_per_frame: int = 32
    channels: int = 1
    gain_uv_per_count: float | None = 1.0
    baseline_counts: float = 0.0
    lead_status: bool = False
    checksum: bool = False

    def __post_init__(self) -> None:
        if not self.sync:
            raise DeviceError("a frame declaration needs at least one sync byte")
        if not 0 <= self.seq_bytes <= 4:
            raise DeviceError(f"sequence width {self.seq_bytes} bytes is outside 0-4")
        if not 1 <= self.sample_bytes <= 4:
            raise DeviceError(f"sample width {self.sample_bytes} bytes is outside 1-4")
        if self.byte_order not in ("little", "big"):
            raise DeviceError(f"byte order {self.byte_order!r} is neither 'little' nor 'big'")
        if self.samples_per_frame < 1 or self.channels < 1:
            raise DeviceError("a frame needs at least one sample and one channel")
        if self.gain_uv_per_count is not None and not self.gain_uv_per_count > 0:
            raise DeviceError(f"gain {self.gain_uv_per_count} µV/count must be positive")

    @property
    def calibrated(self) -> bool:
        """True when a gain turns counts into µV."""
        return self.gain_uv_per_count is not None

    @property
    def header_bytes(self) -> int:
        """Bytes before the samples."""
        return len(self.sync) + self.seq_bytes + (1 if self.lead_status else 0)

    @property
    def frame_bytes(self) -> int:
        """Bytes of one whole frame."""
        payload = self.samples_per_frame * self.channels * self.sample_bytes
        return self.header_bytes + payload + (1 if self.checksum else 0)

    @property
    def seq_modulus(self) -> int:
        """Where the sequence counter wraps (1 when there is none)."""
        return 1 << (8 * self.seq_bytes)

    @property
    def count_range(self) -> tuple[int, int]:
        """Smallest and largest count a sample can hold."""
        bits = 8 * self.sample_bytes
        return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if self.signed else (0, (1 << bits) - 1)

    def encode(self, seq: int, counts: ArrayLike, lead_off: bool | int = False) -> bytes:
        """One frame: ``counts`` integers of shape ``(channels, samples_per_frame)`` (or 1-D for one channel).

        ``seq`` is taken modulo the counter's range; ``lead_off`` True/False or the raw status byte.
        """
        arr = np.asarray(counts)
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.shape != (self.channels, self.samples_per_frame):
            raise DeviceError(f"counts of shape {arr.shape}; ({self.channels}, {self.samples_per_frame}) expected")
        values = np.asarray(np.rint(arr), dtype=np.int64)
        lo, hi = self.count_range
        if values.min() < lo or values.max() > hi:
            raise DeviceError(f"counts outside {lo}..{hi} do not fit {self.sample_bytes}-byte samples")
        out = bytearray(self.sync)
        if self.seq_bytes:
            out += (seq % self.seq_modulus).to_bytes(self.seq_bytes, self.byte_order)
        if self.lead_status:
            out.append(int(lead_off) & 0xFF)
        unsigned = values.T.reshape(-1) & ((1 << (8 * self.sample_bytes)) - 1)
        shifts = np.arange(self.sample_bytes, dtype=np.int64) * 8
        if self.byte_order == "big":
            shifts = shifts[::-1]
        out += ((unsigned[:, None] >> shifts[None, :]) & 0xFF).astype(np.uint8).tobytes()
        if self.checksum:
            out.append(_xor(bytes(out[len(self.sync) :])))
        return bytes(out)


def _xor(data: bytes) -> int:
    return int(np.bitwise_xor.reduce(np.frombuffer(data, dtype=np.uint8))) if data else 0


@dataclass(frozen=True)
class DecodedFrame:
    """One decoded frame.

    ``seq`` the raw sequence number; ``index`` the sequence unwrapped across wrap-arounds
    (counting from the first frame's ``seq``); ``missing_before`` frames lost just before
    this one; ``counts`` int64 ``(channels, n)``; ``values`` float32 ``(channels, n)`` in mV
    when ``calibrated``, else in counts minus baseline; ``lead_status`` the raw status byte
    (None when the layout has none).
    """

    seq: int
    index: int
    missing_before: int
    counts: NDArray[np.int64]
    values: NDArray[np.float32]
    calibrated: bool
    lead_status: int | None

    @property
    def lead_off(self) -> bool | None:
        """True when the device flagged an electrode off (None when it cannot say)."""
        return None if self.lead_status is None else self.lead_status != 0


class FrameDecoder:
    """Decodes a byte stream of declared frames, whatever the notification boundaries.

    :meth:`feed` resynchronises on the sync header (bytes before it are skipped with a
    logged reason), refuses frames with a bad checksum, frames not followed by a sync
    header (garbled or truncated; checked when the following bytes are at hand, and always
    when the layout has no checksum), frames cut short at the end of a packet, and
    sequence numbers that repeat or go back; it counts the frames missing before each
    accepted one (wrap-around aware). Every refusal's reason is logged and kept for
    :meth:`pop_errors`.
    """

    def __init__(self, spec: FrameSpec) -> None:
        self.spec = spec
        self._buf = bytearray()
        self._expected: int | None = None
        self._index = 0
        self._errors: list[str] = []
        self._skipped = 0
        self._resyncing = False

    def pop_errors(self) -> list[str]:
        """Reasons of the refusals since the last call."""
        out, self._errors = self._errors, []
        return out

    def _refuse(self, reason: str) -> None:
        logger.warning("declared frame refused: %s", reason)
        self._errors.append(reason)

    def feed(self, data: bytes | bytearray, *, end_of_packet: bool = False) -> list[DecodedFrame]:
        """Add received bytes; returns the frames completed.

        ``end_of_packet`` says the transport delivers whole frames (one BLE notification):
        a frame cut short at its end is refused instead of waiting for more bytes.
        """
        spec = self.spec
        buf = self._buf
        buf += bytes(data)
        size = spec.frame_bytes
        sync = spec.sync
        frames: list[DecodedFrame] = []
        while buf:
            pos = buf.find(sync)
            if pos < 0:
                keep = 0 if end_of_packet else len(sync) - 1
                drop = max(0, len(buf) - keep)
                self._skipped += drop
                del buf[:drop]
                if end_of_packet:
                    if self._skipped and not self._resyncing:
                        self._refuse(f"no sync header in {self._skipped} bytes; skipped")
                    self._skipped = 0
                    self._resyncing = False
                break
            if pos + self._skipped > 0:
                if not self._resyncing:  # bytes of a frame already refused are not reported twice
                    self._refuse(f"skipped {pos + self._skipped} bytes before a sync header (resync)")
                self._skipped = 0
                del buf[:pos]
            if len(buf) < size:
                if end_of_packet:
                    if not self._resyncing:  # else these bytes are the rest of a frame already refused
                        self._refuse(f"truncated frame: {len(buf)} of {size} bytes")
                    buf.clear()
                    self._resyncing = False
                break
            self._resyncing = False
            frame = bytes(buf[:size])
            after = bytes(buf[size : size + len(sync)])
            if spec.checksum and _xor(frame[len(sync) : -1]) != frame[-1]:
                self._refuse("checksum mismatch (garbled or truncated frame)")
                self._resyncing = True
                del buf[:1]
                continue
            if after and not sync.startswith(after):
                self._refuse("no sync header after the frame (garbled or truncated frame)")
                self._resyncing = True
                del buf[:1]
                continue
            if not spec.checksum and len(after) < len(sync) and not end_of_packet:
                break  # wait for the next header to confirm this frame's length
            del buf[:size]
            decoded = self._decode(frame)
            if decoded is not None:
                frames.append(decoded)
        return frames

    def _decode(self, frame: bytes) -> DecodedFrame | None:
        spec = self.spec
        i = len(spec.sync)
        seq = int.from_bytes(frame[i : i + spec.seq_bytes], spec.byte_order) if spec.seq_bytes else 0
        i += spec.seq_bytes
        missing = 0
        if self._expected is None:
            self._index = seq
        elif spec.seq_bytes:
            missing = (seq - self._expected) % spec.seq_modulus
            if missing > spec.seq_modulus // 2:
                self._refuse(f"sequence {seq} repeats or goes back (expected {self._expected})")
                return None
            self._index += missing + 1
        else:
            self._index += 1
        if missing:
            logger.info("declared frames: %d missing before sequence %d", missing, seq)
        self._expected = (seq + 1) % spec.seq_modulus
        status: int | None = None
        if spec.lead_status:
            status = frame[i]
            i += 1
        end = len(frame) - (1 if spec.checksum else 0)
        raw = np.frombuffer(frame[i:end], dtype=np.uint8).reshape(-1, spec.sample_bytes).astype(np.int64)
        shifts = np.arange(spec.sample_bytes, dtype=np.int64) * 8
        if spec.byte_order == "big":
            shifts = shifts[::-1]
        counts = (raw << shifts[None, :]).sum(axis=1)
        if spec.signed:
            bits = 8 * spec.sample_bytes
            counts = np.where(counts >= 1 << (bits - 1), counts - (1 << bits), counts)
        counts = counts.reshape(spec.samples_per_frame, spec.channels).T.copy()
        centred = counts.astype(np.float64) - spec.baseline_counts
        if spec.gain_uv_per_count is not None:
            centred = centred * spec.gain_uv_per_count / 1000.0
        return DecodedFrame(seq, self._index, missing, counts, centred.astype(np.float32), spec.calibrated, status)
