"""Monitoring from the main window, end to end with real parts: MonitorHost, SimulatedPatch, SQLite, ward view.

A nurse adds a simulated bed; the ward tile shows its live samples and the session is stored
and listed; a session left active by a process that no longer runs is marked interrupted when
the workstation starts, and the sessions table says so.
"""

from __future__ import annotations

import socket

import numpy as np
from pytestqt.qtbot import QtBot

from ecgstation.storage.column_types import utcnow
from ecgstation.ui.main_window import MainWindow
from ecgstation.ui.monitoring_sessions import SessionsDialog
from ecgstation.ui.session import WorkstationSession
from ecgstation.ui.settings_dialog import ViewerPreferences

#: Fixtures (tests/gui/_workstation.py): qsettings_tmp, db_settings, sessions.
pytest_plugins = ["tests.gui._workstation"]
ADMIN, NURSE = "doctor", "nurse"

TIMEOUT_MS = 20000
#: a process id no Linux system hands out (pid_max is at most 2**22)
DEAD_PID = 2**22 + 12345


def test_a_nurse_monitors_a_simulated_bed(qtbot: QtBot, sessions: dict[str, WorkstationSession]) -> None:
    window = MainWindow(sessions[NURSE], ViewerPreferences())
    qtbot.addWidget(window)
    actions = window.monitoring
    assert actions.ward_action.isEnabled() and actions.simulated_action.isEnabled()
    feed = actions.add_simulated_bed("100")
    assert feed is not None and actions.ward is not None
    qtbot.waitUntil(lambda: feed.snapshot().end_s > 1.5 and feed.snapshot().session_id is not None, timeout=TIMEOUT_MS)
    tile = actions.ward.tile(next(iter(actions.ward.beds())))
    assert tile is not None
    snap = feed.snapshot()
    assert snap.status in ("streaming", "connected") and snap.patient == "Simulated (100)"
    session_id = snap.session_id
    with sessions[NURSE].db.reader(sessions[NURSE].actor) as store:
        assert store.monitoring.get(session_id).state == "active"
    dialog = actions.show_sessions()
    qtbot.addWidget(dialog)
    assert any(row[0] == f"#{session_id}" and row[4] == "monitoring" for row in dialog.rows)
    actions.shutdown()
    with sessions[NURSE].db.reader(sessions[NURSE].actor) as store:
        assert store.monitoring.get(session_id).state == "ended"


def test_a_session_of_a_dead_process_is_marked_interrupted_at_start(
    qtbot: QtBot, sessions: dict[str, WorkstationSession]
) -> None:
    nurse = sessions[NURSE]
    with nurse.db.session(nurse.actor) as store:  # owned by this host, by a process that is not running
        view = store.monitoring.start(
            fs=250.0, lead_names=("ECG",), owner_host=socket.gethostname(), owner_pid=DEAD_PID
        )
        for i in range(2):
            store.monitoring.append_slice(view.id, i, utcnow(), np.zeros((1, 2500), np.float32), 250.0)
    window = MainWindow(sessions[ADMIN], ViewerPreferences())  # an administrator may connect patches too
    qtbot.addWidget(window)
    assert view.id in window.monitoring.recovered
    dialog = SessionsDialog(sessions[ADMIN], window)
    qtbot.addWidget(dialog)
    (row,) = [r for r in dialog.rows if r[0] == f"#{view.id}"]
    assert row[4].startswith("INTERRUPTED") and row[5] == "2"
    assert "1 interrupted" in dialog.message.text()
    window.monitoring.shutdown()


def test_a_polar_h10_that_cannot_be_reached_says_why(qtbot: QtBot, sessions: dict[str, WorkstationSession]) -> None:
    """No Bluetooth here: the bed shows each failed attempt's reason, then that it gave up; nothing crashes."""
    window = MainWindow(sessions[NURSE], ViewerPreferences())
    qtbot.addWidget(window)
    feed = window.monitoring.connect_polar_h10("00:11:22:33:44:55", max_attempts=1)
    assert feed is not None
    qtbot.waitUntil(lambda: feed.snapshot().status == "disconnected", timeout=TIMEOUT_MS)
    snap = feed.snapshot()
    assert "gave up reconnecting" in snap.status_message or "cannot connect" in snap.status_message
    window.monitoring.shutdown()
