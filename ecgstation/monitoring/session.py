"""A monitoring session: source events -> bed feed, 10 s slices stored at once, analysed off the loop, alarms.

The asyncio task only reads the source, fills the :class:`BedFeed` and cuts slices. Everything
else runs in order in one worker thread per session: each completed slice is committed in its own
transaction first (crash-safe), then analysed, then its analysis, findings and alarms are stored
in a second transaction. The worker also runs the :class:`AlarmEngine` (one thread, no locks),
acknowledgements and escalations. The latency of a slice is measured from the moment the slicer
completes it to the commit of its findings.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from ecgstation.devices.events import BeatIntervals, DeviceStatus, EcgSource, SampleChunk
from ecgstation.inference.model_analysis import AnalysisModels
from ecgstation.monitoring.alarms import AlarmEngine, AlarmEvent, AlarmSettings
from ecgstation.monitoring.bed_feed import AlarmState, BedFeed
from ecgstation.monitoring.slice_analysis import SliceAnalyser, SliceAnalysis
from ecgstation.monitoring.slicer import Slice, Slicer
from ecgstation.monitoring.summary import summarize
from ecgstation.storage import Actor, Database
from ecgstation.storage.column_types import utcnow
from ecgstation.storage.views import AlarmView
from ecgstation.tracing import traced

__all__ = ["MonitoringSession", "SessionSettings", "load_alarm_settings"]

log = logging.getLogger(__name__)
T = TypeVar("T")

_STATUS_TEXT = {
    "connecting": "Connecting", "connected": "Connected", "waiting_for_ecg": "Waiting for ECG",
    "streaming": "Monitoring", "lead_off": "Lead off", "lead_on": "Monitoring", "gap": "Signal gap",
    "disconnected": "Disconnected", "reconnecting": "Reconnecting", "error": "Device error",
}  # fmt: skip
#: slice findings not worth a stored finding (the normal case)
_QUIET_FINDINGS = frozenset({"sinus_rhythm", "rhythm_sinus_rhythm", "normal_sinus_rhythm"})
#: how many alarms a bed keeps for display (acknowledged ones drop out first)
_FEED_ALARMS = 20


@dataclass(frozen=True)
class SessionSettings:
    """Session options: slice length (s), heartbeat period (wall s), mains frequency (Hz), device row."""

    slice_s: float = 10.0
    heartbeat_s: float = 15.0
    tick_s: float = 1.0
    mains_hz: float = 50.0
    device_id: int | None = None


def load_alarm_settings(db: Database, actor: Actor, patient_id: int | None) -> AlarmSettings:
    """The patient's stored thresholds, or the defaults."""
    if patient_id is None:
        return AlarmSettings()
    with db.reader(actor) as s:
        view = s.alarm_settings.get(patient_id)
    return AlarmSettings.from_dict(None if view is None else view.settings)


