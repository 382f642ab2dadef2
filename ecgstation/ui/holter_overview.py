"""Holter overview: heart-rate trend with ectopy and event lanes, and a clickable minimap of the whole record."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from numpy.typing import ArrayLike, NDArray
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ecgstation.core.events import EVENT_KINDS, Event, EventKind, HrTrend, aami_labels

__all__ = ["EVENT_COLOURS", "LANES", "ClockAxis", "HolterOverview", "format_elapsed"]

#: Colour (RGB) of each event kind on the lanes and the minimap.
EVENT_COLOURS: dict[EventKind, tuple[int, int, int]] = {
    "pause": (230, 120, 0),
    "v_run": (200, 0, 0),
    "bigeminy": (150, 60, 170),
    "trigeminy": (190, 110, 200),
    "af": (0, 130, 130),
    "bradycardia": (40, 90, 200),
    "tachycardia": (210, 60, 120),
}

#: Lanes of the event plot, top to bottom: ``"V"`` (V beats per trend bin), then one per event kind.
LANES: tuple[str, ...] = ("V", *EVENT_KINDS, "findings")
#: Colour of the findings lane (findings of the recording that have a time span).
FINDING_COLOUR = (20, 20, 20)

_LANE_NAMES = {
    "V": "V beats",
    "pause": "Pause",
    "v_run": "V run",
    "bigeminy": "Bigeminy",
    "trigeminy": "Trigeminy",
    "af": "AF",
    "bradycardia": "Brady",
    "tachycardia": "Tachy",
    "findings": "Findings",
}

#: Colour of V beats (RGB).
V_COLOUR = (200, 0, 0)

#: Smallest drawn width of an event, as a share of the record's duration (so a 2 s pause shows on 24 h).
MIN_EVENT_WIDTH = 1.0 / 1500.0

_VIEW_BRUSH = (255, 200, 0, 70)


#: Tick steps of the clock axis (s): 1 s up to 12 h.
_CLOCK_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200)


def format_elapsed(seconds: float, with_seconds: bool = True) -> str:
    """Seconds from the record start as ``h:mm:ss`` (``h:mm`` without seconds)."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if with_seconds else f"{hours}:{minutes:02d}"


