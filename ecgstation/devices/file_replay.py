"""File replay: a recording played back as a stream at 1x-60x real time (no byte layer)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np

from ecgstation.core.recording import Recording
from ecgstation.devices.clock import SessionClock
from ecgstation.devices.events import DeviceStatus, SampleChunk, SourceEvent
from ecgstation.devices.replay_common import LeadChoice, check_chunk, check_speed, load_recording, select_leads

__all__ = ["FileReplaySource"]

logger = logging.getLogger(__name__)


class FileReplaySource:
    """Plays a recording (or the file at a path) as chunks of ``chunk_s`` seconds at ``speed`` x real time.

    Sample time is session time: the first sample sits at 0 s; each chunk is sent once its
    last sample is due (waits divided by ``speed``, 1-60; DeviceError otherwise). ``clock``
    replaces the default ``SessionClock(speed)`` (e.g. a VirtualClock for tests). Ends with
    ``disconnected`` ("end of file" or "closed").
    """

    def __init__(
        self,
        source: Recording | str | Path,
        *,
        speed: float = 1.0,
        chunk_s: float = 0.25,
        lead: LeadChoice = "all",
        clock: SessionClock | None = None,
    ) -> None:
        self.speed = check_speed(speed)
        self.recording = load_recording(source)
        self._signals, self.lead_names = select_leads(self.recording, lead)
        self.fs = self.recording.fs
        self._chunk_n = check_chunk(chunk_s, self.fs)
        label = Path(self.recording.source_path).name if self.recording.source_path else "recording"
        if isinstance(source, (str, Path)):
            label = Path(source).name
        self.name = f"file replay: {label}"
        self.clock = clock if clock is not None else SessionClock(self.speed)
        self.finished = False
        self._stop = asyncio.Event()

    async def events(self) -> AsyncIterator[SourceEvent]:
        """Connected, streaming, the chunks in real time x speed, then disconnected."""
        clock = self.clock
        clock.start()
        yield DeviceStatus("connected", clock.now(), message=self.name)
        yield DeviceStatus("streaming", clock.now())
        n = self._signals.shape[1]
        closed = False
        for k, start in enumerate(range(0, n, self._chunk_n)):
            stop = min(n, start + self._chunk_n)
            if await clock.sleep_until(stop / self.fs, self._stop):
                closed = True
                break
            chunk = np.array(self._signals[:, start:stop], dtype=np.float32)
            yield SampleChunk(chunk, self.fs, start / self.fs, k)
        self.finished = True
        logger.info("%s: %s", self.name, "closed" if closed else "end of file")
        yield DeviceStatus("disconnected", clock.now(), message="closed" if closed else "end of file")

    async def close(self) -> None:
        """Stop the replay (events() ends with a ``disconnected`` status)."""
        self._stop.set()
