"""The main window: patients and their recordings on the left, the ECG in the middle, measurements on the right.

The centre (``MainWindow.viewer_area``) holds the :class:`RecordingWorkspace`: the true-scale
viewer, with the Holter overview, beat templates and event list for long records. The View
menu changes ``MainWindow.preferences`` and emits ``preferencesChanged`` (plus ``zoomRequested``
and ``pageRequested``); the window applies them to the viewer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QUndoGroup
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressDialog,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ecgstation import __version__
from ecgstation.core.analysis import AnalysisResult, AnalysisSettings, analyze_recording
from ecgstation.core.errors import EcgStationError
from ecgstation.inference.model_analysis import analyze_with_models
from ecgstation.storage import ConcurrentEditError, Permission
from ecgstation.storage.importing import ImportOutcome
from ecgstation.storage.views import BeatView, FindingView, RecordingView
from ecgstation.tracing import traced
from ecgstation.ui.beat_editing import BeatEditor
from ecgstation.ui.calipers import beat_amplitude
from ecgstation.ui.import_worker import PROGRESS_STEPS, ImportWorker
from ecgstation.ui.measurements_panel import MeasurementsPanel
from ecgstation.ui.monitoring_actions import MonitoringActions, add_monitoring_menu
from ecgstation.ui.paper_layout import GAINS_MM_PER_MV, PAPER_SPEEDS_MM_PER_S, Layout
from ecgstation.ui.recording_workspace import RecordingWorkspace, choose_beats
from ecgstation.ui.session import UNASSIGNED_TITLE, WorkstationSession, open_workstation, role_limits
from ecgstation.ui.settings_dialog import (
    SettingsDialog,
    ViewerPreferences,
    apply_theme,
    load_preferences,
    recent_files,
    remember_recent_file,
    save_preferences,
    set_recent_files,
)

if TYPE_CHECKING:
    from ecgstation.core.recording import Recording

__all__ = [
    "ANALYSIS_MAX_S",
    "APP_TITLE",
    "BEAT_LABELS",
    "LoadedRecording",
    "MainWindow",
    "about_text",
    "choose_beats",
    "format_duration",
    "import_candidates",
]

logger = logging.getLogger(__name__)

#: Window title.
APP_TITLE = "ECG Station"

#: Longer records are measured for the panel over their first this many seconds (the whole record is stored).
ANALYSIS_MAX_S = 3600.0

#: Beat labels offered by Edit → Relabel (AAMI classes), with their keys.
BEAT_LABELS: dict[str, str] = {
    "N": "Normal",
    "S": "Supraventricular ectopic",
    "V": "Ventricular ectopic",
    "F": "Fusion",
    "Q": "Unclassifiable",
}

#: Data role of list items: patient id (``UNASSIGNED`` for recordings without one) or recording id.
ID_ROLE = Qt.ItemDataRole.UserRole
#: Patient-list id of the "Unassigned / samples" entry.
UNASSIGNED = -1

_OPEN_FILTERS = "ECG files (*.hea *.csv *.txt);;WFDB headers (*.hea);;All files (*)"
#: Files of a WFDB record that stand for its header when dropped or chosen.
_WFDB_COMPANIONS = {".dat", ".atr", ".qrs", ".ecg", ".pu", ".pu0", ".pu1", ".q1c", ".q2c", ".xws"}


def format_duration(seconds: float) -> str:
    """``seconds`` as text: ``"10.0 s"`` below a minute, ``"30 min 5.6 s"`` up to an hour, else ``"h:mm:ss"``."""
    if seconds < 60.0:
        return f"{seconds:.1f} s"
    if seconds < 3600.0:
        minutes, rest = divmod(seconds, 60.0)
        return f"{int(minutes)} min {rest:.1f} s"
    total = round(seconds)
    hours, rest_s = divmod(total, 3600)
    minutes_i, secs = divmod(rest_s, 60)
    return f"{hours}:{minutes_i:02d}:{secs:02d}"


def about_text(session: WorkstationSession | None = None) -> str:
    """The text of Help → About (with the signed-in user and what their role may not do)."""
    text = (
        f"ECG Station {__version__}\n\n"
        "An offline ECG workstation: import, view, analyse, store and report ECG recordings.\n\n"
        "Automated measurements and findings are an aid only: every ECG must be reviewed "
        "by a qualified physician before any clinical decision.\n\n"
        "Bundled samples: MIT-BIH Arrhythmia Database (ODC-By 1.0) and PTB-XL (CC BY 4.0), "
        "from PhysioNet; see resources/samples/ATTRIBUTION.md.\n\n"
        "Licence: GPL-3.0-or-later."
    )
    if session is not None:
        text += (
            f"\n\nSigned in as {session.actor.username} ({session.actor.role.value}) on "
            f"{session.db.describe()}. {role_limits(session.actor.role)}"
        )
        models = session.models
        if models is not None and models.names:
            text += (
                f"\n\nAnalysis models (run locally with onnxruntime): {', '.join(models.names)}. "
                "Their model cards in the models folder give training data, test results and citations."
            )
        else:
            text += "\n\nNo analysis models loaded: beats stay unclassified and findings come from the rules only."
        if models is not None and models.problems:
            text += "\nNot loaded: " + "; ".join(models.problems)
    return text


def import_candidates(paths: Sequence[str | Path]) -> list[Path]:
    """The files to import from a selection or a drop: WFDB signal and annotation files stand for their header.

    Order is kept and each record appears once.
    """
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.suffix.lower() in _WFDB_COMPANIONS and path.with_suffix(".hea").is_file():
            path = path.with_suffix(".hea")
        if path not in out:
            out.append(path)
    return out


@dataclass(frozen=True)
class LoadedRecording:
    """A recording read from the database with what the window shows beside it."""

    recording_id: int
    view: RecordingView
    recording: Recording
    beats: list[BeatView]
    findings: list[FindingView]


class _LoadSignals(QObject):
    loaded = Signal(int, object)  # token, LoadedRecording
    analysed = Signal(int, int, object, str)  # token, recording id, AnalysisResult | None, note
    failed = Signal(int, str)  # token, message


class _LoadJob(QRunnable):
    """Reads one recording (audited as a view) and analyses it, off the GUI thread."""

    def __init__(
        self,
        token: int,
        session: WorkstationSession,
        recording_id: int,
        mains_hz: float,
        signals: _LoadSignals,
        is_current: Callable[[int], bool],
    ) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._token = token
        self._session = session
        self._id = recording_id
        self._mains_hz = mains_hz
        self._signals = signals
        self._is_current = is_current

    def run(self) -> None:
        with traced(f"open recording #{self._id}") as trace_id:
            try:
                with self._session.db.session(self._session.actor) as store:
                    recording = store.recordings.load(self._id)
                    view = store.recordings.get(self._id)
                    beats = store.beats.list(self._id)
                    findings = store.findings.for_recording(self._id)
            except EcgStationError as err:
                logger.info("cannot open recording #%d: %s", self._id, err)
                self._signals.failed.emit(self._token, str(err))
                return
            except Exception:  # a bug: logged with the trace id, a short message for the user
                logger.exception("internal error while opening recording #%d", self._id)
                self._signals.failed.emit(
                    self._token,
                    f"Recording #{self._id} could not be opened because of an internal error (trace {trace_id}). "
                    "The details are in the log; please report them.",
                )
                return
            self._signals.loaded.emit(self._token, LoadedRecording(self._id, view, recording, beats, findings))
            if not self._is_current(self._token):
                return
            note = ""
            target = recording
            if recording.duration_s > ANALYSIS_MAX_S:
                target = _head(recording, ANALYSIS_MAX_S)
                note = (
                    f"Measured over the first {format_duration(ANALYSIS_MAX_S)} of "
                    f"{format_duration(recording.duration_s)}; an aid only, to be reviewed by a physician."
                )
            try:
                settings = AnalysisSettings(mains_hz=self._mains_hz)
                models = self._session.models
                result: AnalysisResult | None = (
                    analyze_with_models(target, models, settings).result
                    if models is not None
                    else analyze_recording(target, settings)
                )
            except EcgStationError as err:
                logger.info("cannot analyse recording #%d: %s", self._id, err)
                result, note = None, f"No measurements: {err}"
            except Exception:
                logger.exception("internal error while analysing recording #%d", self._id)
                result, note = None, f"No measurements: internal error (trace {trace_id}); see the log."
            self._signals.analysed.emit(self._token, self._id, result, note)


def _head(recording: Recording, seconds: float) -> Recording:
    """The first ``seconds`` of ``recording``."""
    import dataclasses

    from ecgstation.core.recording import Annotations

    stop = round(seconds * recording.fs)
    return dataclasses.replace(
        recording, signals=recording.signals[:, :stop], annotations=Annotations.empty(recording.annotations.source)
    )


class MainWindow(QMainWindow):
    """ECG Station's main window over one :class:`WorkstationSession`.

    ``session`` None opens the workstation's own database and user (:func:`open_workstation`);
    the window then closes it when it closes. ``preferences`` None reads them from QSettings.

    Hooks for the viewer and the Holter widgets:

    - ``viewer_area`` (QStackedWidget): the centre; its first page is a simple preview;
    - :meth:`show_recording` / :meth:`clear_recording`: called whenever a recording is put on
      screen or taken off; ``recordingShown(int)`` follows;
    - ``preferencesChanged(ViewerPreferences)``: layout, paper speed, gain, filters, calibration,
      theme changed (View menu or Settings); ``zoomRequested(float factor)``,
      ``pageRequested(int direction)``: View-menu navigation;
    - ``beatChanged(BeatView)``: a beat was edited, undone or redone (update that beat only);
      :meth:`select_beat` / ``selected_beat_provider``: which beat Edit → Relabel/Delete acts on;
      :meth:`add_beat`: add a beat at a sample;
    - ``analysisReady(AnalysisResult | None)``: the measurements of the recording on screen;
      ``measurements.findingActivated(FindingView)``: a finding was double-clicked.
    """

    preferencesChanged = Signal(object)
    recordingShown = Signal(int)
    analysisReady = Signal(object)
    beatChanged = Signal(object)
    #: Many beats changed in one stored edit (a family relabel or its undo).
    beatsChanged = Signal(list)
    zoomRequested = Signal(float)
    pageRequested = Signal(int)
    importFinished = Signal(list)
    findingsChanged = Signal(list)

    def __init__(
        self,
        session: WorkstationSession | None = None,
        preferences: ViewerPreferences | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._owns_session = session is None
        self.session: WorkstationSession = session or open_workstation()
        self.preferences: ViewerPreferences = preferences or load_preferences()
        self.setWindowTitle(APP_TITLE)
        self.setObjectName("mainWindow")
        self.resize(1360, 820)
        self.setAcceptDrops(True)

        #: What is on screen: the record, its database id and description, its shown beats and findings.
        self.recording: Recording | None = None
        self.recording_id: int | None = None
        self.recording_view: RecordingView | None = None
        self.beats: list[BeatView] = []
        self.findings: list[FindingView] = []
        self.analysis: AnalysisResult | None = None
        self.beat_editor: BeatEditor | None = None
        #: Returns the id (or BeatView) of the beat selected in the viewer; set by whoever wires the viewer.
        self.selected_beat_provider: Callable[[], Any] | None = None
        self._selected_beat: int | None = None
        self._import_worker: ImportWorker | None = None
        self._import_progress: QProgressDialog | None = None
        self._import_options: dict[str, Any] = {}
        self._token = 0
        self._pending_open: int | None = None
        self._closed = False
        self._bootstrap_noted = False
        self._sample_titles = self._read_sample_titles()
        self.settings_dialog: SettingsDialog | None = None
        self.drop_confirm_box: QMessageBox | None = None

        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._load_signals = _LoadSignals(self)
        self._load_signals.loaded.connect(self._on_loaded)
        self._load_signals.analysed.connect(self._on_analysed)
        self._load_signals.failed.connect(self._on_load_failed)
        self._open_timer = QTimer(self)
        self._open_timer.setSingleShot(True)
        self._open_timer.setInterval(120)
        self._open_timer.timeout.connect(self._open_pending)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(200)
        self._search_timer.timeout.connect(self.refresh_patients)
        self.undo_group = QUndoGroup(self)

        self._build_widgets()
        self._build_status_bar()
        self._show_paper_settings()
        self._create_actions()
        self._create_menus()
        #: the Monitoring menu's actions (ward view, beds); the MonitorHost is made on first use
        self.monitoring: MonitoringActions
        add_monitoring_menu(self)  # sets self.monitoring
        self._sync_view_actions()
        self._enable_edit_actions()

        self.patient_list.currentItemChanged.connect(self._on_patient_changed)
        self.recording_list.currentItemChanged.connect(self._on_recording_changed)
        self.refresh_patients()

    # -- construction ---------------------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.patient_search = QLineEdit(self)
        self.patient_search.setObjectName("patientSearch")
        self.patient_search.setClearButtonEnabled(True)
        self.patient_list = QListWidget(self)
        self.patient_list.setObjectName("patientList")
        self.recording_list = QListWidget(self)
        self.recording_list.setObjectName("recordingList")
        for widget in (self.patient_list, self.recording_list):
            widget.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            widget.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        if self.session.can(Permission.READ_IDENTIFYING):
            self.patient_search.setPlaceholderText("Search patients: name or MRN")
            self.patient_search.textChanged.connect(lambda _text: self._search_timer.start())
        else:
            self.patient_search.setPlaceholderText("Search needs identified access")
            self.patient_search.setToolTip("Your role sees de-identified patients, who cannot be searched by name.")
            self.patient_search.setEnabled(False)
        left = QWidget(self)
        box = QVBoxLayout(left)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(QLabel("<b>Patients</b>", left))
        box.addWidget(self.patient_search)
        box.addWidget(self.patient_list, 3)
        box.addWidget(QLabel("<b>Recordings</b>", left))
        box.addWidget(self.recording_list, 2)
        left.setMinimumWidth(220)

        #: The centre: a note while no recording is open (page 0), the workspace (page 1).
        self.viewer_area = QStackedWidget(self)
        self.viewer_area.setObjectName("viewerArea")
        self.empty_note = QLabel("No recording open: choose one on the left, or File → Open/Import…", self)
        self.empty_note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.viewer_area.addWidget(self.empty_note)
        prefs = self.preferences
        self.workspace = RecordingWorkspace(
            self.viewer_area, paper=prefs.paper, layout=Layout(prefs.layout), calibration=prefs.screen_calibration
        )
        self.workspace.setObjectName("recordingWorkspace")
        #: The true-scale ECG viewer.
        self.viewer = self.workspace.viewer
        self.viewer.set_filters_enabled(prefs.filters_on)
        self.viewer.set_units(prefs.units)
        self.viewer_area.addWidget(self.workspace)
        self.workspace.summaryFailed.connect(lambda message: self.statusBar().showMessage(message, 8000))
        self.selected_beat_provider = self.viewer.selected_beat
        self.viewer.timeDoubleClicked.connect(self._on_time_double_clicked)
        self.preferencesChanged.connect(self._apply_to_viewer)
        self.zoomRequested.connect(lambda factor: self.viewer.set_zoom(self.viewer.zoom() * factor))
        self.pageRequested.connect(lambda direction: self.viewer.scroll_by(direction * self.viewer.page_s()))

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.setObjectName("mainSplitter")
        splitter.addWidget(left)
        splitter.addWidget(self.viewer_area)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([260, 800])
        self.setCentralWidget(splitter)

        self.measurements = MeasurementsPanel(self)
        self.measurements.reviewRequested.connect(self.review_finding)
        self.measurements.findingActivated.connect(self._open_finding)
        self.measurements_dock = QDockWidget("Measurements and findings", self)
        self.measurements_dock.setObjectName("measurementsDock")
        self.measurements_dock.setWidget(self.measurements)
        self.measurements_dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.measurements_dock)
        self.resizeDocks([self.measurements_dock], [330], Qt.Orientation.Horizontal)

        self.error_box = QMessageBox(QMessageBox.Icon.Warning, APP_TITLE, "", QMessageBox.StandardButton.Ok, self)
        self.error_box.setObjectName("errorBox")
        self.about_box = QMessageBox(
            QMessageBox.Icon.Information, f"About {APP_TITLE}", about_text(self.session),
            QMessageBox.StandardButton.Ok, self,
        )  # fmt: skip
        self.about_box.setObjectName("aboutBox")
        self.shortcuts_box = QMessageBox(
            QMessageBox.Icon.Information, "Keyboard shortcuts", "", QMessageBox.StandardButton.Ok, self
        )
        self.shortcuts_box.setObjectName("shortcutsBox")

    def _build_status_bar(self) -> None:
        actor = self.session.actor
        self.user_label = QLabel(f"{actor.username} · {actor.role.value}", self)
        self.user_label.setObjectName("userLabel")
        self.user_label.setToolTip(role_limits(actor.role))
        self.database_label = QLabel(self.session.db.describe(), self)
        self.database_label.setObjectName("databaseLabel")
        self.recording_label = QLabel("No recording open", self)
        self.recording_label.setObjectName("recordingLabel")
        self.paper_label = QLabel("", self)
        self.paper_label.setObjectName("paperLabel")
        bar = self.statusBar()
        bar.addPermanentWidget(self.paper_label)
        bar.addPermanentWidget(self.recording_label)
        bar.addPermanentWidget(self.user_label)
        bar.addPermanentWidget(self.database_label)
        if self.session.bootstrapped:
            bar.showMessage(
                f"New database: {actor.username} is its administrator. {role_limits(actor.role)}", 20_000
            )

    def _action(
        self, text: str, slot: Callable[..., Any], shortcut: QKeySequence | str | None = None, name: str = ""
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if name:
            action.setObjectName(name)
        action.triggered.connect(slot)
        return action

    def _create_actions(self) -> None:
        std = QKeySequence.StandardKey
        self.open_action = self._action("&Open / Import…", self._on_open, QKeySequence(std.Open), "openAction")
        self.settings_action = self._action("&Settings…", self.open_settings, "Ctrl+,", "settingsAction")
        self.quit_action = self._action("&Quit", self.close, QKeySequence(std.Quit), "quitAction")
        self.refresh_action = self._action("&Refresh lists", self.refresh_patients, "F5", "refreshAction")
        self.find_patient_action = self._action(
            "Find &patient", self._focus_search, "Ctrl+L", "findPatientAction"
        )
        self.about_action = self._action(f"&About {APP_TITLE}", self.about_box.open, None, "aboutAction")
        self.shortcuts_action = self._action("&Keyboard shortcuts", self._show_shortcuts, "F1", "shortcutsAction")

        self.undo_action = self.undo_group.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(QKeySequence(std.Undo))
        self.redo_action = self.undo_group.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QKeySequence(std.Redo), QKeySequence("Ctrl+Y")])
        # Beat edits act on the viewer's selected beat; their one-key shortcuts work while the centre has focus.
        self.relabel_actions: dict[str, QAction] = {}
        for label, title in BEAT_LABELS.items():
            action = self._action(f"Relabel beat as {label} ({title})",
                                  lambda _c=False, lab=label: self.relabel_selected(lab), label,
                                  f"relabel{label}Action")  # fmt: skip
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.viewer_area.addAction(action)
            self.relabel_actions[label] = action
        self.delete_beat_action = self._action("&Delete beat", self.delete_selected, QKeySequence(std.Delete),
                                               "deleteBeatAction")  # fmt: skip
        self.delete_beat_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.viewer_area.addAction(self.delete_beat_action)

        self.layout_group = QActionGroup(self)
        self.layout_actions: dict[str, QAction] = {}
        titles = {
            "12x1": "12 × 1", "6x2": "6 × 2", "3x4+R": "3 × 4 + rhythm", "single": "Single lead", "dual": "Two leads"
        }  # fmt: skip
        for index, layout in enumerate(Layout, start=1):
            action = self._action(titles.get(layout.value, layout.value),
                                  lambda _c=False, v=layout.value: self._change(layout=v), f"Ctrl+{index}",
                                  f"layout_{layout.value}")  # fmt: skip
            action.setCheckable(True)
            self.layout_group.addAction(action)
            self.layout_actions[layout.value] = action
        self.speed_group = QActionGroup(self)
        self.speed_actions: dict[float, QAction] = {}
        for speed in PAPER_SPEEDS_MM_PER_S:
            action = self._action(f"{speed:g} mm/s", lambda _c=False, v=float(speed): self._change(paper_speed_mm_s=v))
            action.setCheckable(True)
            self.speed_group.addAction(action)
            self.speed_actions[float(speed)] = action
        self.gain_group = QActionGroup(self)
        self.gain_actions: dict[float, QAction] = {}
        for gain in GAINS_MM_PER_MV:
            action = self._action(f"{gain:g} mm/mV", lambda _c=False, v=float(gain): self._change(gain_mm_mv=v))
            action.setCheckable(True)
            self.gain_group.addAction(action)
            self.gain_actions[float(gain)] = action
        self.filters_action = self._action("Display &filters (0.5–40 Hz)", self._on_filters_toggled, "Ctrl+F",
                                           "filtersAction")
        self.filters_action.setCheckable(True)
        self.zoom_in_action = self._action("Zoom &in", lambda: self.zoomRequested.emit(2.0),
                                           QKeySequence(std.ZoomIn), "zoomInAction")  # fmt: skip
        self.zoom_out_action = self._action("Zoom &out", lambda: self.zoomRequested.emit(0.5),
                                            QKeySequence(std.ZoomOut), "zoomOutAction")  # fmt: skip
        self.next_page_action = self._action("&Next page", lambda: self.pageRequested.emit(1), "Ctrl+Right",
                                             "nextPageAction")  # fmt: skip
        self.previous_page_action = self._action("&Previous page", lambda: self.pageRequested.emit(-1), "Ctrl+Left",
                                                 "previousPageAction")  # fmt: skip
        self.show_measurements_action = self.measurements_dock.toggleViewAction()
        self.show_measurements_action.setText("&Measurements panel")
        self.show_measurements_action.setShortcut(QKeySequence("Ctrl+M"))

    def _create_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = QMenu("&Recent files", self)
        self.recent_menu.setObjectName("recentMenu")
        self.recent_menu.aboutToShow.connect(self._rebuild_recent_menu)
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        self._rebuild_recent_menu()

        edit_menu = bar.addMenu("&Edit")
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        edit_menu.addSeparator()
        for action in self.relabel_actions.values():
            edit_menu.addAction(action)
        edit_menu.addAction(self.delete_beat_action)
        edit_menu.addSeparator()
        edit_menu.addAction(self.find_patient_action)

        view_menu = bar.addMenu("&View")
        layout_menu = view_menu.addMenu("&Layout")
        for action in self.layout_actions.values():
            layout_menu.addAction(action)
        speed_menu = view_menu.addMenu("Paper &speed")
        for action in self.speed_actions.values():
            speed_menu.addAction(action)
        gain_menu = view_menu.addMenu("&Gain")
        for action in self.gain_actions.values():
            gain_menu.addAction(action)
        view_menu.addAction(self.filters_action)
        view_menu.addSeparator()
        for action in (self.zoom_in_action, self.zoom_out_action, self.next_page_action, self.previous_page_action):
            view_menu.addAction(action)
        view_menu.addSeparator()
        view_menu.addAction(self.show_measurements_action)
        view_menu.addAction(self.refresh_action)
        self.view_menu = view_menu

        self._create_measure_menu(bar)

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.shortcuts_action)
        help_menu.addAction(self.about_action)

    def _create_measure_menu(self, bar: Any) -> None:
        """Measure: calipers and beat navigation (they act on the viewer; keys work while it has focus)."""
        menu = bar.addMenu("&Measure")
        self.time_caliper_action = self._action("&Time caliper", lambda: self.add_time_caliper(), "C")
        self.time_caliper_action.setToolTip("Interval in ms and rate in bpm: from the selected beat to the next")
        self.march_caliper_action = self._action("&March-out caliper", lambda: self.add_time_caliper(True), "M")
        self.march_caliper_action.setToolTip("A time caliper repeated across the page")
        self.amplitude_caliper_action = self._action("&Amplitude caliper", lambda: self.add_amplitude_caliper(), "A")
        self.amplitude_caliper_action.setToolTip("Voltage in mV: from 0 to the value at the selected beat")
        self.clear_calipers_action = self._action("&Clear calipers", lambda: self.viewer.clear_calipers(), "Shift+C")
        self.next_beat_action = self._action("&Next beat of this class", lambda: self.goto_beat(True), "]")
        self.previous_beat_action = self._action("&Previous beat of this class", lambda: self.goto_beat(False), "[")
        for action in (self.time_caliper_action, self.march_caliper_action, self.amplitude_caliper_action,
                       self.clear_calipers_action, None, self.next_beat_action, self.previous_beat_action):  # fmt: skip
            if action is None:
                menu.addSeparator()
                continue
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.viewer_area.addAction(action)
            menu.addAction(action)
        self.measure_menu = menu

    def _caliper_anchor_s(self) -> tuple[float, float]:
        """Where a new time caliper goes: the selected beat to the next one, else 1 s to 2 s into the page (s)."""
        beat = self.viewer.selected_beat()
        if beat is not None and self.recording is not None:
            shown = self.viewer.beats()
            later = [b for b in shown if b.sample > beat.sample]
            if later:
                return beat.sample / self.recording.fs, later[0].sample / self.recording.fs
        start = self.viewer.start_s()
        return start + 1.0, start + 2.0

    def add_time_caliper(self, march_out: bool = False) -> Any:
        """Place a time caliper (see :meth:`_caliper_anchor_s`); its reading shows in the status bar."""
        if self.recording is None:
            return None
        t1, t2 = self._caliper_anchor_s()
        caliper = self.viewer.add_time_caliper(t1, t2, march_out=march_out)
        reading = caliper.reading()
        self.statusBar().showMessage(f"Caliper: {reading.interval_ms:.0f} ms · {reading.bpm:.0f} bpm", 8000)
        return caliper

    def add_amplitude_caliper(self) -> Any:
        """Place an amplitude caliper on the top strip's lead at the selected beat: isoelectric level to QRS peak."""
        if self.recording is None:
            return None
        beat = self.viewer.selected_beat()
        if beat is None:
            self.statusBar().showMessage("Select a beat first (click it in the ECG).", 4000)
            return None
        panels = self.viewer.panels()
        lead = panels[0].lead_index if panels else 0
        level, peak = beat_amplitude(self.recording.signals[lead], self.recording.fs, beat.sample)
        caliper = self.viewer.add_amplitude_caliper(lead, beat.sample / self.recording.fs, level, peak)
        self.statusBar().showMessage(
            f"Amplitude ({self.recording.lead_names[lead]}, from the PR level): {caliper.text()}", 8000
        )
        return caliper

    def goto_beat(self, forward: bool = True) -> BeatView | None:
        """Select the next (or previous) beat with the selected beat's label (any beat when none is selected)."""
        beat = self.viewer.selected_beat()
        found = self.viewer.next_beat(beat.label if beat is not None else None, forward)
        if found is None:
            self.statusBar().showMessage("No further beat of this class.", 4000)
        else:
            self._selected_beat = found.id
        return found

    @staticmethod
    def _read_sample_titles() -> dict[str, str]:
        from ecgstation.resources import ResourceError, list_samples

        try:
            return {sample.path.name: sample.title for sample in list_samples()}
        except ResourceError as err:
            logger.info("no sample titles: %s", err)
            return {}

    # -- lists ----------------------------------------------------------------------------------

    def selected_patient(self) -> int | None:
        """Id of the selected patient, ``UNASSIGNED`` (-1) for the recordings without one, None when nothing is."""
        item = self.patient_list.currentItem()
        return None if item is None else int(item.data(ID_ROLE))

    def refresh_patients(self) -> None:
        """Fill the patient list from the database (search text applied), keeping the selection where possible."""
        previous = self.selected_patient()
        text = self.patient_search.text().strip() if self.patient_search.isEnabled() else ""
        try:
            with self.session.db.reader(self.session.actor) as store:
                patients = store.patients.search(text)
        except EcgStationError as err:
            self.show_error(str(err))
            return
        self.patient_list.blockSignals(True)
        try:
            self.patient_list.clear()
            if not text:
                item = QListWidgetItem(UNASSIGNED_TITLE)
                item.setData(ID_ROLE, UNASSIGNED)
                item.setToolTip("Recordings stored without a patient, among them the bundled sample records")
                self.patient_list.addItem(item)
            for patient in patients:
                item = QListWidgetItem(patient.display_name)
                item.setData(ID_ROLE, patient.id)
                details = [f"sex {patient.sex}"]
                if patient.age_years is not None:
                    details.append(f"{patient.age_years} years")
                if patient.birth_date is not None:
                    details.append(f"born {patient.birth_date.isoformat()}")
                item.setToolTip(", ".join(details))
                self.patient_list.addItem(item)
            row = self._row_of(self.patient_list, previous)
            if row is None and self.patient_list.count():
                row = 0
        finally:
            self.patient_list.blockSignals(False)
        if row is None:
            self.recording_list.clear()
            self.statusBar().showMessage(f"No patient matches “{text}”." if text else "No patients yet.", 5000)
            return
        if row == self.patient_list.currentRow() and previous is not None:
            self.refresh_recordings()
        else:
            self.patient_list.setCurrentRow(row)

    @staticmethod
    def _row_of(widget: QListWidget, wanted: int | None) -> int | None:
        if wanted is None:
            return None
        for row in range(widget.count()):
            if int(widget.item(row).data(ID_ROLE)) == wanted:
                return row
        return None

    def patient_ids(self) -> list[int]:
        """The ids in the patient list, top to bottom (``UNASSIGNED`` for the unassigned entry)."""
        return [int(self.patient_list.item(r).data(ID_ROLE)) for r in range(self.patient_list.count())]

    def patient_names(self) -> list[str]:
        """The texts of the patient list, top to bottom."""
        return [self.patient_list.item(r).text() for r in range(self.patient_list.count())]

    def recording_ids(self) -> list[int]:
        """The ids in the recording list, top to bottom."""
        return [int(self.recording_list.item(r).data(ID_ROLE)) for r in range(self.recording_list.count())]

    def _recording_title(self, view: RecordingView) -> str:
        name = view.source_name
        if name is None:
            return f"Recording #{view.id}"
        title = self._sample_titles.get(name)
        return f"{title} ({name})" if title and view.patient_id is None else name

    def refresh_recordings(self, select: int | None = None) -> None:
        """List the recordings of the selected patient; ``select`` (or the current one) stays selected."""
        patient = self.selected_patient()
        current = self.recording_list.currentItem()
        wanted = select if select is not None else (None if current is None else int(current.data(ID_ROLE)))
        if patient is None:
            self.recording_list.clear()
            return
        try:
            with self.session.db.reader(self.session.actor) as store:
                views = store.recordings.for_patient(None if patient == UNASSIGNED else patient)
        except EcgStationError as err:
            self.show_error(str(err))
            return
        self.recording_list.blockSignals(True)
        try:
            self.recording_list.clear()
            for view in views:
                item = QListWidgetItem(self._recording_title(view))
                item.setData(ID_ROLE, view.id)
                when = f", recorded {view.acquired_at:%Y-%m-%d %H:%M}" if view.acquired_at else ""
                item.setToolTip(
                    f"#{view.id}: {view.n_leads} leads ({', '.join(view.lead_names)}), {view.fs:g} Hz, "
                    f"{format_duration(view.duration_s)}{when}"
                )
                self.recording_list.addItem(item)
            row = self._row_of(self.recording_list, wanted)
        finally:
            self.recording_list.blockSignals(False)
        if row is not None:
            self.recording_list.blockSignals(True)
            self.recording_list.setCurrentRow(row)
            self.recording_list.blockSignals(False)
            if wanted != self.recording_id:
                self.open_recording(int(wanted))
        elif self.recording_list.count():
            self.recording_list.setCurrentRow(0)
        else:
            self.clear_recording()

    def reveal_recording(self, recording_id: int) -> None:
        """Select the patient of ``recording_id`` and the recording itself (which opens it)."""
        try:
            with self.session.db.reader(self.session.actor) as store:
                view = store.recordings.get(recording_id)
        except EcgStationError as err:
            self.show_error(str(err))
            return
        patient = UNASSIGNED if view.patient_id is None else view.patient_id
        if self._row_of(self.patient_list, patient) is None and self.patient_search.text():
            self.patient_search.blockSignals(True)
            self.patient_search.clear()
            self.patient_search.blockSignals(False)
            self.refresh_patients()
        row = self._row_of(self.patient_list, patient)
        if row is None:
            self.open_recording(recording_id)
            return
        if row != self.patient_list.currentRow():
            self.patient_list.blockSignals(True)
            self.patient_list.setCurrentRow(row)
            self.patient_list.blockSignals(False)
        self.refresh_recordings(select=recording_id)

    def _on_patient_changed(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if current is not None:
            self.refresh_recordings()

    def _on_recording_changed(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if current is None:
            return
        self._pending_open = int(current.data(ID_ROLE))
        self._open_timer.start()

    def _open_pending(self) -> None:
        if self._pending_open is not None:
            wanted, self._pending_open = self._pending_open, None
            self.open_recording(wanted)

    # -- opening a recording --------------------------------------------------------------------

    def open_recording(self, recording_id: int) -> None:
        """Load recording ``recording_id`` off the GUI thread; :meth:`show_recording` follows, then the analysis."""
        self._token += 1
        self._open_timer.stop()
        self._pending_open = None
        self.measurements.set_busy("Loading…")
        self.recording_label.setText(f"Opening recording #{recording_id}…")
        job = _LoadJob(self._token, self.session, recording_id, self.preferences.mains_hz, self._load_signals,
                       lambda token: token == self._token)  # fmt: skip
        self._pool.start(job)

    def _on_loaded(self, token: int, loaded: LoadedRecording) -> None:
        if token != self._token or self._closed:
            return
        self.recording_view = loaded.view
        self.findings = list(loaded.findings)
        self.show_recording(loaded.recording, loaded.recording_id, choose_beats(loaded.beats))
        self.measurements.set_findings(self.findings, self.session.can(Permission.CONFIRM_FINDINGS))
        self.workspace.set_findings(self.findings)
        self.findingsChanged.emit(list(self.findings))
        self.measurements.set_busy("Analysing…")

    def _on_analysed(self, token: int, recording_id: int, result: AnalysisResult | None, note: str) -> None:
        if token != self._token or self._closed or recording_id != self.recording_id:
            return
        self.analysis = result
        self.measurements.set_result(result, note)
        self.analysisReady.emit(result)

    def _on_load_failed(self, token: int, message: str) -> None:
        if token != self._token or self._closed:
            return
        self.measurements.set_result(None, "The recording could not be opened.")
        shown = self.recording_label.toolTip() if self.recording_id is not None else ""
        self.recording_label.setText(shown or "No recording open")
        self.show_error(message)

    def show_recording(self, recording: Recording, recording_id: int, beats: Sequence[BeatView]) -> None:
        """Put ``recording`` (database id ``recording_id``) with ``beats`` on screen.

        The hook for the trace viewer and Holter widgets: extend it to hand them the recording
        and beats. It makes a :class:`BeatEditor` for the recording (its edits arrive through
        ``beatChanged``), draws the preview, updates the status bar and emits ``recordingShown``.
        """
        self.recording = recording
        self.recording_id = recording_id
        self.beats = list(beats)
        self.analysis = None
        self._selected_beat = None
        self._set_editor(BeatEditor(self.session, recording_id, self.beats, fs=recording.fs, parent=self))
        self.workspace.set_editor(self.beat_editor)
        self.workspace.set_recording(recording, self.beats)
        self.viewer_area.setCurrentWidget(self.workspace)
        view = self.recording_view if self.recording_view and self.recording_view.id == recording_id else None
        name = self._recording_title(view) if view else f"Recording #{recording_id}"
        text = (
            f"{name}: {recording.fs:g} Hz · {recording.n_leads} leads · {format_duration(recording.duration_s)} · "
            f"{len(self.beats)} beats"
        )
        self.recording_label.setText(text)
        self.recording_label.setToolTip(text)
        self.setWindowTitle(f"{name} — {APP_TITLE}")
        self.recordingShown.emit(recording_id)

    def clear_recording(self) -> None:
        """Take the recording off screen (e.g. a patient without recordings is selected); hook like show_recording."""
        self._token += 1
        self.recording = None
        self.recording_id = None
        self.recording_view = None
        self.beats = []
        self.findings = []
        self.analysis = None
        self._selected_beat = None
        self._set_editor(None)
        self.workspace.set_editor(None)
        self.viewer_area.setCurrentWidget(self.empty_note)
        self.measurements.set_result(None, "No recording open.")
        self.measurements.set_findings([], False)
        self.recording_label.setText("No recording open")
        self.setWindowTitle(APP_TITLE)
        self.recordingShown.emit(-1)

    def _set_editor(self, editor: BeatEditor | None) -> None:
        old = self.beat_editor
        if old is not None:
            self.undo_group.removeStack(old.undo_stack)
            old.deleteLater()
        self.beat_editor = editor
        if editor is not None:
            editor.beatChanged.connect(self._on_beat_changed)
            editor.beatsChanged.connect(self._on_beats_changed)
            editor.editFailed.connect(self.show_error)
            self.undo_group.addStack(editor.undo_stack)
            self.undo_group.setActiveStack(editor.undo_stack)

    def _on_beats_changed(self, views: list[BeatView]) -> None:
        merged = {b.id: b for b in self.beats}
        for view in views:
            merged[view.id] = view
        self.beats = sorted(merged.values(), key=lambda b: (b.sample, b.id))
        self.beatsChanged.emit(list(views))

    def _on_beat_changed(self, view: BeatView) -> None:
        for index, beat in enumerate(self.beats):
            if beat.id == view.id:
                self.beats[index] = view
                break
        else:
            self.beats.append(view)
            self.beats.sort(key=lambda b: (b.sample, b.id))
        self.beatChanged.emit(view)

    def _apply_to_viewer(self, prefs: ViewerPreferences) -> None:
        """Follow the preferences on the viewer: paper speed and gain, layout, filters, screen calibration."""
        self.viewer.set_paper(prefs.paper)
        self.viewer.set_layout(Layout(prefs.layout))
        self.viewer.set_filters_enabled(prefs.filters_on)
        self.viewer.set_calibration(prefs.screen_calibration)
        self.viewer.set_units(prefs.units)
        self._show_paper_settings()

    def _enable_edit_actions(self) -> None:
        """Beat edits only for roles that may make them (the actions say why in their tooltip otherwise)."""
        can = self.session.can(Permission.EDIT_BEATS)
        for action in (*self.relabel_actions.values(), self.delete_beat_action):
            action.setEnabled(can)
            if not can:
                action.setToolTip(f"{self.session.actor.role.value.capitalize()}s cannot edit beats.")
        self.workspace.templates.setEnabled(True)

    def _show_paper_settings(self) -> None:
        """The paper settings in the status bar, as on a printed strip."""
        prefs = self.preferences
        filters = "filters 0.5–40 Hz" if prefs.filters_on else "no filters"
        self.paper_label.setText(f"{prefs.paper_speed_mm_s:g} mm/s · {prefs.gain_mm_mv:g} mm/mV · {filters}")

    def _open_finding(self, finding: FindingView) -> None:
        """Show the strip of a finding that has a time span (double-click in the findings list)."""
        if finding.start_s is None or self.recording is None:
            self.statusBar().showMessage("This finding has no time in the recording.", 4000)
            return
        self.viewer.scroll_to(max(0.0, finding.start_s - 1.0))

    def _on_time_double_clicked(self, t_s: float) -> None:
        """A double click on the ECG adds a beat there (cardiologists; undoable)."""
        if self.recording is None or self.beat_editor is None or not self.beat_editor.can_edit:
            return
        self.add_beat(round(t_s * self.recording.fs), "N")

    # -- beat editing ---------------------------------------------------------------------------

    def select_beat(self, beat_id: int | None) -> None:
        """Make ``beat_id`` the beat Edit → Relabel / Delete act on; it is selected in the viewer too."""
        self._selected_beat = beat_id
        if beat_id is not None:
            try:
                self.viewer.select_beat(beat_id)
            except KeyError:  # not among the beats drawn (e.g. the other annotation set)
                pass

    def selected_beat_id(self) -> int | None:
        """The beat the edit actions act on: ``selected_beat_provider()`` if set, else :meth:`select_beat`'s."""
        if self.selected_beat_provider is not None:
            chosen = self.selected_beat_provider()
            if chosen is None:
                return None
            return int(getattr(chosen, "id", chosen))
        return self._selected_beat

    def relabel_selected(self, label: str) -> bool:
        """Relabel the selected beat (undoable); False with a status message when nothing is selected or refused."""
        beat_id = self._editable_beat()
        return beat_id is not None and self.beat_editor is not None and self.beat_editor.relabel(beat_id, label)

    def delete_selected(self) -> bool:
        """Delete the selected beat (undoable)."""
        beat_id = self._editable_beat()
        return beat_id is not None and self.beat_editor is not None and self.beat_editor.delete(beat_id)

    def add_beat(self, sample: int, label: str = "N") -> BeatView | None:
        """Add a beat at ``sample`` of the recording on screen (undoable); its view, or None."""
        if self.beat_editor is None:
            self.statusBar().showMessage("Open a recording first.", 4000)
            return None
        return self.beat_editor.add(sample, label)

    def _editable_beat(self) -> int | None:
        if self.beat_editor is None:
            self.statusBar().showMessage("Open a recording first.", 4000)
            return None
        beat_id = self.selected_beat_id()
        if beat_id is None:
            self.statusBar().showMessage("Select a beat first (click it in the ECG).", 4000)
        return beat_id

    # -- findings -------------------------------------------------------------------------------

    def review_finding(self, finding_id: int, decision: str, version: int) -> bool:
        """Store a cardiologist's review ("confirmed" / "rejected") of a finding; True when stored."""
        with traced(f"review finding #{finding_id}") as trace_id:
            try:
                with self.session.db.session(self.session.actor) as store:
                    store.findings.review(finding_id, decision, version)
                ok = True
            except ConcurrentEditError as err:
                self.show_error(str(err))
                ok = False
            except EcgStationError as err:
                self.show_error(str(err))
                return False
            except Exception:
                logger.exception("internal error while reviewing finding #%d", finding_id)
                self.show_error(f"The review could not be stored because of an internal error (trace {trace_id}).")
                return False
        self.reload_findings()
        if ok:
            self.statusBar().showMessage(f"Finding #{finding_id} {decision}.", 5000)
        return ok

    def reload_findings(self) -> None:
        """Read the findings of the recording on screen again."""
        if self.recording_id is None:
            return
        try:
            with self.session.db.reader(self.session.actor) as store:
                self.findings = store.findings.for_recording(self.recording_id)
        except EcgStationError as err:
            self.show_error(str(err))
            return
        self.measurements.set_findings(self.findings, self.session.can(Permission.CONFIRM_FINDINGS))
        self.workspace.set_findings(self.findings)
        self.findingsChanged.emit(list(self.findings))

    # -- import ---------------------------------------------------------------------------------

    def import_running(self) -> bool:
        """Whether an import is running."""
        return self._import_worker is not None

    def import_files(
        self,
        paths: Sequence[str | Path],
        *,
        open_last: bool = True,
        remember: bool = True,
        title: str = "Importing",
        into_selected_patient: bool = True,
    ) -> ImportWorker | None:
        """Import ``paths`` on a worker thread with a progress dialog (Cancel rolls the current file back).

        Files go to the selected patient (none when "Unassigned / samples" is selected). When
        done: ``importFinished(outcomes)``, failures in a message box, the lists refreshed, the
        last recording imported (or found already stored) opened when ``open_last``, and the
        files remembered under File → Recent files when ``remember``.
        """
        files = import_candidates(paths)
        if not files:
            return None
        if self._import_worker is not None:
            self.show_error("An import is running; wait for it or cancel it before starting another.")
            return None
        patient_mrn: str | None = None
        target = UNASSIGNED_TITLE
        patient = self.selected_patient()
        if into_selected_patient and patient not in (None, UNASSIGNED):
            item = self.patient_list.currentItem()
            try:
                with self.session.db.reader(self.session.actor) as store:
                    patient_mrn = store.patients.get(int(patient)).mrn
            except EcgStationError as err:
                self.show_error(str(err))
                return None
            target = item.text() if item is not None else target
        worker = ImportWorker(
            self.session.db, self.session.actor, files, patient_mrn=patient_mrn,
            analyze=AnalysisSettings(mains_hz=self.preferences.mains_hz), analyzer=self.session.analyzer(),
        )  # fmt: skip
        self._import_worker = worker
        self._import_options = {"open_last": open_last, "remember": remember, "done": 0, "total": len(files)}
        dialog = QProgressDialog(f"{title} into {target}…", "Cancel", 0, len(files) * PROGRESS_STEPS, self)
        dialog.setObjectName("importProgress")
        dialog.setWindowTitle(title)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setValue(0)
        # Not worker.cancel: the worker lives on its busy thread, a queued call would arrive after the import.
        dialog.canceled.connect(self.cancel_import)
        self._import_progress = dialog
        self._import_title = f"{title} into {target}"
        worker.progress.connect(self._on_import_progress)
        worker.fileProgress.connect(self._on_import_file_progress)
        worker.finished.connect(self._on_import_finished)
        worker.start()
        return worker

    def cancel_import(self) -> None:
        """Cancel the running import (the file being stored is rolled back)."""
        if self._import_worker is not None:
            self._import_worker.cancel()

    def _on_import_progress(self, done: int, total: int, current: str) -> None:
        self._import_options["done"] = done
        dialog = self._import_progress
        if dialog is None:
            return
        dialog.setValue(min(done * PROGRESS_STEPS, dialog.maximum()))
        if current:
            dialog.setLabelText(f"{self._import_title}: file {done + 1} of {total}, {current}…")
            self.statusBar().showMessage(f"Importing {current} ({done + 1} of {total})…")

    def _on_import_file_progress(self, step: int) -> None:
        dialog = self._import_progress
        if dialog is not None:
            dialog.setValue(min(int(self._import_options.get("done", 0)) * PROGRESS_STEPS + step, dialog.maximum()))

    def _on_import_finished(self, outcomes: list[ImportOutcome]) -> None:
        worker, self._import_worker = self._import_worker, None
        if worker is not None:
            worker.wait()
        dialog, self._import_progress = self._import_progress, None
        if dialog is not None:
            dialog.canceled.disconnect()
            dialog.close()
            dialog.deleteLater()
        options = self._import_options
        counts = {status: sum(o.status == status for o in outcomes) for status in ("imported", "duplicate", "failed",
                                                                                   "cancelled")}  # fmt: skip
        summary = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
        note = ""
        if self.session.bootstrapped and not self._bootstrap_noted:
            self._bootstrap_noted = True
            note = f" New database: {self.session.actor.username} is its administrator (see Help → About)."
        self.statusBar().showMessage(f"Import finished: {summary or 'nothing to do'}.{note}", 20_000)
        if options.get("remember", True):
            for outcome in outcomes:
                if outcome.status in ("imported", "duplicate"):
                    remember_recent_file(outcome.path)
            self._rebuild_recent_menu()
        failed = [o.message for o in outcomes if o.status == "failed"]
        opened = [o.recording_id for o in outcomes if o.recording_id is not None]
        if self._closed:
            return
        self.refresh_patients()
        if opened and options.get("open_last", True):
            self.reveal_recording(opened[-1])
        if failed:
            self.show_error("Some files were not imported:\n\n" + "\n\n".join(failed))
        self.importFinished.emit(list(outcomes))

    def _ask_open_paths(self) -> list[str]:
        start = ""
        recent = recent_files()
        if recent:
            start = str(Path(recent[0]).parent)
        paths, _selected = QFileDialog.getOpenFileNames(self, "Open / import ECG files", start, _OPEN_FILTERS)
        return list(paths)

    def _on_open(self) -> None:
        paths = self._ask_open_paths()
        if paths:
            self.import_files(paths)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept local files dragged onto the window."""
        mime = event.mimeData()
        if mime.hasUrls() and any(url.isLocalFile() for url in mime.urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        """Import the files dropped onto the window."""
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        patient = self.selected_patient()
        if patient in (None, UNASSIGNED):
            self.import_files(paths)
            return
        # A drop lands on whichever patient happens to be selected: ask, so no ECG is filed under the wrong one.
        name = self.patient_list.currentItem().text()
        box = QMessageBox(QMessageBox.Icon.Question, APP_TITLE,
                          f"Import {len(paths)} dropped file(s) into the record of {name}?", parent=self)  # fmt: skip
        box.setObjectName("dropConfirmBox")
        into = box.addButton(f"Import for {name}", QMessageBox.ButtonRole.AcceptRole)
        unassigned = box.addButton("Import unassigned", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Cancel)

        def chosen() -> None:
            clicked = box.clickedButton()
            if clicked is into:
                self.import_files(paths)
            elif clicked is unassigned:
                self.import_files(paths, into_selected_patient=False)
            box.deleteLater()

        box.finished.connect(chosen)
        self.drop_confirm_box = box
        box.open()

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = recent_files()
        for index, path in enumerate(files, start=1):
            action = self.recent_menu.addAction(f"&{index % 10} {Path(path).name}")
            action.setToolTip(path)
            action.setData(path)
            action.triggered.connect(lambda _c=False, p=path: self.import_files([p]))
        if not files:
            empty = self.recent_menu.addAction("(none)")
            empty.setEnabled(False)
        self.recent_menu.addSeparator()
        clear = self.recent_menu.addAction("&Clear the list")
        clear.setEnabled(bool(files))
        clear.triggered.connect(self._clear_recent)

    def _clear_recent(self) -> None:
        set_recent_files([])
        self._rebuild_recent_menu()

    def recent_file_actions(self) -> list[QAction]:
        """The actions of File → Recent files that open a file (top = newest)."""
        self._rebuild_recent_menu()
        return [a for a in self.recent_menu.actions() if a.data()]

    # -- preferences ----------------------------------------------------------------------------

    def open_settings(self) -> SettingsDialog:
        """Show the settings dialog (non-blocking); OK applies the new preferences."""
        if self.settings_dialog is not None:
            self.settings_dialog.deleteLater()
        dialog = SettingsDialog(self.preferences, self)
        dialog.preferencesAccepted.connect(self.set_preferences)
        self.settings_dialog = dialog
        dialog.open()
        return dialog

    def set_preferences(self, preferences: ViewerPreferences) -> None:
        """Adopt, store and announce (``preferencesChanged``) new preferences."""
        theme_changed = preferences.theme != self.preferences.theme
        self.preferences = preferences
        save_preferences(preferences)
        if theme_changed:
            apply_theme(preferences.theme)
        self._sync_view_actions()
        self.preferencesChanged.emit(preferences)

    def _change(self, **changes: Any) -> None:
        self.set_preferences(self.preferences.with_changes(**changes))

    def _on_filters_toggled(self, checked: bool) -> None:
        self._change(filters_on=bool(checked))

    def _sync_view_actions(self) -> None:
        prefs = self.preferences
        for mapping, value in (
            (self.layout_actions, prefs.layout),
            (self.speed_actions, prefs.paper_speed_mm_s),
            (self.gain_actions, prefs.gain_mm_mv),
        ):
            for key, action in mapping.items():
                action.setChecked(key == value)
        self.filters_action.setChecked(prefs.filters_on)

    # -- misc -----------------------------------------------------------------------------------

    def _focus_search(self) -> None:
        self.patient_search.setFocus()
        self.patient_search.selectAll()

    def shortcut_list(self) -> list[tuple[str, str]]:
        """(action, shortcut) of every action with a shortcut, for Help → Keyboard shortcuts."""
        out = []
        for action in self.findChildren(QAction):
            keys = action.shortcut()
            if not keys.isEmpty():
                name = action.text().replace("&", "").rstrip("…")
                out.append((name, keys.toString(QKeySequence.SequenceFormat.NativeText)))
        return sorted(set(out), key=lambda t: t[0].lower())

    def _show_shortcuts(self) -> None:
        self.shortcuts_box.setText("\n".join(f"{keys}\t{name}" for name, keys in self.shortcut_list()))
        self.shortcuts_box.open()

    def show_error(self, message: str) -> None:
        """Show ``message`` (a user-facing text, never a traceback) in a warning box without blocking."""
        if self.error_box.isVisible() and message not in self.error_box.text():
            message = f"{self.error_box.text()}\n\n{message}"
        self.error_box.setText(message)
        self.error_box.open()

    def shutdown(self) -> None:
        """Cancel the import, wait for the worker threads, close an own database session."""
        if self._closed:
            return
        self._closed = True
        self._token += 1
        worker = self._import_worker
        if worker is not None:
            worker.cancel()
            worker.wait()
        self._pool.waitForDone(30_000)
        if self._owns_session:
            self.session.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop the background work before the window goes."""
        self.shutdown()
        super().closeEvent(event)
