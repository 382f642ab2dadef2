"""Live monitor of one bed: sweeping trace, heart rate, rhythm, device state, battery and alarms.

The widget reads :meth:`BedFeed.snapshot` on a ~30 Hz QTimer (skipping unchanged versions),
so the monitoring thread never touches Qt. Acknowledging an alarm calls a Qt-free callback
``on_acknowledge(bed, alarm, user_name)`` with the signed-in user's name (for MonitorHost:
``lambda bed, alarm, user: host.acknowledge(bed, alarm.alarm_id, user)``); the feed then
shows who acknowledged it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ecgstation.monitoring.bed_feed import AlarmState, BedFeed, BedSnapshot
from ecgstation.ui.alarm_sound import AlarmSound
from ecgstation.ui.sweep_trace import SweepClock, SweepTrace

__all__ = [
    "REFRESH_MS",
    "SEVERITY_COLOURS",
    "AcknowledgeCallback",
    "LiveMonitor",
    "alarm_text",
    "battery_text",
    "flash_on",
    "format_session_time",
    "hr_text",
    "rhythm_text",
    "status_text",
]

log = logging.getLogger(__name__)

#: UI refresh period in ms (about 33 frames per second: 30 with room for timer jitter).
REFRESH_MS = 30
#: Banner colours (background, text) by severity: high red (flashing), medium yellow, low cyan.
SEVERITY_COLOURS: dict[str, tuple[str, str]] = {
    "high": ("#d01010", "#ffffff"),
    "medium": ("#f0d000", "#000000"),
    "low": ("#00c8e0", "#000000"),
}
#: Colour of an acknowledged alarm's row.
ACKNOWLEDGED_COLOURS = ("#303030", "#b0b0b0")
#: Flash rate of a high alarm (on/off changes per second).
FLASH_HZ = 2.0

AcknowledgeCallback = Callable[[str, AlarmState, str], None]

_STATUS_TEXTS = {
    "connecting": "Connecting…",
    "connected": "Connected",
    "waiting_for_ecg": "Waiting for ECG…",
    "streaming": "Streaming",
    "lead_off": "Lead off: check the electrodes",
    "lead_on": "Streaming",
    "reconnecting": "Reconnecting…",
    "disconnected": "Disconnected",
    "gap": "Signal gap",
    "error": "Device error",
}
#: Session messages that say nothing beyond the status itself.
_REDUNDANT_MESSAGES = frozenset({"monitoring", "streaming", "connected"})
#: Statuses shown in a warning colour.
WARNING_STATUSES = frozenset({"lead_off", "reconnecting", "disconnected", "error", "gap"})


def status_text(status: str, message: str = "") -> str:
    """What the device state reads as on screen, with the session's message where it adds something.

    ``("reconnecting", "Reconnecting (attempt 2)")`` reads "Reconnecting (attempt 2)",
    ``("disconnected", "Session ended")`` "Disconnected (Session ended)", ``("streaming", "Monitoring")`` "Streaming".
    """
    text = _STATUS_TEXTS.get(status, status.replace("_", " ").capitalize())
    msg = message.strip()
    base = text.rstrip("…").casefold()
    if not msg or msg.casefold() in _REDUNDANT_MESSAGES or base.startswith(msg.casefold()):
        return text
    if msg.casefold().startswith(base):
        return msg
    return f"{text} ({msg})"


def rhythm_text(rhythm: str | None) -> str:
    """A rhythm as shown: codes such as ``sinus_rhythm`` read "Sinus rhythm"; None reads ""."""
    if not rhythm:
        return ""
    if "_" in rhythm or rhythm.islower():
        return rhythm.replace("_", " ").capitalize()
    return rhythm


def hr_text(bpm: float | None) -> str:
    """Heart rate as shown: whole bpm, ``--`` when unknown."""
    if bpm is None or not math.isfinite(bpm) or bpm <= 0:
        return "--"
    return f"{bpm:.0f}"


def battery_text(pct: float | None) -> str:
    """Battery level as shown (empty when the device does not report one)."""
    return "" if pct is None else f"Battery {pct:.0f} %"


def format_session_time(t_s: float) -> str:
    """Session time as ``t+mm:ss`` (``t+h:mm:ss`` past an hour)."""
    total = max(0, int(t_s))
    h, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    return f"t+{h}:{m:02d}:{s:02d}" if h else f"t+{m:02d}:{s:02d}"


def alarm_text(alarm: AlarmState) -> str:
    """One alarm's line: severity, message, when, escalation and who acknowledged it."""
    text = f"{alarm.severity.upper()}  {alarm.message or alarm.kind}  ({format_session_time(alarm.raised_s)})"
    if alarm.escalation_level > 0:
        text += f"  escalated ×{alarm.escalation_level}"
    if alarm.acknowledged_by is not None:
        text += f"  acknowledged by {alarm.acknowledged_by}"
    return text


