"""Polar Measurement Data (PMD) protocol: commands, control-point responses, ECG frames, clock.

Pure byte handling (no Bluetooth): every fact here comes from ``shared/PROTOCOLS.md``.
ECG samples are signed 24-bit little-endian µV; the frame timestamp is the time of the
*last* sample in ns since 2000-01-01T00:00:00Z.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from numpy.typing import NDArray

from ecgstation.devices.clock import DeviceClock, FramePlacement
from ecgstation.devices.errors import FrameError

__all__ = [
    "ECG_FRAME_HEADER_BYTES",
    "H10_ECG_FS_HZ",
    "PMD_CONTROL_UUID",
    "PMD_DATA_UUID",
    "PMD_EPOCH",
    "PMD_SERVICE_UUID",
    "STATUS_TEXT",
    "ControlPointResponse",
    "EcgFrame",
    "PmdClock",
    "decode_ecg_frame",
    "get_ecg_settings_command",
    "parse_control_response",
    "parse_settings",
    "pmd_time",
    "start_ecg_command",
    "stop_ecg_command",
]

logger = logging.getLogger(__name__)

_SUFFIX = "-02e7-f387-1cad-8acd2d8df0c8"
#: PMD service, control point (write/read/indicate) and data (notify) characteristics.
PMD_SERVICE_UUID = "fb005c80" + _SUFFIX
PMD_CONTROL_UUID = "fb005c81" + _SUFFIX
PMD_DATA_UUID = "fb005c82" + _SUFFIX

MEASUREMENT_ECG = 0
OP_GET_SETTINGS = 0x01
OP_START = 0x02
OP_STOP = 0x03
RESPONSE_CODE = 0xF0

SETTING_SAMPLE_RATE = 0
SETTING_RESOLUTION = 1
SETTING_RANGE = 2
SETTING_CHANNELS = 4
SETTING_FACTOR = 5
#: Value size (bytes) and struct format of each setting type.
_SETTING_FORMATS: dict[int, tuple[int, str]] = {
    SETTING_SAMPLE_RATE: (2, "<H"),
    SETTING_RESOLUTION: (2, "<H"),
    SETTING_RANGE: (2, "<H"),
    SETTING_CHANNELS: (1, "<B"),
    SETTING_FACTOR: (4, "<f"),
}

STATUS_SUCCESS = 0
STATUS_INVALID_MTU = 10
#: Control-point status codes and their meaning.
STATUS_TEXT: dict[int, str] = {
    0: "success",
    1: "invalid op code",
    2: "invalid measurement type",
    3: "not supported",
    4: "invalid length",
    5: "invalid parameter",
    6: "already in state",
    7: "invalid resolution",
    8: "invalid sample rate",
    9: "invalid range",
    10: "invalid MTU (the Bluetooth link's MTU is too small)",
    11: "invalid number of channels",
    12: "invalid state",
    13: "device is in its charger",
    14: "disk full",
}

#: The H10 streams ECG at 130 Hz only.
H10_ECG_FS_HZ = 130.0
ECG_FRAME_HEADER_BYTES = 10
ECG_SAMPLE_BYTES = 3
#: Origin of PMD timestamps.
PMD_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
#: Where an H10 that lost its time restarts its clock.
H10_RESET_EPOCH = datetime(2019, 1, 1, tzinfo=UTC)


def get_ecg_settings_command() -> bytes:
    """Ask which ECG settings the sensor offers: ``01 00``."""
    return bytes([OP_GET_SETTINGS, MEASUREMENT_ECG])


def start_ecg_command(sample_rate_hz: int = 130, resolution_bits: int = 14) -> bytes:
    """Start the ECG stream; the H10 default is ``02 00 00 01 82 00 01 01 0E 00`` (130 Hz, 14 bit)."""
    return (
        bytes([OP_START, MEASUREMENT_ECG, SETTING_SAMPLE_RATE, 1])
        + struct.pack("<H", sample_rate_hz)
        + bytes([SETTING_RESOLUTION, 1])
        + struct.pack("<H", resolution_bits)
    )


def stop_ecg_command() -> bytes:
    """Stop the ECG stream: ``03 00``."""
    return bytes([OP_STOP, MEASUREMENT_ECG])


@dataclass(frozen=True)
class ControlPointResponse:
    """A control-point indication: ``F0, op, measurement type, status, more-frames, parameters``."""

    op_code: int
    measurement_type: int
    status: int
    more_frames: bool
    parameters: bytes

    @property
    def ok(self) -> bool:
        """True when the sensor accepted the command."""
        return self.status == STATUS_SUCCESS

    @property
    def mtu_too_small(self) -> bool:
        """True for ``F0 xx xx 0A``: the link's ATT MTU is too small for the stream."""
        return self.status == STATUS_INVALID_MTU

    @property
    def status_text(self) -> str:
        """The status code in words."""
        return STATUS_TEXT.get(self.status, f"unknown status {self.status}")