class ClockAxis(pg.AxisItem):  # type: ignore[misc]
    """A time axis in seconds labelled as elapsed clock time (``h:mm`` or ``h:mm:ss``)."""

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:
        """Major ticks at a round clock step giving at least ~90 px per label; minor ticks at a fifth of it."""
        span = max(maxVal - minVal, 1e-9)
        wanted = span * 90.0 / max(size, 1.0)
        major = next((float(step) for step in _CLOCK_STEPS if step >= wanted), float(_CLOCK_STEPS[-1]))
        minor = next((float(step) for step in reversed(_CLOCK_STEPS) if step <= major / 4), major)
        return [(major, 0.0), (minor, 0.0)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        """Clock labels; seconds shown only when the spacing is below a minute."""
        return [format_elapsed(v, with_seconds=spacing < 60) for v in values]


def _lane_y(lane: str) -> float:
    """Centre of a lane on the event plot's y axis (the first lane on top)."""
    return float(len(LANES) - 1 - LANES.index(lane))


class HolterOverview(QWidget):
    """Heart-rate trend, V beats and events of a long record, and a minimap of all of it.

    - trend plot: mean heart rate per bin (line) with its min-max range (bars), bpm;
    - event plot (x linked to the trend): V beats per trend bin as bars in the top lane,
      then one lane per event kind with each event as a coloured span;
    - minimap: the whole record, mean heart rate and every event, always fully shown.

    The viewer's window (:meth:`set_view_window`) is highlighted on the trend, the event
    plot and the minimap. A left click on any of them emits ``jumpRequested(seconds)``
    with the time under the mouse, clipped to the record. The trend and event plots zoom
    and pan in time with the mouse wheel and drag; the minimap does not move.
    """

    jumpRequested = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("holterOverview")
        self._duration_s = 0.0
        self._bin_s = 60.0
        self.graphics = pg.GraphicsLayoutWidget(self)
        self.graphics.setBackground("w")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)

        self.trend_plot: pg.PlotItem = self.graphics.addPlot(row=0, col=0, axisItems={"bottom": ClockAxis("bottom")})
        self.event_plot: pg.PlotItem = self.graphics.addPlot(row=1, col=0, axisItems={"bottom": ClockAxis("bottom")})
        self.minimap_plot: pg.PlotItem = self.graphics.addPlot(row=2, col=0, axisItems={"bottom": ClockAxis("bottom")})
        self._setup_plots()

        self.range_bars = pg.BarGraphItem(x0=[], x1=[], y0=[], y1=[], brush=(150, 180, 230), pen=None)
        self.mean_curve = pg.PlotDataItem(pen=pg.mkPen((20, 50, 140), width=1.5), connect="finite")
        self.trend_plot.addItem(self.range_bars)
        self.trend_plot.addItem(self.mean_curve)
        self.v_bars = pg.BarGraphItem(x0=[], x1=[], y0=[], y1=[], brush=V_COLOUR, pen=None)
        self.event_plot.addItem(self.v_bars)
        self.event_bars: dict[EventKind, pg.BarGraphItem] = {}
        self.minimap_bars: dict[EventKind, pg.BarGraphItem] = {}
        for kind in EVENT_KINDS:
            bars = pg.BarGraphItem(x0=[], x1=[], y0=[], y1=[], brush=EVENT_COLOURS[kind], pen=None)
            self.event_bars[kind] = bars
            self.event_plot.addItem(bars)
            mini = pg.BarGraphItem(x0=[], x1=[], y0=[], y1=[], brush=EVENT_COLOURS[kind], pen=None)
            self.minimap_bars[kind] = mini
            self.minimap_plot.addItem(mini)
        self.finding_bars = pg.BarGraphItem(x0=[], x1=[], y0=[], y1=[], brush=FINDING_COLOUR, pen=None)
        self.event_plot.addItem(self.finding_bars)
        self._finding_spans: list[tuple[float, float, str]] = []
        self.minimap_curve = pg.PlotDataItem(pen=pg.mkPen((60, 60, 60), width=1), connect="finite")
        self.minimap_plot.addItem(self.minimap_curve)

        self.view_regions: list[pg.LinearRegionItem] = []
        for plot in (self.trend_plot, self.event_plot, self.minimap_plot):
            region = pg.LinearRegionItem(values=(0.0, 0.0), movable=False, brush=_VIEW_BRUSH)
            region.setZValue(-10)
            region.hide()
            plot.addItem(region)
            self.view_regions.append(region)

        self.graphics.scene().sigMouseClicked.connect(self._on_click)
        self._n_events = 0
        self._v_counts: NDArray[np.int64] = np.zeros(0, dtype=np.int64)

    # ------------------------------------------------------------ set-up

    def _setup_plots(self) -> None:
        layout = self.graphics.ci.layout
        layout.setRowStretchFactor(0, 3)
        layout.setRowStretchFactor(1, 2)
        layout.setRowStretchFactor(2, 1)
        self.graphics.ci.setSpacing(2)
        for plot in (self.trend_plot, self.event_plot, self.minimap_plot):
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.getAxis("left").setWidth(64)
            for name in ("left", "bottom"):
                plot.getAxis(name).setPen((60, 60, 60))
                plot.getAxis(name).setTextPen((30, 30, 30))
        self.trend_plot.setLabel("left", "HR", units="bpm")
        self.trend_plot.showGrid(x=True, y=True, alpha=0.2)
        self.trend_plot.setMouseEnabled(x=True, y=False)
        self.trend_plot.getAxis("bottom").setStyle(showValues=False)
        self.event_plot.setXLink(self.trend_plot)
        self.event_plot.setMouseEnabled(x=True, y=False)
        self.event_plot.setYRange(-0.6, len(LANES) - 0.4, padding=0)
        self.event_plot.getAxis("left").setTicks([[(_lane_y(lane), _LANE_NAMES[lane]) for lane in LANES], []])
        self.event_plot.showGrid(x=True, y=False, alpha=0.2)
        small = QFont()
        small.setPointSizeF(7.5)
        self.event_plot.getAxis("left").setStyle(tickFont=small)
        self.event_plot.setMinimumHeight(110)
        self.event_plot.setLabel("bottom", "Time from start (h:mm)")
        self.minimap_plot.setMouseEnabled(x=False, y=False)
        self.minimap_plot.setMaximumHeight(70)
        self.minimap_plot.getAxis("left").setTicks([[], []])
        self.minimap_plot.setLabel("left", "Record")
        self.minimap_plot.getAxis("bottom").setStyle(showValues=False)
        self.minimap_plot.getAxis("left").setStyle(tickFont=small)
        for plot in (self.trend_plot, self.event_plot, self.minimap_plot):
            plot.getViewBox().setLimits(xMin=0.0)

    # ------------------------------------------------------------ data

    @property
    def duration_s(self) -> float:
        """Duration of the record shown (s); 0 before :meth:`set_data`."""
        return self._duration_s

    @property
    def bin_s(self) -> float:
        """Width of a trend bin (s)."""
        return self._bin_s

    def v_counts(self) -> NDArray[np.int64]:
        """V beats per trend bin, as drawn."""
        return self._v_counts.copy()

    def n_events(self) -> int:
        """Number of events drawn."""
        return self._n_events

    def set_data(
        self,
        duration_s: float,
        trend: HrTrend,
        beat_times_s: ArrayLike,
        beat_labels: Sequence[str],
        events: Sequence[Event],
    ) -> None:
        """Show a record of ``duration_s`` seconds: its HR ``trend``, beats (s, labels) and ``events``.

        Beats are not drawn one by one: V beats (AAMI class V, MIT-BIH ``V``/``E``) are
        counted per trend bin, so 100,000 beats draw as fast as 100.
        """
        self._duration_s = max(float(duration_s), 0.0)
        duration = max(self._duration_s, 1e-3)  # the plots need a non-empty range
        self._bin_s = float(trend.bin_s)
        times = np.asarray(beat_times_s, dtype=np.float64)
        if times.shape != (len(beat_labels),):
            raise ValueError(f"{times.size} beat times for {len(beat_labels)} labels")

        finite = np.isfinite(trend.mean_bpm)
        half = trend.bin_s / 2.0
        ranged = np.isfinite(trend.min_bpm) & np.isfinite(trend.max_bpm)
        centres = trend.times_s
        self.range_bars.setOpts(
            x0=centres[ranged] - 0.4 * trend.bin_s,
            x1=centres[ranged] + 0.4 * trend.bin_s,
            y0=trend.min_bpm[ranged],
            y1=trend.max_bpm[ranged],
        )
        self.mean_curve.setData(centres, trend.mean_bpm)
        self.minimap_curve.setData(centres, trend.mean_bpm)

        n_bins = max(1, int(np.ceil(duration / trend.bin_s - 1e-9)))
        is_v = aami_labels(beat_labels) == "V" if len(beat_labels) else np.zeros(0, dtype=bool)
        bins = np.clip((times[is_v] // trend.bin_s).astype(np.int64), 0, n_bins - 1)
        counts = np.bincount(bins, minlength=n_bins).astype(np.int64)
        self._v_counts = counts
        has = np.flatnonzero(counts)
        lane = _lane_y("V")
        scale = 0.85 / max(1, int(counts.max(initial=0)))
        starts = has * trend.bin_s
        self.v_bars.setOpts(
            x0=starts + 0.05 * trend.bin_s,
            x1=np.minimum(starts + 0.95 * trend.bin_s, duration),
            y0=np.full(has.size, lane - 0.42),
            y1=lane - 0.42 + counts[has] * scale,
        )
        self._set_events(events, duration)

        if np.any(finite):
            low = float(np.nanmin(np.where(ranged, trend.min_bpm, trend.mean_bpm)))
            high = float(np.nanmax(np.where(ranged, trend.max_bpm, trend.mean_bpm)))
        else:
            low, high = 40.0, 120.0
        self.trend_plot.setYRange(max(0.0, low - 5.0), high + 5.0, padding=0)
        mean = trend.mean_bpm[finite]
        top = float(mean.max()) if mean.size else 120.0
        self.minimap_plot.setYRange(-0.45 * top, top * 1.05, padding=0)
        for plot in (self.trend_plot, self.event_plot, self.minimap_plot):
            plot.getViewBox().setLimits(xMin=0.0, xMax=duration + half)
        self.trend_plot.setXRange(0.0, duration, padding=0)
        self.minimap_plot.setXRange(0.0, duration, padding=0)

    def _set_events(self, events: Sequence[Event], duration: float) -> None:
        min_width = duration * MIN_EVENT_WIDTH
        self._n_events = len(events)
        for kind in EVENT_KINDS:
            spans = np.array([(e.start_s, e.end_s) for e in events if e.kind == kind], dtype=np.float64).reshape(-1, 2)
            x0 = spans[:, 0]
            x1 = np.maximum(spans[:, 1], x0 + min_width)
            lane = _lane_y(kind)
            self.event_bars[kind].setOpts(
                x0=x0, x1=x1, y0=np.full(x0.size, lane - 0.35), y1=np.full(x0.size, lane + 0.35)
            )
            self.minimap_bars[kind].setOpts(
                x0=x0, x1=x1, y0=np.full(x0.size, -0.4 * self._minimap_top()), y1=np.full(x0.size, 0.0)
            )

    def set_findings(self, spans: Sequence[tuple[float, float, str]]) -> None:
        """Mark findings with a time span (start s, end s, text) on their own lane; the text is the tooltip."""
        self._finding_spans = [(float(a), float(b), str(t)) for a, b, t in spans]
        x0 = np.array([a for a, _b, _t in self._finding_spans], dtype=np.float64)
        x1 = np.array([b for _a, b, _t in self._finding_spans], dtype=np.float64)
        x1 = np.maximum(x1, x0 + max(self._duration_s, 1.0) * MIN_EVENT_WIDTH)
        lane = _lane_y("findings")
        self.finding_bars.setOpts(x0=x0, x1=x1, y0=np.full(x0.size, lane - 0.35), y1=np.full(x0.size, lane + 0.35))
        self.finding_bars.setToolTip("\n".join(t for _a, _b, t in self._finding_spans) or None)

    def finding_spans(self) -> list[tuple[float, float, str]]:
        """The findings marked on the findings lane."""
        return list(self._finding_spans)

    def _minimap_top(self) -> float:
        _x, y = self.minimap_curve.getData()
        if y is None or not np.any(np.isfinite(y)):
            return 120.0
        return float(np.nanmax(y))

    def set_view_window(self, start_s: float, length_s: float) -> None:
        """Highlight the viewer's window, ``start_s`` to ``start_s + length_s`` (s), on every plot."""
        start = float(start_s)
        stop = start + max(0.0, float(length_s))
        for region in self.view_regions:
            region.setRegion((start, stop))
            region.show()

    def view_window(self) -> tuple[float, float] | None:
        """The highlighted window (start, stop) in s, None when none is shown."""
        region = self.view_regions[0]
        if not region.isVisible():
            return None
        low, high = region.getRegion()
        return float(low), float(high)

    def clear(self) -> None:
        """Show nothing."""
        empty = HrTrend(60.0, np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))
        self.set_data(0.0, empty, np.zeros(0), [], [])
        for region in self.view_regions:
            region.hide()

    # ------------------------------------------------------------ clicks

    def time_at_scene_pos(self, scene_pos: pg.Point) -> float | None:
        """Time (s, clipped to the record) under a scene position on one of the plots, else None."""
        for plot in (self.trend_plot, self.event_plot, self.minimap_plot):
            box = plot.getViewBox()
            if box.sceneBoundingRect().contains(scene_pos):
                t = float(box.mapSceneToView(scene_pos).x())
                return min(max(t, 0.0), self._duration_s)
        return None

    def _on_click(self, event: object) -> None:
        button = getattr(event, "button", None)
        if self._duration_s <= 0 or button is None or button() != Qt.MouseButton.LeftButton:
            return
        if getattr(event, "double", lambda: False)():
            return
        t = self.time_at_scene_pos(event.scenePos())  # type: ignore[attr-defined]
        if t is not None:
            self.jumpRequested.emit(t)
