"""On-screen calipers of the ECG viewer: time (ms, bpm, march-out) and amplitude (mV) measurements.

A caliper keeps its positions in record units (seconds from the record start, mV) and
converts them to paper millimetres through the page's :class:`~ecgstation.ui.paper_layout.Panel`
mapping (:class:`PageGeometry`), so a reading is true to the paper whatever the speed,
gain, zoom or scroll position. The viewer hands every caliper a fresh geometry after each
scroll, zoom or layout change; dragging a line converts its paper position back with
``Panel.from_paper``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import QObject, Qt, Signal

from ecgstation.ui.paper_layout import CAL_PULSE_MARGIN_MM, Panel, PaperSettings

__all__ = [
    "AmplitudeCaliper",
    "AmplitudeReading",
    "PageGeometry",
    "TimeCaliper",
    "TimeReading",
    "format_time_reading",
]

_TIME_COLOUR = (0, 90, 200)
_AMPLITUDE_COLOUR = (0, 130, 90)
_LINE_WIDTH = 1.5
_Z = 50


@dataclass(frozen=True)
class TimeReading:
    """A time caliper's reading: ``t1_s``/``t2_s`` in s from the record start, ``interval_ms``
    = |t2 - t1| in ms, ``bpm`` = 60000 / interval_ms (NaN for a zero interval)."""

    t1_s: float
    t2_s: float
    interval_ms: float
    bpm: float


@dataclass(frozen=True)
class AmplitudeReading:
    """An amplitude caliper's reading on lead ``lead_index``: levels ``v1_mv``/``v2_mv`` and
    ``delta_mv`` = |v2 - v1|, all in mV."""

    lead_index: int
    v1_mv: float
    v2_mv: float
    delta_mv: float


#: Readout units: "ms/mV", "ms/µV", or "mm" (paper millimetres at the current speed and gain).
READOUT_UNITS = ("ms/mV", "ms/µV", "mm")


def format_time_reading(reading: TimeReading, units: str = "ms/mV", paper: PaperSettings | None = None) -> str:
    """``"NNN ms · NN bpm"`` (the bpm of an RR interval of that length); in "mm" units the paper length too."""
    bpm = "—" if not math.isfinite(reading.bpm) else f"{reading.bpm:.0f}"
    if units == "mm" and paper is not None:
        return f"{reading.interval_ms / 1000.0 * paper.speed_mm_s:.1f} mm ({reading.interval_ms:.0f} ms) · {bpm} bpm"
    return f"{reading.interval_ms:.0f} ms · {bpm} bpm"


def format_amplitude(delta_mv: float, units: str = "ms/mV", paper: PaperSettings | None = None) -> str:
    """An amplitude in the chosen units: ``"1.25 mV"``, ``"1250 µV"`` or ``"12.5 mm (1.25 mV)"``."""
    if units == "ms/µV":
        return f"{delta_mv * 1000.0:.0f} µV"
    if units == "mm" and paper is not None:
        return f"{delta_mv * paper.gain_mm_mv:.1f} mm ({delta_mv:.2f} mV)"
    return f"{delta_mv:.2f} mV"


def beat_amplitude(signal: NDArray[np.floating], fs: float, sample: int) -> tuple[float, float]:
    """Isoelectric level and QRS peak of the beat at ``sample`` of one lead, both in mV.

    The level is the median of 120 to 60 ms before the R peak (the PR segment); the peak is
    the sample 60 ms around the R peak farthest from that level (R or S, whichever is larger).
    """
    n = signal.size
    lo, hi = max(0, sample - round(0.120 * fs)), max(0, sample - round(0.060 * fs))
    level_part = np.asarray(signal[lo:hi], dtype=np.float64) if hi > lo else np.zeros(0)
    level = float(np.nanmedian(level_part)) if np.any(np.isfinite(level_part)) else 0.0
    a, b = max(0, sample - round(0.060 * fs)), min(n, sample + round(0.060 * fs) + 1)
    around = np.asarray(signal[a:b], dtype=np.float64)
    if not np.any(np.isfinite(around)):
        return level, level
    k = int(np.nanargmax(np.abs(around - level)))
    return level, float(around[k])


def _default_panel() -> Panel:
    return Panel(0, "", 0.0, 1.0, CAL_PULSE_MARGIN_MM, 0.0, 1.0)


@dataclass(frozen=True)
class PageGeometry:
    """Where the page sits: its start and length (s), the paper settings, its strips, the
    visible paper rectangle ``(x_left, x_right, y_bottom, y_top)`` in mm and the screen scale
    (px per mm, for placing text whose size is in pixels)."""

    start_s: float
    page_s: float
    paper: PaperSettings
    panels: tuple[Panel, ...] = ()
    view_mm: tuple[float, float, float, float] = (0.0, 1.0, -1.0, 0.0)
    px_per_mm: float = 1.0
    units: str = "ms/mV"
    _ref: Panel = field(default_factory=_default_panel, repr=False)

    def __post_init__(self) -> None:
        if self.panels:
            object.__setattr__(self, "_ref", self.panels[0])

    def time_to_x(self, t_s: float) -> float:
        """Record time (s) to paper x (mm); every strip of a page shares this mapping."""
        x, _y = self._ref.to_paper(t_s - self.start_s, 0.0, self.paper)
        return float(x)

    def x_to_time(self, x_mm: float) -> float:
        """Paper x (mm) back to record time (s), through ``Panel.from_paper``."""
        t_page, _v = self._ref.from_paper(x_mm, self._ref.baseline_mm, self.paper)
        return self.start_s + t_page

    def content_bottom_mm(self) -> float:
        """The y (mm) of the lowest strip's bottom edge (the view's bottom when there is no strip)."""
        if not self.panels:
            return self.view_mm[2]
        return min(p.baseline_mm - p.height_mm / 2.0 for p in self.panels)

    def lead_panel(self, lead_index: int, t_s: float) -> Panel | None:
        """The strip of ``lead_index`` that shows time ``t_s`` (s), else its first strip, else None."""
        own = [p for p in self.panels if p.lead_index == lead_index]
        for panel in own:
            t0 = self.start_s + panel.t0_s
            if t0 <= t_s <= t0 + panel.duration_s:
                return panel
        return own[0] if own else None


class _Caliper(QObject):
    """Shared parts: the pyqtgraph items, attaching them to a ViewBox and removing them."""

    #: Emitted with the caliper's new reading after a drag or a programmatic move.
    changed = Signal(object)

    def __init__(self, geometry: PageGeometry) -> None:
        super().__init__()
        self._geometry = geometry
        self._items: list[Any] = []
        self._view_box: Any = None
        self._relaying = False

    def _build(self, colour: tuple[int, int, int], angle: int, label_anchor: tuple[float, float], extra: Any) -> None:
        """The two draggable lines (``angle`` 90: vertical, 0: horizontal), the readout and ``extra``, wired up."""
        pen = pg.mkPen(color=colour, width=_LINE_WIDTH)
        hover = pg.mkPen(color=(230, 120, 0), width=_LINE_WIDTH + 1)
        #: The two draggable lines (pyqtgraph InfiniteLine, in paper mm).
        self.line1 = pg.InfiniteLine(angle=angle, movable=True, pen=pen, hoverPen=hover)
        self.line2 = pg.InfiniteLine(angle=angle, movable=True, pen=pen, hoverPen=hover)
        self.label = pg.TextItem("", color=colour, anchor=label_anchor, fill=pg.mkBrush(255, 255, 255, 200))
        self._items = [extra, self.line1, self.line2, self.label]
        for item in self._items:
            item.setZValue(_Z)
        self.line1.sigPositionChanged.connect(self._on_line_moved)
        self.line2.sigPositionChanged.connect(self._on_line_moved)

    def _on_line_moved(self, _line: object) -> None:
        """A line was dragged: each caliper reads its new position (overridden)."""
        raise NotImplementedError

    @property
    def geometry(self) -> PageGeometry:
        """The page geometry the caliper was last laid out on."""
        return self._geometry

    def items(self) -> list[Any]:
        """The graphics items drawn for this caliper."""
        return list(self._items)

    def attach(self, view_box: Any) -> None:
        """Add the caliper's items to ``view_box`` (a pyqtgraph ViewBox)."""
        self._view_box = view_box
        for item in self._items:
            view_box.addItem(item, ignoreBounds=True)

    def detach(self) -> None:
        """Remove the caliper's items from its ViewBox."""
        if self._view_box is not None:
            for item in self._items:
                self._view_box.removeItem(item)
        self._view_box = None

    def relayout(self, geometry: PageGeometry) -> None:
        """Place the items for a new page geometry (scroll, zoom, layout); emits nothing."""
        self._geometry = geometry
        self._relaying = True
        try:
            self._place()
        finally:
            self._relaying = False

    def _place(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class TimeCaliper(_Caliper):
    """Two vertical lines over the page, ``t1_s`` and ``t2_s`` s from the record start.

    The readout shows the interval in ms and, as for an RR interval, the rate in bpm. With
    ``march_out`` the interval is repeated across the page as dashed lines (to check the
    regularity of a rhythm). Both lines can be dragged with the mouse.
    """

    def __init__(self, geometry: PageGeometry, t1_s: float, t2_s: float, march_out: bool = False) -> None:
        super().__init__(geometry)
        self._t1 = float(t1_s)
        self._t2 = float(t2_s)
        self.march_out = bool(march_out)
        self._march_s: list[float] = []
        self.march_item = pg.PlotDataItem(
            pen=pg.mkPen(color=_TIME_COLOUR, width=1, style=Qt.PenStyle.DashLine), connect="pairs"
        )
        self._build(_TIME_COLOUR, 90, (0.5, 1.0), self.march_item)
        self.relayout(geometry)

    # -- reading ------------------------------------------------------------------

    @property
    def t1_s(self) -> float:
        """First line, s from the record start."""
        return self._t1

    @property
    def t2_s(self) -> float:
        """Second line, s from the record start."""
        return self._t2

    def reading(self) -> TimeReading:
        """Interval (ms) and rate (bpm) between the two lines."""
        interval_ms = abs(self._t2 - self._t1) * 1000.0
        bpm = 60000.0 / interval_ms if interval_ms > 0 else math.nan
        return TimeReading(self._t1, self._t2, interval_ms, bpm)

    def text(self) -> str:
        """The readout as shown."""
        return format_time_reading(self.reading(), self._geometry.units, self._geometry.paper)

    def march_positions_s(self) -> list[float]:
        """Times (s from the record start) of the dashed march-out lines on the page."""
        return list(self._march_s)

    def set_times(self, t1_s: float, t2_s: float) -> None:
        """Move both lines (s from the record start) and emit :attr:`changed`."""
        self._t1, self._t2 = float(t1_s), float(t2_s)
        self.relayout(self._geometry)
        self.changed.emit(self.reading())

    def set_march_out(self, on: bool) -> None:
        """Show or hide the march-out repeats."""
        self.march_out = bool(on)
        self.relayout(self._geometry)

    # -- drawing ------------------------------------------------------------------

    def _place(self) -> None:
        g = self._geometry
        self.line1.setValue(g.time_to_x(self._t1))
        self.line2.setValue(g.time_to_x(self._t2))
        self._place_decor()

    def _place_decor(self) -> None:
        g = self._geometry
        x_left, x_right, y_bottom, y_top = g.view_mm
        x1, x2 = g.time_to_x(self._t1), g.time_to_x(self._t2)
        self.label.setText(self.text())
        half_mm = (self.label.textItem.boundingRect().width() / 2.0 + 2.0) / g.px_per_mm
        label_x = min(max((x1 + x2) / 2.0, x_left + half_mm), x_right - half_mm)
        self.label.setPos(label_x, max(y_bottom, g.content_bottom_mm()) + 1.0)
        self._march_s = self._march_times()
        if self._march_s:
            xs = np.repeat(np.array([g.time_to_x(t) for t in self._march_s]), 2)
            ys = np.tile(np.array([y_top, y_bottom]), len(self._march_s))
            self.march_item.setData(xs, ys)
        else:
            self.march_item.setData([], [])

    def _march_times(self) -> list[float]:
        if not self.march_out:
            return []
        interval = abs(self._t2 - self._t1)
        if interval <= 0:
            return []
        g = self._geometry
        lo = min(self._t1, self._t2)
        page_lo, page_hi = g.start_s, g.start_s + g.page_s
        k_first = math.ceil((page_lo - lo) / interval - 1e-9)
        k_last = math.floor((page_hi - lo) / interval + 1e-9)
        out: list[float] = []
        for k in range(k_first, k_last + 1):
            if k in (0, 1):
                continue  # the caliper's own lines
            t = lo + k * interval
            if page_lo - 1e-9 <= t <= page_hi + 1e-9:
                out.append(t)
        return out

    def _on_line_moved(self, _line: object) -> None:
        if self._relaying:
            return
        g = self._geometry
        self._t1 = g.x_to_time(float(self.line1.value()))
        self._t2 = g.x_to_time(float(self.line2.value()))
        self._relaying = True
        try:
            self._place_decor()
        finally:
            self._relaying = False
        self.changed.emit(self.reading())


class AmplitudeCaliper(_Caliper):
    """Two horizontal lines on one lead strip at ``v1_mv`` and ``v2_mv``, measured at time ``t_s``.

    The readout shows the difference in mV. Both lines can be dragged up and down within
    the strip; the strip is the one of ``lead_index`` that shows ``t_s`` (hidden when the
    layout shows no strip of that lead).
    """

    def __init__(self, geometry: PageGeometry, lead_index: int, t_s: float, v1_mv: float, v2_mv: float) -> None:
        super().__init__(geometry)
        self.lead_index = int(lead_index)
        self.t_s = float(t_s)
        self._v1 = float(v1_mv)
        self._v2 = float(v2_mv)
        self._panel: Panel | None = None
        self.connector = pg.PlotDataItem(pen=pg.mkPen(color=_AMPLITUDE_COLOUR, width=1))
        self._build(_AMPLITUDE_COLOUR, 0, (0.0, 0.5), self.connector)
        self.relayout(geometry)

    @property
    def panel(self) -> Panel | None:
        """The strip the caliper is drawn on, or None when the layout does not show its lead."""
        return self._panel

    def reading(self) -> AmplitudeReading:
        """The two levels and their difference, in mV."""
        return AmplitudeReading(self.lead_index, self._v1, self._v2, abs(self._v2 - self._v1))

    def text(self) -> str:
        """The readout as shown (``"X.XX mV"`` in the default units)."""
        return format_amplitude(self.reading().delta_mv, self._geometry.units, self._geometry.paper)

    def set_levels(self, v1_mv: float, v2_mv: float) -> None:
        """Move both lines (mV) and emit :attr:`changed`."""
        self._v1, self._v2 = float(v1_mv), float(v2_mv)
        self.relayout(self._geometry)
        self.changed.emit(self.reading())

    def _place(self) -> None:
        g = self._geometry
        panel = g.lead_panel(self.lead_index, self.t_s)
        self._panel = panel
        visible = panel is not None
        for item in self._items:
            item.setVisible(visible)
        if panel is None:
            return
        half = panel.height_mm / 2.0
        bounds = (panel.baseline_mm - half, panel.baseline_mm + half)
        for line, v in ((self.line1, self._v1), (self.line2, self._v2)):
            line.setBounds(bounds)
            _x, y = panel.to_paper(0.0, v, g.paper)
            line.setValue(float(y))
        x_left, x_right = g.view_mm[0], g.view_mm[1]
        width = max(x_right - x_left, 1e-9)
        strip_right = panel.x_mm + panel.duration_s * g.paper.speed_mm_s
        span = ((panel.x_mm - x_left) / width, (strip_right - x_left) / width)
        for line in (self.line1, self.line2):
            line.setSpan(min(max(span[0], 0.0), 1.0), min(max(span[1], 0.0), 1.0))
        self._place_decor()

    def _place_decor(self) -> None:
        panel = self._panel
        if panel is None:
            return
        g = self._geometry
        strip_right = panel.x_mm + panel.duration_s * g.paper.speed_mm_s
        x = min(max(g.time_to_x(self.t_s), panel.x_mm), strip_right)
        _x, y1 = panel.to_paper(0.0, self._v1, g.paper)
        _x, y2 = panel.to_paper(0.0, self._v2, g.paper)
        self.connector.setData([x, x], [float(y1), float(y2)])
        self.label.setText(self.text())
        self.label.setPos(x + 1.0, (float(y1) + float(y2)) / 2.0)

    def _on_line_moved(self, _line: object) -> None:
        if self._relaying or self._panel is None:
            return
        g, panel = self._geometry, self._panel
        _t, self._v1 = panel.from_paper(panel.x_mm, float(self.line1.value()), g.paper)
        _t, self._v2 = panel.from_paper(panel.x_mm, float(self.line2.value()), g.paper)
        self._relaying = True
        try:
            self._place_decor()
        finally:
            self._relaying = False
        self.changed.emit(self.reading())
