"""Runs the monitoring sessions of a ward on one asyncio loop in a background thread (Qt-free).

The UI calls :meth:`MonitorHost.add_bed` and friends from its own thread and polls the returned
:class:`BedFeed` on a timer; nothing here touches Qt.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from ecgstation.devices.events import EcgSource
from ecgstation.inference.model_analysis import AnalysisModels
from ecgstation.monitoring.alarms import AlarmSettings
from ecgstation.monitoring.bed_feed import BedFeed
from ecgstation.monitoring.recovery import recover_interrupted_sessions
from ecgstation.monitoring.session import MonitoringSession, SessionSettings
from ecgstation.storage import Actor, Database
from ecgstation.storage.views import AlarmView

__all__ = ["MonitorHost"]

log = logging.getLogger(__name__)
T = TypeVar("T")


class MonitorHost:
    """Beds of a ward: one :class:`MonitoringSession` each, on one event loop thread."""

    def __init__(
        self,
        db: Database,
        actor: Actor,
        *,
        models: AnalysisModels | None = None,
        settings: SessionSettings | None = None,
        display_s: float = 10.0,
    ) -> None:
        self.db = db
        self.actor = actor
        self.models = models
        self.settings = settings
        self.display_s = display_s
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="monitor-host", daemon=True)
        self._thread.start()
        self._beds: dict[str, tuple[MonitoringSession, concurrent.futures.Future[int]]] = {}
        self._lock = threading.Lock()

    def _call(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def recover(self) -> list[int]:
        """Close sessions left active by a crashed process (see :mod:`ecgstation.monitoring.recovery`)."""
        live = [s.session_id for s, _ in self._beds.values() if s.session_id is not None]
        return recover_interrupted_sessions(self.db, self.actor, live_session_ids=live)

    def add_bed(
        self,
        bed: str,
        source: EcgSource,
        patient_id: int | None = None,
        patient_label: str = "",
        alarm_settings: AlarmSettings | None = None,
    ) -> BedFeed:
        """Start monitoring ``bed`` from ``source``; the feed the UI polls."""
        with self._lock:
            if bed in self._beds and not self._beds[bed][1].done():
                raise ValueError(f"bed {bed} is already monitored; remove it first")
            feed = BedFeed(bed, patient_label, source.fs, source.lead_names, self.display_s)
            session = MonitoringSession(
                source, self.db, self.actor, patient_id=patient_id, feed=feed, models=self.models,
                alarm_settings=alarm_settings, settings=self.settings,
            )  # fmt: skip
            self._beds[bed] = (session, self._call(session.run()))
        log.info("bed %s: monitoring %s", bed, source.name)
        return feed

    def session(self, bed: str) -> MonitoringSession:
        """The session of ``bed``."""
        return self._beds[bed][0]

    def done(self, bed: str) -> concurrent.futures.Future[int]:
        """Resolves with the session id once the bed's session has ended."""
        return self._beds[bed][1]

    def remove_bed(self, bed: str, timeout_s: float = 30.0) -> int | None:
        """Stop monitoring ``bed`` (the session ends and is summarised); its session id."""
        with self._lock:
            item = self._beds.pop(bed, None)
        if item is None:
            return None
        session, fut = item
        session.stop()
        return fut.result(timeout=timeout_s)

    def acknowledge(self, bed: str, alarm_id: int, actor: Actor, timeout_s: float = 10.0) -> AlarmView:
        """Acknowledge an alarm of ``bed`` as the named ``actor``."""
        return self._beds[bed][0].acknowledge(alarm_id, actor).result(timeout=timeout_s)

    def beds(self) -> dict[str, BedFeed]:
        """The monitored beds and their feeds."""
        with self._lock:
            return {bed: s.feed for bed, (s, _) in self._beds.items()}

    def stop(self, timeout_s: float = 30.0) -> None:
        """End every session and the loop thread."""
        for bed in list(self._beds):
            try:
                self.remove_bed(bed, timeout_s)
            except Exception:  # one bed failing to stop must not keep the others running
                log.exception("bed %s did not stop cleanly", bed)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout_s)
        if not self._thread.is_alive():
            self._loop.close()