def parse_control_response(data: bytes | bytearray) -> ControlPointResponse:
    """Parse a control-point response; raises :class:`FrameError` for anything else."""
    data = bytes(data)
    if len(data) < 4:
        raise FrameError(f"control-point response of {len(data)} bytes; at least 4 are needed")
    if data[0] != RESPONSE_CODE:
        raise FrameError(f"not a control-point response (first byte 0x{data[0]:02X}, expected 0xF0)")
    status = data[3]
    if status == STATUS_SUCCESS:
        more = len(data) > 4 and data[4] != 0
        params = data[5:]
    else:
        more = False
        params = data[4:]
    return ControlPointResponse(data[1], data[2], status, more, params)


def parse_settings(parameters: bytes | bytearray) -> dict[int, tuple[float, ...]]:
    """Parse settings ``type, count, values...`` (sample rate, resolution, range: u16; channels: u8; factor: f32).

    Returns ``{setting type: values}``; raises :class:`FrameError` when truncated or unknown.
    """
    out: dict[int, tuple[float, ...]] = {}
    i = 0
    data = bytes(parameters)
    while i < len(data):
        if i + 2 > len(data):
            raise FrameError(f"settings truncated at byte {i}: type without a count")
        kind, count = data[i], data[i + 1]
        if kind not in _SETTING_FORMATS:
            raise FrameError(f"unknown setting type {kind} at byte {i}")
        size, fmt = _SETTING_FORMATS[kind]
        end = i + 2 + size * count
        if end > len(data):
            raise FrameError(
                f"setting {kind} truncated: {count} values need {size * count} bytes, {len(data) - i - 2} left"
            )
        out[kind] = tuple(float(struct.unpack_from(fmt, data, i + 2 + k * size)[0]) for k in range(count))
        i = end
    return out


@dataclass(frozen=True)
class EcgFrame:
    """A decoded PMD ECG frame: ``samples_uv`` int32 in µV; ``timestamp_ns`` of the last sample."""

    timestamp_ns: int
    frame_type: int
    samples_uv: NDArray[np.int32]

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.samples_uv.size)

    @property
    def samples_mv(self) -> NDArray[np.float32]:
        """Samples in mV."""
        return (self.samples_uv.astype(np.float64) / 1000.0).astype(np.float32)


def decode_ecg_frame(data: bytes | bytearray) -> EcgFrame:
    """Decode a PMD ECG data notification (frame type 0); raises :class:`FrameError` with the reason.

    The number of samples follows from the notification length (never from the MTU).
    """
    data = bytes(data)
    if len(data) < ECG_FRAME_HEADER_BYTES:
        raise FrameError(f"ECG frame of {len(data)} bytes is shorter than its {ECG_FRAME_HEADER_BYTES}-byte header")
    mtype = data[0] & 0x3F
    if mtype != MEASUREMENT_ECG:
        raise FrameError(f"measurement type {mtype} is not ECG")
    timestamp_ns = int.from_bytes(data[1:9], "little")
    frame_type = data[9]
    if frame_type & 0x80:
        raise FrameError(f"delta-compressed frame (frame type 0x{frame_type:02X}) is not decoded")
    if frame_type != 0:
        raise FrameError(f"ECG frame type {frame_type} is not decoded (only type 0, the H10's)")
    payload = data[ECG_FRAME_HEADER_BYTES:]
    if not payload:
        raise FrameError("ECG frame carries no samples")
    if len(payload) % ECG_SAMPLE_BYTES:
        raise FrameError(f"ECG payload of {len(payload)} bytes is not a whole number of 3-byte samples (truncated?)")
    raw = np.frombuffer(payload, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
    values = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
    values = np.where(values >= 1 << 23, values - (1 << 24), values).astype(np.int32)
    return EcgFrame(timestamp_ns, frame_type, values)


def pmd_time(timestamp_ns: int) -> datetime:
    """A PMD timestamp (ns since 2000-01-01 UTC) as an aware datetime."""
    return PMD_EPOCH + timedelta(microseconds=timestamp_ns // 1000)


class PmdClock:
    """Places PMD ECG frames on the session clock (see :class:`~ecgstation.devices.clock.DeviceClock`).

    Anchors the device timestamps to the session clock at the first frame, checks that they
    increase, detects resets (an H10 that lost its time goes back to 2019-01-01) and jumps,
    and reports gaps when frames are missing. ``device_time_unset`` is True when the first
    frame's timestamp lies on the H10's reset day (2019-01-01): its wall time is meaningless.
    """

    def __init__(self, fs: float = H10_ECG_FS_HZ, *, tolerance_s: float | None = None, max_skew_s: float = 5.0) -> None:
        self.fs = float(fs)
        self._clock = DeviceClock(fs, tolerance_s=tolerance_s, max_skew_s=max_skew_s)
        self.device_time_unset: bool | None = None

    def place(self, timestamp_ns: int, n: int, arrival_s: float) -> FramePlacement:
        """Place a frame of ``n`` samples whose last sample is stamped ``timestamp_ns`` (arrived at ``arrival_s``)."""
        if self.device_time_unset is None:
            when = pmd_time(timestamp_ns)
            self.device_time_unset = H10_RESET_EPOCH <= when < H10_RESET_EPOCH + timedelta(days=1)
            if self.device_time_unset:
                logger.info("Polar clock is unset (%s): timestamps are used for spacing only", when.isoformat())
        device_first_s = timestamp_ns * 1e-9 - (n - 1) / self.fs
        return self._clock.place(device_first_s, n, arrival_s)
