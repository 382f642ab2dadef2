"""Ward view: one tile per bed (trace, heart rate, alarm state, device state), all on one timer.

A single QTimer (~30 Hz) refreshes every :class:`BedTile` from its :class:`BedFeed` snapshot
(beds whose ``version`` did not change are skipped, only the flash phase is repainted).
The tile's frame takes the colour of the bed's most urgent unacknowledged alarm (high red,
flashing; medium yellow; low cyan). Double-clicking a tile emits ``bedOpened(bed)`` and opens
that bed's :class:`~ecgstation.ui.live_monitor.LiveMonitor` in its own window. The ward sounds
one :class:`~ecgstation.ui.alarm_sound.AlarmSound` for all beds, with one mute switch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from ecgstation.monitoring.bed_feed import AlarmState, BedFeed, BedSnapshot
from ecgstation.ui.alarm_sound import AlarmSound
from ecgstation.ui.live_monitor import (
    REFRESH_MS,
    SEVERITY_COLOURS,
    WARNING_STATUSES,
    AcknowledgeCallback,
    LiveMonitor,
    _set_text,
    flash_on,
    hr_text,
    status_text,
)
from ecgstation.ui.sweep_trace import SweepClock, SweepTrace

__all__ = ["TILE_GAIN_MM_PER_MV", "BedTile", "WardView", "ward_columns"]

#: Tallest a tile grows, in px (a few beds do not stretch over the whole window).
TILE_MAX_HEIGHT = 260
#: Vertical scale of the tiles' traces (smaller than the bedside 10 mm/mV: the tiles are small).
TILE_GAIN_MM_PER_MV = 5.0
_IDLE_BORDER = "#404040"
#: A bed source (:meth:`WardView.set_bed_source`) is polled every this many frames (about 1 s).
SYNC_EVERY_FRAMES = 32


def ward_columns(n_beds: int) -> int:
    """Tile columns for ``n_beds`` beds: 1, then 2 up to 8 beds, 3 up to 18, then 4."""
    if n_beds <= 1:
        return 1
    if n_beds <= 8:
        return 2
    return 3 if n_beds <= 18 else 4


class BedTile(QWidget):
    """One bed in the ward: name, patient, status, a small sweeping trace and the heart rate.

    ``alarm_severity`` is the severity of the most urgent unacknowledged alarm ("" when none);
    ``doubleClicked(str bed)`` on a double-click anywhere on the tile.
    """

    doubleClicked = Signal(str)

    def __init__(
        self,
        feed: BedFeed,
        gain_mm_per_mv: float = TILE_GAIN_MM_PER_MV,
        *,
        smooth_sweep: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        #: Display clock of the sweep (None: draw up to the newest sample at once).
        self.clock: SweepClock | None = SweepClock() if smooth_sweep else None
        self._shown = -1.0
        self.feed = feed
        snap = feed.snapshot()
        self.snapshot: BedSnapshot = snap
        self.bed = snap.bed
        self.alarm_severity = ""
        self._version = -1
        self._flash = True
        self.setObjectName(f"bedTile:{snap.bed}")
        self.setMinimumSize(260, 130)
        self.setMaximumHeight(TILE_MAX_HEIGHT)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)  # paintEvent fills the tile
        self.setToolTip(f"{snap.bed}: double-click to open the bed")

        self.name_label = QLabel(snap.bed, self)
        font = QFont(self.name_label.font())
        font.setBold(True)
        self.name_label.setFont(font)
        self.patient_label = QLabel(snap.patient, self)
        self.status_label = QLabel(self)
        self.alarm_label = QLabel(self)
        self.alarm_label.setObjectName("tileAlarm")
        self.hr_label = QLabel("--", self)
        hr_font = QFont(self.hr_label.font())
        hr_font.setPointSizeF(26)
        hr_font.setBold(True)
        self.hr_label.setFont(hr_font)
        self.hr_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.hr_label.setMinimumWidth(70)
        for label in (self.name_label, self.patient_label, self.status_label, self.alarm_label):
            label.setStyleSheet("color: #e0e0e0;")
        self.hr_label.setStyleSheet("color: #3cff5a;")

        display_s = snap.samples.shape[1] / snap.fs
        self.trace = SweepTrace(display_s, gain_mm_per_mv=gain_mm_per_mv, erase_s=0.3, pen_width=1.0, parent=self)
        # Clicks go to the tile (double-click opens the bed), never to the plot.
        self.trace.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)

        top = QHBoxLayout()
        top.addWidget(self.name_label)
        top.addWidget(self.patient_label, 1)
        top.addWidget(self.status_label)
        middle = QHBoxLayout()
        middle.addWidget(self.trace, 1)
        middle.addWidget(self.hr_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addLayout(middle, 1)
        layout.addWidget(self.alarm_label)

    def refresh(self, flash: bool) -> bool:
        """Redraw from the feed if it or the sweep clock moved, repaint the frame if the flash phase did.

        Returns whether the trace was redrawn.
        """
        snap = self.feed.snapshot()
        shown = self.clock.display_end(snap.end_s) if self.clock is not None else snap.end_s
        changed = snap.version != self._version
        redrew = changed or shown != self._shown
        if redrew:
            self._shown = shown
            if snap.samples.shape[0]:
                self.trace.show_samples(snap.samples[0], snap.fs, snap.end_s, shown)
        if changed:
            self._version = snap.version
            self.snapshot = snap
            self._draw(snap)
        if flash != self._flash:
            self._flash = flash
            if self.alarm_severity == "high":
                self.update()
        return redrew

    def force_redraw(self) -> None:
        """Redraw on the next refresh even if the feed did not change."""
        self._version = -1
        self._shown = -1.0

    def _draw(self, snap: BedSnapshot) -> None:
        _set_text(self.patient_label, snap.patient)
        _set_text(self.hr_label, hr_text(snap.heart_rate_bpm))
        if _set_text(self.status_label, status_text(snap.status)):
            warn = snap.status in WARNING_STATUSES
            self.status_label.setStyleSheet(f"color: {'#ffc800' if warn else '#a0a0a0'};")
        active = snap.active_alarms
        severity = active[0].severity if active else ""
        text = active[0].message or active[0].kind if active else ""
        if len(active) > 1:
            text += f" (+{len(active) - 1})"
        gaps = self.trace.frame().gaps
        if not text and gaps:
            text = f"gap {sum(length for _, length in gaps):.1f} s in view"
        _set_text(self.alarm_label, text)
        if severity != self.alarm_severity:
            self.alarm_severity = severity
            colour = SEVERITY_COLOURS[severity][0] if severity in SEVERITY_COLOURS else "#e0e0e0"
            self.alarm_label.setStyleSheet(f"color: {colour}; font-weight: bold;")
            self.update()

    def border_colour(self) -> str:
        """The frame's colour now (flash phase included)."""
        if self.alarm_severity in SEVERITY_COLOURS:
            if self.alarm_severity == "high" and not self._flash:
                return "#400000"
            return SEVERITY_COLOURS[self.alarm_severity][0]
        return _IDLE_BORDER

    def paintEvent(self, event: QPaintEvent) -> None:
        """Dark background framed in the alarm colour."""
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#000000"))
        width = 4.0 if self.alarm_severity else 1.0
        pen = QPen(QColor(self.border_colour()))
        pen.setWidthF(width)
        painter.setPen(pen)
        half = width / 2
        painter.drawRect(QRectF(self.rect()).adjusted(half, half, -half, -half))
        painter.end()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        """Open the bed."""
        self.doubleClicked.emit(self.bed)
        event.accept()


