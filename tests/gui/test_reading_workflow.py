"""A cardiologist reads an ECG end to end in the main window: open, layouts, scroll, calipers, relabel, stored."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from ecgstation.storage import Permission
from ecgstation.ui.main_window import MainWindow
from ecgstation.ui.paper_layout import Layout
from ecgstation.ui.session import WorkstationSession

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("qsettings_tmp")]
pytest_plugins = ["tests.gui._workstation"]

CARDIO = "cardio"
TIMEOUT_MS = 30_000


@pytest.fixture
def window(qtbot: QtBot, sessions: dict[str, WorkstationSession]) -> Iterator[MainWindow]:
    win = MainWindow(sessions[CARDIO])
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


def _open(qtbot: QtBot, window: MainWindow, recording_id: int) -> None:
    with qtbot.waitSignal(window.analysisReady, timeout=TIMEOUT_MS):
        window.open_recording(recording_id)


def test_read_relabel_and_find_it_stored(
    qtbot: QtBot, window: MainWindow, sessions: dict[str, WorkstationSession], sample_ids: dict[str, int]
) -> None:
    session = sessions[CARDIO]
    assert session.can(Permission.EDIT_BEATS)
    rec_id = sample_ids["208.hea"]
    _open(qtbot, window, rec_id)
    viewer = window.viewer
    assert viewer.recording is window.recording and window.viewer_area.currentWidget() is window.workspace
    assert window.workspace.overview.isVisibleTo(window)  # 30 min record: Holter overview shown

    # Layouts through the View menu (2-lead record: one strip per lead, or one / two).
    for key, strips in (("single", 1), ("dual", 2), ("12x1", 2), ("3x4+R", 3)):
        window.layout_actions[key].trigger()
        assert viewer.layout_mode() is Layout(key) and len(viewer.panels()) == strips
    window.layout_actions["dual"].trigger()

    # Scroll a page forward and back with the View actions.
    start, page = viewer.start_s(), viewer.page_s()
    window.next_page_action.trigger()
    assert viewer.start_s() == pytest.approx(start + page)
    window.previous_page_action.trigger()
    assert viewer.start_s() == pytest.approx(start)

    # Go to the first V beat, put a time caliper from it to the next beat: the RR in ms and bpm.
    viewer.scroll_to(0.0)
    v_beat = viewer.next_beat("V")
    assert v_beat is not None and v_beat.label == "V"
    following = next(b for b in viewer.beats() if b.sample > v_beat.sample)
    caliper = window.add_time_caliper()
    reading = caliper.reading()
    rr_ms = (following.sample - v_beat.sample) / window.recording.fs * 1000.0
    assert reading.interval_ms == pytest.approx(rr_ms, abs=1e-6)
    assert reading.bpm == pytest.approx(60000.0 / rr_ms)
    assert f"{rr_ms:.0f} ms" in window.statusBar().currentMessage()
    viewer.select_beat(v_beat.id)
    amplitude = window.add_amplitude_caliper().reading()
    lead = viewer.panels()[0].lead_index
    x = window.recording.signals[lead].astype(np.float64)
    fs = window.recording.fs
    level = float(np.median(x[v_beat.sample - round(0.12 * fs): v_beat.sample - round(0.06 * fs)]))
    qrs = x[v_beat.sample - round(0.06 * fs): v_beat.sample + round(0.06 * fs) + 1]
    assert amplitude.v1_mv == pytest.approx(level, abs=1e-6)
    assert amplitude.delta_mv == pytest.approx(float(np.max(np.abs(qrs - level))), abs=1e-6)

    # Relabel the beat after the V beat as V through the Edit menu; the view does not move.
    viewer.select_beat(following.id)
    before = (viewer.start_s(), viewer.zoom(), viewer.page_s())
    with qtbot.waitSignal(window.beatChanged, timeout=TIMEOUT_MS) as changed:
        window.relabel_actions["V"].trigger()
    assert changed.args[0].id == following.id and changed.args[0].label == "V"
    assert (viewer.start_s(), viewer.zoom(), viewer.page_s()) == before
    assert {b.id: b.label for b in viewer.beats()}[following.id] == "V"

    # Stored: label, original label, author and time, and the history line.
    with session.db.reader(session.actor) as store:
        stored = next(b for b in store.beats.list(rec_id, following.sample, following.sample + 1) if b.id == following.id)
        history = store.beats.history(following.id)
    assert (stored.label, stored.original_label, stored.updated_by) == ("V", following.label, CARDIO)
    assert stored.updated_at is not None
    assert [(h.action, h.old_label, h.new_label, h.edited_by) for h in history] == [
        ("relabel", following.label, "V", CARDIO)
    ]

    # Undo puts the old label back, in the database too.
    with qtbot.waitSignal(window.beatChanged, timeout=TIMEOUT_MS):
        window.undo_action.trigger()
    with session.db.reader(session.actor) as store:
        assert next(b for b in store.beats.list(rec_id, following.sample, following.sample + 1)).label == following.label


def test_family_relabel_from_the_templates_is_stored(
    qtbot: QtBot, window: MainWindow, sessions: dict[str, WorkstationSession], sample_ids: dict[str, int]
) -> None:
    session = sessions[CARDIO]
    rec_id = sample_ids["119.hea"]
    _open(qtbot, window, rec_id)
    families = window.workspace.families()
    family = min((f for f in families if not f.is_other), key=lambda f: f.count)
    members = {window.workspace.beats()[int(i)].id for i in family.beat_indices}
    with qtbot.waitSignal(window.beatsChanged, timeout=TIMEOUT_MS) as changed:
        window.workspace.templates.relabelRequested.emit(family.family_id, "F")
    assert {b.id for b in changed.args[0]} == members
    with session.db.reader(session.actor) as store:
        stored = {b.id: b.label for b in store.beats.list(rec_id) if b.id in members}
    assert len(stored) == len(members) and set(stored.values()) == {"F"}
    assert {b.id: b.label for b in window.viewer.beats() if b.id in members} == stored
    with qtbot.waitSignal(window.beatsChanged, timeout=TIMEOUT_MS):
        window.undo_action.trigger()
    with session.db.reader(session.actor) as store:
        assert "F" not in {b.label for b in store.beats.list(rec_id) if b.id in members}


def test_findings_with_a_time_span_are_marked_on_the_trend(
    qtbot: QtBot, window: MainWindow, sessions: dict[str, WorkstationSession], sample_ids: dict[str, int]
) -> None:
    session = sessions[CARDIO]
    rec_id = sample_ids["208.hea"]
    with session.db.session(session.actor) as store:
        store.findings.add(code="VT", label="Ventricular run", source_kind="user", source_name="cardio",
                           recording_id=rec_id, start_s=600.0, end_s=604.5)  # fmt: skip
        store.findings.add(code="SR", label="Sinus rhythm", source_kind="user", source_name="cardio",
                           recording_id=rec_id)  # fmt: skip
    _open(qtbot, window, rec_id)
    spans = window.workspace.overview.finding_spans()
    assert (600.0, 604.5, "Ventricular run (proposed)") in spans
    # every finding with a span (the import's own analysis adds some) is marked, the others are not
    with session.db.reader(session.actor) as store:
        stored = store.findings.for_recording(rec_id)
    timed = sorted((f.start_s, f.end_s) for f in stored if f.start_s is not None and f.end_s is not None)
    assert sorted((a, b) for a, b, _ in spans) == timed


def test_a_second_beat_on_the_same_spot_is_refused_and_the_record_still_opens(
    qtbot: QtBot, window: MainWindow, sessions: dict[str, WorkstationSession], sample_ids: dict[str, int]
) -> None:
    rec_id = sample_ids["100.hea"]
    _open(qtbot, window, rec_id)
    shown = window.viewer.beats()
    t_s = (shown[20].sample + shown[21].sample) / 2 / window.recording.fs  # between two beats: room for one
    with qtbot.waitSignal(window.beatChanged, timeout=TIMEOUT_MS) as added:
        window.viewer.timeDoubleClicked.emit(t_s)
    assert added.args[0].author_kind == "user" and added.args[0].label == "N"
    window.viewer.timeDoubleClicked.emit(t_s + 0.01)  # 10 ms later: refused with a message
    assert window.error_box.isVisible() and "already at" in window.error_box.text()
    window.error_box.close()
    with sessions[CARDIO].db.reader(sessions[CARDIO].actor) as store:
        near = [b for b in store.beats.list(rec_id, round((t_s - 0.2) * 360), round((t_s + 0.2) * 360))
                if b.author_kind == "user"]  # fmt: skip
    assert len(near) == 1
    _open(qtbot, window, rec_id)  # opens again, with the added beat
    assert any(b.id == added.args[0].id for b in window.viewer.beats())


def test_units_setting_changes_the_caliper_readouts(
    qtbot: QtBot, window: MainWindow, sample_ids: dict[str, int]
) -> None:
    _open(qtbot, window, sample_ids["100.hea"])
    viewer = window.viewer
    amp = viewer.add_amplitude_caliper(0, viewer.start_s() + 1.0, 0.0, 1.25)
    timer = viewer.add_time_caliper(viewer.start_s() + 1.0, viewer.start_s() + 1.8)
    assert amp.text() == "1.25 mV" and timer.text() == "800 ms · 75 bpm"
    window.set_preferences(window.preferences.with_changes(units="ms/µV"))
    assert amp.text() == "1250 µV"
    window.set_preferences(window.preferences.with_changes(units="mm"))
    assert amp.text() == "12.5 mm (1.25 mV)" and timer.text() == "20.0 mm (800 ms) · 75 bpm"


def test_students_cannot_reach_beat_edits(
    qtbot: QtBot, sessions: dict[str, WorkstationSession], sample_ids: dict[str, int]
) -> None:
    win = MainWindow(sessions["student"])
    qtbot.addWidget(win)
    win.show()
    assert not any(a.isEnabled() for a in win.relabel_actions.values())
    assert not win.delete_beat_action.isEnabled()
    _open(qtbot, win, sample_ids["100.hea"])
    shown = win.viewer.beats()
    win.viewer.timeDoubleClicked.emit((shown[5].sample + shown[6].sample) / 2 / win.recording.fs)
    assert not win.error_box.isVisible() and len(win.viewer.beats()) == len(shown)
    win.close()