def flash_on(now_s: float | None = None) -> bool:
    """The phase of the high-alarm flash at ``now_s`` (monotonic s)."""
    now = time.monotonic() if now_s is None else now_s
    return int(now * FLASH_HZ) % 2 == 0


class LiveMonitor(QWidget):
    """Live view of one :class:`BedFeed` (see the module docstring).

    ``user_name``: who acknowledges (an empty name cannot acknowledge); ``sound``: an
    :class:`AlarmSound` owned by someone else (e.g. the ward view, which sounds for all beds;
    the monitor then only shows its mute switch); None makes an own one driven by this bed.
    ``smooth_sweep``: move the sweep every frame on a :class:`SweepClock` (a few tens of ms
    behind the newest sample); False draws each chunk as it arrives.
    ``acknowledged(str bed, object AlarmState, str user)`` follows each acknowledgement sent.
    """

    acknowledged = Signal(str, object, str)

    def __init__(
        self,
        feed: BedFeed,
        on_acknowledge: AcknowledgeCallback | None = None,
        user_name: str = "",
        *,
        sound: AlarmSound | None = None,
        auto_refresh: bool = True,
        smooth_sweep: bool = True,
        display_s: float | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        #: Display clock of the sweep (None: draw up to the newest sample at once).
        self.clock: SweepClock | None = SweepClock() if smooth_sweep else None
        self._shown = -1.0
        self.feed = feed
        self.on_acknowledge = on_acknowledge
        self._user_name = user_name
        self._owns_sound = sound is None
        self.sound = sound if sound is not None else AlarmSound(self)
        self._version = -1
        self._alarms: tuple[AlarmState, ...] | None = None
        self._flash = True
        self._lead = 0
        self._ack_note = ""
        self.snapshot: BedSnapshot = feed.snapshot()
        self.setObjectName("liveMonitor")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(
            "#liveMonitor { background: #000000; } QLabel { color: #e0e0e0; }"
            " QListWidget { background: #101010; color: #e0e0e0; }"
        )
        self._build(display_s or self.snapshot.samples.shape[1] / self.snapshot.fs)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        if auto_refresh:
            self.timer.start()
        self.refresh()

    # -- construction -------------------------------------------------------------------------------

    def _build(self, display_s: float) -> None:
        snap = self.snapshot
        self.title_label = QLabel(self._title(snap), self)
        self.title_label.setObjectName("bedTitle")
        font = QFont(self.title_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.title_label.setFont(font)
        self.status_label = QLabel(self)
        self.status_label.setObjectName("statusLabel")
        self.battery_label = QLabel(self)
        self.battery_label.setObjectName("batteryLabel")
        self.lead_combo = QComboBox(self)
        self.lead_combo.setObjectName("leadSelector")
        self.lead_combo.addItems(list(snap.lead_names))
        self.lead_combo.setVisible(len(snap.lead_names) > 1)
        self.lead_combo.currentIndexChanged.connect(self.set_lead)
        self.mute_button = QPushButton("Mute", self)
        self.mute_button.setObjectName("muteButton")
        self.mute_button.setCheckable(True)
        self.mute_button.setChecked(self.sound.muted)
        self.mute_button.toggled.connect(self.sound.set_muted)
        self.sound.mutedChanged.connect(self._on_muted_changed)
        self._on_muted_changed(self.sound.muted)

        header = QHBoxLayout()
        header.addWidget(self.title_label, 1)
        header.addWidget(self.status_label)
        header.addSpacing(12)
        header.addWidget(self.battery_label)
        header.addSpacing(12)
        header.addWidget(self.lead_combo)
        header.addWidget(self.mute_button)

        self.trace = SweepTrace(display_s, parent=self)
        self.trace.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.trace.setMinimumHeight(160)

        self.hr_label = QLabel("--", self)
        self.hr_label.setObjectName("hrLabel")
        hr_font = QFont(self.hr_label.font())
        hr_font.setPointSizeF(48)
        hr_font.setBold(True)
        self.hr_label.setFont(hr_font)
        self.hr_label.setStyleSheet("color: #3cff5a;")
        self.hr_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.hr_label.setMinimumWidth(150)
        bpm = QLabel("HR  bpm", self)
        bpm.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.rhythm_label = QLabel(self)
        self.rhythm_label.setObjectName("rhythmLabel")
        self.rhythm_label.setWordWrap(True)
        self.rhythm_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        side = QVBoxLayout()
        side.addWidget(bpm)
        side.addWidget(self.hr_label)
        side.addWidget(self.rhythm_label)
        side.addStretch(1)
        middle = QHBoxLayout()
        middle.addWidget(self.trace, 1)
        middle.addLayout(side)

        self.gap_label = QLabel(self)
        self.gap_label.setObjectName("gapLabel")
        self.gap_label.setStyleSheet("color: #ffc800;")

        self.alarm_banner = QLabel(self)
        self.alarm_banner.setObjectName("alarmBanner")
        self.alarm_banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        banner_font = QFont(self.alarm_banner.font())
        banner_font.setPointSizeF(banner_font.pointSizeF() * 1.3)
        banner_font.setBold(True)
        self.alarm_banner.setFont(banner_font)
        self.alarm_banner.setMinimumHeight(32)
        self.alarm_banner.setProperty("severity", "")

        self.alarm_list = QListWidget(self)
        self.alarm_list.setObjectName("alarmList")
        self.alarm_list.setMaximumHeight(110)
        self.ack_button = QPushButton("Acknowledge", self)
        self.ack_button.setObjectName("acknowledgeButton")
        self.ack_button.clicked.connect(lambda: self.acknowledge())
        self.ack_label = QLabel(self)
        self.ack_label.setObjectName("ackLabel")
        ack_col = QVBoxLayout()
        ack_col.addWidget(self.ack_button)
        ack_col.addWidget(self.ack_label)
        ack_col.addStretch(1)
        alarms = QHBoxLayout()
        alarms.addWidget(self.alarm_list, 1)
        alarms.addLayout(ack_col)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.alarm_banner)
        layout.addLayout(middle, 1)
        layout.addWidget(self.gap_label)
        layout.addLayout(alarms)
        self.resize(1000, 520)

    @staticmethod
    def _title(snap: BedSnapshot) -> str:
        return f"{snap.bed}  {snap.patient}".strip()

    # -- user, lead, sound -----------------------------------------------------------------------------

    @property
    def user_name(self) -> str:
        """Who acknowledges alarms from this monitor."""
        return self._user_name

    def set_user_name(self, name: str) -> None:
        """Change the signed-in user."""
        self._user_name = name
        self._update_ack_button(self.snapshot)

    def lead(self) -> int:
        """Index of the lead on the trace."""
        return self._lead

    def set_lead(self, index: int) -> None:
        """Show lead ``index`` of the feed."""
        if not 0 <= index < len(self.snapshot.lead_names):
            raise ValueError(f"lead {index} out of range")
        self._lead = index
        if self.lead_combo.currentIndex() != index:
            self.lead_combo.setCurrentIndex(index)
        self._version = -1
        self._shown = -1.0
        self.refresh()

    def _on_muted_changed(self, muted: bool) -> None:
        if self.mute_button.isChecked() != muted:
            self.mute_button.setChecked(muted)
        self.mute_button.setText("Sound off" if muted else "Mute")

    # -- refresh -----------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        """Redraw at once when shown (the trace's width may have changed)."""
        super().showEvent(event)
        self._version = -1
        self._shown = -1.0

    def refresh(self) -> None:
        """Read the feed and redraw what changed (the timer's slot)."""
        flash = flash_on()
        snap = self.feed.snapshot()
        shown = self.clock.display_end(snap.end_s) if self.clock is not None else snap.end_s
        changed = snap.version != self._version
        if changed or shown != self._shown:
            self._shown = shown
            lead = min(self._lead, snap.samples.shape[0] - 1)
            self.trace.show_samples(snap.samples[lead], snap.fs, snap.end_s, shown)
        if changed:
            self._version = snap.version
            self.snapshot = snap
            self._draw(snap)
        if flash != self._flash:
            self._flash = flash
            self._paint_banner()

    def _draw(self, snap: BedSnapshot) -> None:
        frame = self.trace.frame()
        _set_text(self.title_label, self._title(snap))
        _set_text(self.hr_label, hr_text(snap.heart_rate_bpm))
        _set_text(self.rhythm_label, rhythm_text(snap.rhythm))
        status = status_text(snap.status, snap.status_message)
        if _set_text(self.status_label, status):
            colour = "#ffc800" if snap.status in WARNING_STATUSES else "#e0e0e0"
            self.status_label.setStyleSheet(f"color: {colour}; font-weight: bold;")
        if _set_text(self.battery_label, battery_text(snap.battery_pct)):
            low = snap.battery_pct is not None and snap.battery_pct < 20
            self.battery_label.setStyleSheet("color: #ffc800;" if low else "")
        if frame.gaps:
            total = sum(length for _, length in frame.gaps)
            start, _ = frame.gaps[-1]
            gap = (
                f"Signal missing: {len(frame.gaps)} gap(s), {total:.1f} s in view"
                f" (last at {format_session_time(start)})"
            )
        else:
            gap = ""
        _set_text(self.gap_label, gap)
        if snap.alarms != self._alarms:
            self._alarms = snap.alarms
            self._fill_alarms(snap)
        if self._owns_sound:
            self.sound.set_alarms(snap.alarms)

    def _fill_alarms(self, snap: BedSnapshot) -> None:
        selected = self.selected_alarm()
        self.alarm_list.clear()
        active = snap.active_alarms
        done = [a for a in snap.alarms if not a.active]
        for alarm in (*active, *done):
            item = QListWidgetItem(alarm_text(alarm))
            item.setData(Qt.ItemDataRole.UserRole, alarm)
            bg, fg = (
                SEVERITY_COLOURS.get(alarm.severity, ACKNOWLEDGED_COLOURS) if alarm.active else ACKNOWLEDGED_COLOURS
            )
            item.setBackground(QBrush(QColor(bg)))
            item.setForeground(QBrush(QColor(fg)))
            self.alarm_list.addItem(item)
            if selected is not None and _same_alarm(alarm, selected):
                self.alarm_list.setCurrentItem(item)
        if self._ack_note and not any(a.active and _same_alarm(a, self._pending) for a in active):
            self._ack_note = ""
        acked = [a for a in done if a.acknowledged_by]
        note = self._ack_note or (f"Acknowledged by {acked[-1].acknowledged_by}" if acked else "")
        _set_text(self.ack_label, note)
        self._update_ack_button(snap)
        self._paint_banner()

    _pending: AlarmState | None = None

    def _update_ack_button(self, snap: BedSnapshot) -> None:
        can = bool(snap.active_alarms) and self.on_acknowledge is not None and bool(self._user_name)
        self.ack_button.setEnabled(can)
        if self.on_acknowledge is None:
            self.ack_button.setToolTip("Alarms are acknowledged on the monitoring host.")
        elif not self._user_name:
            self.ack_button.setToolTip("Sign in to acknowledge alarms: an acknowledgement is always named.")
        else:
            self.ack_button.setToolTip(f"Acknowledge the selected (or most urgent) alarm as {self._user_name}.")

    def _paint_banner(self) -> None:
        active = self.snapshot.active_alarms
        if not active:
            self.alarm_banner.setProperty("severity", "")
            _set_text(self.alarm_banner, "")
            self.alarm_banner.setStyleSheet("background: transparent;")
            return
        top = active[0]
        more = f"   (+{len(active) - 1} more)" if len(active) > 1 else ""
        _set_text(self.alarm_banner, f"{top.message or top.kind}{more}")
        bg, fg = SEVERITY_COLOURS.get(top.severity, SEVERITY_COLOURS["low"])
        if top.severity == "high" and not self._flash:
            bg, fg = "#400000", "#ff6060"
        self.alarm_banner.setProperty("severity", top.severity)
        self.alarm_banner.setStyleSheet(f"background: {bg}; color: {fg}; border-radius: 4px;")

    # -- alarms ------------------------------------------------------------------------------------

    def banner_severity(self) -> str:
        """Severity of the banner now ("" when no alarm is active)."""
        return str(self.alarm_banner.property("severity") or "")

    def alarm_rows(self) -> list[str]:
        """The alarm list's texts, active first."""
        return [self.alarm_list.item(i).text() for i in range(self.alarm_list.count())]

    def selected_alarm(self) -> AlarmState | None:
        """The alarm selected in the list, if any."""
        item = self.alarm_list.currentItem()
        if item is None:
            return None
        alarm = item.data(Qt.ItemDataRole.UserRole)
        return alarm if isinstance(alarm, AlarmState) else None

    def acknowledge(self, alarm: AlarmState | None = None) -> bool:
        """Acknowledge ``alarm`` (default: the selected active one, else the most urgent) as the user.

        Returns whether the callback was asked; the feed then shows the acknowledgement.
        """
        if alarm is None:
            chosen = self.selected_alarm()
            if chosen is None or not chosen.active:
                active = self.snapshot.active_alarms
                chosen = active[0] if active else None
            alarm = chosen
        if alarm is None or not alarm.active:
            return False
        if self.on_acknowledge is None or not self._user_name:
            _set_text(self.ack_label, "Sign in to acknowledge" if not self._user_name else "Cannot acknowledge here")
            return False
        try:
            self.on_acknowledge(self.snapshot.bed, alarm, self._user_name)
        except Exception as exc:  # noqa: BLE001 - the host refused (alarm gone, session ended): shown, monitoring goes on
            log.warning("acknowledge of %s on %s failed: %s", alarm.kind, self.snapshot.bed, exc)
            _set_text(self.ack_label, f"Not acknowledged: {exc}")
            return False
        self._pending = alarm
        self._ack_note = f"Acknowledged by {self._user_name}"
        _set_text(self.ack_label, self._ack_note)
        self.acknowledged.emit(self.snapshot.bed, alarm, self._user_name)
        self._version = -1
        self._shown = -1.0
        self.refresh()
        return True

    def stop(self) -> None:
        """Stop refreshing (and silence an own sound)."""
        self.timer.stop()
        if self._owns_sound:
            self.sound.stop()

    def closeEvent(self, event: object) -> None:
        """Stop the timer and an own sound when the window closes."""
        self.stop()
        super().closeEvent(event)  # type: ignore[arg-type]


def _same_alarm(a: AlarmState, b: AlarmState | None) -> bool:
    if b is None:
        return False
    if a.alarm_id is not None and b.alarm_id is not None:
        return a.alarm_id == b.alarm_id
    return (a.kind, a.raised_s) == (b.kind, b.raised_s)


def _set_text(label: QLabel, text: str) -> bool:
    """Set ``label``'s text only when it changed (a repaint is not free); whether it changed."""
    if label.text() == text:
        return False
    label.setText(text)
    return True
