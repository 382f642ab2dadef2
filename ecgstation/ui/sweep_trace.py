"""Sweeping monitor trace: the last seconds of one lead redrawn left to right, as a bedside monitor does.

The x axis is the sweep position in seconds (0 .. ``display_s``); a sample at session index
``k`` is drawn at ``(k mod n) / fs``, so the newest samples overwrite the oldest ones in place
and an erase bar (``erase_s`` of blanked signal) runs just ahead of the write position.
Missing samples (NaN: gaps, lead-off) are drawn as breaks (``connect="finite"``) and every
run of them after the first sample gets a "gap" mark under the trace: a reconnect is shown,
never papered over. The y axis is fixed in mV (``gain_mm_per_mv`` mm per mV on the screen);
a 1 mV calibration pulse sits in the left margin.

One :class:`SweepTrace` owns one pyqtgraph PlotCurveItem that is reused every frame (the
calibration pulse, cursor and gap bars are plain Qt items: nothing Python-side to paint); the sweep buffer
and x positions are allocated once per size; traces wider than the view are reduced to one
min/max pair per pixel column (a column holding any missing sample stays a break).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QColor, QPainterPath, QPaintEvent, QPen, QResizeEvent
from PySide6.QtWidgets import QGraphicsLineItem, QGraphicsPathItem, QWidget

__all__ = [
    "BACKGROUND_COLOUR",
    "CAL_MARGIN_S",
    "GAP_COLOUR",
    "TRACE_COLOUR",
    "SweepClock",
    "SweepFrame",
    "SweepTrace",
    "gap_runs",
    "sweep_columns",
]

BACKGROUND_COLOUR = (0, 0, 0)
TRACE_COLOUR = (60, 255, 90)
GAP_COLOUR = (255, 200, 0)
CURSOR_COLOUR = (60, 255, 90, 90)
CAL_COLOUR = (200, 200, 200)
#: Width of the left margin that holds the 1 mV calibration pulse, in s of sweep.
CAL_MARGIN_S = 0.35
#: Most gap marks labelled at once (more gaps still break the trace and get a bar).
MAX_GAP_LABELS = 6
#: Fraction of the view height below 0 mV (the baseline sits a little under the middle).
BASELINE_FRACTION = 0.42
MM_PER_INCH = 25.4


@dataclass(frozen=True)
class SweepFrame:
    """Where the sweep stands: write position (sweep s), session time drawn up to (s) and the gaps in view.

    ``gaps`` are ``(start_s, length_s)`` in session time, oldest first.
    """

    write_x_s: float
    end_s: float
    gaps: tuple[tuple[float, float], ...]


def _cosmetic_pen(colour: tuple[int, ...], width: float) -> QPen:
    pen = QPen(QColor(*colour))
    pen.setCosmetic(True)
    pen.setWidthF(width)
    return pen


class SweepClock:
    """A display clock that runs smoothly behind data arriving in chunks (e.g. 40 ms every 40 ms).

    :meth:`display_end` returns the session time to draw up to: it advances with the
    monotonic clock, a little faster or slower (at most ``max_slew``) to stay about ``lag_s``
    behind the newest sample (or 1.25 chunks, when the data arrive in larger chunks, as BLE
    frames of 0.1-0.6 s do), never passes it and never runs backwards. After a jump of more
    than ``jump_s`` (or ``lag + 2`` chunks; first data, a reconnect after a gap, a replay
    faster than real time) it goes straight to the newest sample.
    """

    def __init__(
        self,
        lag_s: float = 0.08,
        jump_s: float = 0.5,
        max_slew: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lag_s, self.jump_s, self.max_slew = lag_s, jump_s, max_slew
        self._clock = clock
        self._display: float | None = None
        self._then = 0.0
        self._last_end: float | None = None
        self._chunk_s = 0.0  # typical time between data arrivals (s): BLE patches send 0.1-0.6 s frames

    def reset(self) -> None:
        """Forget the history (the next call goes straight to the newest sample)."""
        self._display = None
        self._last_end = None
        self._chunk_s = 0.0

    def _learn_chunk(self, end_s: float) -> None:
        """Follow the size of the chunks the data arrive in (an average of the forward steps of ``end_s``)."""
        last = self._last_end
        if last is not None and last < end_s <= last + self.jump_s:  # a longer step is a jump, not a chunk
            step = end_s - last
            self._chunk_s = step if self._chunk_s == 0.0 else 0.8 * self._chunk_s + 0.2 * step
        self._last_end = end_s

    def display_end(self, end_s: float) -> float:
        """The session time to draw up to, given the newest sample's end ``end_s``."""
        now = self._clock()
        self._learn_chunk(end_s)
        # stay a little more than one chunk behind, so that large frames still give a smooth sweep
        lag = max(self.lag_s, 1.25 * self._chunk_s)
        jump = max(self.jump_s, lag + 2.0 * self._chunk_s)
        d = self._display
        if d is None or end_s < d or end_s - d > jump:
            d = end_s
        else:
            behind = end_s - d
            rate = 1.0 + min(self.max_slew, max(-self.max_slew, 2.0 * (behind - lag)))
            d = min(end_s, d + max(0.0, now - self._then) * rate)
        self._display, self._then = d, now
        return d