class WardView(QWidget):
    """A grid of :class:`BedTile` refreshed by one QTimer (see the module docstring).

    ``on_acknowledge`` and ``user_name`` are handed to the bed monitors it opens;
    ``smooth_sweep`` False draws each chunk as it arrives (no display clock: tests, replays).
    ``bedOpened(str bed)`` follows a double-click on a tile (or :meth:`open_bed`).
    ``frames`` counts timer refreshes; ``redraws`` counts tiles redrawn (the benchmark's counters).
    """

    bedOpened = Signal(str)

    def __init__(
        self,
        feeds: Iterable[BedFeed] = (),
        on_acknowledge: AcknowledgeCallback | None = None,
        user_name: str = "",
        *,
        auto_refresh: bool = True,
        smooth_sweep: bool = True,
        sound: AlarmSound | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.smooth_sweep = smooth_sweep
        self.on_acknowledge = on_acknowledge
        self.user_name = user_name
        self.sound = sound if sound is not None else AlarmSound(self)
        self._tiles: dict[str, BedTile] = {}
        self._bed_source: Callable[[], Mapping[str, BedFeed]] | None = None
        self.monitors: dict[str, LiveMonitor] = {}
        self.frames = 0
        self.redraws = 0
        self.setObjectName("wardView")
        self.setWindowTitle("Ward monitor")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet("#wardView { background: #181818; } #wardView > QLabel { color: #e0e0e0; }")

        self.summary_label = QLabel(self)
        self.summary_label.setObjectName("wardSummary")
        self.user_label = QLabel(f"Signed in: {user_name}" if user_name else "Not signed in", self)
        self.mute_button = QPushButton("Mute", self)
        self.mute_button.setObjectName("wardMute")
        self.mute_button.setCheckable(True)
        self.mute_button.toggled.connect(self.sound.set_muted)
        self.sound.mutedChanged.connect(self._on_muted_changed)
        bar = QHBoxLayout()
        bar.addWidget(self.summary_label, 1)
        bar.addWidget(self.user_label)
        bar.addWidget(self.mute_button)

        self._grid_host = QWidget(self)
        self._grid_host.setObjectName("wardGrid")
        self._grid = QGridLayout(self._grid_host)
        self._grid.setSpacing(6)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self.scroll_area = QScrollArea(self)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setWidget(self._grid_host)
        self.scroll_area.setStyleSheet("QScrollArea { border: none; background: #181818; }")
        self._grid_host.setStyleSheet("#wardGrid { background: #181818; }")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(self.scroll_area, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self.refresh)
        for feed in feeds:
            self.add_bed(feed)
        if auto_refresh:
            self.timer.start()
        self.resize(1100, 760)

    # -- beds --------------------------------------------------------------------------------------

    def add_bed(self, feed: BedFeed) -> BedTile:
        """Show ``feed`` as a new tile (a bed already shown is replaced)."""
        bed = feed.snapshot().bed
        if bed in self._tiles:
            self.remove_bed(bed)
        tile = BedTile(feed, smooth_sweep=self.smooth_sweep, parent=self._grid_host)
        tile.doubleClicked.connect(self.open_bed)
        self._tiles[bed] = tile
        self._relayout()
        return tile

    def remove_bed(self, bed: str) -> None:
        """Take ``bed``'s tile (and open monitor) away; unknown beds are ignored."""
        tile = self._tiles.pop(bed, None)
        if tile is not None:
            self._grid.removeWidget(tile)
            tile.deleteLater()
        monitor = self.monitors.pop(bed, None)
        if monitor is not None:
            monitor.close()
        self._relayout()

    def set_bed_source(self, source: Callable[[], Mapping[str, BedFeed]] | None) -> None:
        """Follow ``source`` (e.g. ``MonitorHost.beds``): polled about once a second, beds added and removed."""
        self._bed_source = source
        self.sync_beds()

    def sync_beds(self) -> None:
        """Show exactly the beds of the bed source (a no-op without one)."""
        if self._bed_source is None:
            return
        feeds = self._bed_source()
        for bed in [b for b in self._tiles if b not in feeds]:
            self.remove_bed(bed)
        for bed, feed in feeds.items():
            tile = self._tiles.get(bed)
            if tile is None or tile.feed is not feed:
                self.add_bed(feed)

    def beds(self) -> list[str]:
        """The beds shown, in tile order."""
        return list(self._tiles)

    def tile(self, bed: str) -> BedTile:
        """The tile of ``bed`` (KeyError when not shown)."""
        return self._tiles[bed]

    def tile_position(self, bed: str) -> tuple[int, int]:
        """(row, column) of ``bed``'s tile in the grid."""
        position: Any = self._grid.getItemPosition(self._grid.indexOf(self._tiles[bed]))
        return int(position[0]), int(position[1])

    def tiles(self) -> list[BedTile]:
        """All tiles in order."""
        return list(self._tiles.values())

    def _relayout(self) -> None:
        while self._grid.count():
            self._grid.takeAt(0)
        cols = ward_columns(len(self._tiles))
        for i, tile in enumerate(self._tiles.values()):
            self._grid.addWidget(tile, i // cols, i % cols)
        rows = max(1, math.ceil(len(self._tiles) / cols))
        for r in range(rows):
            self._grid.setRowStretch(r, 1)
        self._grid.setRowStretch(rows, 0)
        # Tiles stop at TILE_MAX_HEIGHT: the rest of the window stays below them, not between them.
        self._grid.setAlignment(Qt.AlignmentFlag.AlignTop)
        for c in range(cols):
            self._grid.setColumnStretch(c, 1)

    # -- refresh -----------------------------------------------------------------------------------

    def refresh(self) -> None:
        """One frame: refresh every tile, the summary and the ward's alarm tone (the timer's slot)."""
        self.frames += 1
        if self._bed_source is not None and self.frames % SYNC_EVERY_FRAMES == 0:
            self.sync_beds()
        flash = flash_on()
        alarms: list[AlarmState] = []
        n_alarm = 0
        for tile in self._tiles.values():
            if tile.refresh(flash):
                self.redraws += 1
            active = tile.snapshot.active_alarms
            if active:
                n_alarm += 1
                alarms.extend(active)
        self.sound.set_alarms(alarms)
        n = len(self._tiles)
        summary = f"{n} bed{'s' if n != 1 else ''}"
        if n_alarm:
            summary += f" · {n_alarm} with active alarms"
        _set_text(self.summary_label, summary)

    def _on_muted_changed(self, muted: bool) -> None:
        if self.mute_button.isChecked() != muted:
            self.mute_button.setChecked(muted)
        self.mute_button.setText("Sound off" if muted else "Mute")

    # -- bed monitors ------------------------------------------------------------------------------

    def open_bed(self, bed: str) -> LiveMonitor:
        """Open (or raise) ``bed``'s live monitor in its own window; emits ``bedOpened``."""
        monitor = self.monitors.get(bed)
        if monitor is None:
            tile = self._tiles[bed]
            monitor = LiveMonitor(
                tile.feed, self.on_acknowledge, self.user_name, sound=self.sound, smooth_sweep=self.smooth_sweep,
                parent=self,
            )  # fmt: skip
            monitor.setWindowFlag(Qt.WindowType.Window, True)
            monitor.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
            monitor.setWindowTitle(f"Monitor: {tile.snapshot.bed} {tile.snapshot.patient}".strip())
            monitor.destroyed.connect(lambda _=None, b=bed: self.monitors.pop(b, None))
            self.monitors[bed] = monitor
        monitor.show()
        monitor.raise_()
        monitor.activateWindow()
        self.bedOpened.emit(bed)
        return monitor

    def set_user_name(self, name: str) -> None:
        """Change who acknowledges (in the open monitors too)."""
        self.user_name = name
        _set_text(self.user_label, f"Signed in: {name}" if name else "Not signed in")
        for monitor in self.monitors.values():
            monitor.set_user_name(name)

    def stop(self) -> None:
        """Stop the timer, close the bed monitors and silence the tone."""
        self.timer.stop()
        for monitor in list(self.monitors.values()):
            monitor.close()
        self.monitors.clear()
        self.sound.stop()

    def closeEvent(self, event: object) -> None:
        """Stop refreshing when the window closes."""
        self.stop()
        super().closeEvent(event)  # type: ignore[arg-type]
