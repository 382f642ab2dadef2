"""ECG paper geometry, free of Qt: where each lead sits on the paper, in millimetres.

The viewer draws on a virtual sheet of ECG paper whose unit is the millimetre. Time maps
to x by the paper speed (mm/s) and voltage to y by the gain (mm/mV); the screen then maps
millimetres to pixels with its own DPI (:func:`px_per_mm`). y grows upwards (positive mV up).

A *page* is the stretch of record that fills the view width at the chosen speed. Each
layout cuts a page into :class:`Panel` boxes, one per lead strip:

- ``12x1``: every lead one below the other, each for the whole page;
- ``6x2``: two columns of six leads, each column half of the page's time;
- ``3x4+R``: four columns of three leads (2.5 s each at 25 mm/s on a 250 mm sheet), plus a
  rhythm strip of one lead for the whole page underneath (the standard 12-lead printout);
- ``single`` / ``dual``: one or two leads for the whole page (ambulatory records).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "GAINS_MM_PER_MV",
    "MM_PER_INCH",
    "PAPER_SPEEDS_MM_PER_S",
    "Layout",
    "Panel",
    "PaperSettings",
    "layout_panels",
    "minmax_columns",
    "px_per_mm",
]

MM_PER_INCH = 25.4
#: The paper speeds a user may choose, in mm/s.
PAPER_SPEEDS_MM_PER_S = (12.5, 25.0, 50.0)
#: The gains a user may choose, in mm/mV.
GAINS_MM_PER_MV = (5.0, 10.0, 20.0)
#: Height of one lead strip in mm at 10 mm/mV (scaled with the gain).
_STRIP_HEIGHT_MM_AT_10 = 25.0
#: Width kept at the left of each row for the calibration pulse, in mm.
CAL_PULSE_MARGIN_MM = 7.5


class Layout(str, Enum):
    """How leads are arranged on the page."""

    TWELVE_BY_ONE = "12x1"
    SIX_BY_TWO = "6x2"
    THREE_BY_FOUR_RHYTHM = "3x4+R"
    SINGLE = "single"
    DUAL = "dual"


@dataclass(frozen=True)
class PaperSettings:
    """Paper speed in mm/s and gain in mm/mV (never constants: the user chooses them)."""

    speed_mm_s: float = 25.0
    gain_mm_mv: float = 10.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.speed_mm_s) and self.speed_mm_s > 0):
            raise ValueError(f"paper speed {self.speed_mm_s} mm/s is not positive")
        if not (math.isfinite(self.gain_mm_mv) and self.gain_mm_mv > 0):
            raise ValueError(f"gain {self.gain_mm_mv} mm/mV is not positive")

    @property
    def strip_height_mm(self) -> float:
        """Height of one lead strip in mm (25 mm at 10 mm/mV, in proportion to the gain)."""
        return _STRIP_HEIGHT_MM_AT_10 * self.gain_mm_mv / 10.0


@dataclass(frozen=True)
class Panel:
    """One lead strip on the page.

    ``t0_s``: time of the strip's left edge relative to the page start, in s; ``duration_s``
    its length in s. ``x_mm``: left edge on the paper; ``baseline_mm``: the y of 0 mV;
    ``height_mm``: the strip's height (the 0 mV line is in its middle).
    """

    lead_index: int
    lead_name: str
    t0_s: float
    duration_s: float
    x_mm: float
    baseline_mm: float
    height_mm: float
    rhythm: bool = False

    def to_paper(self, t_s: NDArray[np.floating] | float, v_mv: NDArray[np.floating] | float,
                 paper: PaperSettings) -> tuple[NDArray[np.float64], NDArray[np.float64]]:  # fmt: skip
        """Page time ``t_s`` (s from the page start) and voltage ``v_mv`` (mV) to paper mm."""
        x = self.x_mm + (np.asarray(t_s, dtype=np.float64) - self.t0_s) * paper.speed_mm_s
        y = self.baseline_mm + np.asarray(v_mv, dtype=np.float64) * paper.gain_mm_mv
        return x, y

    def from_paper(self, x_mm: float, y_mm: float, paper: PaperSettings) -> tuple[float, float]:
        """Paper mm back to (page time in s, voltage in mV)."""
        return (self.t0_s + (x_mm - self.x_mm) / paper.speed_mm_s, (y_mm - self.baseline_mm) / paper.gain_mm_mv)

    def contains(self, x_mm: float, y_mm: float, paper: PaperSettings) -> bool:
        """Whether the paper point lies inside this strip."""
        width = self.duration_s * paper.speed_mm_s
        half = self.height_mm / 2.0
        return self.x_mm <= x_mm <= self.x_mm + width and self.baseline_mm - half <= y_mm <= self.baseline_mm + half


def px_per_mm(dpi: float, calibration: float = 1.0) -> float:
    """Screen pixels per paper millimetre for a screen of ``dpi`` dots per inch.

    ``calibration`` corrects screens that report a wrong DPI: shown length / measured length (a grid
    whose 100 mm measure 90 mm on the ruler needs 100/90 = 1.11).
    """
    if not (dpi > 0 and calibration > 0):
        raise ValueError(f"DPI {dpi} and calibration {calibration} must be positive")
    return dpi / MM_PER_INCH * calibration


_STANDARD_12 = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


def _ordered(lead_names: Sequence[str]) -> list[int]:
    """Lead indices in the standard 12-lead order where the names allow it, else as stored."""
    upper = {n.upper(): i for i, n in enumerate(lead_names)}
    if all(n.upper() in upper for n in _STANDARD_12):
        return [upper[n.upper()] for n in _STANDARD_12]
    return list(range(len(lead_names)))


def layout_panels(
    layout: Layout,
    lead_names: Sequence[str],
    page_s: float,
    paper: PaperSettings,
    rhythm_lead: int | None = None,
    first_lead: int = 0,
) -> list[Panel]:
    """The strips of one page of ``page_s`` seconds, top strip first.

    Records with fewer leads than a layout's grid fill what they have. ``rhythm_lead``:
    the lead of the 3x4 rhythm strip (default lead II when present, else the first);
    ``first_lead``: the lead shown by ``single`` (and the first of ``dual``).
    """
    if page_s <= 0:
        raise ValueError(f"page length {page_s} s is not positive")
    if not lead_names:
        return []
    h = paper.strip_height_mm
    x0 = CAL_PULSE_MARGIN_MM
    order = _ordered(lead_names)
    panels: list[Panel] = []

    def strip(row: int, lead: int, t0: float, dur: float, col_x: float, rhythm: bool = False) -> Panel:
        return Panel(lead, lead_names[lead], t0, dur, col_x, -(row + 0.5) * h, h, rhythm)

    if layout in (Layout.SINGLE, Layout.DUAL):
        count = 1 if layout is Layout.SINGLE else 2
        leads = [(first_lead + k) % len(lead_names) for k in range(min(count, len(lead_names)))]
        return [strip(r, lead, 0.0, page_s, x0) for r, lead in enumerate(leads)]
    if layout is Layout.TWELVE_BY_ONE:
        return [strip(r, lead, 0.0, page_s, x0) for r, lead in enumerate(order)]
    if layout is Layout.SIX_BY_TWO:
        rows = math.ceil(len(order) / 2)
        col_s = page_s / 2.0
        for k, lead in enumerate(order):
            col, row = divmod(k, rows)
            panels.append(strip(row, lead, col * col_s, col_s, x0 + col * col_s * paper.speed_mm_s))
        return panels
    # 3x4 + rhythm strip
    rows = min(3, len(order))
    cols = math.ceil(len(order) / rows)
    col_s = page_s / cols
    for k, lead in enumerate(order):
        col, row = divmod(k, rows)
        panels.append(strip(row, lead, col * col_s, col_s, x0 + col * col_s * paper.speed_mm_s))
    if rhythm_lead is None:
        names = [n.upper() for n in lead_names]
        rhythm_lead = names.index("II") if "II" in names else 0
    panels.append(strip(rows, rhythm_lead, 0.0, page_s, x0, rhythm=True))
    return panels


def minmax_columns(signal: NDArray[np.floating], n_columns: int) -> tuple[NDArray[np.float64], NDArray[np.float32]]:
    """Reduce a 1-D trace to at most ``n_columns`` min/max pairs (the envelope a screen can show).

    Returns (fractional sample positions, values) with two points per column, min then max in
    time order, so spikes (QRS, pacing) are never lost. Traces already short enough come back
    unchanged (positions 0..n-1).
    """
    x = np.asarray(signal, dtype=np.float32)
    n = x.size
    if n_columns <= 0 or n <= 2 * n_columns:
        return np.arange(n, dtype=np.float64), x
    per = math.ceil(n / n_columns)
    cols = n // per
    body = x[: cols * per].reshape(cols, per)
    with np.errstate(invalid="ignore"):
        argmin = np.nanargmin(np.where(np.isnan(body), np.inf, body), axis=1)
        argmax = np.nanargmax(np.where(np.isnan(body), -np.inf, body), axis=1)
    first = np.minimum(argmin, argmax)
    second = np.maximum(argmin, argmax)
    base = np.arange(cols) * per
    pos = np.empty(2 * cols, dtype=np.float64)
    val = np.empty(2 * cols, dtype=np.float32)
    pos[0::2], pos[1::2] = base + first, base + second
    val[0::2], val[1::2] = body[np.arange(cols), first], body[np.arange(cols), second]
    tail = x[cols * per :]
    if tail.size:
        pos = np.concatenate([pos, np.arange(cols * per, n, dtype=np.float64)])
        val = np.concatenate([val, tail])
    return pos, val
