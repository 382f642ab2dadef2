"""Monitoring menu for the main window: the ward view over a :class:`MonitorHost`, made on first use.

The lead wires it with one call after the window is built::

    from ecgstation.ui.monitoring_actions import add_monitoring_menu
    add_monitoring_menu(window)                    # MonitorHost(session.db, session.actor)
    add_monitoring_menu(window, host_factory)      # e.g. with the session's models

The host runs the beds' sessions on its own thread; the ward polls their feeds. Alarms are
acknowledged as the signed-in user without blocking the UI (the session's future is not
waited on; the feed shows the acknowledgement when it is stored). Closing the ward window
keeps the beds monitored; closing the main window (or quitting) stops the host.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import logging
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QDialog, QInputDialog, QMainWindow, QMenu

from ecgstation.monitoring.bed_feed import AlarmState, BedFeed
from ecgstation.ui.live_monitor import AcknowledgeCallback
from ecgstation.ui.ward_view import WardView

__all__ = ["MonitoringActions", "acknowledge_callback", "add_monitoring_menu", "default_host_factory"]

log = logging.getLogger(__name__)


class _Host(Protocol):
    """What the menu needs of :class:`ecgstation.monitoring.host.MonitorHost`."""

    def beds(self) -> dict[str, BedFeed]: ...

    def add_bed(self, bed: str, source: Any, patient_id: int | None = None, patient_label: str = "") -> BedFeed: ...

    def session(self, bed: str) -> Any: ...

    def stop(self, timeout_s: float = 30.0) -> None: ...


def default_host_factory(session: Any) -> _Host:
    """A MonitorHost on the workstation session's database, as its signed-in user, with its models."""
    from ecgstation.monitoring.host import MonitorHost

    return MonitorHost(session.db, session.actor, models=getattr(session, "models", None))


def acknowledge_callback(host: _Host, actor: Any) -> AcknowledgeCallback:
    """An ``on_acknowledge`` for the monitor widgets: stores the acknowledgement as ``actor``, never waits.

    Raises ValueError for an alarm not stored yet (no id) and KeyError for a bed the host
    no longer monitors (the widget shows the message).
    """

    def acknowledge(bed: str, alarm: AlarmState, user: str) -> None:
        if alarm.alarm_id is None:
            raise ValueError("the alarm is not stored yet; try again in a moment")
        if user != actor.username:
            raise ValueError(f"{user} is not the signed-in user")
        future: concurrent.futures.Future[Any] = host.session(bed).acknowledge(alarm.alarm_id, actor)

        def done(f: concurrent.futures.Future[Any]) -> None:
            err = f.exception()
            if err is not None:
                log.warning("acknowledgement of alarm %s on %s by %s failed: %s", alarm.alarm_id, bed, user, err)

        future.add_done_callback(done)

    return acknowledge


