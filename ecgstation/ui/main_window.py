"""The main window: bundled samples on the left, the first seconds of the open record on the right."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QWidget,
)

from ecgstation import __version__
from ecgstation.core.errors import EcgStationError
from ecgstation.resources import ResourceError, Sample, list_samples
from ecgstation.tracing import traced

if TYPE_CHECKING:
    from ecgstation.core.recording import Recording

__all__ = ["APP_TITLE", "PREVIEW_S", "MainWindow", "about_text", "format_duration", "lead_spacing_mv"]

logger = logging.getLogger(__name__)

#: Window title.
APP_TITLE = "ECG Station"

#: Length of the record shown after opening it, in seconds.
PREVIEW_S = 10.0

#: Smallest vertical distance between two stacked leads, in mV.
MIN_LEAD_SPACING_MV = 1.5

#: Role under which a sample list item keeps its sample id.
SAMPLE_ID_ROLE = Qt.ItemDataRole.UserRole

_OPEN_FILTERS = "All files (*);;WFDB headers (*.hea)"


def format_duration(seconds: float) -> str:
    """``seconds`` as text: ``"10.0 s"`` below a minute, ``"30 min 5.6 s"`` up to an hour, else ``"h:mm:ss"``."""
    if seconds < 60.0:
        return f"{seconds:.1f} s"
    if seconds < 3600.0:
        minutes, rest = divmod(seconds, 60.0)
        return f"{int(minutes)} min {rest:.1f} s"
    total = int(round(seconds))
    hours, rest_s = divmod(total, 3600)
    minutes_i, secs = divmod(rest_s, 60)
    return f"{hours}:{minutes_i:02d}:{secs:02d}"


def lead_spacing_mv(signals: np.ndarray) -> float:
    """Vertical distance in mV between stacked leads of ``signals`` (leads, samples) in mV.

    1.1 times the median over leads of the robust (0.1-99.9 percentile) amplitude
    range, rounded up to 0.5 mV, and at least ``MIN_LEAD_SPACING_MV``.
    """
    if signals.size == 0:
        return MIN_LEAD_SPACING_MV
    with np.errstate(all="ignore"):
        low = np.nanpercentile(signals, 0.1, axis=1)
        high = np.nanpercentile(signals, 99.9, axis=1)
    ranges = high - low
    ranges = ranges[np.isfinite(ranges)]
    if ranges.size == 0:
        return MIN_LEAD_SPACING_MV
    spacing = 1.1 * float(np.median(ranges))
    return max(MIN_LEAD_SPACING_MV, float(np.ceil(spacing * 2.0) / 2.0))


def _extent_mv(trace: np.ndarray, spacing: float) -> tuple[float, float]:
    """Lowest and highest finite value of ``trace`` (mV), each kept within 2 ``spacing`` of 0."""
    finite = trace[np.isfinite(trace)]
    if finite.size == 0:
        return -0.5 * spacing, 0.5 * spacing
    low = max(float(finite.min()), -2.0 * spacing)
    high = min(float(finite.max()), 2.0 * spacing)
    return min(low, -0.5 * spacing), max(high, 0.5 * spacing)


def about_text() -> str:
    """The text of Help → About."""
    return (
        f"ECG Station {__version__}\n\n"
        "An offline ECG workstation: import, view, analyse, store and report ECG recordings.\n\n"
        "Automated measurements and findings are an aid only: every ECG must be reviewed "
        "by a qualified physician before any clinical decision.\n\n"
        "Bundled samples: MIT-BIH Arrhythmia Database (ODC-By 1.0) and PTB-XL (CC BY 4.0), "
        "from PhysioNet; see resources/samples/ATTRIBUTION.md.\n\n"
        "Licence: GPL-3.0-or-later."
    )


class MainWindow(QMainWindow):
    """ECG Station's main window.

    ``samples`` are the entries of the sample list; ``None`` reads the bundled
    catalogue (an empty list, with a note in the status bar, when it is missing).
    The first sample is selected and shown at once, so the window never starts
    blank when samples exist.
    """

    def __init__(self, samples: Sequence[Sample] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(APP_TITLE)
        self.resize(1200, 760)
        #: The record on screen, or None.
        self.recording: Recording | None = None
        self._curves: list[pg.PlotDataItem] = []
        self._samples: dict[str, Sample] = {}
        self._samples_folder: Path | None = None

        self.sample_list = QListWidget(self)
        self.sample_list.setObjectName("sampleList")
        self.sample_list.setMinimumWidth(200)
        self.plot_widget = pg.PlotWidget(self, background="w")
        self.plot_widget.setObjectName("tracePlot")
        self._setup_plot()

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.sample_list)
        splitter.addWidget(self.plot_widget)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([240, 960])
        self.setCentralWidget(splitter)

        self.error_box = QMessageBox(QMessageBox.Icon.Warning, APP_TITLE, "", QMessageBox.StandardButton.Ok, self)
        self.error_box.setObjectName("errorBox")
        self.about_box = QMessageBox(QMessageBox.Icon.Information, f"About {APP_TITLE}", about_text(),
                                     QMessageBox.StandardButton.Ok, self)
        self.about_box.setObjectName("aboutBox")

        self._create_actions()
        self._create_menus()
        self._fill_samples(samples)
        self.sample_list.currentItemChanged.connect(self._on_current_item_changed)
        if self.sample_list.count():
            self.sample_list.setCurrentRow(0)
        elif not self.statusBar().currentMessage():
            self.statusBar().showMessage("Choose a sample on the left, or File → Open…")

    # -- construction -------------------------------------------------------------

    def _setup_plot(self) -> None:
        item = self.plot_widget.getPlotItem()
        item.setLabel("bottom", "Time", units="s")
        item.showGrid(x=True, y=False, alpha=0.25)
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setClipToView(True)
        item.setDownsampling(auto=True, mode="peak")
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setPen("k")
            axis.setTextPen("k")

    def _create_actions(self) -> None:
        self.open_action = QAction("&Open…", self)
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self._on_open)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.close)
        self.about_action = QAction(f"&About {APP_TITLE}", self)
        self.about_action.triggered.connect(self.about_box.open)

    def _create_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.open_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(self.about_action)

    def _fill_samples(self, samples: Sequence[Sample] | None) -> None:
        if samples is None:
            try:
                samples = list_samples()
            except ResourceError as exc:
                logger.warning("no bundled samples: %s", exc)
                self.statusBar().showMessage(str(exc))
                samples = ()
        for sample in samples:
            self._samples[sample.id] = sample
            item = QListWidgetItem(sample.title)
            item.setData(SAMPLE_ID_ROLE, sample.id)
            item.setToolTip(
                f"{sample.description}\n{sample.n_leads} leads, {sample.fs_hz:g} Hz, "
                f"{format_duration(sample.duration_s)}\n{sample.source} ({sample.licence})"
            )
            self.sample_list.addItem(item)
            self._samples_folder = sample.path.parent

    # -- public API -----------------------------------------------------------------

    def sample_ids(self) -> list[str]:
        """Ids of the samples in the list, top to bottom."""
        return [str(self.sample_list.item(i).data(SAMPLE_ID_ROLE)) for i in range(self.sample_list.count())]

    def select_sample(self, sample_id: str) -> None:
        """Select the sample ``sample_id`` in the list, which opens it; KeyError if absent."""
        for row in range(self.sample_list.count()):
            if self.sample_list.item(row).data(SAMPLE_ID_ROLE) == sample_id:
                self.sample_list.setCurrentRow(row)
                return
        raise KeyError(sample_id)

    def load_path(self, path: str | Path) -> bool:
        """Read the ECG at ``path`` and show it; on failure show the reason and return False."""
        from ecgstation.io import read_recording  # the io layer loads only when a file is opened

        with traced(f"open {path}") as trace_id:
            try:
                recording = read_recording(path)
            except EcgStationError as exc:
                logger.info("cannot open %s: %s", path, exc)
                self.show_error(str(exc))
                return False
            except Exception:  # a bug, not the file: log the trace, show no trace
                logger.exception("unexpected error while opening %s", path)
                self.show_error(
                    f"ECG Station could not open {Path(path).name} because of an internal error "
                    f"(trace {trace_id}). The details are in the log; please report them."
                )
                return False
            self.show_recording(recording, name=Path(path).name)
            return True

    def show_recording(self, recording: Recording, name: str | None = None) -> None:
        """Draw the first ``PREVIEW_S`` seconds of every lead, stacked top to bottom."""
        self.recording = recording
        item = self.plot_widget.getPlotItem()
        item.clear()
        self._curves = []
        window = np.asarray(recording.window(0.0, PREVIEW_S), dtype=np.float32)
        with np.errstate(all="ignore"):
            centred = window - np.nan_to_num(np.nanmedian(window, axis=1, keepdims=True))
        spacing = lead_spacing_mv(centred)
        t_s = np.arange(window.shape[1], dtype=np.float64) / recording.fs
        pen = pg.mkPen(color=(20, 20, 20), width=1)
        ticks: list[tuple[float, str]] = []
        for index, lead_name in enumerate(recording.lead_names):
            offset = -index * spacing
            curve = item.plot(t_s, centred[index] + offset, pen=pen, connect="finite", name=lead_name)
            self._curves.append(curve)
            ticks.append((offset, lead_name))
        item.getAxis("left").setTicks([ticks, []])
        item.setXRange(0.0, max(float(t_s[-1]) if t_s.size else 0.0, 1e-3), padding=0.01)
        _low, top = _extent_mv(centred[0], spacing)
        bottom, _high = _extent_mv(centred[-1], spacing)
        item.setYRange(bottom - (recording.n_leads - 1) * spacing, top, padding=0.03)
        shown = min(PREVIEW_S, recording.duration_s)
        label = name or (Path(recording.source_path).name if recording.source_path else "recording")
        self.statusBar().showMessage(
            f"{label}: {recording.fs:g} Hz · {recording.n_leads} leads · "
            f"{format_duration(recording.duration_s)} (showing the first {shown:.1f} s; "
            f"{spacing:g} mV between leads)"
        )

    def curves(self) -> list[pg.PlotDataItem]:
        """The plotted traces, one per lead of the record on screen."""
        return list(self._curves)

    def show_error(self, message: str) -> None:
        """Show ``message`` in a warning box without blocking."""
        self.error_box.setText(message)
        self.error_box.open()

    # -- slots ----------------------------------------------------------------------

    def _on_current_item_changed(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if current is None:
            return
        sample = self._samples.get(str(current.data(SAMPLE_ID_ROLE)))
        if sample is not None:
            self.load_path(sample.path)

    def _ask_open_path(self) -> str:
        start = str(self._samples_folder) if self._samples_folder else ""
        path, _selected = QFileDialog.getOpenFileName(self, "Open ECG", start, _OPEN_FILTERS)
        return path

    def _on_open(self) -> None:
        path = self._ask_open_path()
        if not path:
            return
        if self.load_path(path):
            self.sample_list.blockSignals(True)
            self.sample_list.setCurrentRow(-1)
            self.sample_list.blockSignals(False)
