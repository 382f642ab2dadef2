"""Event list: the Holter events in a table, each opening its strip, with an editor for the criteria."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ecgstation.core.errors import SignalError
from ecgstation.core.events import Event, EventCriteria

__all__ = ["COLUMNS", "EVENT_NAMES", "EventList", "format_clock"]

#: Column titles of the table.
COLUMNS: tuple[str, ...] = ("Type", "Start", "Duration (s)", "Beats", "Max HR (bpm)", "Detail")

#: Words for each event kind.
EVENT_NAMES: dict[str, str] = {
    "pause": "Pause",
    "v_run": "V run",
    "bigeminy": "Bigeminy",
    "trigeminy": "Trigeminy",
    "af": "AF",
    "bradycardia": "Bradycardia",
    "tachycardia": "Tachycardia",
}

#: Role under which the first cell of a row keeps the event's (start_s, end_s).
SPAN_ROLE = Qt.ItemDataRole.UserRole


def format_clock(seconds: float) -> str:
    """``seconds`` from the record start as ``hh:mm:ss`` (rounded down to the second)."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def _cell(text: str, align_right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


class EventList(QWidget):
    """A table of events (type, start hh:mm:ss, duration, beats, max HR, detail) and the criteria.

    Double-click or Enter on a row emits ``eventActivated(start_s, end_s)``. Editing a
    criterion emits ``criteriaChanged(EventCriteria)`` with the new criteria; the owner
    recomputes the events and calls :meth:`set_events`.
    """

    eventActivated = Signal(float, float)
    criteriaChanged = Signal(object)

    def __init__(self, criteria: EventCriteria | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("eventList")
        self._criteria = criteria if criteria is not None else EventCriteria()
        self._events: list[Event] = []

        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("eventTable")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.doubleClicked.connect(self._activate_index)
        self.table.installEventFilter(self)
        self.summary = QLabel("No events", self)

        self.pause_spin = self._double_spin("pauseSpin", 0.5, 30.0, 0.1, 1, " s")
        self.run_spin = QSpinBox(self)
        self.run_spin.setObjectName("runSpin")
        self.run_spin.setRange(2, 100)
        self.run_spin.setKeyboardTracking(False)
        self.af_spin = self._double_spin("afSpin", 1.0, 3600.0, 5.0, 0, " s")
        self.brady_spin = self._double_spin("bradySpin", 10.0, 100.0, 1.0, 0, " bpm")
        self.tachy_spin = self._double_spin("tachySpin", 60.0, 300.0, 1.0, 0, " bpm")
        self._show_criteria(self._criteria)
        for spin in (self.pause_spin, self.af_spin, self.brady_spin, self.tachy_spin):
            spin.valueChanged.connect(self._criteria_edited)
        self.run_spin.valueChanged.connect(self._criteria_edited)

        box = QGroupBox("Criteria", self)
        form = QFormLayout(box)
        form.addRow("Pause longer than", self.pause_spin)
        form.addRow("Run of at least (beats)", self.run_spin)
        form.addRow("AF episode at least", self.af_spin)
        form.addRow("Bradycardia below", self.brady_spin)
        form.addRow("Tachycardia above", self.tachy_spin)
        self.criteria_box = box

        body = QHBoxLayout()
        body.addWidget(self.table, 1)
        body.addWidget(box, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.summary)
        layout.addLayout(body, 1)

    def _double_spin(
        self, name: str, low: float, high: float, step: float, decimals: int, suffix: str
    ) -> QDoubleSpinBox:
        spin = QDoubleSpinBox(self)
        spin.setObjectName(name)
        spin.setRange(low, high)
        spin.setSingleStep(step)
        spin.setDecimals(decimals)
        spin.setSuffix(suffix)
        spin.setKeyboardTracking(False)  # one change per edit, not per keystroke
        spin.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToNearestValue)
        return spin

    # ------------------------------------------------------------ criteria

    def criteria(self) -> EventCriteria:
        """The criteria shown."""
        return self._criteria

    def set_criteria(self, criteria: EventCriteria) -> None:
        """Show ``criteria`` without emitting ``criteriaChanged``."""
        self._criteria = criteria
        self._show_criteria(criteria)

    def _show_criteria(self, criteria: EventCriteria) -> None:
        spins = (self.pause_spin, self.run_spin, self.af_spin, self.brady_spin, self.tachy_spin)
        for spin in spins:
            spin.blockSignals(True)
        try:
            self.pause_spin.setValue(criteria.pause_s)
            self.run_spin.setValue(int(criteria.run_min_beats))
            self.af_spin.setValue(criteria.af_min_duration_s)
            self.brady_spin.setValue(criteria.brady_bpm)
            self.tachy_spin.setValue(criteria.tachy_bpm)
        finally:
            for spin in spins:
                spin.blockSignals(False)

    def _criteria_edited(self) -> None:
        try:
            new = dataclasses.replace(
                self._criteria,
                pause_s=float(self.pause_spin.value()),
                run_min_beats=int(self.run_spin.value()),
                af_min_duration_s=float(self.af_spin.value()),
                brady_bpm=float(self.brady_spin.value()),
                tachy_bpm=float(self.tachy_spin.value()),
            )
        except SignalError as exc:  # e.g. bradycardia limit above the tachycardia limit
            self.criteria_box.setToolTip(str(exc))
            self._show_criteria(self._criteria)
            return
        self.criteria_box.setToolTip("")
        if new != self._criteria:
            self._criteria = new
            self.criteriaChanged.emit(new)

    # ------------------------------------------------------------ events

    def events(self) -> list[Event]:
        """The events listed, in table order."""
        return list(self._events)

    def set_events(self, events: Sequence[Event]) -> None:
        """List ``events`` (sorted by start time)."""
        self._events = sorted(events, key=lambda e: (e.start_s, e.end_s))
        table = self.table
        table.setUpdatesEnabled(False)
        try:
            table.clearContents()
            table.setRowCount(len(self._events))
            for row, ev in enumerate(self._events):
                kind = _cell(EVENT_NAMES.get(ev.kind, ev.kind))
                kind.setData(SPAN_ROLE, (ev.start_s, ev.end_s))
                table.setItem(row, 0, kind)
                table.setItem(row, 1, _cell(format_clock(ev.start_s)))
                table.setItem(row, 2, _cell(f"{ev.duration_s:.1f}", align_right=True))
                table.setItem(row, 3, _cell(str(ev.n_beats), align_right=True))
                hr = "" if ev.max_hr_bpm is None else f"{ev.max_hr_bpm:.0f}"
                table.setItem(row, 4, _cell(hr, align_right=True))
                table.setItem(row, 5, _cell(ev.detail))
        finally:
            table.setUpdatesEnabled(True)
        counts: dict[str, int] = {}
        for ev in self._events:
            counts[ev.kind] = counts.get(ev.kind, 0) + 1
        parts = ", ".join(f"{EVENT_NAMES.get(k, k)} {n}" for k, n in counts.items())
        self.summary.setText(f"{len(self._events)} events: {parts}" if self._events else "No events")

    def span_of_row(self, row: int) -> tuple[float, float]:
        """(start_s, end_s) of the event in ``row``."""
        item = self.table.item(row, 0)
        if item is None:
            raise IndexError(f"no event in row {row}")
        span = item.data(SPAN_ROLE)
        return float(span[0]), float(span[1])

    def _activate_index(self, index: QModelIndex | QPersistentModelIndex) -> None:
        if index.isValid():
            start, end = self.span_of_row(index.row())
            self.eventActivated.emit(start, end)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Enter or Return on the table opens the current event."""
        if (
            watched is self.table
            and isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            self._activate_index(self.table.currentIndex())
            return True
        return super().eventFilter(watched, event)