class MonitoringActions(QObject):
    """The Monitoring menu's actions and what they opened (the host, the ward window)."""

    def __init__(self, window: QMainWindow, host_factory: Callable[[Any], _Host] | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.host_factory = host_factory or default_host_factory
        self.host: _Host | None = None
        self.ward: WardView | None = None
        self._sim_counter = itertools.count(1)
        self.ward_action = QAction("&Ward view", window)
        self.ward_action.setObjectName("actionWardView")
        self.ward_action.setShortcut("Ctrl+Shift+W")
        self.ward_action.setStatusTip("Live monitoring: one tile per bed; double-click a tile to open the bed.")
        self.ward_action.triggered.connect(self.open_ward)
        self.simulated_action = QAction("Add &simulated bed (sample record)", window)
        self.simulated_action.setObjectName("actionSimulatedBed")
        self.simulated_action.setStatusTip("Monitor a simulated patch replaying a bundled sample in real time.")
        self.simulated_action.triggered.connect(self.add_simulated_bed)
        self.polar_action = QAction("Connect &Polar H10…", window)
        self.polar_action.setObjectName("actionConnectPolarH10")
        self.polar_action.setStatusTip("Monitor a Polar H10 chest strap's ECG (130 Hz) over Bluetooth LE.")
        self.polar_action.triggered.connect(lambda: self.connect_polar_h10())
        self.sessions_action = QAction("Monitoring &sessions…", window)
        self.sessions_action.setObjectName("actionMonitoringSessions")
        self.sessions_action.setStatusTip("Every stored monitoring session: state, slices, heart rate, alarms.")
        self.sessions_action.triggered.connect(self.show_sessions)
        #: sessions found left active by a stopped process and marked interrupted at start
        self.recovered: list[int] = []
        self._enable_for_role()
        self._recover_interrupted()
        window.installEventFilter(self)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    def _enable_for_role(self) -> None:
        """Only users allowed to run monitoring sessions get the actions (a student does not)."""
        from ecgstation.storage.access import Permission

        session = self._session()
        allowed = bool(session.actor.can(Permission.MONITOR))
        for action in (self.ward_action, self.simulated_action, self.polar_action):
            action.setEnabled(allowed)
            if not allowed:
                action.setToolTip(f"{session.actor.role.value.capitalize()}s cannot run monitoring sessions.")

    def _recover_interrupted(self) -> None:
        """Mark sessions a crashed or killed process left active as interrupted (their slices stay)."""
        from ecgstation.storage.access import Permission

        session = self._session()
        if not hasattr(session, "db") or not session.actor.can(Permission.MONITOR):
            return
        from ecgstation.monitoring.recovery import recover_interrupted_sessions

        try:
            self.recovered = recover_interrupted_sessions(session.db, session.actor)
        except Exception as exc:  # noqa: BLE001 - the workstation starts anyway; the log says why
            log.warning("interrupted monitoring sessions not checked: %s", exc)
            return
        if self.recovered:
            ids = ", ".join(f"#{i}" for i in self.recovered)
            message = f"Monitoring session(s) {ids} stopped without ending: marked interrupted, their slices kept."
            status = getattr(self.window, "statusBar", None)
            if callable(status):
                status().showMessage(message + " See Monitoring → Monitoring sessions.", 15000)

    def show_sessions(self) -> QDialog:
        """Open the table of stored monitoring sessions."""
        from ecgstation.ui.monitoring_sessions import SessionsDialog

        dialog = SessionsDialog(self._session(), self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.show()
        return dialog

    def _session(self) -> Any:
        return self.window.session  # type: ignore[attr-defined]

    def ensure_host(self) -> _Host:
        """The host, made on first use."""
        if self.host is None:
            self.host = self.host_factory(self._session())
        return self.host

    def open_ward(self) -> WardView:
        """Open (or raise) the ward window."""
        if self.ward is None:
            host = self.ensure_host()
            actor = self._session().actor
            ward = WardView(on_acknowledge=acknowledge_callback(host, actor), user_name=actor.username,
                            parent=self.window)  # fmt: skip
            ward.setWindowFlag(Qt.WindowType.Window, True)
            ward.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
            ward.destroyed.connect(self._ward_closed)
            ward.set_bed_source(host.beds)
            self.ward = ward
        self.ward.show()
        self.ward.raise_()
        self.ward.activateWindow()
        return self.ward

    def _ward_closed(self, *_: object) -> None:
        self.ward = None

    def add_simulated_bed(self, sample_id: str = "100") -> BedFeed | None:
        """Monitor a SimulatedPatch replaying a bundled sample (a demonstration bed) and show the ward."""
        try:
            from ecgstation.devices.simulated_patch import SimulatedPatch
            from ecgstation.resources import get_sample

            source = SimulatedPatch(get_sample(sample_id).path)
            feed = self.ensure_host().add_bed(f"Sim {next(self._sim_counter)}", source,
                                              patient_label=f"Simulated ({sample_id})")  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - shown to the user, the workstation goes on
            log.warning("simulated bed not started: %s", exc)
            show = getattr(self.window, "show_error", None)
            if callable(show):
                show(f"The simulated bed could not start: {exc}")
            return None
        self.open_ward().sync_beds()
        return feed

    def connect_polar_h10(self, address: str | None = None, *, max_attempts: int = 10) -> BedFeed | None:
        """Monitor a Polar H10 as a new bed; ``address`` None asks for it (empty: the first H10 found).

        The source retries the connection ``max_attempts`` times; every failure shows in the bed's
        status with its reason (no Bluetooth adapter, device not found, pairing refused).
        """
        if address is None:
            text, ok = QInputDialog.getText(
                self.window, "Connect Polar H10",
                "Bluetooth address of the Polar H10 (leave empty to use the first one found nearby):",
            )  # fmt: skip
            if not ok:
                return None
            address = text.strip()
        try:
            from ecgstation.devices.polar_h10 import open_polar_h10

            source = open_polar_h10(address or None, max_attempts=max_attempts)
            label = f"Polar H10 {address}" if address else "Polar H10"
            feed = self.ensure_host().add_bed(label, source, patient_label=label)
        except Exception as exc:  # noqa: BLE001 - shown to the user, the workstation goes on
            log.warning("Polar H10 bed not started: %s", exc)
            show = getattr(self.window, "show_error", None)
            if callable(show):
                show(f"The Polar H10 could not be monitored: {exc}")
            return None
        self.open_ward().sync_beds()
        return feed

    def shutdown(self) -> None:
        """Close the ward and stop every bed's session."""
        if self.ward is not None:
            self.ward.close()
            self.ward = None
        host, self.host = self.host, None
        if host is not None:
            host.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Stop monitoring when the main window closes."""
        if watched is self.window and event.type() == QEvent.Type.Close:
            self.shutdown()
        return False


def add_monitoring_menu(window: QMainWindow, host_factory: Callable[[Any], _Host] | None = None) -> QMenu:
    """Add a Monitoring menu (Ward view, Add simulated bed) to ``window``'s menu bar; returns it.

    ``window`` needs a ``session`` (a WorkstationSession: ``db``, ``actor``); ``host_factory(session)``
    makes the MonitorHost on first use (default :func:`default_host_factory`). The actions'
    owner is kept as ``window.monitoring``.
    """
    actions = MonitoringActions(window, host_factory)
    menu = QMenu("&Monitoring", window)
    menu.setObjectName("monitoringMenu")
    menu.addAction(actions.ward_action)
    menu.addAction(actions.simulated_action)
    menu.addAction(actions.polar_action)
    menu.addSeparator()
    menu.addAction(actions.sessions_action)
    bar = window.menuBar()
    help_action = next((a for a in bar.actions() if a.text().replace("&", "") == "Help"), None)
    if help_action is not None:
        bar.insertMenu(help_action, menu)
    else:
        bar.addMenu(menu)
    window.monitoring = actions  # type: ignore[attr-defined]
    return menu
