"""Turns decoded declared frames into source events: chunks, gaps, lead-off and refusals."""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np

from ecgstation.devices.declared_frame import FrameDecoder, FrameSpec
from ecgstation.devices.events import DeviceStatus, SampleChunk, SourceEvent

__all__ = ["DeclaredFrameHandler"]

logger = logging.getLogger(__name__)


class DeclaredFrameHandler:
    """Decodes declared-frame packets and places them on the session clock by sequence number.

    ``origin`` = ``(seq, t_s)`` says that the frame with raw sequence number ``seq`` starts at
    session time ``t_s`` (s); without it the first frame received is anchored at its arrival
    minus its duration (with ``origin``, frames lost before the first one received are a
    ``gap`` too). Each frame then sits its sequence distance further on  so lost frames leave a
    hole, reported as a ``gap`` status, and no sample is ever invented. Frames the device
    flagged lead-off give NaN samples (``lead_off_fill="nan"``) or the device's own values
    (``"flat"``), with ``lead_off``/``lead_on`` statuses on each change. Refused frames give
    an ``error`` status with the reason; the stream goes on.
    """

    def __init__(
        self,
        spec: FrameSpec,
        fs: float,
        *,
        origin: tuple[int, float] | None = None,
        lead_off_fill: Literal["nan", "flat"] = "nan",
    ) -> None:
        self.spec = spec
        self.fs = float(fs)
        self.decoder = FrameDecoder(spec)
        self.lead_off_fill = lead_off_fill
        self._origin_hint = origin
        self._origin: float | None = None
        self._first_index: int | None = None
        self._lead_off: bool | None = None

    @property
    def frame_s(self) -> float:
        """Duration of one frame in s."""
        return self.spec.samples_per_frame / self.fs

    def on_packet(self, data: bytes, arrival_s: float, *, end_of_packet: bool = True) -> list[SourceEvent]:
        """Events for one received packet that arrived at session time ``arrival_s`` (s)."""
        frames = self.decoder.feed(data, end_of_packet=end_of_packet)
        events: list[SourceEvent] = [
            DeviceStatus("error", arrival_s, message=f"frame refused: {reason}") for reason in self.decoder.pop_errors()
        ]
        for frame in frames:
            if self._first_index is None:
                if self._origin_hint is not None:
                    seq0, t_s = self._origin_hint
                    ahead = (frame.seq - seq0) % self.spec.seq_modulus
                    self._first_index = frame.index - ahead
                    self._origin = t_s
                    if ahead:
                        lost_s = ahead * self.frame_s
                        msg = f"{ahead} frame(s) lost before sequence {frame.seq}"
                        events.append(DeviceStatus("gap", t_s, lost_s, msg))
                else:
                    self._first_index = frame.index
                    self._origin = max(0.0, arrival_s - self.frame_s)
                events.append(DeviceStatus("streaming", arrival_s))
                if not frame.calibrated:
                    msg = "signal uncalibrated: no gain declared, values are ADC counts, not mV"
                    logger.warning(msg)
                    events.append(DeviceStatus("device_info", self._origin, message=msg))
            assert self._origin is not None and self._first_index is not None
            k = frame.index - self._first_index
            t0 = self._origin + k * self.frame_s
            if frame.missing_before:
                lost_s = frame.missing_before * self.frame_s
                msg = f"{frame.missing_before} frame(s) lost before sequence {frame.seq}"
                events.append(DeviceStatus("gap", t0 - lost_s, lost_s, msg))
            off = frame.lead_off
            if off is not None and off != bool(self._lead_off):
                events.append(DeviceStatus("lead_off" if off else "lead_on", t0))
            if off is not None:
                self._lead_off = off
            values = frame.values
            if off and self.lead_off_fill == "nan":
                values = np.full_like(values, np.nan)
            events.append(SampleChunk(values, self.fs, t0, k))
        return events
