"""True-scale ECG viewer: leads drawn on ECG paper at the screen's physical size, with beats and calipers.

The scene is one pyqtgraph ViewBox whose unit is the paper millimetre (aspect locked 1:1,
mouse pan/zoom off). The screen maps millimetres to pixels with its DPI, a calibration
factor and the user's zoom (:meth:`EcgViewer.px_per_mm`); time maps to millimetres by the
paper speed and millivolts by the gain (:class:`~ecgstation.ui.paper_layout.PaperSettings`),
both user settings. The signal is taken in mV from the :class:`~ecgstation.core.recording.Recording`,
whose importer already applied each lead's own ADC gain, baseline and unit, so 1 mV is
``gain_mm_mv`` mm high whatever the source file stored.

A *page* is what fits the view's width; the paper x axis is page-relative (x = 0 is the
view's left edge), so scrolling changes the data drawn, never the view range. Only the page
(plus a margin for the optional zero-phase filters) is read, reduced to about two points
per pixel column (:func:`~ecgstation.ui.paper_layout.minmax_columns`) and handed to the same
plot items; only the beats on the page get a label.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import QEvent, QLineF, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QKeyEvent, QPainter, QPainterPath, QPen, QShowEvent, QWheelEvent
from PySide6.QtWidgets import (
    QGraphicsObject,
    QGraphicsPathItem,
    QGridLayout,
    QScrollBar,
    QStyleOptionGraphicsItem,
    QWidget,
)

from ecgstation.core.filters import lowpass, remove_baseline
from ecgstation.core.recording import Recording
from ecgstation.storage.views import BeatView
from ecgstation.ui.calipers import READOUT_UNITS, AmplitudeCaliper, PageGeometry, TimeCaliper
from ecgstation.ui.paper_layout import (
    CAL_PULSE_MARGIN_MM,
    Layout,
    Panel,
    PaperSettings,
    layout_panels,
    minmax_columns,
)
from ecgstation.ui.paper_layout import px_per_mm as paper_px_per_mm

__all__ = [
    "BASELINE_CUTOFF_HZ",
    "DEFAULT_DPI",
    "LOWPASS_CUTOFF_HZ",
    "ZOOM_MAX",
    "ZOOM_MIN",
    "EcgViewer",
    "PaperGrid",
    "beat_colour",
    "is_human_label",
    "screen_dpi",
]

#: DPI assumed when the screen reports none.
DEFAULT_DPI = 96.0
#: Zoom limits (magnification over true scale).
ZOOM_MIN, ZOOM_MAX = 0.5, 8.0
#: Zoom factor of one wheel notch or one +/- key press.
ZOOM_STEP = 1.25
#: Display filters: zero-phase baseline removal (Hz) and zero-phase low-pass (Hz).
BASELINE_CUTOFF_HZ = 0.5
LOWPASS_CUTOFF_HZ = 40.0
#: Signal read on each side of the page when filtering, in s (the filters' transients settle in it).
FILTER_MARGIN_S = 3.0
#: 1 mm grid lines are skipped when closer than this, in px.
MIN_GRID_SPACING_PX = 3.0
#: Durations tried for the calibration pulse, in s: the first that fits the margin is drawn.
CAL_PULSE_DURATIONS_S = (0.2, 0.1, 0.05)
#: A click selects the nearest beat within this distance, in px.
CLICK_TOLERANCE_PX = 12.0
#: Vertical scroll step (Up/Down keys, Shift+wheel), in mm.
VERTICAL_STEP_MM = 5.0
#: Room kept above the top strip for its beat labels, in screen px (the labels' text does not scale).
LABEL_BAND_PX = 16.0
#: Most beat labels drawn at once (a page never holds so many at a readable zoom).
MAX_BEAT_LABELS = 2000

PAPER_COLOUR = (255, 252, 250)
MINOR_LINE_COLOUR = (248, 200, 200)
MAJOR_LINE_COLOUR = (225, 120, 120)
TRACE_COLOUR = (0, 0, 0)
CAL_PULSE_COLOUR = (0, 0, 0)
LEAD_NAME_COLOUR = (20, 20, 90)
SELECTION_BRUSH = (255, 210, 0, 80)
SELECTION_FILL = (255, 235, 120, 230)

_NORMAL = frozenset("NLRej.")
_VENTRICULAR = frozenset("VE")
_SUPRAVENTRICULAR = frozenset("SAaJ")
_FUSION = frozenset("F")
_PACED = frozenset({"/", "f", "P", "p"})

_BEAT_COLOURS = {
    "normal": (60, 60, 60),
    "ventricular": (210, 20, 20),
    "supraventricular": (20, 70, 220),
    "fusion": (240, 130, 0),
    "paced": (0, 150, 60),
    "other": (140, 40, 170),
}


def beat_colour(label: str) -> tuple[int, int, int]:
    """Class colour of a beat label: normal grey-black, V red, S/A blue, F orange, paced green, other purple."""
    if label in _NORMAL:
        return _BEAT_COLOURS["normal"]
    if label in _VENTRICULAR:
        return _BEAT_COLOURS["ventricular"]
    if label in _SUPRAVENTRICULAR:
        return _BEAT_COLOURS["supraventricular"]
    if label in _FUSION:
        return _BEAT_COLOURS["fusion"]
    if label in _PACED:
        return _BEAT_COLOURS["paced"]
    return _BEAT_COLOURS["other"]


def is_human_label(beat: BeatView) -> bool:
    """Whether a person set the beat's label: a user's beat, or a label changed from the original."""
    return beat.author_kind == "user" or beat.label != beat.original_label


def screen_dpi(widget: QWidget) -> float:
    """Physical DPI of the screen ``widget`` is on (``DEFAULT_DPI`` when the screen does not say)."""
    screen = widget.screen()
    dpi = float(screen.physicalDotsPerInch()) if screen is not None else 0.0
    if not (math.isfinite(dpi) and 20.0 <= dpi <= 2000.0):
        return DEFAULT_DPI
    return dpi


def _validated_positive(value: float, what: str) -> float:
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{what} {value} must be a positive number")
    return value


class PaperGrid(QGraphicsObject):
    """ECG paper: 1 mm (light) and 5 mm (darker) lines over the visible area only.

    Lines are placed at whole millimetres from ``origin`` (paper mm); the 1 mm lines are
    left out when they would be closer than ``MIN_GRID_SPACING_PX`` on screen.
    """

    def __init__(self) -> None:
        super().__init__()
        self._area = QRectF(0.0, -1.0, 1.0, 1.0)
        self._px_per_mm = 1.0
        self._origin = (0.0, 0.0)
        self._minor_pen = QPen(QColor(*MINOR_LINE_COLOUR))
        self._minor_pen.setCosmetic(True)
        self._minor_pen.setWidthF(1.0)
        self._major_pen = QPen(QColor(*MAJOR_LINE_COLOUR))
        self._major_pen.setCosmetic(True)
        self._major_pen.setWidthF(1.0)
        self.setZValue(-100)
        self.setFlag(QGraphicsObject.GraphicsItemFlag.ItemIsSelectable, False)
        # The grid only changes with the view's size or scale, not while scrolling: paint it once
        # into a device-pixel cache and blit that on every scroll step.
        self.setCacheMode(QGraphicsObject.CacheMode.DeviceCoordinateCache)

    def set_area(self, area: QRectF, px_per_mm: float, origin: tuple[float, float]) -> None:
        """Paint ``area`` (paper mm) at ``px_per_mm`` screen pixels per mm."""
        self.prepareGeometryChange()
        self._area = QRectF(area).normalized()
        self._px_per_mm = px_per_mm
        self._origin = origin
        self.update()

    def minor_lines_shown(self) -> bool:
        """Whether the 1 mm lines are drawn at the current scale."""
        return self._px_per_mm >= MIN_GRID_SPACING_PX

    def lines(self) -> tuple[list[QLineF], list[QLineF]]:
        """The (1 mm, 5 mm) lines that a paint draws, in paper mm."""
        r = self._area
        ox, oy = self._origin
        minor: list[QLineF] = []
        major: list[QLineF] = []
        with_minor = self.minor_lines_shown()
        for k in range(math.ceil(r.left() - ox), math.floor(r.right() - ox) + 1):
            if k % 5 == 0:
                major.append(QLineF(ox + k, r.top(), ox + k, r.bottom()))
            elif with_minor:
                minor.append(QLineF(ox + k, r.top(), ox + k, r.bottom()))
        for k in range(math.ceil(r.top() - oy), math.floor(r.bottom() - oy) + 1):
            if k % 5 == 0:
                major.append(QLineF(r.left(), oy + k, r.right(), oy + k))
            elif with_minor:
                minor.append(QLineF(r.left(), oy + k, r.right(), oy + k))
        return minor, major

    def boundingRect(self) -> QRectF:
        return self._area

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        minor, major = self.lines()
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        if minor:
            painter.setPen(self._minor_pen)
            painter.drawLines(minor)
        painter.setPen(self._major_pen)
        painter.drawLines(major)
        painter.restore()


def _robust_peaks_mv(signals: NDArray[np.float32], fs: float, max_points: int = 400_000) -> NDArray[np.float64]:
    """Per lead, how high the tall complexes rise above 0 mV (where the strip's baseline is drawn), in mV.

    The 95th percentile over 1 s blocks of each block's maximum: the tallest regular complexes
    count, a rare artefact does not. At most ``max_points`` samples are read.
    """
    n_leads, n = signals.shape
    if n == 0:
        return np.zeros(n_leads)
    block = max(1, min(round(fs), n))
    n_blocks = max(1, n // block)
    step_blocks = max(1, n_blocks * block // max_points)
    out = np.zeros(n_leads)
    for lead in range(n_leads):
        x = np.asarray(signals[lead, : n_blocks * block], dtype=np.float64).reshape(n_blocks, block)[::step_blocks]
        with np.errstate(all="ignore"):
            peak = np.nanpercentile(np.nanmax(x, axis=1), 95)
        out[lead] = 0.0 if not np.isfinite(peak) else peak
    return out


class _BeatIndex:
    """The non-deleted beats, sorted by (sample, id), with numpy arrays for range searches."""

    def __init__(self) -> None:
        self.by_id: dict[int, BeatView] = {}
        self.samples: NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self.ids: NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self.labels: NDArray[np.object_] = np.zeros(0, dtype=object)

    def __len__(self) -> int:
        return int(self.ids.size)

    def replace(self, beats: Sequence[BeatView]) -> None:
        self.by_id = {b.id: b for b in beats if not b.deleted}
        live = list(self.by_id.values())
        samples = np.fromiter((b.sample for b in live), dtype=np.int64, count=len(live))
        ids = np.fromiter((b.id for b in live), dtype=np.int64, count=len(live))
        order = np.lexsort((ids, samples))
        self.samples = samples[order]
        self.ids = ids[order]
        labels = np.empty(len(live), dtype=object)
        labels[:] = [b.label for b in live]
        self.labels = labels[order]

    def position(self, beat: BeatView) -> int:
        lo = int(np.searchsorted(self.samples, beat.sample, side="left"))
        hi = int(np.searchsorted(self.samples, beat.sample, side="right"))
        hits = np.flatnonzero(self.ids[lo:hi] == beat.id)
        if not hits.size:
            raise KeyError(beat.id)
        return lo + int(hits[0])

    def update(self, beat: BeatView) -> None:
        old = self.by_id.pop(beat.id, None)
        if old is not None:
            i = self.position(old)
            self.samples = np.delete(self.samples, i)
            self.ids = np.delete(self.ids, i)
            self.labels = np.delete(self.labels, i)
        if beat.deleted:
            return
        lo = int(np.searchsorted(self.samples, beat.sample, side="left"))
        hi = int(np.searchsorted(self.samples, beat.sample, side="right"))
        j = lo + int(np.searchsorted(self.ids[lo:hi], beat.id))
        self.samples = np.insert(self.samples, j, beat.sample)
        self.ids = np.insert(self.ids, j, beat.id)
        labels = np.empty(self.labels.size + 1, dtype=object)
        labels[:j], labels[j], labels[j + 1 :] = self.labels[:j], beat.label, self.labels[j:]
        self.labels = labels
        self.by_id[beat.id] = beat

    def update_many(self, beats: Sequence[BeatView]) -> None:
        """Apply many changes at once: relabels in place (same sample), else one rebuild."""
        moved = False
        for beat in beats:
            old = self.by_id.get(beat.id)
            if old is None or beat.deleted or old.sample != beat.sample:
                moved = True
                break
        if moved:
            merged = dict(self.by_id)
            for beat in beats:
                merged[beat.id] = beat
            self.replace(list(merged.values()))
            return
        for beat in beats:
            i = self.position(self.by_id[beat.id])
            self.labels[i] = beat.label
            self.by_id[beat.id] = beat

    def at(self, i: int) -> BeatView:
        return self.by_id[int(self.ids[i])]

    def find(self, start: int, forward: bool, label: str | None) -> int | None:
        """Index of the first beat from index ``start`` on (forward) or from ``start`` back, with ``label``."""
        n = len(self)
        if forward:
            if start >= n:
                return None
            start = max(start, 0)
            if label is None:
                return start
            hits = np.flatnonzero(self.labels[start:] == label)
            return start + int(hits[0]) if hits.size else None
        if start < 0:
            return None
        start = min(start, n - 1)
        if label is None:
            return start
        hits = np.flatnonzero(self.labels[: start + 1] == label)
        return int(hits[-1]) if hits.size else None


class EcgViewer(QWidget):
    """ECG paper at true physical scale: layouts, paper speed and gain, beats, calipers, scrolling and zoom.

    ``dpi`` None reads the physical DPI of the widget's screen; ``calibration`` corrects a
    screen that reports a wrong one (measured length / shown length).
    """

    #: (page start in s, page length in s), after every scroll, zoom or layout change.
    viewChanged = Signal(float, float)
    #: A beat was clicked (its BeatView.id); it is then the selected beat.
    beatClicked = Signal(int)
    #: A double click on a strip: the time in s from the record start (e.g. to add a missed beat there).
    timeDoubleClicked = Signal(float)
    #: A caliper's reading (TimeReading or AmplitudeReading) after it was added or moved.
    caliperChanged = Signal(object)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        paper: PaperSettings | None = None,
        layout: Layout = Layout.TWELVE_BY_ONE,
        dpi: float | None = None,
        calibration: float = 1.0,
    ) -> None:
        super().__init__(parent)
        self._paper = paper if paper is not None else PaperSettings()
        self._units = "ms/mV"
        self._layout = Layout(layout)
        self._auto_dpi = dpi is None
        self._dpi = DEFAULT_DPI if dpi is None else _validated_positive(dpi, "DPI")
        self._calibration = _validated_positive(calibration, "screen calibration")
        self._zoom = 1.0
        self._filters = False
        self._recording: Recording | None = None
        self._start_s = 0.0
        self._page_s = 1.0
        self._v_offset_mm = 0.0
        self._view_mm = (0.0, 1.0, -1.0, 0.0)
        self._panels: list[Panel] = []
        self._keys: list[str] = []
        self._beats = _BeatIndex()
        self._selected_id: int | None = None
        self._calipers: list[TimeCaliper | AmplitudeCaliper] = []
        self._last_view: tuple[float, float] | None = None
        self._syncing_bars = False
        self._label_state: list[tuple[str, bool, bool] | None] = []
        self._screen_hooked = False
        #: Filtered samples: (leads, first valid sample, end of valid samples, first sample, block).
        self._filter_cache: tuple[tuple[int, ...], int, int, int, NDArray[np.float32]] | None = None

        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._view = pg.GraphicsView(self, background=pg.mkColor(*PAPER_COLOUR))
        self._view.setObjectName("ecgPaper")
        self._view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        #: The ViewBox in paper millimetres (public for tests and overlays).
        self.view_box: Any = pg.ViewBox(enableMouse=False, enableMenu=False, lockAspect=1.0, defaultPadding=0.0)
        self.view_box.setMouseEnabled(False, False)
        self.view_box.disableAutoRange()
        self._view.setCentralItem(self.view_box)
        self._view.viewport().installEventFilter(self)

        self._grid = PaperGrid()
        self.view_box.addItem(self._grid, ignoreBounds=True)
        self._cal_item: Any = pg.PlotDataItem(pen=pg.mkPen(color=CAL_PULSE_COLOUR, width=1.5), connect="finite")
        self.view_box.addItem(self._cal_item, ignoreBounds=True)
        self._highlight = QGraphicsPathItem()
        self._highlight.setBrush(QBrush(QColor(*SELECTION_BRUSH)))
        self._highlight.setPen(QPen(Qt.PenStyle.NoPen))
        self._highlight.setZValue(-50)
        self.view_box.addItem(self._highlight, ignoreBounds=True)
        self._curves: list[Any] = []
        self._name_items: list[Any] = []
        self._label_items: list[Any] = []
        self._label_font = QFont()
        self._label_font.setPointSizeF(7.5)
        self._human_font = QFont(self._label_font)
        self._human_font.setBold(True)
        self._human_font.setUnderline(True)

        self._hbar = QScrollBar(Qt.Orientation.Horizontal, self)
        self._hbar.setObjectName("timeScrollBar")
        self._hbar.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._hbar.valueChanged.connect(self._on_hbar)
        self._vbar = QScrollBar(Qt.Orientation.Vertical, self)
        self._vbar.setObjectName("leadScrollBar")
        self._vbar.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._vbar.valueChanged.connect(self._on_vbar)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(0)
        grid.addWidget(self._view, 0, 0)
        grid.addWidget(self._vbar, 0, 1)
        grid.addWidget(self._hbar, 1, 0)

        self.view_box.sigResized.connect(self._relayout)
        self._view.scene().sigMouseClicked.connect(self._on_scene_click)
        if self._auto_dpi:
            self._dpi = screen_dpi(self)
        self._relayout()

    # -- recording and beats ---------------------------------------------------------

    @property
    def recording(self) -> Recording | None:
        """The record on the paper, or None."""
        return self._recording

    def set_recording(self, recording: Recording) -> None:
        """Show ``recording`` from its start; beats, selection and calipers are cleared, zoom kept."""
        if not isinstance(recording, Recording):
            raise TypeError(f"expected a Recording, got {type(recording).__name__}")
        self._recording = recording
        self._lead_peaks_mv = _robust_peaks_mv(recording.signals, recording.fs)
        self._filter_cache = None
        self._beats = _BeatIndex()
        self._selected_id = None
        self._remove_calipers()
        self._start_s = 0.0
        self._v_offset_mm = 0.0
        self._last_view = None
        self._relayout()

    def set_beats(self, beats: Sequence[BeatView]) -> None:
        """Replace the beat overlay (deleted beats are left out); scroll position and zoom stay."""
        self._beats.replace(beats)
        if self._selected_id is not None and self._selected_id not in self._beats.by_id:
            self._selected_id = None
        self._draw_beats()

    def update_beat(self, beat: BeatView) -> None:
        """Add or change one beat (``deleted`` removes it); the view and zoom stay exactly as they are."""
        self._beats.update(beat)
        if beat.deleted and self._selected_id == beat.id:
            self._selected_id = None
        self._draw_beats()

    def set_units(self, units: str) -> None:
        """Units of the caliper readouts: "ms/mV", "ms/µV" or "mm" (see calipers.READOUT_UNITS)."""
        if units not in READOUT_UNITS:
            raise ValueError(f"units must be one of {', '.join(READOUT_UNITS)}, not {units!r}")
        self._units = units
        self._redraw_page()

    def units(self) -> str:
        """Units of the caliper readouts."""
        return self._units

    def update_beats(self, beats: Sequence[BeatView]) -> None:
        """Add or change many beats (a family relabel) with one redraw; the view and zoom stay as they are."""
        self._beats.update_many(beats)
        if self._selected_id is not None and self._selected_id not in self._beats.by_id:
            self._selected_id = None
        self._draw_beats()

    def beats(self) -> list[BeatView]:
        """The current, non-deleted beats sorted by sample."""
        return [self._beats.by_id[int(i)] for i in self._beats.ids]

    def select_beat(self, beat_id: int) -> None:
        """Select beat ``beat_id`` (KeyError if unknown); scrolls only when it is off the page."""
        if beat_id not in self._beats.by_id:
            raise KeyError(beat_id)
        self._selected_id = beat_id
        if not self._reveal(self._beats.by_id[beat_id]):
            self._draw_beats()

    def selected_beat(self) -> BeatView | None:
        """The selected beat, or None."""
        return None if self._selected_id is None else self._beats.by_id.get(self._selected_id)

    def next_beat(self, label: str | None = None, forward: bool = True) -> BeatView | None:
        """Select the next (or previous) beat labelled ``label`` (any label when None).

        Searches from the selected beat, else from the page start; scrolls only when the beat
        is off the page, and then puts it a third of the way into the page. Returns the beat,
        or None (selection unchanged) when there is none.
        """
        index = self._beats
        if not len(index):
            return None
        selected = self.selected_beat()
        if selected is not None:
            pos = index.position(selected)
            start = pos + 1 if forward else pos - 1
        else:
            ref = self._start_s * self._fs()
            first_on_page = int(np.searchsorted(index.samples, math.ceil(ref - 1e-9), side="left"))
            start = first_on_page if forward else first_on_page - 1
        found = index.find(start, forward, label)
        if found is None:
            return None
        beat = index.at(found)
        self._selected_id = beat.id
        if not self._reveal(beat):
            self._draw_beats()
        return beat

    # -- settings --------------------------------------------------------------------

    def set_layout(self, layout: Layout) -> None:
        """Arrange the leads as ``layout``."""
        self._layout = Layout(layout)
        self._v_offset_mm = 0.0
        self._relayout()

    def layout_mode(self) -> Layout:
        """The current layout."""
        return self._layout

    def set_paper(self, paper: PaperSettings) -> None:
        """Change paper speed (mm/s) and gain (mm/mV); the page start stays."""
        if not isinstance(paper, PaperSettings):
            raise TypeError(f"expected PaperSettings, got {type(paper).__name__}")
        self._paper = paper
        self._relayout()

    def paper(self) -> PaperSettings:
        """The current paper speed and gain."""
        return self._paper

    def set_calibration(self, factor: float) -> None:
        """Screen calibration factor (measured length / shown length of a known distance)."""
        self._calibration = _validated_positive(factor, "screen calibration")
        self._relayout()

    def set_dpi(self, dpi: float) -> None:
        """Use ``dpi`` dots per inch instead of what the screen reports."""
        self._dpi = _validated_positive(dpi, "DPI")
        self._auto_dpi = False
        self._relayout()

    def px_per_mm(self) -> float:
        """Screen pixels per paper millimetre: DPI / 25.4 × calibration × zoom."""
        return paper_px_per_mm(self._dpi, self._calibration) * self._zoom

    def set_filters_enabled(self, on: bool) -> None:
        """Display filters on or off: zero-phase 0.5 Hz baseline removal and 40 Hz low-pass.

        They are applied to the page being drawn (plus a margin), never to the Recording.
        """
        self._filters = bool(on)
        self._filter_cache = None
        self._draw_traces()

    def filters_enabled(self) -> bool:
        """Whether the display filters are on (off by default: the raw signal is drawn)."""
        return self._filters

    def set_zoom(self, factor: float) -> None:
        """Magnify over true scale by ``factor`` (clipped to 0.5-8); the time at the left edge stays
        (unless the longer page would run past the record's end)."""
        factor = float(factor)
        if not math.isfinite(factor):
            raise ValueError(f"zoom {factor} is not a number")
        factor = min(max(factor, ZOOM_MIN), ZOOM_MAX)
        if factor == self._zoom:
            return
        self._zoom = factor
        self._relayout()

    def zoom(self) -> float:
        """Magnification over true scale (1.0: true size)."""
        return self._zoom

    # -- scrolling -------------------------------------------------------------------

    def scroll_to(self, start_s: float) -> None:
        """Start the page at ``start_s`` s from the record start (clipped to the record)."""
        start = self._clamped_start(float(start_s))
        if start == self._start_s:
            self._sync_bars()
            return
        self._start_s = start
        self._redraw_page()

    def scroll_by(self, dt_s: float) -> None:
        """Move the page by ``dt_s`` s (negative: back in time)."""
        self.scroll_to(self._start_s + float(dt_s))

    def start_s(self) -> float:
        """Time at the page's left edge, s from the record start."""
        return self._start_s

    def page_s(self) -> float:
        """Length of the page in s (all columns of 6x2 / 3x4 together)."""
        return self._page_s

    # -- calipers --------------------------------------------------------------------

    def add_time_caliper(self, t1_s: float, t2_s: float, march_out: bool = False) -> TimeCaliper:
        """Add a time caliper between ``t1_s`` and ``t2_s`` (s from the record start)."""
        caliper = TimeCaliper(self._geometry(), t1_s, t2_s, march_out)
        self._adopt(caliper)
        return caliper

    def add_amplitude_caliper(self, lead_index: int, t_s: float, v1_mv: float, v2_mv: float) -> AmplitudeCaliper:
        """Add an amplitude caliper on lead ``lead_index`` at ``t_s`` (s) between ``v1_mv`` and ``v2_mv`` (mV)."""
        if self._recording is not None and not 0 <= lead_index < self._recording.n_leads:
            raise IndexError(f"lead {lead_index} is not in the record ({self._recording.n_leads} leads)")
        caliper = AmplitudeCaliper(self._geometry(), lead_index, t_s, v1_mv, v2_mv)
        self._adopt(caliper)
        return caliper

    def calipers(self) -> list[TimeCaliper | AmplitudeCaliper]:
        """The calipers on the paper, oldest first."""
        return list(self._calipers)

    def clear_calipers(self) -> None:
        """Remove every caliper."""
        self._remove_calipers()

    # -- what is drawn (for tests and overlays) --------------------------------------

    def panels(self) -> list[Panel]:
        """The strips of the current page, top strip first."""
        return list(self._panels)

    def visible_curve_data(self) -> dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]]:
        """x and y in paper mm of each strip's drawn trace, keyed ``"II"`` or ``"II (rhythm)"``."""
        out: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
        for key, curve in zip(self._keys, self._curves, strict=False):
            x, y = curve.getOriginalDataset()
            out[key] = (
                np.asarray(x if x is not None else [], dtype=np.float64),
                np.asarray(y if y is not None else [], dtype=np.float64),
            )
        return out

    def beat_label_items(self) -> list[Any]:
        """The beat label items now shown (pyqtgraph TextItems), one per labelled beat and strip."""
        return [item for item in self._label_items if item.isVisible()]

    def calibration_pulse_data(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """x and y in paper mm of the calibration pulses and column marks (pieces separated by NaN)."""
        x, y = self._cal_item.getOriginalDataset()
        return (np.asarray(x if x is not None else [], dtype=np.float64),
                np.asarray(y if y is not None else [], dtype=np.float64))  # fmt: skip

    # -- Qt events -------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()  # an int; Qt.Key members (IntEnum) hash alike
        page = self._page_s
        actions: dict[int, Callable[[], None]] = {
            Qt.Key.Key_Left: lambda: self.scroll_by(-page / 10.0),
            Qt.Key.Key_Right: lambda: self.scroll_by(page / 10.0),
            Qt.Key.Key_PageUp: lambda: self.scroll_by(-page),
            Qt.Key.Key_PageDown: lambda: self.scroll_by(page),
            Qt.Key.Key_Home: lambda: self.scroll_to(0.0),
            Qt.Key.Key_End: lambda: self.scroll_to(math.inf),
            Qt.Key.Key_Plus: lambda: self.set_zoom(self._zoom * ZOOM_STEP),
            Qt.Key.Key_Equal: lambda: self.set_zoom(self._zoom * ZOOM_STEP),
            Qt.Key.Key_Minus: lambda: self.set_zoom(self._zoom / ZOOM_STEP),
            Qt.Key.Key_Up: lambda: self._scroll_vertical(-VERTICAL_STEP_MM),
            Qt.Key.Key_Down: lambda: self._scroll_vertical(VERTICAL_STEP_MM),
        }
        action = actions.get(key)
        if action is None:
            super().keyPressEvent(event)
            return
        action()
        event.accept()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Wheel and isinstance(event, QWheelEvent):
            self._wheel(event)
            return True
        return super().eventFilter(watched, event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._auto_dpi:
            handle = self.window().windowHandle()
            if handle is not None and not self._screen_hooked:
                handle.screenChanged.connect(lambda _screen: self._refresh_screen_dpi())
                self._screen_hooked = True
            self._refresh_screen_dpi()

    # -- internals: geometry ---------------------------------------------------------

    def _refresh_screen_dpi(self) -> None:
        if not self._auto_dpi:
            return
        dpi = screen_dpi(self)
        if dpi != self._dpi:
            self._dpi = dpi
            self._relayout()

    def _fs(self) -> float:
        return self._recording.fs if self._recording is not None else 1.0

    def _view_px(self) -> tuple[float, float]:
        w, h = float(self.view_box.width()), float(self.view_box.height())
        if w < 2 or h < 2:
            size = self._view.viewport().size()
            w, h = float(size.width()), float(size.height())
        if w < 2 or h < 2:
            w, h = 800.0, 600.0
        return w, h

    def _clamped_start(self, start_s: float) -> float:
        if self._recording is None or math.isnan(start_s):
            return 0.0
        latest = max(0.0, self._recording.duration_s - self._page_s)
        return min(max(start_s, 0.0), latest)

    def headroom_mm(self) -> float:
        """Paper above the top strip that its tallest complexes need (robust peak of each top-row lead), in mm."""
        top_row = [p for p in self._panels if p.baseline_mm == max(q.baseline_mm for q in self._panels)]
        peaks = getattr(self, "_lead_peaks_mv", None)
        if not top_row or peaks is None or not len(peaks):
            return 0.0
        need = max(float(peaks[p.lead_index]) * self._paper.gain_mm_mv - p.height_mm / 2.0 for p in top_row)
        return max(0.0, need + 1.0) if need > 0 else 0.0

    def _content_height_mm(self) -> float:
        """Paper height from the top of the label band to the bottom of the lowest strip, in mm."""
        if not self._panels:
            return 0.0
        top = LABEL_BAND_PX / self.px_per_mm() + self.headroom_mm()
        return top - min(p.baseline_mm - p.height_mm / 2.0 for p in self._panels)

    def _relayout(self) -> None:
        """Recompute scale, page length and strips, then redraw everything."""
        ppm = self.px_per_mm()
        w_px, h_px = self._view_px()
        w_mm, h_mm = w_px / ppm, h_px / ppm
        self._page_s = max((w_mm - CAL_PULSE_MARGIN_MM) / self._paper.speed_mm_s, 0.1)
        rec = self._recording
        if rec is not None:
            self._panels = layout_panels(self._layout, rec.lead_names, self._page_s, self._paper)
        else:
            self._panels = []
        self._keys = self._panel_keys(self._panels)
        max_v = max(0.0, self._content_height_mm() - h_mm)
        self._v_offset_mm = min(max(self._v_offset_mm, 0.0), max_v)
        self._start_s = self._clamped_start(self._start_s)
        top = LABEL_BAND_PX / ppm + self.headroom_mm() - self._v_offset_mm
        self._view_mm = (0.0, w_mm, top - h_mm, top)
        self.view_box.setRange(xRange=(0.0, w_mm), yRange=(top - h_mm, top), padding=0.0, update=True)
        origin_y = self._panels[0].baseline_mm if self._panels else 0.0
        self._grid.set_area(QRectF(0.0, top - h_mm, w_mm, h_mm), ppm, (CAL_PULSE_MARGIN_MM, origin_y))
        self._draw_calibration_pulses()
        self._draw_lead_names()
        self._ensure_curves()
        self._redraw_page()

    @staticmethod
    def _panel_keys(panels: Sequence[Panel]) -> list[str]:
        keys: list[str] = []
        for panel in panels:
            key = f"{panel.lead_name} (rhythm)" if panel.rhythm else panel.lead_name
            base, n = key, 2
            while key in keys:
                key, n = f"{base} #{n}", n + 1
            keys.append(key)
        return keys

    def _geometry(self) -> PageGeometry:
        return PageGeometry(
            self._start_s, self._page_s, self._paper, tuple(self._panels), self._view_mm, self.px_per_mm(),
            self._units,
        )

    def _redraw_page(self) -> None:
        """Redraw what depends on the page start: traces, beats, calipers, scroll bars."""
        self._draw_traces()
        self._draw_beats()
        geometry = self._geometry()
        for caliper in self._calipers:
            caliper.relayout(geometry)
        self._sync_bars()
        view = (self._start_s, self._page_s)
        if view != self._last_view:
            self._last_view = view
            self.viewChanged.emit(*view)

    # -- internals: drawing ----------------------------------------------------------

    def _ensure_curves(self) -> None:
        while len(self._curves) < len(self._panels):
            curve = pg.PlotDataItem(pen=pg.mkPen(color=TRACE_COLOUR, width=1), connect="finite", antialias=True)
            curve.setZValue(10)
            self.view_box.addItem(curve, ignoreBounds=True)
            self._curves.append(curve)
        for i, curve in enumerate(self._curves):
            if i >= len(self._panels) and curve.isVisible():
                curve.setData([], [])
                curve.setVisible(False)

    def _page_block(self) -> tuple[NDArray[np.float32], int, dict[int, int]]:
        """Samples of the page's leads (filtered when asked), the block's first sample, and lead -> row.

        Filtered blocks reach a quarter page (plus the filter margin) beyond each side of the page
        and are kept: scroll steps within them filter nothing again, and the trace does not
        change shape while it slides.
        """
        rec = self._recording
        assert rec is not None
        fs, n = rec.fs, rec.n_samples
        leads = tuple(sorted({p.lead_index for p in self._panels}))
        rows = {lead: row for row, lead in enumerate(leads)}
        need_a = max(0, math.floor(self._start_s * fs))
        need_b = min(n, math.ceil((self._start_s + self._page_s) * fs) + 1)
        if not self._filters:
            return np.asarray(rec.signals[list(leads), need_a:need_b], dtype=np.float32), need_a, rows
        cache = self._filter_cache
        if cache is not None and cache[0] == leads and cache[1] <= need_a and need_b <= cache[2]:
            return cache[4], cache[3], rows
        reach = self._page_s / 4.0 + FILTER_MARGIN_S
        a0 = max(0, math.floor((self._start_s - reach) * fs))
        b0 = min(n, math.ceil((self._start_s + self._page_s + reach) * fs) + 1)
        block = np.asarray(rec.signals[list(leads), a0:b0], dtype=np.float32)
        if block.shape[1] >= 2:
            block = self._filtered(block, fs)
        margin = math.ceil(FILTER_MARGIN_S * fs)
        valid_a = a0 + margin if a0 > 0 else 0
        valid_b = b0 - margin if b0 < n else n
        self._filter_cache = (leads, valid_a, valid_b, a0, block)
        return block, a0, rows

    @staticmethod
    def _filtered(block: NDArray[np.float32], fs: float) -> NDArray[np.float32]:
        bad = ~np.isfinite(block)
        clean = np.where(bad, np.float32(0.0), block) if bad.any() else block
        out = remove_baseline(clean, fs, BASELINE_CUTOFF_HZ)
        out = lowpass(out, fs, LOWPASS_CUTOFF_HZ)
        if bad.any():
            out[bad] = np.nan
        return out

    def _draw_traces(self) -> None:
        rec = self._recording
        if rec is None or not self._panels:
            return
        fs, paper, ppm, start = rec.fs, self._paper, self.px_per_mm(), self._start_s
        block, a0, row_of = self._page_block()
        b0 = a0 + block.shape[1]
        for panel, curve in zip(self._panels, self._curves, strict=False):
            t_lo = start + panel.t0_s
            ia = max(a0, math.ceil(t_lo * fs - 1e-9))
            ib = min(b0, math.floor((t_lo + panel.duration_s) * fs + 1e-9) + 1)
            if ib <= ia:
                curve.setData([], [])
                curve.setVisible(True)
                continue
            segment = block[row_of[panel.lead_index], ia - a0 : ib - a0]
            columns = max(1, round(panel.duration_s * paper.speed_mm_s * ppm))
            pos, values = minmax_columns(segment, columns)
            x, y = panel.to_paper((ia + pos) / fs - start, values, paper)
            curve.setData(x, y)
            curve.setVisible(True)

    def _draw_calibration_pulses(self) -> None:
        """A 1 mV pulse at the left of each row (0.2 s when it fits the margin), and column marks."""
        paper = self._paper
        room = CAL_PULSE_MARGIN_MM - 2.0
        duration = next((d for d in CAL_PULSE_DURATIONS_S if d * paper.speed_mm_s <= room), room / paper.speed_mm_s)
        width = duration * paper.speed_mm_s
        height = paper.gain_mm_mv  # 1 mV
        xs: list[float] = []
        ys: list[float] = []
        for base in sorted({p.baseline_mm for p in self._panels}, reverse=True):
            xs += [0.5, 1.5, 1.5, 1.5 + width, 1.5 + width, CAL_PULSE_MARGIN_MM - 0.5, math.nan]
            ys += [base, base, base + height, base + height, base, base, math.nan]
        for panel in self._panels:  # column boundaries of 6x2 / 3x4, as printouts mark them
            if panel.x_mm > CAL_PULSE_MARGIN_MM + 1e-6:
                xs += [panel.x_mm, panel.x_mm, math.nan]
                ys += [panel.baseline_mm - 2.5, panel.baseline_mm + 2.5, math.nan]
        self._cal_item.setData(np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64))

    def _draw_lead_names(self) -> None:
        while len(self._name_items) < len(self._panels):
            item = pg.TextItem("", color=LEAD_NAME_COLOUR, anchor=(0.0, 0.0))
            font = QFont()
            font.setPointSizeF(9.0)
            font.setBold(True)
            item.setFont(font)
            item.setZValue(20)
            self.view_box.addItem(item, ignoreBounds=True)
            self._name_items.append(item)
        for i, item in enumerate(self._name_items):
            if i < len(self._panels):
                panel = self._panels[i]
                item.setText(panel.lead_name)
                item.setPos(panel.x_mm + 0.5, panel.baseline_mm + panel.height_mm / 2.0)
                item.setVisible(True)
            else:
                item.setVisible(False)

    def _label_panels(self) -> list[Panel]:
        """The strips that carry beat labels (just above their top edge): the top strip(s), or each
        rhythm / single / dual strip."""
        if not self._panels:
            return []
        if self._layout in (Layout.SINGLE, Layout.DUAL):
            return list(self._panels)
        if self._layout is Layout.THREE_BY_FOUR_RHYTHM:
            rhythm = [p for p in self._panels if p.rhythm]
            if rhythm:
                return rhythm
        top = max(p.baseline_mm for p in self._panels)
        return [p for p in self._panels if p.baseline_mm == top and not p.rhythm]

    def _label_item(self, k: int) -> Any:
        while len(self._label_items) <= k:
            item = pg.TextItem("", anchor=(0.5, 1.0))
            item.setFont(self._label_font)
            item.setZValue(30)
            self.view_box.addItem(item, ignoreBounds=True)
            self._label_items.append(item)
            self._label_state.append(None)
        return self._label_items[k]

    def _draw_beats(self) -> None:
        rec = self._recording
        index = self._beats
        shown = 0
        path = QPainterPath()
        if rec is not None and len(index):
            fs, paper, start = rec.fs, self._paper, self._start_s
            top_baseline = max(p.baseline_mm for p in self._panels)
            headroom = self.headroom_mm()
            for panel in self._label_panels():
                t_lo = start + panel.t0_s
                j0 = int(np.searchsorted(index.samples, t_lo * fs, side="left"))
                j1 = int(np.searchsorted(index.samples, (t_lo + panel.duration_s) * fs, side="left"))
                j1 = min(j1, j0 + MAX_BEAT_LABELS - shown)
                if j1 <= j0:
                    continue
                xs, _ys = panel.to_paper(index.samples[j0:j1] / fs - start, 0.0, paper)
                top = panel.baseline_mm + panel.height_mm / 2.0
                if panel.baseline_mm == top_baseline:  # above the tallest complexes of the top row
                    top += headroom
                for j, x in zip(range(j0, j1), xs, strict=True):
                    self._show_label(shown, index.at(j), float(x), top)
                    shown += 1
            selected = self.selected_beat()
            if selected is not None:
                self._highlight_path(path, selected.sample / fs - start)
        for k in range(shown, len(self._label_items)):
            if self._label_items[k].isVisible():
                self._label_items[k].setVisible(False)
        self._highlight.setPath(path)

    def _show_label(self, k: int, beat: BeatView, x_mm: float, y_mm: float) -> None:
        item = self._label_item(k)
        state = (beat.label, is_human_label(beat), beat.id == self._selected_id)
        if self._label_state[k] != state:
            label, human, selected = state
            item.setText(label)
            item.setColor(pg.mkColor(*beat_colour(label)))
            item.setFont(self._human_font if human else self._label_font)
            item.fill = pg.mkBrush(*SELECTION_FILL) if selected else pg.mkBrush(None)
            item.update()
            self._label_state[k] = state
        item.setPos(x_mm, y_mm)
        item.setVisible(True)

    def _highlight_path(self, path: QPainterPath, t_page_s: float) -> None:
        if not 0.0 <= t_page_s <= self._page_s:
            return
        half = 0.06 * self._paper.speed_mm_s
        for panel in self._panels:
            if panel.t0_s <= t_page_s <= panel.t0_s + panel.duration_s:
                x, _y = panel.to_paper(t_page_s, 0.0, self._paper)
                top = panel.baseline_mm + panel.height_mm / 2.0
                path.addRect(QRectF(float(x) - half, top - panel.height_mm, 2.0 * half, panel.height_mm))

    def _reveal(self, beat: BeatView) -> bool:
        """Scroll so ``beat`` is on the page (a third in) if it is off it; whether it scrolled."""
        t = beat.sample / self._fs()
        if self._start_s <= t < self._start_s + self._page_s:
            return False
        before = self._start_s
        self.scroll_to(t - self._page_s / 3.0)
        return self._start_s != before

    # -- internals: calipers, input --------------------------------------------------

    def _adopt(self, caliper: TimeCaliper | AmplitudeCaliper) -> None:
        caliper.attach(self.view_box)
        caliper.changed.connect(self.caliperChanged)
        self._calipers.append(caliper)
        self.caliperChanged.emit(caliper.reading())

    def _remove_calipers(self) -> None:
        for caliper in self._calipers:
            caliper.detach()
            caliper.changed.disconnect(self.caliperChanged)
        self._calipers = []

    def _scroll_vertical(self, d_mm: float) -> None:
        _w, h_px = self._view_px()
        max_v = max(0.0, self._content_height_mm() - h_px / self.px_per_mm())
        offset = min(max(self._v_offset_mm + d_mm, 0.0), max_v)
        if offset != self._v_offset_mm:
            self._v_offset_mm = offset
            self._relayout()

    def _wheel(self, event: QWheelEvent) -> None:
        delta = event.angleDelta()
        steps = (delta.y() if delta.y() else delta.x()) / 120.0
        if not steps:
            return
        mods = event.modifiers()
        if mods & Qt.KeyboardModifier.ControlModifier:
            self.set_zoom(self._zoom * ZOOM_STEP**steps)
        elif mods & Qt.KeyboardModifier.ShiftModifier:
            self._scroll_vertical(-steps * VERTICAL_STEP_MM)
        else:
            self.scroll_by(-steps * self._page_s / 10.0)

    def _sync_bars(self) -> None:
        self._syncing_bars = True
        try:
            duration = self._recording.duration_s if self._recording is not None else 0.0
            latest_ms = round(max(0.0, duration - self._page_s) * 1000.0)
            page_ms = round(self._page_s * 1000.0)
            self._hbar.setRange(0, latest_ms)
            self._hbar.setPageStep(max(1, page_ms))
            self._hbar.setSingleStep(max(1, page_ms // 10))
            self._hbar.setValue(round(self._start_s * 1000.0))
            _w, h_px = self._view_px()
            h_mm = h_px / self.px_per_mm()
            max_v = max(0.0, self._content_height_mm() - h_mm)
            self._vbar.setRange(0, math.ceil(max_v * 10.0))
            self._vbar.setPageStep(max(1, int(h_mm * 10.0)))
            self._vbar.setSingleStep(int(VERTICAL_STEP_MM * 10.0))
            self._vbar.setValue(round(self._v_offset_mm * 10.0))
            self._vbar.setEnabled(max_v > 0)
        finally:
            self._syncing_bars = False

    def _on_hbar(self, value: int) -> None:
        if not self._syncing_bars:
            self.scroll_to(value / 1000.0)

    def _on_vbar(self, value: int) -> None:
        if not self._syncing_bars:
            self._scroll_vertical(value / 10.0 - self._v_offset_mm)

    def _on_scene_click(self, event: Any) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._recording is None:
            return
        if isinstance(getattr(event, "currentItem", None), pg.InfiniteLine):
            return
        point: QPointF = self.view_box.mapSceneToView(event.scenePos())
        x, y = float(point.x()), float(point.y())
        panel = next((p for p in self._panels if p.contains(x, y, self._paper)), None)
        if panel is None:
            return
        t_page, _v = panel.from_paper(x, y, self._paper)
        if event.double():
            self.timeDoubleClicked.emit(self._start_s + t_page)
            return
        if not len(self._beats):
            return
        fs = self._fs()
        sample = (self._start_s + t_page) * fs
        index = self._beats
        j = int(np.searchsorted(index.samples, sample))
        candidates = [i for i in (j - 1, j) if 0 <= i < len(index)]
        if not candidates:
            return
        best = min(candidates, key=lambda i: abs(float(index.samples[i]) - sample))
        tolerance_samples = CLICK_TOLERANCE_PX / self.px_per_mm() / self._paper.speed_mm_s * fs
        if abs(float(index.samples[best]) - sample) > tolerance_samples:
            return
        beat = index.at(best)
        self._selected_id = beat.id
        self._draw_beats()
        self.beatClicked.emit(beat.id)