class MonitoringSession:
    """One bed's session: ``await run()`` until the source ends or :meth:`stop` is called."""

    def __init__(
        self,
        source: EcgSource,
        db: Database,
        actor: Actor,
        *,
        patient_id: int | None = None,
        feed: BedFeed,
        models: AnalysisModels | None = None,
        alarm_settings: AlarmSettings | None = None,
        settings: SessionSettings | None = None,
        on_slice_stored: Callable[[int], None] | None = None,
    ) -> None:
        self.source = source
        self.db = db
        self.actor = actor
        self.patient_id = patient_id
        self.feed = feed
        self.settings = settings or SessionSettings()
        self.alarm_settings = alarm_settings
        self.models = models
        self.on_slice_stored = on_slice_stored
        self.session_id: int | None = None
        self.trace_id: str | None = None
        self.started_at: datetime = utcnow()
        self.latencies_ms: list[float] = []
        self.analyses: list[dict[str, Any]] = []
        self.alarms: list[dict[str, Any]] = []  # raised alarms: id, kind, severity, onset_s, raised_s
        self.errors: list[str] = []
        #: why the source ended, as it said in its last "disconnected" status (shown when the session ends)
        self.end_reason = ""
        self.state = "new"
        self._engine: AlarmEngine | None = None
        self._analyser = SliceAnalyser(source.lead_names, models, mains_hz=self.settings.mains_hz)
        self._worker = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=f"monitor-{feed.snapshot().bed}")
        self._pending: list[concurrent.futures.Future[Any]] = []
        self._alarm_ids: dict[int, int] = {}  # engine key -> alarm id
        self._alarm_keys: dict[int, int] = {}  # alarm id -> engine key
        self._alarm_versions: dict[int, int] = {}
        self._feed_alarms: dict[int, AlarmState] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested = False
        self._position_s = 0.0

    # ---- thread plumbing ------------------------------------------------------------------------
    def _submit(self, fn: Callable[..., T], *args: Any) -> concurrent.futures.Future[T]:
        ctx = contextvars.copy_context()  # the worker's log lines and audit rows carry the trace id
        fut = self._worker.submit(ctx.run, fn, *args)
        self._pending = [f for f in self._pending if not f.done()] + [fut]
        return fut

    def stop(self) -> None:
        """Ask the session to end (thread-safe): the source is closed, pending slices are finished."""
        self._stop_requested = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(lambda: loop.create_task(self.source.close()))

    # ---- the session --------------------------------------------------------------------------
    async def run(self) -> int:
        """Run the session to its end; returns the session id."""
        self._loop = asyncio.get_running_loop()
        with traced(f"monitoring session {self.source.name}") as tid:
            self.trace_id = tid
            try:
                return await self._run()
            finally:
                self._worker.shutdown(wait=True)

    async def _run(self) -> int:
        loop = asyncio.get_running_loop()
        self.session_id = await asyncio.wrap_future(self._submit(self._start_row))
        self.state = "active"
        self.feed.update(session_id=self.session_id, status="connecting", status_message="Connecting")
        log.info("session #%s on %s (%s Hz, %s)", self.session_id, self.source.name, self.source.fs,
                 ",".join(self.source.lead_names))  # fmt: skip
        slicer = Slicer(self.source.fs, len(self.source.lead_names), self.settings.slice_s)
        last_tick = last_beat = time.monotonic()
        clean_end = False
        try:
            async for ev in self.source.events():
                if isinstance(ev, SampleChunk):
                    self.feed.push(ev)
                    self._position_s = max(self._position_s, ev.end_s)
                    for slc in slicer.push(ev):
                        self._submit(self._process_slice, slc, time.perf_counter())
                elif isinstance(ev, DeviceStatus):
                    self._on_status(ev)
                elif isinstance(ev, BeatIntervals):
                    self.feed.update(heart_rate_bpm=float(ev.heart_rate_bpm))
                now = time.monotonic()
                if now - last_tick >= self.settings.tick_s:
                    last_tick = now
                    self._submit(self._tick, self._position_s)
                if now - last_beat >= self.settings.heartbeat_s:
                    last_beat = now
                    self._submit(self._heartbeat)
                if self._stop_requested and isinstance(ev, DeviceStatus) and ev.kind == "disconnected":
                    break
            clean_end = True
        finally:
            if clean_end:  # a disconnect just before the end of the events is the source's normal end
                self._submit(self._end_of_stream)
            last = slicer.flush()
            if last is not None:
                self._submit(self._process_slice, last, time.perf_counter())
            state = "ended" if clean_end else "interrupted"
            fut = self._submit(self._finish, state)
            await asyncio.wrap_future(fut) if not loop.is_closed() else fut.result()
        return self.session_id

    # ---- worker-thread jobs ---------------------------------------------------------------------
    def _start_row(self) -> int:
        self._engine = AlarmEngine(self.alarm_settings or load_alarm_settings(self.db, self.actor, self.patient_id))
        self.alarm_settings = self._engine.settings
        with self.db.session(self.actor) as s:
            view = s.monitoring.start(
                fs=self.source.fs, lead_names=tuple(self.source.lead_names), patient_id=self.patient_id,
                device_id=self.settings.device_id, started_at=self.started_at, owner_host=socket.gethostname()[:128],
                owner_pid=os.getpid(),
            )  # fmt: skip
        return view.id

    def _heartbeat(self) -> None:
        try:
            with self.db.session(self.actor) as s:
                s.monitoring.heartbeat(self._sid)
        except Exception as err:  # noqa: BLE001 (database locked, disk full, a bug: shown and logged, the session goes on)
            self._error("heartbeat not stored", err)

    @property
    def _sid(self) -> int:
        assert self.session_id is not None
        return self.session_id

    def _error(self, what: str, err: Exception) -> None:
        log.exception("%s: %s", what, err)
        self.errors.append(f"{what}: {err}")
        self.feed.update(status_message=f"{what}: {err}")

    def _on_status(self, st: DeviceStatus) -> None:
        text = _STATUS_TEXT.get(st.kind)
        if st.kind == "disconnected":
            self.end_reason = st.message
        elif st.kind in ("connected", "reconnecting", "streaming"):
            self.end_reason = ""  # the link came back (or is being retried): that disconnect did not end it
        if st.kind == "battery" and st.value is not None:
            self.feed.update(battery_pct=float(st.value))
        elif st.kind == "gap":
            self.feed.update(status="gap", status_message=f"Gap of {st.value or 0:.1f} s at {st.t_s:.1f} s")
        elif st.kind == "reconnecting":
            self.feed.update(status="reconnecting", status_message=f"Reconnecting (attempt {int(st.value or 0)})")
        elif text is not None:
            self.feed.update(status=st.kind, status_message=st.message or text)
        if st.kind not in ("battery", "device_info", "connected", "connecting"):
            log.info("device %s at %.1f s %s", st.kind, st.t_s, st.message)
            self._submit(self._status_job, st)

    def _status_job(self, st: DeviceStatus) -> None:
        assert self._engine is not None
        events = self._engine.on_status(st)
        if st.kind == "disconnected":
            self._position_s = max(self._position_s, st.t_s)
        if events:
            self._store_events(events, None)

    def _end_of_stream(self) -> None:
        assert self._engine is not None
        self._engine.end_of_stream()

    def _tick(self, now_s: float) -> None:
        assert self._engine is not None
        events = self._engine.tick(now_s)
        if events:
            self._store_events(events, None)

    def _process_slice(self, slc: Slice, completed: float) -> None:
        assert self._engine is not None
        sid = self._sid
        started = self.started_at + timedelta(seconds=slc.start_s)
        gaps = [[round(a, 3), round(b, 3)] for a, b in slc.gaps]
        try:
            with self.db.session(self.actor) as s:  # 1: the samples, on their own, at once
                s.monitoring.append_slice(sid, slc.index, started, slc.storable(), slc.fs,
                                          analysis={"index": slc.index, "state": "pending", "gaps": gaps})  # fmt: skip
                s.monitoring.heartbeat(sid)
        except Exception as err:  # noqa: BLE001 (one slice must not end the session: shown and logged)
            self._error(f"slice {slc.index} not stored", err)
            return
        if self.on_slice_stored is not None:
            self.on_slice_stored(slc.index)
        try:
            result = self._analyser.analyse(slc)
            events = self._engine.on_slice(result.observation()) + self._engine.tick(slc.end_s)
            doc = result.to_json()
            doc["latency_ms"] = round((time.perf_counter() - completed) * 1e3, 1)  # up to the commit
            with self.db.session(self.actor) as s:  # 2: analysis, findings, alarms together
                s.monitoring.set_slice_analysis(sid, slc.index, doc)
                self._store_findings(s, result)
                self._store_events(events, s)
            latency = (time.perf_counter() - completed) * 1e3
        except Exception as err:  # noqa: BLE001 (one slice must not end the session: shown and logged)
            self._error(f"slice {slc.index} not analysed", err)
            return
        self.latencies_ms.append(latency)
        self.analyses.append(doc)
        self.feed.update(heart_rate_bpm=result.heart_rate_bpm, rhythm=result.rhythm_code)
        log.debug("slice %d: %d beats, %s, %.0f ms", slc.index, len(result.beat_times_s), result.rhythm_code, latency)

    def _store_findings(self, s: Any, result: SliceAnalysis) -> None:
        """Findings that begin in this slice (a rhythm going on from the slice before is not repeated)."""
        before = set(self.analyses[-1]["findings"]) if self.analyses else set()
        prev_index = self.analyses[-1]["index"] if self.analyses else None
        for f in result.findings:
            if f.code in _QUIET_FINDINGS or (f.code in before and prev_index == result.index - 1
                                             and f.code != "ventricular_run"):  # fmt: skip
                continue
            kind = "rule" if f.source == "rule" else "model"
            conf = None if f.confidence is None else min(1.0, max(0.0, float(f.confidence)))
            s.findings.add(
                code=f.code[:64], label=f.text, source_kind=kind, source_name=f.source[:128],
                source_version=(f.source_version or None) and f.source_version[:64], session_id=self._sid,
                confidence=conf, start_s=result.start_s + (f.start_s or 0.0) if f.start_s is not None else result.start_s,
                end_s=result.end_s,
            )  # fmt: skip

    def _store_events(self, events: list[AlarmEvent], s: Any) -> None:
        if s is None:
            with self.db.session(self.actor) as s2:
                self._store_events(events, s2)
            return
        for ev in events:
            if ev.action == "raise":
                view: AlarmView = s.alarms.raise_alarm(
                    self._sid, ev.kind, ev.severity, ev.message, offset_s=round(ev.onset_s, 3),
                    details={"onset_s": round(ev.onset_s, 3), "raised_s": round(ev.t_s, 3), **dict(ev.details)},
                )  # fmt: skip
                self._alarm_ids[ev.key], self._alarm_keys[view.id] = view.id, ev.key
                self._alarm_versions[view.id] = view.version
                self.alarms.append({"id": view.id, "kind": ev.kind, "severity": ev.severity,
                                    "onset_s": ev.onset_s, "raised_s": ev.t_s, "message": ev.message})  # fmt: skip
                self._feed_alarms[view.id] = AlarmState(ev.kind, ev.severity, ev.message, ev.t_s, view.id)
                log.warning("alarm %s (%s) at %.1f s: %s", ev.kind, ev.severity, ev.t_s, ev.message)
            elif ev.action == "escalate" and ev.key in self._alarm_ids:
                aid = self._alarm_ids[ev.key]
                view = s.alarms.escalate(aid)
                self._alarm_versions[aid] = view.version
                if aid in self._feed_alarms:
                    self._feed_alarms[aid] = replace(self._feed_alarms[aid], escalation_level=view.escalation_level)
                log.warning("alarm #%d %s escalated to level %d", aid, ev.kind, view.escalation_level)
        self._publish_alarms()

    def _publish_alarms(self) -> None:
        states = sorted(self._feed_alarms.values(), key=lambda a: (not a.active, -a.raised_s))[:_FEED_ALARMS]
        self._feed_alarms = {a.alarm_id: a for a in states if a.alarm_id is not None}
        self.feed.update(alarms=tuple(sorted(states, key=lambda a: a.raised_s)))

    def _acknowledge(self, alarm_id: int, actor: Actor) -> AlarmView:
        with self.db.session(actor) as s:
            version = self._alarm_versions.get(alarm_id)
            if version is None:
                version = next(a.version for a in s.alarms.for_session(self._sid) if a.id == alarm_id)
            view: AlarmView = s.alarms.acknowledge(alarm_id, version)
        self._alarm_versions[alarm_id] = view.version
        key = self._alarm_keys.get(alarm_id)
        if key is not None and self._engine is not None:
            self._engine.acknowledge(key)
        if alarm_id in self._feed_alarms:
            self._feed_alarms[alarm_id] = replace(self._feed_alarms[alarm_id], acknowledged_by=view.acknowledged_by)
            self._publish_alarms()
        log.info("alarm #%d acknowledged by %s", alarm_id, view.acknowledged_by)
        return view

    def acknowledge(self, alarm_id: int, actor: Actor) -> concurrent.futures.Future[AlarmView]:
        """Acknowledge an alarm as ``actor`` (any thread); the future gives the stored alarm.

        After the session has ended the acknowledgement is stored at once in the caller's thread."""
        if self.state in ("ended", "interrupted"):
            done: concurrent.futures.Future[AlarmView] = concurrent.futures.Future()
            try:
                done.set_result(self._acknowledge(alarm_id, actor))
            except Exception as err:  # noqa: BLE001 (handed to the caller through the future)
                done.set_exception(err)
            return done
        return self._submit(self._acknowledge, alarm_id, actor)

    def _finish(self, state: str) -> None:
        if self._engine is not None:
            self._engine.end_of_stream()
        summary = summarize(self.analyses, alarms=self.alarms, latencies_ms=self.latencies_ms,
                            interrupted=state != "ended")  # fmt: skip
        summary["errors"] = self.errors[-20:]
        summary["trace_id"] = self.trace_id
        try:
            with self.db.session(self.actor) as s:
                s.monitoring.end(self._sid, summary, state=state)
        except Exception as err:  # noqa: BLE001 (one slice must not end the session: shown and logged)
            self._error("session end not stored", err)
        self.state = state
        reason = f": {self.end_reason}" if self.end_reason else ""  # e.g. "gave up reconnecting after 3 attempts"
        self.feed.update(status="disconnected", status_message=f"Session {state}{reason}")
        log.info("session #%s %s: %d slices, %d alarms", self.session_id, state, summary["n_slices"], len(self.alarms))
