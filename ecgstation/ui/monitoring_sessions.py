"""Monitoring → Sessions…: every stored monitoring session with its state, slices, HR and alarms."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from ecgstation.core.errors import EcgStationError
from ecgstation.storage.views import SessionView

__all__ = ["SessionsDialog", "session_row"]

log = logging.getLogger(__name__)

COLUMNS = ("Session", "Patient", "Started (UTC)", "Ended (UTC)", "State", "Slices", "HR min/mean/max", "Alarms")

#: What the state column says, so that an interrupted session is not mistaken for an ended one.
STATE_TEXT = {
    "active": "monitoring",
    "ended": "ended",
    "interrupted": "INTERRUPTED (stopped without ending; stored slices kept)",
}


def _hr(summary: dict[str, Any]) -> str:
    """"min / mean / max" bpm from the session summary's ``hr_bpm``."""
    hr = summary.get("hr_bpm")
    if not isinstance(hr, dict) or all(hr.get(k) is None for k in ("min", "mean", "max")):
        return ""
    return " / ".join("–" if hr.get(k) is None else f"{float(hr[k]):.0f}" for k in ("min", "mean", "max"))


def _alarms(summary: dict[str, Any]) -> str:
    """"kind n, ..." from the session summary's ``alarms`` counts."""
    alarms = summary.get("alarms")
    if not isinstance(alarms, dict):
        return ""
    return ", ".join(f"{k} {v}" for k, v in alarms.items() if isinstance(v, int) and v)


def session_row(view: SessionView, patient: str) -> tuple[str, ...]:
    """The table cells of one session."""
    summary = view.summary or {}
    return (
        f"#{view.id}",
        patient,
        view.started_at.strftime("%Y-%m-%d %H:%M:%S"),
        view.ended_at.strftime("%Y-%m-%d %H:%M:%S") if view.ended_at else "",
        STATE_TEXT.get(view.state, view.state),
        str(view.n_slices),
        _hr(summary),
        _alarms(summary),
    )


class SessionsDialog(QDialog):
    """A read-only table of the database's monitoring sessions, newest first."""

    def __init__(self, session: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("monitoringSessionsDialog")
        self.setWindowTitle("Monitoring sessions")
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.message = QLabel(self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(980, 360)
        self.rows: list[tuple[str, ...]] = []
        self._session = session
        self.refresh()

    def refresh(self) -> None:
        """Read the sessions again."""
        try:
            with self._session.db.reader(self._session.actor) as store:
                views = store.monitoring.sessions()
                names: dict[int, str] = {}
                for v in views:
                    if v.patient_id is not None and v.patient_id not in names:
                        names[v.patient_id] = store.patients.get(v.patient_id).display_name()
        except EcgStationError as err:
            log.info("monitoring sessions not listed: %s", err)
            self.message.setText(str(err))
            self.rows = []
            self.table.setRowCount(0)
            return
        self.rows = [session_row(v, names.get(v.patient_id, "") if v.patient_id else "—") for v in views]
        interrupted = sum(v.state == "interrupted" for v in views)
        self.message.setText(
            f"{len(views)} session(s)" + (f"; {interrupted} interrupted" if interrupted else "")
        )
        self.table.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