def gap_runs(finite: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """Runs of missing samples after the first present one: ``(start index, length)`` in time order.

    NaN before the first finite sample is "not started yet" (or older than the view), not a gap.
    """
    if finite.size == 0:
        return []
    first = int(np.argmax(finite))
    if not finite[first]:
        return []
    missing = ~finite[first:]
    if not missing.any():
        return []
    edges = np.diff(missing.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return [(int(s) + first, int(e - s)) for s, e in zip(starts, ends, strict=True)]


def sweep_columns(sweep: NDArray[np.float32], n_columns: int) -> tuple[NDArray[np.float64], NDArray[np.float32]]:
    """Reduce a sweep buffer to at most ``n_columns`` min/max pairs (sample positions, values).

    Pairs keep time order within their column (so QRS spikes survive); a column holding a
    missing sample becomes a break (NaN pair). Buffers already short enough come back as they are.
    """
    n = sweep.size
    if n_columns <= 0 or n <= 2 * n_columns:
        return np.arange(n, dtype=np.float64), sweep
    per = math.ceil(n / n_columns)
    cols = math.ceil(n / per)
    padded = cols * per
    if padded != n:
        body = np.full(padded, np.nan, dtype=np.float32)
        body[:n] = sweep
    else:
        body = sweep
    body2 = body.reshape(cols, per)
    nan = np.isnan(body2)
    broken = nan.any(axis=1)
    filled = np.where(nan, 0.0, body2)
    argmin = filled.argmin(axis=1)
    argmax = filled.argmax(axis=1)
    first = np.minimum(argmin, argmax)
    second = np.maximum(argmin, argmax)
    rows = np.arange(cols)
    pos = np.empty(2 * cols, dtype=np.float64)
    val = np.empty(2 * cols, dtype=np.float32)
    pos[0::2] = rows * per + first
    pos[1::2] = rows * per + second
    val[0::2] = body2[rows, first]
    val[1::2] = body2[rows, second]
    val[0::2][broken] = np.nan
    val[1::2][broken] = np.nan
    if padded != n:  # the last column's positions may point into the padding
        np.minimum(pos, n - 1, out=pos)
    return pos, val


class SweepTrace(pg.GraphicsView):  # type: ignore[misc]
    """A sweeping ECG trace of one lead (see the module docstring); fed with :meth:`show_samples`.

    ``display_s``: sweep width in s; ``erase_s``: width of the erase bar in s;
    ``gain_mm_per_mv``: vertical scale; ``dpi``: the screen's DPI (the mm-per-mV feel);
    ``pen_width``: trace width in px (1 px draws fastest: the ward's tiles use it).
    ``paint_count`` counts the view's paint events (the benchmark's frame counter).
    """

    def __init__(
        self,
        display_s: float = 10.0,
        *,
        erase_s: float = 0.25,
        gain_mm_per_mv: float = 10.0,
        dpi: float = 96.0,
        show_calibration: bool = True,
        label_gaps: bool = True,
        pen_width: float = 1.5,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, background=BACKGROUND_COLOUR)
        if not (display_s > 0 and erase_s >= 0 and gain_mm_per_mv > 0 and dpi > 0):
            raise ValueError("display_s, gain_mm_per_mv and dpi must be positive, erase_s not negative")
        self.display_s = float(display_s)
        self.erase_s = float(erase_s)
        self._gain = float(gain_mm_per_mv)
        self._dpi = float(dpi)
        self._label_gaps = label_gaps
        self.paint_count = 0
        self.setFrameShape(self.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumHeight(40)

        self.view_box = pg.ViewBox(enableMouse=False, enableMenu=False, defaultPadding=0.0)
        self.view_box.setMouseEnabled(False, False)
        self.setCentralItem(self.view_box)
        left = -CAL_MARGIN_S if show_calibration else 0.0
        self.view_box.setXRange(left, self.display_s, padding=0.0)

        # Plain curve items (a PlotDataItem would add a scatter child and a bounds pass per frame).
        self.curve = pg.PlotCurveItem(pen=pg.mkPen(TRACE_COLOUR, width=pen_width), connect="finite")
        self.view_box.addItem(self.curve)

        self.calibration: QGraphicsPathItem | None = None
        if show_calibration:
            path = QPainterPath()
            path.moveTo(-0.33, 0.0)
            for x, y in ((-0.27, 0.0), (-0.27, 1.0), (-0.07, 1.0), (-0.07, 0.0), (-0.01, 0.0)):
                path.lineTo(x, y)
            self.calibration = QGraphicsPathItem(path)
            self.calibration.setPen(_cosmetic_pen(CAL_COLOUR, 1.0))
            self.calibration.setToolTip("1 mV calibration")
            self.view_box.addItem(self.calibration)

        self.cursor = QGraphicsLineItem()
        self.cursor.setPen(_cosmetic_pen(CURSOR_COLOUR, 1.0))
        self.cursor.setVisible(False)
        self.view_box.addItem(self.cursor)

        self.gap_bars = QGraphicsPathItem()
        self.gap_bars.setPen(_cosmetic_pen(GAP_COLOUR, 2.0))
        self.view_box.addItem(self.gap_bars)
        self._gap_labels: list[pg.TextItem] = []
        if label_gaps:
            for _ in range(MAX_GAP_LABELS):
                label = pg.TextItem("gap", color=GAP_COLOUR, anchor=(0.5, 1.0))
                label.setVisible(False)
                self.view_box.addItem(label)
                self._gap_labels.append(label)

        self._gaps_drawn = False
        self._fs = 0.0
        self._n = 0
        self._sweep = np.empty(0, dtype=np.float32)
        self._x = np.empty(0, dtype=np.float64)
        self._frame = SweepFrame(0.0, 0.0, ())
        self._y_range = (-1.0, 1.0)
        self._update_y_range()

    # -- scale ------------------------------------------------------------------------------------

    @property
    def gain_mm_per_mv(self) -> float:
        """Vertical scale in mm per mV."""
        return self._gain

    def set_gain(self, gain_mm_per_mv: float) -> None:
        """Change the vertical scale (mm per mV on the screen)."""
        if not gain_mm_per_mv > 0:
            raise ValueError(f"gain {gain_mm_per_mv} mm/mV must be positive")
        self._gain = float(gain_mm_per_mv)
        self._update_y_range()

    def y_range_mv(self) -> tuple[float, float]:
        """The mV range the view shows (fixed by gain, DPI and height)."""
        return self._y_range

    def _update_y_range(self) -> None:
        height_mm = max(1.0, self.height()) / self._dpi * MM_PER_INCH
        span = height_mm / self._gain
        low = -span * BASELINE_FRACTION
        self._y_range = (low, low + span)
        self.view_box.setYRange(low, low + span, padding=0.0)

    def resizeEvent(self, ev: QResizeEvent | None) -> None:
        """Keep the mV scale fixed when the view changes size."""
        super().resizeEvent(ev)
        if hasattr(self, "view_box"):  # GraphicsView resizes once before __init__ is done
            self._update_y_range()

    def paintEvent(self, ev: QPaintEvent) -> None:
        """Paint and count the frame."""
        self.paint_count += 1
        super().paintEvent(ev)

    # -- data -------------------------------------------------------------------------------------

    def _ensure_buffers(self, n: int, fs: float) -> None:
        if n == self._n and fs == self._fs:
            return
        self._n, self._fs = n, fs
        self._sweep = np.full(n, np.nan, dtype=np.float32)
        self._x = np.arange(n, dtype=np.float64) / fs

    def clear(self) -> None:
        """Show no signal."""
        self.curve.setData([], [])
        self.gap_bars.setPath(QPainterPath())
        self._gaps_drawn = False
        self.cursor.setVisible(False)
        for label in self._gap_labels:
            label.setVisible(False)
        self._frame = SweepFrame(0.0, 0.0, ())

    def show_samples(
        self, samples: NDArray[np.float32], fs: float, end_s: float, display_end_s: float | None = None
    ) -> SweepFrame:
        """Draw ``samples`` (1-D, mV, oldest first, NaN where missing) that end at session time ``end_s``.

        The buffer is laid out as a sweep of ``len(samples) / fs`` seconds; the erase bar
        blanks the ``erase_s`` just ahead of the write position. ``display_end_s`` (from a
        :class:`SweepClock`) draws only up to that time, so the sweep moves every frame even
        when the samples come in 40 ms chunks.
        """
        x = np.asarray(samples, dtype=np.float32)
        n = int(x.size)
        if n == 0 or fs <= 0:
            self.clear()
            return self._frame
        self._ensure_buffers(n, float(fs))
        written = round(end_s * fs)
        pos = written % n  # sweep index of the oldest sample (= where the next sample goes)
        sweep = self._sweep
        # Every sample sits at its absolute position: sweep[(written - n + j) % n] = x[j]
        sweep[pos:] = x[: n - pos]
        sweep[:pos] = x[n - pos :]
        # Samples newer than the display clock are held back (they lie under the erase bar).
        hidden = 0
        if display_end_s is not None and display_end_s < end_s:
            hidden = min(n, round((end_s - display_end_s) * fs))
        shown = written - hidden
        pos = shown % n

        finite = np.isfinite(x[: n - hidden])
        runs = gap_runs(finite)
        t_oldest = end_s - n / fs
        gaps = tuple((t_oldest + s / fs, length / fs) for s, length in runs)

        erase = min(n, max(hidden, round(self.erase_s * fs)))
        if erase > 0:
            stop = pos + erase
            sweep[pos:stop] = np.nan
            if stop > n:
                sweep[: stop - n] = np.nan

        width = max(1, int(self.view_box.width()) or self.width())
        cols = max(1, int(width * self.display_s / (self.display_s + CAL_MARGIN_S)))
        if n > 2 * cols:
            idx, val = sweep_columns(sweep, cols)
            xs = idx / fs
        else:
            xs, val = self._x, sweep
        self.curve.setData(xs, val, connect="finite")

        write_x = pos / fs
        low, high = self._y_range
        self.cursor.setLine(QLineF(write_x, low, write_x, high))
        self.cursor.setVisible(True)
        self._draw_gaps(runs, written, n, fs)
        self._frame = SweepFrame(write_x, shown / fs, gaps)
        return self._frame

    def _draw_gaps(self, runs: list[tuple[int, int]], written: int, n: int, fs: float) -> None:
        """A bar under each gap (split where it wraps round the sweep) and a label over the newest ones."""
        if not runs:
            if self._gaps_drawn:
                self._gaps_drawn = False
                self.gap_bars.setPath(QPainterPath())
                for label in self._gap_labels:
                    label.setVisible(False)
            return
        self._gaps_drawn = True
        low, high = self._y_range
        y = low + 0.06 * (high - low)
        segs: list[float] = []
        for start, length in runs:
            a = (written + start) % n
            b = a + length
            if b <= n:
                segs += [a / fs, b / fs]
            else:
                segs += [a / fs, n / fs, 0.0, (b - n) / fs]
        path = QPainterPath()
        for x0, x1 in zip(segs[0::2], segs[1::2], strict=True):
            path.moveTo(x0, y)
            path.lineTo(x1, y)
        self.gap_bars.setPath(path)
        shown = runs[-len(self._gap_labels) :] if self._gap_labels else []
        for label, (start, length) in zip(self._gap_labels, shown, strict=False):
            a = (written + start) % n
            centre = (a + min(length, n - a) / 2) / fs
            label.setText(f"gap {length / fs:.1f} s")
            label.setPos(centre, y + 0.1 * (high - low))
            label.setVisible(True)
        for label in self._gap_labels[len(shown) :]:
            label.setVisible(False)

    # -- introspection (tests, benchmark) ------------------------------------------------------------

    def frame(self) -> SweepFrame:
        """The last drawn frame's write position and gaps."""
        return self._frame

    def sweep_buffer(self) -> NDArray[np.float32]:
        """The sweep as drawn before reduction to columns (a view: copy it to keep it)."""
        return self._sweep

    def curve_data(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The (x s, y mV) points handed to the plot item."""
        xs, ys = self.curve.getData()
        if xs is None or ys is None:
            return np.empty(0), np.empty(0)
        return np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)

    def gap_label_texts(self) -> list[str]:
        """Texts of the visible gap labels."""
        return [label.textItem.toPlainText() for label in self._gap_labels if label.isVisible()]

    def visible_rect(self) -> QRectF:
        """The view's range (sweep s, mV)."""
        return self.view_box.viewRect()
