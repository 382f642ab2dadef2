"""A cardiologist reads an ECG end to end in the main window: open, layouts, scroll, calipers, relabel, stored."""

from __future__ import annotations

from collections.abc import Iterator

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
    amplitude = window.add_amplitude_caliper().reading()
    assert amplitude.delta_mv == pytest.approx(float(window.recording.signals[0, v_beat.sample]), abs=1e-6)

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
    with qtbot.waitSignal(window.beatChanged, timeout=TIMEOUT_MS):
        window.workspace.templates.relabelRequested.emit(family.family_id, "F")
    with session.db.reader(session.actor) as store:
        stored = {b.id: b.label for b in store.beats.list(rec_id) if b.id in members}
    assert len(stored) == len(members) and set(stored.values()) == {"F"}
    with qtbot.waitSignal(window.beatChanged, timeout=TIMEOUT_MS):
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
    assert spans == [(600.0, 604.5, "Ventricular run (proposed)")]
