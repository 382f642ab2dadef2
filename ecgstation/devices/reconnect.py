"""Reconnect wrapper: retries a lost link with growing back-off and records the gap it leaves."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

from ecgstation.devices.clock import SessionClock
from ecgstation.devices.errors import DeviceError
from ecgstation.devices.events import BeatIntervals, DeviceStatus, EcgSource, SampleChunk, SourceEvent

__all__ = ["ReconnectingSource"]

logger = logging.getLogger(__name__)


class ReconnectingSource:
    """An :class:`~ecgstation.devices.events.EcgSource` that survives disconnects.

    ``factory()`` returns a source for one connection (a new BLE source, or the same
    simulated device again); its ``events()`` ends when the link is lost. The wrapper then
    emits ``reconnecting`` (value = attempt number), waits ``backoff_s`` seconds of session
    time (x ``backoff_factor`` per failed attempt, capped at ``max_backoff_s``) and calls the
    factory again. When samples resume it emits a ``gap`` status from the end of the last
    sample before the loss to the first one after it: the hole stays a hole. After
    ``max_attempts`` failed attempts in a row it ends with a ``disconnected`` status saying
    so. A source whose ``finished`` attribute is True after its events end (closed, end of
    file, pairing refused) is not retried. ``clock`` is the session clock, shared with the
    sources the factory makes, so time keeps running across reconnects.
    """

    def __init__(
        self,
        factory: Callable[[], EcgSource],
        *,
        max_attempts: int = 5,
        backoff_s: float = 1.0,
        backoff_factor: float = 2.0,
        max_backoff_s: float = 30.0,
        clock: SessionClock | None = None,
    ) -> None:
        if max_attempts < 1:
            raise DeviceError("max_attempts must be at least 1")
        if backoff_s < 0 or backoff_factor < 1 or max_backoff_s < backoff_s:
            raise DeviceError("back-off must be >= 0 s, grow by a factor >= 1 and be capped above its start")
        self._factory = factory
        self.max_attempts = int(max_attempts)
        self.backoff_s = float(backoff_s)
        self.backoff_factor = float(backoff_factor)
        self.max_backoff_s = float(max_backoff_s)
        self.clock = clock if clock is not None else SessionClock()
        self._source: EcgSource = factory()
        self.name = self._source.name
        self.fs = self._source.fs
        self.lead_names = self._source.lead_names
        self._closed = False
        self._stop = asyncio.Event()

    async def events(self) -> AsyncIterator[SourceEvent]:
        """Events of every connection in turn, with ``reconnecting`` and ``gap`` statuses in between."""
        attempt = 0
        backoff = self.backoff_s
        last_end: float | None = None  # session time just after the last sample
        resume_from: float | None = None  # last_end when the link was lost, until the gap is shown
        seq_from: float | None = None  # last_end when the link was lost, until samples resume
        last_seq = -1
        source: EcgSource | None = self._source
        while True:
            offset: int | None = None
            got_data = False
            last_kind = ""
            if source is not None:
                try:
                    async for ev in source.events():
                        # the hole left by the outage ends where the source's samples (or its own gap) begin
                        starts_data = isinstance(ev, SampleChunk) or (isinstance(ev, DeviceStatus) and ev.kind == "gap")
                        if starts_data and resume_from is not None:
                            start = ev.t0_s if isinstance(ev, SampleChunk) else ev.t_s
                            gap = start - resume_from
                            if gap > 0:
                                yield DeviceStatus(
                                    "gap", resume_from, gap, f"no samples for {gap:.2f} s while the link was down"
                                )
                            resume_from = None
                        if isinstance(ev, SampleChunk):
                            missing = 0
                            if seq_from is not None and ev.n:
                                missing = max(1, round((ev.t0_s - seq_from) * ev.fs / ev.n))
                            seq_from = None
                            if offset is None:
                                offset = 0 if last_seq < 0 else last_seq + 1 + missing - ev.seq
                            seq = max(last_seq + 1, ev.seq + offset)
                            last_seq = seq
                            last_end = ev.end_s
                            got_data = True
                            ev = SampleChunk(ev.samples, ev.fs, ev.t0_s, seq)
                        elif isinstance(ev, BeatIntervals):
                            got_data = True
                        if isinstance(ev, DeviceStatus):
                            last_kind = ev.kind
                            if ev.kind == "disconnected" and self._closed:
                                continue
                        yield ev
                except DeviceError as exc:
                    logger.warning("%s: connection failed: %s", self.name, exc)
                    yield DeviceStatus("error", self.clock.now(), message=str(exc))
            if self._closed or (source is not None and getattr(source, "finished", False)):
                if self._closed or last_kind != "disconnected":
                    yield DeviceStatus(
                        "disconnected", self.clock.now(), message="closed" if self._closed else "finished"
                    )
                return
            if got_data:
                attempt = 0
                backoff = self.backoff_s
            if seq_from is None:
                resume_from = seq_from = last_end
            attempt += 1
            if attempt > self.max_attempts:
                msg = f"gave up reconnecting after {self.max_attempts} attempts"
                logger.error("%s: %s", self.name, msg)
                yield DeviceStatus("disconnected", self.clock.now(), message=msg)
                return
            logger.info("%s: reconnecting, attempt %d of %d in %.1f s", self.name, attempt, self.max_attempts, backoff)
            yield DeviceStatus(
                "reconnecting", self.clock.now(), float(attempt), f"attempt {attempt} of {self.max_attempts}"
            )
            if await self.clock.sleep(backoff, self._stop):
                yield DeviceStatus("disconnected", self.clock.now(), message="closed")
                return
            backoff = min(backoff * self.backoff_factor, self.max_backoff_s)
            try:
                source = self._factory()
            except DeviceError as exc:
                logger.warning("%s: %s", self.name, exc)
                yield DeviceStatus("error", self.clock.now(), message=str(exc))
                source = None
            if source is not None:
                self._source = source

    async def close(self) -> None:
        """Stop retrying and close the current connection."""
        self._closed = True
        self._stop.set()
        await self._source.close()
