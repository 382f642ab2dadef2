"""Monitoring sessions and their 10 s slices, each slice committed on its own as soon as it is complete."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import func, select

from ecgstation.storage.access import Permission, require
from ecgstation.storage.column_types import require_aware, utcnow
from ecgstation.storage.errors import ConflictError
from ecgstation.storage.orm import MonitoringSessionRow, MonitoringSliceRow
from ecgstation.storage.repos.base import Repository
from ecgstation.storage.views import SessionOwnerView, SessionView, SliceView
from ecgstation.storage.waveform_codec import SampleEncoding, choose_encoding, decode_block, encode_block

__all__ = ["MonitoringRepository"]


class MonitoringRepository(Repository):
    """Monitoring sessions: start, append slices, end with a summary; read slices back in order."""

    def _view(self, row: MonitoringSessionRow) -> SessionView:
        n = self.session.scalar(
            select(func.count(MonitoringSliceRow.id)).where(MonitoringSliceRow.session_id == row.id)
        )
        return SessionView(
            id=row.id, patient_id=row.patient_id, device_id=row.device_id, started_at=row.started_at,
            ended_at=row.ended_at, state=row.state, fs=row.fs, lead_names=tuple(row.lead_names),
            summary=row.summary, n_slices=int(n or 0),
        )  # fmt: skip

    def start(
        self,
        *,
        fs: float,
        lead_names: tuple[str, ...],
        patient_id: int | None = None,
        device_id: int | None = None,
        started_at: datetime | None = None,
        owner_host: str | None = None,
        owner_pid: int | None = None,
    ) -> SessionView:
        """Open a session (``fs`` in Hz of the device's stream); ``owner_host``/``owner_pid`` name the process
        that runs it (with :meth:`heartbeat`, how a restart tells a crashed session from a live one)."""
        require(self.actor, Permission.MONITOR)
        if not fs > 0:
            raise ValueError(f"sampling rate {fs} Hz is not positive")
        row = MonitoringSessionRow(
            patient_id=patient_id, device_id=device_id, state="active",
            started_at=utcnow() if started_at is None else require_aware(started_at, "session start"),
            fs=float(fs), lead_names=list(lead_names), started_by=self.actor.user_id,
            owner_host=owner_host, owner_pid=owner_pid, heartbeat_at=utcnow() if owner_pid is not None else None,
        )  # fmt: skip
        self.session.add(row)
        self.session.flush()
        self.audit.record("create", "monitoring-session", row.id, patient_id=patient_id, device_id=device_id)
        return self._view(row)

    def append_slice(
        self,
        session_id: int,
        index: int,
        started_at: datetime,
        signals: NDArray[np.float32],
        fs: float,
        analysis: dict[str, Any] | None = None,
        source_gains: tuple[float | None, ...] = (),
    ) -> None:
        """Store slice ``index`` (0-based) of a session: ``signals`` float32 (leads, samples) in mV.

        A slice index stored twice is a conflict (the first copy is kept).
        """
        require(self.actor, Permission.MONITOR)
        require_aware(started_at, "slice start")
        session = self._get(MonitoringSessionRow, session_id, "Monitoring session")
        if session.state != "active":
            raise ConflictError(f"Monitoring session #{session_id} has {session.state}; no slices can be added.")
        if self.session.scalar(
            select(MonitoringSliceRow.id).where(
                MonitoringSliceRow.session_id == session_id, MonitoringSliceRow.slice_index == index
            )
        ):
            raise ConflictError(f"Slice {index} of monitoring session #{session_id} is already stored.")
        signals = np.asarray(signals, dtype=np.float32)
        if signals.ndim != 2:
            raise ValueError(f"slice samples must be (leads, samples), not shape {signals.shape}")
        encoding = choose_encoding(signals, source_gains or [None] * signals.shape[0])
        self.session.add(
            MonitoringSliceRow(
                session_id=session_id, slice_index=index, started_at=started_at, fs=float(fs),
                n_leads=signals.shape[0], n_samples=signals.shape[1], sample_encoding=encoding.kind,
                storage_gains=list(encoding.gains), data=encode_block(signals, encoding), analysis=analysis,
            )
        )  # fmt: skip

    def set_slice_analysis(self, session_id: int, index: int, analysis: dict[str, Any]) -> None:
        """Attach (or replace) the analysis of a stored slice (analysis runs after the samples are safe)."""
        require(self.actor, Permission.MONITOR)
        row = self.session.scalar(
            select(MonitoringSliceRow).where(
                MonitoringSliceRow.session_id == session_id, MonitoringSliceRow.slice_index == index
            )
        )
        if row is None:
            raise ValueError(f"slice {index} of session #{session_id} is not stored")
        row.analysis = analysis

    def end(self, session_id: int, summary: dict[str, Any] | None = None, state: str = "ended") -> SessionView:
        """Close a session with its summary; ``state`` ended (normal) or interrupted (crash, lost device)."""
        require(self.actor, Permission.MONITOR)
        if state not in ("ended", "interrupted"):
            raise ValueError(f"a session ends as ended or interrupted, not {state!r}")
        row = self._get(MonitoringSessionRow, session_id, "Monitoring session")
        if row.state != "active":
            raise ConflictError(f"Monitoring session #{session_id} has already {row.state}.")
        row.state, row.ended_at, row.summary = state, utcnow(), summary
        self.session.flush()
        self.audit.record("update", "monitoring-session", row.id, state=state)
        return self._view(row)

    def heartbeat(self, session_id: int) -> None:
        """Say that the process running an active session is alive (now)."""
        require(self.actor, Permission.MONITOR)
        row = self._get(MonitoringSessionRow, session_id, "Monitoring session")
        if row.state == "active":
            row.heartbeat_at = utcnow()

    def owners(self) -> list[SessionOwnerView]:
        """The active sessions with the process that runs them and its last heartbeat."""
        require(self.actor, Permission.READ_CLINICAL)
        q = select(MonitoringSessionRow).where(MonitoringSessionRow.state == "active")
        return [
            SessionOwnerView(r.id, r.owner_host, r.owner_pid, r.heartbeat_at, r.started_at)
            for r in self.session.scalars(q.order_by(MonitoringSessionRow.id))
        ]

    def get(self, session_id: int) -> SessionView:
        """One session."""
        require(self.actor, Permission.READ_CLINICAL)
        return self._view(self._get(MonitoringSessionRow, session_id, "Monitoring session"))

    def sessions(self, patient_id: int | None = None, active_only: bool = False) -> list[SessionView]:
        """Sessions, newest first, optionally of one patient or only the active ones."""
        require(self.actor, Permission.READ_CLINICAL)
        q = select(MonitoringSessionRow).order_by(MonitoringSessionRow.id.desc())
        if patient_id is not None:
            q = q.where(MonitoringSessionRow.patient_id == patient_id)
        if active_only:
            q = q.where(MonitoringSessionRow.state == "active")
        return [self._view(r) for r in self.session.scalars(q)]

    def slice_indices(self, session_id: int) -> list[int]:
        """The indices of the stored slices of a session, in order."""
        require(self.actor, Permission.READ_CLINICAL)
        q = select(MonitoringSliceRow.slice_index).where(MonitoringSliceRow.session_id == session_id)
        return list(self.session.scalars(q.order_by(MonitoringSliceRow.slice_index)))

    def slices(self, session_id: int, start: int = 0, stop: int | None = None) -> list[SliceView]:
        """Slices with ``start`` <= index < ``stop``, decoded, in order."""
        require(self.actor, Permission.READ_CLINICAL)
        q = select(MonitoringSliceRow).where(
            MonitoringSliceRow.session_id == session_id, MonitoringSliceRow.slice_index >= start
        )
        if stop is not None:
            q = q.where(MonitoringSliceRow.slice_index < stop)
        out = []
        for r in self.session.scalars(q.order_by(MonitoringSliceRow.slice_index)):
            enc = SampleEncoding(r.sample_encoding, tuple(r.storage_gains))
            out.append(
                SliceView(r.session_id, r.slice_index, r.started_at, r.fs,
                          decode_block(r.data, enc, r.n_leads, r.n_samples), r.analysis)
            )  # fmt: skip
        return out
