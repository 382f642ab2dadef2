"""pytest-qt tests of the main window over a temporary SQLite database (run offscreen; see tests/conftest.py)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox, QProgressDialog, QPushButton
from pytestqt.qtbot import QtBot

from ecgstation import __version__
from ecgstation.core.analysis import AnalysisSettings, analyze_recording
from ecgstation.io import read_recording
from ecgstation.resources import get_sample, list_samples
from ecgstation.storage import DATABASE_URL_ENV, DatabaseSettings, Role
from ecgstation.storage.views import BeatView
from ecgstation.ui.import_worker import ImportWorker
from ecgstation.ui.main_window import (
    APP_TITLE,
    UNASSIGNED,
    MainWindow,
    about_text,
    choose_beats,
    format_duration,
    import_candidates,
)
from ecgstation.ui.session import UNASSIGNED_TITLE, WorkstationSession, ensure_bundled_samples, open_workstation
from ecgstation.ui.settings_dialog import (
    RECENT_FILES_MAX,
    SettingsDialog,
    ViewerPreferences,
    load_preferences,
    recent_files,
    remember_recent_file,
)

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("qsettings_tmp")]

#: Fixtures (tests/gui/_workstation.py): qsettings_tmp, db_settings, sessions, sample_ids, swapped_record.
pytest_plugins = ["tests.gui._workstation"]

#: The accounts of the seeded database (see tests/gui/_workstation.py).
ADMIN, CARDIO, NURSE, STUDENT = "doctor", "cardio", "nurse", "student"

LOAD_TIMEOUT_MS = 30_000
IMPORT_TIMEOUT_MS = 90_000

WindowFactory = Callable[[str], MainWindow]
RecordWriter = Callable[..., Path]

#: The recording list of "Unassigned / samples" on a fresh database.
SAMPLE_TITLES = ["MIT-BIH 100 (100.hea)", "MIT-BIH 119 (119.hea)", "MIT-BIH 208 (208.hea)",
                 "PTB-XL 00003 (12-lead) (ptbxl_00003_hr.hea)"]  # fmt: skip


@pytest.fixture
def make_window(qtbot: QtBot, sessions: dict[str, WorkstationSession]) -> Iterator[WindowFactory]:
    """Opens a main window for one of the seeded accounts, waiting until its first recording is on screen."""
    windows: list[MainWindow] = []

    def make(username: str) -> MainWindow:
        win = MainWindow(sessions[username], ViewerPreferences())
        qtbot.addWidget(win)
        windows.append(win)
        win.show()
        qtbot.waitUntil(lambda: win.recording is not None, timeout=LOAD_TIMEOUT_MS)
        return win

    yield make
    for win in windows:
        win.close()


def _open(qtbot: QtBot, window: MainWindow, recording_id: int) -> None:
    """Select ``recording_id`` in the lists and wait until it is on screen and measured."""
    with qtbot.waitSignal(window.analysisReady, timeout=LOAD_TIMEOUT_MS):
        window.reveal_recording(recording_id)
    assert window.recording_id == recording_id


# -- start-up -------------------------------------------------------------------------------


def test_fresh_database_bootstraps_the_local_user_and_the_samples(tmp_path: Path) -> None:
    settings = DatabaseSettings(url=f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    first = open_workstation(settings, username="drwho")
    try:
        assert first.bootstrapped
        assert first.actor.role is Role.ADMIN and first.actor.username == "drwho"
        assert "cannot edit beats" in about_text(first)
    finally:
        first.close()
    again = open_workstation(settings, username="drwho")
    try:
        assert not again.bootstrapped and again.actor.role is Role.ADMIN
        with again.db.reader(again.actor) as store:
            assert store.users.count() == 1
    finally:
        again.close()


def test_samples_are_added_once(sessions: dict[str, WorkstationSession], sample_ids: dict[str, int]) -> None:
    admin = sessions[ADMIN]
    names = sample_ids
    assert sorted(names) == sorted(s.path.name for s in list_samples())
    assert ensure_bundled_samples(admin) == []  # not a fresh database any more: nothing is added
    with admin.db.reader(admin.actor) as store:
        beats = store.beats.list(names["ptbxl_00003_hr.hea"])
    assert beats and {b.author_kind for b in beats} == {"algorithm"}


def test_window_lists_the_samples_under_unassigned(make_window: WindowFactory) -> None:
    window = make_window(ADMIN)
    assert window.windowTitle().endswith(APP_TITLE)
    assert [a.text().replace("&", "") for a in window.menuBar().actions()] == [
        "File", "Edit", "View", "Measure", "Monitoring", "Help"
    ]
    assert window.patient_names()[0] == UNASSIGNED_TITLE and window.patient_ids()[0] == UNASSIGNED
    titles = [window.recording_list.item(r).text() for r in range(window.recording_list.count())]
    assert titles == SAMPLE_TITLES
    assert window.recording_list.currentRow() == 0  # the first sample is on screen at once
    assert window.recording is not None and window.recording.n_leads == 2
    assert [p.lead_name for p in window.viewer.panels()] == list(window.recording.lead_names)
    assert window.user_label.text() == f"{ADMIN} · admin"
    assert "sqlite" in window.database_label.text()


def test_selecting_a_sample_loads_it(qtbot: QtBot, make_window: WindowFactory, sample_ids: dict[str, int]) -> None:
    window = make_window(ADMIN)
    rec_id = sample_ids["208.hea"]
    sample = get_sample("208")
    with qtbot.waitSignal(window.recordingShown, timeout=LOAD_TIMEOUT_MS) as shown:
        window.recording_list.setCurrentRow(window.recording_ids().index(rec_id))
    assert shown.args == [rec_id]
    assert window.recording_id == rec_id and window.recording is not None
    assert window.recording.signals.shape == (sample.n_leads, sample.n_samples)
    assert window.recording.lead_names == sample.leads and window.recording.fs == sample.fs_hz
    source = read_recording(sample.path)
    assert np.array_equal(window.recording.signals, source.signals)
    assert window.recording_label.text().startswith("MIT-BIH 208 (208.hea): 360 Hz · 2 leads · 30 min 5.6 s")
    assert window.beats and {b.author_kind for b in window.beats} == {"file"}  # the reference beats are shown
    assert window.beat_editor is not None and window.beat_editor.recording_id == rec_id


def test_open_failure_is_shown_without_a_traceback(qtbot: QtBot, make_window: WindowFactory) -> None:
    window = make_window(ADMIN)
    window.open_recording(9999)
    qtbot.waitUntil(window.error_box.isVisible, timeout=LOAD_TIMEOUT_MS)
    assert window.error_box.text() == "Recording #9999 does not exist."


# -- patients -------------------------------------------------------------------------------


def _add_patients(session: WorkstationSession) -> None:
    with session.db.session(session.actor) as store:
        store.patients.create("MRN-1", family_name="Doe", given_name="Jane", sex="F")
        store.patients.create("MRN-2", family_name="Smith", given_name="John", sex="M")
        store.patients.create("MRN-3", family_name="Özdemir", given_name="Ayşe", sex="F")


def test_patient_search_filters(qtbot: QtBot, make_window: WindowFactory,
                                sessions: dict[str, WorkstationSession]) -> None:  # fmt: skip
    _add_patients(sessions[NURSE])
    window = make_window(NURSE)
    window.refresh_patients()
    names = window.patient_names()
    assert names[0] == UNASSIGNED_TITLE
    assert sorted(names[1:]) == ["Doe, Jane (MRN-1)", "Smith, John (MRN-2)", "Özdemir, Ayşe (MRN-3)"]
    qtbot.keyClicks(window.patient_search, "doe")  # type: ignore[no-untyped-call]  # typed, as a user does
    qtbot.waitUntil(lambda: window.patient_names() == ["Doe, Jane (MRN-1)"])
    assert window.recording_ids() == [] and window.recording is None  # her recordings: none yet
    window.patient_search.setText("özd")  # QTest types ASCII only
    qtbot.waitUntil(lambda: window.patient_names() == ["Özdemir, Ayşe (MRN-3)"])
    window.patient_search.clear()
    qtbot.waitUntil(lambda: len(window.patient_names()) == 4)
    window.patient_search.setText("mrn-2")
    qtbot.waitUntil(lambda: window.patient_names() == ["Smith, John (MRN-2)"])


def test_student_sees_patient_numbers_only(make_window: WindowFactory, sessions: dict[str, WorkstationSession]) -> None:
    _add_patients(sessions[ADMIN])
    window = make_window(STUDENT)
    names = window.patient_names()
    assert names[0] == UNASSIGNED_TITLE
    assert names[1:] == [f"Patient #{pid}" for pid in window.patient_ids()[1:]] and len(names) == 4
    assert not any("Doe" in n or "MRN" in n for n in names)
    assert not window.patient_search.isEnabled()
    titles = [window.recording_list.item(r).text() for r in range(window.recording_list.count())]
    assert titles and all(t.startswith("Recording #") for t in titles)  # no file names either
    assert window.user_label.text() == f"{STUDENT} · student"


# -- import ---------------------------------------------------------------------------------


def _count_unassigned(session: WorkstationSession) -> int:
    with session.db.reader(session.actor) as store:
        return len(store.recordings.for_patient(None))


def test_import_shows_progress_and_the_new_recording_appears(
    qtbot: QtBot, make_window: WindowFactory, swapped_record: RecordWriter
) -> None:
    path = swapped_record("100")
    window = make_window(NURSE)
    before = window.recording_ids()
    steps: list[int] = []
    files: list[tuple[int, int, str]] = []
    dialogs: list[bool] = []
    worker = window.import_files([path.with_suffix(".dat")])  # the signal file stands for its record
    assert isinstance(worker, ImportWorker) and window.import_running()
    assert worker.paths == [path]
    worker.fileProgress.connect(steps.append)

    def on_progress(done: int, total: int, current: str) -> None:
        files.append((done, total, current))
        dialogs.append(window.findChild(QProgressDialog, "importProgress") is not None)

    worker.progress.connect(on_progress)
    with qtbot.waitSignal(window.importFinished, timeout=IMPORT_TIMEOUT_MS) as done:
        pass
    (outcome,) = done.args[0]
    assert outcome.status == "imported", outcome.message
    assert not window.import_running()
    assert steps and steps == sorted(steps) and steps[-1] == 100 and len(set(steps)) >= 3
    assert files[-1] == (1, 1, "") and all(dialogs)
    new_id = outcome.recording_id
    assert window.recording_ids() == [*before, new_id]
    qtbot.waitUntil(lambda: window.recording_id == new_id, timeout=LOAD_TIMEOUT_MS)
    assert window.recording is not None and window.recording.lead_names == ("V5", "MLII")
    assert recent_files() == [str(path)]
    assert "1 imported" in window.statusBar().currentMessage()


def test_cancelled_import_leaves_nothing(
    qtbot: QtBot, make_window: WindowFactory, sessions: dict[str, WorkstationSession], swapped_record: RecordWriter
) -> None:
    path = swapped_record("119")
    window = make_window(NURSE)
    before = _count_unassigned(sessions[NURSE])
    with qtbot.waitSignal(window.importFinished, timeout=IMPORT_TIMEOUT_MS) as done:
        window.import_files([path])
        window.cancel_import()
    (outcome,) = done.args[0]
    assert outcome.status == "cancelled" and outcome.recording_id is None
    assert _count_unassigned(sessions[NURSE]) == before
    assert recent_files() == []
    assert not window.error_box.isVisible()
    assert "1 cancelled" in window.statusBar().currentMessage()


def test_cancel_from_the_progress_dialog(
    qtbot: QtBot, make_window: WindowFactory, sessions: dict[str, WorkstationSession], swapped_record: RecordWriter
) -> None:
    path = swapped_record("208")
    window = make_window(NURSE)
    before = _count_unassigned(sessions[NURSE])
    with qtbot.waitSignal(window.importFinished, timeout=IMPORT_TIMEOUT_MS) as done:
        window.import_files([path])
        dialog = window.findChild(QProgressDialog, "importProgress")
        assert dialog is not None
        button = dialog.findChild(QPushButton)
        assert button is not None
        button.click()  # its Cancel button, as a user does
    assert [o.status for o in done.args[0]] == ["cancelled"]
    assert _count_unassigned(sessions[NURSE]) == before


def test_worker_reports_the_files_not_tried_after_a_cancel(
    sessions: dict[str, WorkstationSession], swapped_record: RecordWriter
) -> None:
    nurse = sessions[NURSE]
    paths = [swapped_record("ptbxl_00003", "first"), get_sample("100").path, get_sample("119").path]
    worker = ImportWorker(nurse.db, nurse.actor, paths)
    progress: list[tuple[int, int, str]] = []
    worker.progress.connect(lambda done, total, name: progress.append((done, total, name)))
    worker.fileDone.connect(lambda _outcome: worker.cancel())  # cancel once the first file is done
    finished: list[list[object]] = []
    worker.finished.connect(finished.append)
    worker.run()  # synchronously, on this thread
    assert [o.status for o in worker.outcomes] == ["imported", "cancelled", "cancelled"]
    assert finished == [worker.outcomes]
    assert progress == [(0, 3, "first.hea"), (3, 3, "")]
    assert worker.wait()  # never started on a thread: nothing to wait for


def test_drop_imports_files_and_a_duplicate_opens_the_stored_recording(
    qtbot: QtBot, make_window: WindowFactory, sample_ids: dict[str, int], tmp_path: Path
) -> None:
    for ext in (".hea", ".dat", ".atr"):
        shutil.copy(get_sample("119").path.with_suffix(ext), tmp_path / f"119{ext}")
    window = make_window(ADMIN)
    stored = sample_ids["119.hea"]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / f"119{ext}")) for ext in (".hea", ".dat", ".atr")])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)  # fmt: skip
    with qtbot.waitSignal(window.importFinished, timeout=IMPORT_TIMEOUT_MS) as done:
        window.dropEvent(event)
    assert [(o.status, o.recording_id) for o in done.args[0]] == [("duplicate", stored)]  # one record, once
    qtbot.waitUntil(lambda: window.recording_id == stored, timeout=LOAD_TIMEOUT_MS)
    assert recent_files() == [str(tmp_path / "119.hea")]
    window.reveal_recording(sample_ids["100.hea"])
    qtbot.waitUntil(lambda: window.recording_id == sample_ids["100.hea"], timeout=LOAD_TIMEOUT_MS)
    (recent,) = window.recent_file_actions()
    with qtbot.waitSignal(window.importFinished, timeout=IMPORT_TIMEOUT_MS):
        recent.trigger()  # File → Recent files → 119.hea opens it again
    qtbot.waitUntil(lambda: window.recording_id == stored, timeout=LOAD_TIMEOUT_MS)


def test_import_goes_to_the_selected_patient(
    qtbot: QtBot, make_window: WindowFactory, sessions: dict[str, WorkstationSession], swapped_record: RecordWriter
) -> None:
    _add_patients(sessions[NURSE])
    path = swapped_record("119")
    window = make_window(NURSE)
    window.refresh_patients()
    row = window.patient_names().index("Doe, Jane (MRN-1)")
    window.patient_list.setCurrentRow(row)
    qtbot.waitUntil(lambda: window.recording is None)  # she has no recordings yet: nothing on screen
    worker = window.import_files([path])
    assert worker is not None and worker.patient_mrn == "MRN-1"
    with qtbot.waitSignal(window.importFinished, timeout=IMPORT_TIMEOUT_MS) as done:
        pass
    (outcome,) = done.args[0]
    assert outcome.status == "imported", outcome.message
    assert window.patient_list.currentItem().text() == "Doe, Jane (MRN-1)"
    assert window.recording_ids() == [outcome.recording_id]
    qtbot.waitUntil(lambda: window.recording_id == outcome.recording_id, timeout=LOAD_TIMEOUT_MS)
    with sessions[NURSE].db.reader(sessions[NURSE].actor) as store:
        assert store.recordings.get(outcome.recording_id).patient_id == window.patient_ids()[row]


def test_a_drop_on_a_selected_patient_asks_first(
    qtbot: QtBot, make_window: WindowFactory, sessions: dict[str, WorkstationSession], swapped_record: RecordWriter
) -> None:
    """Dropped files never land silently on whichever patient is selected: the user chooses."""
    _add_patients(sessions[NURSE])
    path = swapped_record("119")
    window = make_window(NURSE)
    window.refresh_patients()
    window.patient_list.setCurrentRow(window.patient_names().index("Doe, Jane (MRN-1)"))
    qtbot.waitUntil(lambda: window.recording is None)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)  # fmt: skip
    window.dropEvent(event)
    box = window.drop_confirm_box
    assert box is not None and box.isVisible() and "Doe, Jane (MRN-1)" in box.text()
    unassigned = next(b for b in box.buttons() if b.text() == "Import unassigned")
    with qtbot.waitSignal(window.importFinished, timeout=IMPORT_TIMEOUT_MS) as done:
        unassigned.click()
    (outcome,) = done.args[0]
    assert outcome.status == "imported", outcome.message
    with sessions[NURSE].db.reader(sessions[NURSE].actor) as store:
        assert store.recordings.get(outcome.recording_id).patient_id is None


def test_failed_import_is_reported(qtbot: QtBot, make_window: WindowFactory, tmp_path: Path) -> None:
    bad = tmp_path / "garbage.hea"
    bad.write_bytes(b"\x00\x01 not a header at all\n")
    window = make_window(NURSE)
    with qtbot.waitSignal(window.importFinished, timeout=IMPORT_TIMEOUT_MS) as done:
        window.import_files([bad])
    assert [o.status for o in done.args[0]] == ["failed"]
    assert window.error_box.isVisible()
    text = window.error_box.text()
    assert "garbage.hea" in text and "Traceback" not in text and "internal error" not in text
    assert recent_files() == []


def test_recent_files_are_kept_newest_first_pruned_and_capped(make_window: WindowFactory, tmp_path: Path) -> None:
    window = make_window(NURSE)
    paths = []
    for index in range(RECENT_FILES_MAX + 2):
        path = tmp_path / f"f{index}.csv"
        path.write_text("x")
        paths.append(str(path))
        remember_recent_file(path)
    assert recent_files() == paths[::-1][:RECENT_FILES_MAX]
    Path(paths[-1]).unlink()
    remember_recent_file(paths[0])
    expected = [paths[0], *paths[::-1][1:RECENT_FILES_MAX]]
    assert recent_files() == expected
    actions = window.recent_file_actions()
    assert [a.data() for a in actions] == expected
    assert actions[0].text() == "&1 f0.csv"


def test_open_menu_imports_the_chosen_files(
    qtbot: QtBot, make_window: WindowFactory, swapped_record: RecordWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = make_window(NURSE)
    monkeypatch.setattr(window, "_ask_open_paths", list)
    window.open_action.trigger()
    assert not window.import_running()
    path = swapped_record("ptbxl_00003", "ptb_swapped")
    monkeypatch.setattr(window, "_ask_open_paths", lambda: [str(path)])
    with qtbot.waitSignal(window.importFinished, timeout=IMPORT_TIMEOUT_MS) as done:
        window.open_action.trigger()
    assert [o.status for o in done.args[0]] == ["imported"]
    qtbot.waitUntil(lambda: window.recording_id == done.args[0][0].recording_id, timeout=LOAD_TIMEOUT_MS)
    assert window.recording is not None and window.recording.n_leads == 12


# -- settings and view ----------------------------------------------------------------------


def test_settings_dialog_round_trip(qtbot: QtBot, make_window: WindowFactory) -> None:
    window = make_window(NURSE)
    dialog = window.open_settings()
    assert isinstance(dialog, SettingsDialog) and dialog.isVisible()
    assert dialog.preferences() == ViewerPreferences()
    dialog.speed_combo.setCurrentIndex(dialog.speed_combo.findData(50.0))
    dialog.gain_combo.setCurrentIndex(dialog.gain_combo.findData(20.0))
    dialog.mains_combo.setCurrentIndex(dialog.mains_combo.findData(60.0))
    dialog.units_combo.setCurrentIndex(dialog.units_combo.findData("mm"))
    dialog.layout_combo.setCurrentIndex(dialog.layout_combo.findData("3x4+R"))
    dialog.calibration_spin.setValue(1.07)
    dialog.filters_check.setChecked(False)
    expected = ViewerPreferences(units="mm", paper_speed_mm_s=50.0, gain_mm_mv=20.0, mains_hz=60.0,
                                 screen_calibration=1.07, filters_on=False, layout="3x4+R")  # fmt: skip
    with qtbot.waitSignal(window.preferencesChanged) as changed:
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert changed.args == [expected]
    assert window.preferences == expected == load_preferences()
    assert window.speed_actions[50.0].isChecked() and window.gain_actions[20.0].isChecked()
    assert window.layout_actions["3x4+R"].isChecked() and not window.filters_action.isChecked()
    # Cancel changes nothing.
    dialog = window.open_settings()
    assert dialog.preferences() == expected
    dialog.speed_combo.setCurrentIndex(dialog.speed_combo.findData(12.5))
    dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
    assert window.preferences == expected == load_preferences()


def test_dark_theme_is_applied_and_undone(qtbot: QtBot, make_window: WindowFactory) -> None:
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    window = make_window(NURSE)
    light = QApplication.palette().color(QPalette.ColorRole.Window).lightness()
    window.set_preferences(window.preferences.with_changes(theme="dark"))
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 100
    window.set_preferences(window.preferences.with_changes(theme="light"))
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() == light


def test_invalid_stored_preferences_fall_back_to_defaults(qsettings_tmp: Path) -> None:
    from ecgstation.ui.settings_dialog import app_settings

    settings = app_settings()
    settings.setValue("viewer/paper_speed_mm_s", "37")
    settings.setValue("viewer/gain_mm_mv", "20")
    settings.setValue("viewer/filters_on", "maybe")
    settings.sync()
    assert load_preferences() == ViewerPreferences(gain_mm_mv=20.0)
    with pytest.raises(ValueError, match="paper speed"):
        ViewerPreferences(paper_speed_mm_s=37.0)
    with pytest.raises(ValueError, match="screen calibration"):
        ViewerPreferences(screen_calibration=3.0)


def test_view_menu_shortcuts_change_the_preferences(qtbot: QtBot, make_window: WindowFactory) -> None:
    window = make_window(NURSE)
    assert window.layout_actions["6x2"].shortcut().toString() == "Ctrl+2"
    assert window.filters_action.shortcut().toString() == "Ctrl+F"
    with qtbot.waitSignal(window.preferencesChanged) as changed:
        window.layout_actions["6x2"].trigger()
    assert changed.args[0].layout == "6x2" and window.preferences.layout == "6x2"
    with qtbot.waitSignal(window.preferencesChanged) as changed:
        window.filters_action.trigger()
    assert changed.args[0].filters_on is True  # off by default: the signal as recorded
    assert window.viewer.filters_enabled() and "filters 0.5–40 Hz" in window.paper_label.text()
    with qtbot.waitSignal(window.preferencesChanged) as changed:
        window.speed_actions[12.5].trigger()
    assert changed.args[0].paper_speed_mm_s == 12.5
    assert load_preferences() == window.preferences
    with qtbot.waitSignal(window.zoomRequested) as zoom:
        window.zoom_in_action.trigger()
    assert zoom.args == [2.0]
    with qtbot.waitSignal(window.pageRequested) as page:
        window.previous_page_action.trigger()
    assert page.args == [-1]
    shortcuts = dict(window.shortcut_list())
    assert shortcuts["Display filters (0.5–40 Hz)"] == "Ctrl+F" and "Relabel beat as V (Ventricular ectopic)" in shortcuts


# -- measurements and findings --------------------------------------------------------------


def test_measurements_panel_shows_the_heart_rate_of_sample_100(
    qtbot: QtBot, make_window: WindowFactory, sample_ids: dict[str, int]
) -> None:
    window = make_window(NURSE)
    rec_id = sample_ids["100.hea"]
    if window.analysis is None or window.recording_id != rec_id:
        qtbot.waitUntil(lambda: window.analysis is not None and window.recording_id == rec_id,
                        timeout=LOAD_TIMEOUT_MS)  # fmt: skip
    expected = analyze_recording(read_recording(get_sample("100").path), AnalysisSettings())
    assert expected.heart_rate_bpm is not None and 70.0 <= expected.heart_rate_bpm <= 80.0  # 2,273 beats in 30 min
    panel = window.measurements
    assert panel.value_text("hr") == f"{expected.heart_rate_bpm:.0f} bpm"
    assert panel.value_text("beats") == str(expected.r_peaks.size)
    assert expected.intervals.qrs_ms is not None
    assert panel.value_text("qrs") == f"{expected.intervals.qrs_ms:.0f} ms"
    assert panel.value_text("sdnn") == f"{expected.hrv.sdnn_ms:.0f} ms"
    assert "MLII" in panel.value_text("quality")


def _add_model_finding(session: WorkstationSession, recording_id: int) -> int:
    with session.db.session(session.actor) as store:
        finding = store.findings.add(
            code="AF", label="Atrial fibrillation", source_kind="model", source_name="rhythm-net",
            source_version="1.2.0", recording_id=recording_id, confidence=0.87, start_s=12.0, end_s=42.0,
        )  # fmt: skip
    return finding.id


def test_cardiologist_confirms_a_finding(
    qtbot: QtBot, make_window: WindowFactory, sessions: dict[str, WorkstationSession], sample_ids: dict[str, int]
) -> None:
    rec_id = sample_ids["208.hea"]
    finding_id = _add_model_finding(sessions[NURSE], rec_id)
    window = make_window(CARDIO)
    _open(qtbot, window, rec_id)
    panel = window.measurements
    assert finding_id in [f.id for f in panel.findings()]
    row = [f.id for f in panel.findings()].index(finding_id)
    item = panel.findings_tree.topLevelItem(row)
    assert item is not None
    assert item.text(0) == "Atrial fibrillation at 12.0 s\nrhythm-net 1.2.0 (model)"
    assert item.text(1) == "87 %" and item.text(2) == "proposed"
    assert not panel.confirm_button.isEnabled()  # nothing selected yet
    panel.select_finding(finding_id)
    assert panel.confirm_button.isEnabled() and panel.reject_button.isEnabled()
    assert panel.details_label.text().splitlines() == [
        "Atrial fibrillation (AF)", "Source: rhythm-net 1.2.0 (model)", "Confidence: 87 %", "Time: 12.0–42.0 s",
        "Status: proposed",
    ]  # fmt: skip
    with qtbot.waitSignal(panel.reviewRequested) as requested:
        qtbot.mouseClick(panel.confirm_button, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]
    assert requested.args == [finding_id, "confirmed", 1]
    with sessions[ADMIN].db.reader(sessions[ADMIN].actor) as store:
        stored = store.findings.get(finding_id)
        audit = store.audit.events(entity_type="finding", entity_id=finding_id, action="confirm")
    assert stored.status == "confirmed" and stored.reviewed_by == CARDIO and stored.reviewed_at is not None
    assert len(audit) == 1 and audit[0].username == CARDIO and audit[0].role == "cardiologist"
    assert audit[0].details == {"previous": "proposed", "decision": "confirmed"}
    row = [f.id for f in panel.findings()].index(finding_id)
    assert panel.findings_tree.topLevelItem(row).text(2) == "confirmed"  # type: ignore[union-attr]
    assert f"Status: confirmed by {CARDIO} on " in panel.details_label.text()  # still selected
    assert not panel.confirm_button.isEnabled() and panel.reject_button.isEnabled()


def test_stale_review_is_refused_with_the_message(
    qtbot: QtBot, make_window: WindowFactory, sessions: dict[str, WorkstationSession], sample_ids: dict[str, int]
) -> None:
    rec_id = sample_ids["208.hea"]
    finding_id = _add_model_finding(sessions[NURSE], rec_id)
    window = make_window(CARDIO)
    _open(qtbot, window, rec_id)
    with sessions[CARDIO].db.session(sessions[CARDIO].actor) as store:  # another workstation, same finding
        store.findings.review(finding_id, "rejected", 1)
    assert window.review_finding(finding_id, "confirmed", 1) is False
    assert "changed by someone else" in window.error_box.text()
    with sessions[ADMIN].db.reader(sessions[ADMIN].actor) as store:
        assert store.findings.get(finding_id).status == "rejected"
    assert [f.status for f in window.measurements.findings() if f.id == finding_id] == ["rejected"]


def test_nurse_sees_the_review_buttons_disabled(
    qtbot: QtBot, make_window: WindowFactory, sessions: dict[str, WorkstationSession], sample_ids: dict[str, int]
) -> None:
    rec_id = sample_ids["208.hea"]
    finding_id = _add_model_finding(sessions[NURSE], rec_id)
    window = make_window(NURSE)
    _open(qtbot, window, rec_id)
    panel = window.measurements
    panel.select_finding(finding_id)
    assert panel.selected_finding() is not None
    assert not panel.confirm_button.isEnabled() and not panel.reject_button.isEnabled()
    assert "Only cardiologists" in panel.review_note.text()


# -- beats in the window --------------------------------------------------------------------


def test_relabel_through_the_edit_menu_and_undo(
    qtbot: QtBot, make_window: WindowFactory, sessions: dict[str, WorkstationSession]
) -> None:
    window = make_window(CARDIO)
    assert window.relabel_selected("V") is False  # no beat selected: a status message only
    assert "Select a beat" in window.statusBar().currentMessage()
    beat = window.beats[10]
    window.select_beat(beat.id)
    with qtbot.waitSignal(window.beatChanged) as changed:
        window.relabel_actions["V"].trigger()
    view: BeatView = changed.args[0]
    assert (view.id, view.label, view.original_label, view.updated_by) == (beat.id, "V", beat.label, CARDIO)
    assert window.beats[10].label == "V"
    assert window.undo_action.isEnabled() and "Relabel beat" in window.undo_action.text()
    with qtbot.waitSignal(window.beatChanged) as changed:
        window.undo_action.trigger()
    assert changed.args[0].label == beat.label
    with sessions[ADMIN].db.reader(sessions[ADMIN].actor) as store:
        history = store.beats.history(beat.id)
    assert [(h.action, h.old_label, h.new_label, h.edited_by) for h in history] == [
        ("relabel", beat.label, "V", CARDIO), ("relabel", "V", beat.label, CARDIO)
    ]  # fmt: skip
    window.selected_beat_provider = lambda: window.beats[11]  # a viewer may hand over its BeatView
    with qtbot.waitSignal(window.beatChanged) as changed:
        window.delete_beat_action.trigger()
    assert changed.args[0].id == window.beats[11].id and changed.args[0].deleted


def test_admin_cannot_edit_beats_and_is_told_why(make_window: WindowFactory) -> None:
    window = make_window(ADMIN)
    window.select_beat(window.beats[0].id)
    assert window.relabel_selected("V") is False
    assert window.error_box.isVisible()
    assert window.error_box.text() == f"{ADMIN} (admin) is not allowed to edit beat annotations."
    assert not window.undo_action.isEnabled()


# -- run_gui --------------------------------------------------------------------------------


def test_run_gui_on_a_fresh_machine_shows_the_samples_and_opens_the_file_given(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, swapped_record: RecordWriter
) -> None:
    from ecgstation.ui import app as app_module

    monkeypatch.setenv(DATABASE_URL_ENV, str(tmp_path / "data" / "fresh.sqlite3"))
    monkeypatch.delenv("ECGSTATION_USER", raising=False)
    extra = swapped_record("ptbxl_00003", "given")
    seen: dict[str, list[str] | str] = {}
    windows: list[MainWindow] = []

    class _Window(MainWindow):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            windows.append(self)

    class _App:
        """Stands in for the QApplication: exec() waits until the samples and the file are in, then returns."""

        def arguments(self) -> list[str]:
            return ["ecgstation", str(extra)]

        def exec(self) -> int:
            (win,) = windows
            assert win.isVisible()
            qtbot.waitUntil(lambda: len(win.recording_ids()) == 5 and not win.import_running(),
                            timeout=IMPORT_TIMEOUT_MS)  # fmt: skip
            qtbot.waitUntil(lambda: win.recording_id == win.recording_ids()[-1] and win.recording is not None,
                            timeout=LOAD_TIMEOUT_MS)  # fmt: skip
            seen["titles"] = [win.recording_list.item(r).text() for r in range(win.recording_list.count())]
            seen["patients"] = win.patient_names()
            seen["user"] = win.user_label.text()
            seen["recent"] = recent_files()
            return 0

    monkeypatch.setattr(app_module, "_application", lambda args: _App())
    monkeypatch.setattr(app_module, "MainWindow", _Window)
    assert app_module.run_gui([str(extra)]) == 0
    assert (tmp_path / "data" / "fresh.sqlite3").is_file()
    assert seen["titles"] == [*SAMPLE_TITLES, "given.hea"]
    assert seen["patients"] == [UNASSIGNED_TITLE]
    assert str(seen["user"]).endswith("· admin")
    assert seen["recent"] == [str(extra)]  # the samples are not "recent files"
    windows[0].deleteLater()


def test_run_gui_reports_an_unusable_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from ecgstation.ui import app as app_module

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv(DATABASE_URL_ENV, str(blocker / "db.sqlite3"))
    shown: list[str] = []

    def fatal(message: str) -> int:
        shown.append(message)
        return 1

    monkeypatch.setattr(app_module, "_fatal", fatal)
    assert app_module.run_gui([]) == 1
    assert shown and "Traceback" not in shown[0]


# -- helpers --------------------------------------------------------------------------------


def test_about_shows_the_version_and_the_role_limits(make_window: WindowFactory) -> None:
    window = make_window(NURSE)
    window.about_action.trigger()
    assert window.about_box.isVisible()
    text = window.about_box.text()
    assert __version__ in text and "physician" in text and "Nurses cannot edit beats" in text
    window.about_box.button(QMessageBox.StandardButton.Ok).click()
    assert not window.about_box.isVisible()


def test_quit_closes_the_window(make_window: WindowFactory) -> None:
    window = make_window(NURSE)
    window.quit_action.trigger()
    assert not window.isVisible()


def test_format_duration() -> None:
    assert format_duration(10.0) == "10.0 s"
    assert format_duration(1805.556) == "30 min 5.6 s"
    assert format_duration(86400.0) == "24:00:00"


def test_import_candidates_map_wfdb_files_to_their_header(tmp_path: Path) -> None:
    for name in ("a.hea", "a.dat", "a.atr", "b.csv", "c.dat"):
        (tmp_path / name).write_text("x")
    got = import_candidates([tmp_path / "a.dat", tmp_path / "a.hea", tmp_path / "a.atr", tmp_path / "b.csv",
                             tmp_path / "c.dat"])  # fmt: skip
    assert got == [tmp_path / "a.hea", tmp_path / "b.csv", tmp_path / "c.dat"]


def test_choose_beats_prefers_the_reference_and_keeps_user_beats() -> None:
    def beat(i: int, kind: str) -> BeatView:
        return BeatView(i, 1, i * 100, "N", "N", kind, "x", False, None, None, 1)

    both = [beat(1, "file"), beat(2, "algorithm"), beat(3, "user")]
    assert [b.id for b in choose_beats(both)] == [1, 3]
    assert [b.id for b in choose_beats(both[1:])] == [2, 3]
