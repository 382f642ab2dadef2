"""pytest-qt tests of the true-scale ECG viewer (offscreen; see tests/conftest.py)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QKeyEvent, QWheelEvent
from PySide6.QtWidgets import QApplication, QScrollBar

from ecgstation.core.recording import LeadCalibration, Recording
from ecgstation.io import read_recording
from ecgstation.storage.views import BeatView
from ecgstation.ui.calipers import AmplitudeReading, TimeReading
from ecgstation.ui.ecg_viewer import (
    LABEL_BAND_PX,
    ZOOM_MAX,
    ZOOM_MIN,
    EcgViewer,
    PaperGrid,
    beat_colour,
    is_human_label,
    screen_dpi,
)
from ecgstation.ui.paper_layout import CAL_PULSE_MARGIN_MM, MM_PER_INCH, Layout, PaperSettings
from tests.synthetic import synthetic_ecg

pytestmark = pytest.mark.gui

DPI = 96.0
PPM = DPI / MM_PER_INCH  # px per mm at calibration 1, zoom 1
SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"


@pytest.fixture
def viewer(qtbot) -> EcgViewer:  # type: ignore[no-untyped-def]
    widget = EcgViewer(dpi=DPI)
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _recording(signals: np.ndarray, fs: float, names: tuple[str, ...] | None = None) -> Recording:
    sig = np.asarray(signals, dtype=np.float32)
    if sig.ndim == 1:
        sig = sig[None, :]
    names = names or tuple(f"L{i}" for i in range(sig.shape[0]))
    return Recording(sig, fs, names)


def _beat(
    beat_id: int, sample: int, label: str = "N", *, author: str = "algorithm", original: str | None = None
) -> BeatView:
    return BeatView(
        beat_id, 1, sample, label, label if original is None else original, author, "qrs", False, None, None, 1
    )


def _square_step_record(path: Path, name: str, adc_gain: float, unit: str) -> Recording:
    """1 mV step from 1 s to 2 s in a 4 s, 100 Hz record written as WFDB with ``adc_gain``."""
    import wfdb

    fs = 100
    mv = np.zeros(4 * fs)
    mv[fs : 2 * fs] = 1.0
    scale = 1000.0 if unit == "uV" else 1.0
    wfdb.wrsamp(
        name, fs=fs, units=[unit], sig_name=["II"], p_signal=(mv * scale)[:, None], fmt=["16"],
        adc_gain=[adc_gain], baseline=[0], write_dir=str(path),
    )  # fmt: skip
    return read_recording(path / f"{name}.hea")


def _items(viewer: EcgViewer) -> list[object]:
    """The graphics items in the viewer's ViewBox."""
    return list(viewer.view_box.childGroup.childItems())


def _device_point(viewer: EcgViewer, x_mm: float, y_mm: float) -> QPointF:
    point: QPointF = viewer.view_box.mapViewToDevice(QPointF(x_mm, y_mm))
    return point


# -- (1) physical scale ----------------------------------------------------------------


def test_dpi_defaults_to_the_screens_physical_dpi(qtbot) -> None:  # type: ignore[no-untyped-def]
    widget = EcgViewer()
    qtbot.addWidget(widget)
    expected = screen_dpi(widget)
    assert 20.0 <= expected <= 2000.0
    assert widget.px_per_mm() == pytest.approx(expected / MM_PER_INCH)


def test_px_per_mm_is_dpi_times_calibration_times_zoom(viewer: EcgViewer) -> None:
    assert viewer.px_per_mm() == pytest.approx(PPM)
    viewer.set_calibration(1.1)
    viewer.set_zoom(2.0)
    assert viewer.px_per_mm() == pytest.approx(PPM * 1.1 * 2.0)
    viewer.set_dpi(120.0)
    assert viewer.px_per_mm() == pytest.approx(120.0 / MM_PER_INCH * 1.1 * 2.0)
    with pytest.raises(ValueError):
        viewer.set_dpi(0.0)
    with pytest.raises(ValueError):
        viewer.set_calibration(-1.0)


def test_view_width_in_mm_follows_the_pixels(viewer: EcgViewer) -> None:
    (x_left, x_right), _y = viewer.view_box.viewRange()
    assert x_left == pytest.approx(0.0)
    assert x_right - x_left == pytest.approx(viewer.view_box.width() / viewer.px_per_mm(), rel=1e-3)


@pytest.mark.parametrize("gain", [5.0, 10.0, 20.0])
def test_one_millivolt_is_gain_mm_whatever_the_adc_gain(viewer: EcgViewer, tmp_path: Path, gain: float) -> None:
    records = [
        _square_step_record(tmp_path, "g200", 200.0, "mV"),
        _square_step_record(tmp_path, "g1000", 1000.0, "mV"),
        _square_step_record(tmp_path, "uv", 1.0, "uV"),
    ]
    assert {rec.calibration[0].gain for rec in records} == {200.0, 1000.0}  # the uV record: 1/uV = 1000/mV
    viewer.set_paper(PaperSettings(25.0, gain))
    for rec in records:
        viewer.set_recording(rec)
        x, y = viewer.visible_curve_data()["II"]
        (panel,) = viewer.panels()
        assert y.min() == pytest.approx(panel.baseline_mm)
        assert y.max() - y.min() == pytest.approx(gain)
        top = _device_point(viewer, float(x[150]), float(y.max()))
        bottom = _device_point(viewer, float(x[150]), float(y.min()))
        assert bottom.y() - top.y() == pytest.approx(gain * PPM, rel=1e-3)  # screen y grows downwards
        assert abs(bottom.x() - top.x()) < 1e-6


@pytest.mark.parametrize("speed", [12.5, 25.0, 50.0])
def test_one_second_is_speed_mm(viewer: EcgViewer, tmp_path: Path, speed: float) -> None:
    rec = _square_step_record(tmp_path, "step", 200.0, "mV")
    viewer.set_recording(rec)
    viewer.set_paper(PaperSettings(speed, 10.0))
    x, y = viewer.visible_curve_data()["II"]
    assert x.size == rec.n_samples  # 400 samples fit the page's columns: not reduced
    assert np.allclose(np.diff(x), speed / rec.fs)
    high = np.flatnonzero(y > y.min() + 5.0)
    assert x[high[-1] + 1] - x[high[0]] == pytest.approx(speed)  # the 1 s step is `speed` mm wide
    assert x[0] == pytest.approx(CAL_PULSE_MARGIN_MM)
    left = _device_point(viewer, float(x[high[0]]), 0.0)
    right = _device_point(viewer, float(x[high[0]]) + speed, 0.0)
    assert right.x() - left.x() == pytest.approx(speed * PPM, rel=1e-3)


def test_zoom_magnifies_the_screen_scale_not_the_paper(viewer: EcgViewer, tmp_path: Path) -> None:
    viewer.set_recording(_square_step_record(tmp_path, "step", 200.0, "mV"))
    viewer.set_zoom(2.0)
    x, y = viewer.visible_curve_data()["II"]
    assert y.max() - y.min() == pytest.approx(10.0)  # still 10 mm per mV on the paper
    top = _device_point(viewer, float(x[150]), float(y.max()))
    bottom = _device_point(viewer, float(x[150]), float(y.min()))
    assert bottom.y() - top.y() == pytest.approx(10.0 * PPM * 2.0, rel=1e-3)


@pytest.mark.parametrize(("speed", "pulse_s"), [(12.5, 0.2), (25.0, 0.2), (50.0, 0.1)])
def test_calibration_pulse_is_one_millivolt_in_the_margin(viewer: EcgViewer, speed: float, pulse_s: float) -> None:
    viewer.set_recording(read_recording(SAMPLES / "100.hea"))
    viewer.set_paper(PaperSettings(speed, 20.0))
    x, y = viewer.calibration_pulse_data()
    pieces = np.split(np.arange(x.size), np.flatnonzero(np.isnan(x)))
    pulses = [p[~np.isnan(x[p])] for p in pieces if np.count_nonzero(~np.isnan(x[p])) > 2]
    assert len(pulses) == 2  # one per row
    for idx, panel in zip(pulses, viewer.panels(), strict=True):
        px, py = x[idx], y[idx]
        assert py.min() == pytest.approx(panel.baseline_mm)
        assert py.max() - py.min() == pytest.approx(20.0)  # 1 mV at 20 mm/mV
        assert px.min() >= 0.0 and px.max() <= CAL_PULSE_MARGIN_MM
        top = px[np.isclose(py, py.max())]
        assert top.max() - top.min() == pytest.approx(pulse_s * speed)


def test_grid_draws_the_visible_lines_and_drops_1mm_lines_when_too_dense(viewer: EcgViewer) -> None:
    grid = next(i for i in _items(viewer) if isinstance(i, PaperGrid))
    (x_left, x_right), (y_bottom, y_top) = viewer.view_box.viewRange()
    minor, major = grid.lines()
    expected_major = (x_right - x_left) / 5.0 + (y_top - y_bottom) / 5.0
    assert abs(len(major) - expected_major) <= 4
    assert len(minor) == pytest.approx(4 * len(major), abs=12)
    viewer.set_zoom(0.5)  # 96 dpi: 1.9 px per mm, too dense for 1 mm lines
    minor, major = grid.lines()
    assert not grid.minor_lines_shown() and minor == [] and major


# -- (2) layouts -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layout", "twelve", "two"),
    [
        (Layout.TWELVE_BY_ONE, 12, 2),
        (Layout.SIX_BY_TWO, 12, 2),
        (Layout.THREE_BY_FOUR_RHYTHM, 13, 3),
        (Layout.SINGLE, 1, 1),
        (Layout.DUAL, 2, 2),
    ],
)
def test_layouts_have_the_right_strips(viewer: EcgViewer, layout: Layout, twelve: int, two: int) -> None:
    for path, count in ((SAMPLES / "ptbxl_00003_hr.hea", twelve), (SAMPLES / "100.hea", two)):
        viewer.set_recording(read_recording(path))
        viewer.set_layout(layout)
        assert viewer.layout_mode() is layout
        assert len(viewer.panels()) == count
        data = viewer.visible_curve_data()
        assert len(data) == count
        assert all(x.size > 0 for x, _y in data.values())
        # every column together spans exactly the page
        top_row = max(p.baseline_mm for p in viewer.panels())
        assert sum(p.duration_s for p in viewer.panels() if p.baseline_mm == top_row) == pytest.approx(viewer.page_s())


def test_three_by_four_has_a_rhythm_strip_and_column_times(viewer: EcgViewer) -> None:
    viewer.set_recording(read_recording(SAMPLES / "ptbxl_00003_hr.hea"))
    viewer.set_layout(Layout.THREE_BY_FOUR_RHYTHM)
    data = viewer.visible_curve_data()
    assert "II (rhythm)" in data and "II" in data
    rhythm_x, _ = data["II (rhythm)"]
    column_x, _ = data["II"]
    assert rhythm_x.max() > 3 * column_x.max() - 3 * CAL_PULSE_MARGIN_MM  # the rhythm strip runs the whole page
    v1 = next(p for p in viewer.panels() if p.lead_name == "V1")
    assert v1.t0_s == pytest.approx(viewer.page_s() / 2.0)
    x, _y = data["V1"]
    speed = viewer.paper().speed_mm_s
    assert x.min() == pytest.approx(v1.x_mm, abs=speed / 500.0)
    assert x.max() <= v1.x_mm + v1.duration_s * speed + 1e-6


def test_page_length_is_what_fits_the_width(viewer: EcgViewer) -> None:
    width_mm = viewer.view_box.width() / viewer.px_per_mm()
    assert viewer.page_s() == pytest.approx((width_mm - CAL_PULSE_MARGIN_MM) / 25.0, rel=1e-3)
    page = viewer.page_s()
    viewer.set_paper(PaperSettings(50.0, 10.0))
    assert viewer.page_s() == pytest.approx((width_mm - CAL_PULSE_MARGIN_MM) / 50.0, rel=1e-3)
    assert viewer.page_s() < page


# -- (3) scrolling and zoom --------------------------------------------------------------


@pytest.fixture
def long_viewer(viewer: EcgViewer) -> EcgViewer:
    viewer.set_recording(read_recording(SAMPLES / "100.hea"))  # 30 min, 2 leads, 360 Hz
    return viewer


def test_scrolling_moves_the_page_and_the_data(qtbot, long_viewer: EcgViewer) -> None:  # type: ignore[no-untyped-def]
    viewer = long_viewer
    rec = viewer.recording
    assert rec is not None and viewer.start_s() == 0.0
    before = viewer.visible_curve_data()["MLII"][1].copy()
    with qtbot.waitSignal(viewer.viewChanged) as blocker:
        viewer.scroll_to(60.0)
    assert blocker.args == [pytest.approx(60.0), pytest.approx(viewer.page_s())]
    assert viewer.start_s() == pytest.approx(60.0)
    x, y = viewer.visible_curve_data()["MLII"]
    assert not np.array_equal(y[: before.size], before[: y.size])
    # the drawn points are the record's page, min/max reduced: every value is a sample of the page
    page = rec.signals[0, int(60.0 * rec.fs) : int((60.0 + viewer.page_s()) * rec.fs) + 2]
    panel = viewer.panels()[0]
    values = np.unique(page.astype(np.float64) * 10.0)
    drawn = y - panel.baseline_mm
    nearest = values[np.clip(np.searchsorted(values, drawn), 0, values.size - 1)]
    below = values[np.clip(np.searchsorted(values, drawn) - 1, 0, values.size - 1)]
    assert np.minimum(abs(nearest - drawn), abs(below - drawn)).max() < 1e-5
    assert x.size <= 2 * viewer.view_box.width() + 4  # about two points per pixel column
    assert x.min() >= CAL_PULSE_MARGIN_MM - 1e-6
    assert x.max() <= CAL_PULSE_MARGIN_MM + viewer.page_s() * 25.0 + 1e-6
    viewer.scroll_by(-10.0)
    assert viewer.start_s() == pytest.approx(50.0)
    viewer.scroll_to(-5.0)
    assert viewer.start_s() == 0.0
    viewer.scroll_to(1e9)
    assert viewer.start_s() == pytest.approx(rec.duration_s - viewer.page_s())


def test_scrolling_reuses_the_plot_items(long_viewer: EcgViewer) -> None:
    viewer = long_viewer
    items_before = _items(viewer)
    for k in range(5):
        viewer.scroll_by(0.037 * (k + 1))
    assert _items(viewer) == items_before


def test_keys_scroll_and_zoom(qtbot, long_viewer: EcgViewer) -> None:  # type: ignore[no-untyped-def]
    viewer = long_viewer
    rec = viewer.recording
    assert rec is not None
    viewer.scroll_to(100.0)
    page = viewer.page_s()
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    assert viewer.start_s() == pytest.approx(100.0 + page / 10.0)
    qtbot.keyClick(viewer, Qt.Key.Key_Left)
    assert viewer.start_s() == pytest.approx(100.0)
    qtbot.keyClick(viewer, Qt.Key.Key_PageDown)
    assert viewer.start_s() == pytest.approx(100.0 + page)
    qtbot.keyClick(viewer, Qt.Key.Key_PageUp)
    assert viewer.start_s() == pytest.approx(100.0)
    qtbot.keyClick(viewer, Qt.Key.Key_End)
    assert viewer.start_s() == pytest.approx(rec.duration_s - page)
    qtbot.keyClick(viewer, Qt.Key.Key_Home)
    assert viewer.start_s() == 0.0
    viewer.scroll_to(100.0)
    qtbot.keyClick(viewer, Qt.Key.Key_Plus)
    assert viewer.zoom() == pytest.approx(1.25)
    assert viewer.start_s() == pytest.approx(100.0)
    qtbot.keyClick(viewer, Qt.Key.Key_Minus)
    assert viewer.zoom() == pytest.approx(1.0)


def _wheel(viewer: EcgViewer, angle_y: int, modifiers: Qt.KeyboardModifier) -> None:
    viewport = viewer._view.viewport()  # the wheel lands on the plot
    centre = QPointF(viewport.width() / 2, viewport.height() / 2)
    event = QWheelEvent(
        centre, viewport.mapToGlobal(centre), QPoint(0, 0), QPoint(0, angle_y), Qt.MouseButton.NoButton,
        modifiers, Qt.ScrollPhase.NoScrollPhase, False,
    )  # fmt: skip
    QApplication.sendEvent(viewport, event)


def test_wheel_scrolls_and_ctrl_wheel_zooms(long_viewer: EcgViewer) -> None:
    viewer = long_viewer
    viewer.scroll_to(100.0)
    page = viewer.page_s()
    _wheel(viewer, -120, Qt.KeyboardModifier.NoModifier)  # wheel down: later in time
    assert viewer.start_s() == pytest.approx(100.0 + page / 10.0)
    _wheel(viewer, 120, Qt.KeyboardModifier.NoModifier)
    assert viewer.start_s() == pytest.approx(100.0)
    _wheel(viewer, 120, Qt.KeyboardModifier.ControlModifier)
    assert viewer.zoom() == pytest.approx(1.25)
    assert viewer.start_s() == pytest.approx(100.0)
    assert viewer.view_box.viewRange()[0][1] == pytest.approx(viewer.view_box.width() / viewer.px_per_mm(), rel=1e-3)


def test_zoom_keeps_the_left_edge_and_is_clipped(qtbot, long_viewer: EcgViewer) -> None:  # type: ignore[no-untyped-def]
    viewer = long_viewer
    viewer.scroll_to(321.5)
    page = viewer.page_s()
    with qtbot.waitSignal(viewer.viewChanged):
        viewer.set_zoom(2.0)
    assert viewer.start_s() == pytest.approx(321.5)
    assert viewer.page_s() < page / 1.9
    x, _y = viewer.visible_curve_data()["MLII"]
    assert x.max() == pytest.approx(CAL_PULSE_MARGIN_MM + viewer.page_s() * 25.0, abs=0.2)
    viewer.set_zoom(100.0)
    assert viewer.zoom() == ZOOM_MAX
    viewer.set_zoom(0.01)
    assert viewer.zoom() == ZOOM_MIN
    assert viewer.start_s() == pytest.approx(321.5)


def test_scroll_bar_mirrors_the_position_in_ms(long_viewer: EcgViewer) -> None:
    viewer = long_viewer
    bar = viewer.findChild(QScrollBar, "timeScrollBar")
    assert bar is not None and bar.orientation() == Qt.Orientation.Horizontal
    viewer.scroll_to(61.234)
    assert bar.value() == 61234
    assert bar.pageStep() == round(viewer.page_s() * 1000)
    bar.setValue(123456)
    assert viewer.start_s() == pytest.approx(123.456)
    bar.triggerAction(QScrollBar.SliderAction.SliderSingleStepAdd)
    assert 123.456 < viewer.start_s() < 123.456 + viewer.page_s()


def test_tall_pages_scroll_vertically(viewer: EcgViewer) -> None:
    viewer.set_recording(read_recording(SAMPLES / "ptbxl_00003_hr.hea"))
    viewer.set_paper(PaperSettings(25.0, 20.0))  # 12 strips of 50 mm: taller than the view
    bar = viewer.findChild(QScrollBar, "leadScrollBar")
    assert bar is not None and bar.isEnabled()
    (_x, (_bottom, top)) = viewer.view_box.viewRange()
    assert top == pytest.approx(LABEL_BAND_PX / viewer.px_per_mm())  # room for the top strip's beat labels
    _wheel(viewer, -120, Qt.KeyboardModifier.ShiftModifier)
    assert viewer.view_box.viewRange()[1][1] == pytest.approx(top - 5.0)
    viewer.keyPressEvent(QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Up, Qt.KeyboardModifier.NoModifier))
    assert viewer.view_box.viewRange()[1][1] == pytest.approx(top)
    bar.setValue(bar.maximum())
    lowest = min(p.baseline_mm - p.height_mm / 2 for p in viewer.panels())
    assert viewer.view_box.viewRange()[1][0] == pytest.approx(lowest, abs=0.2)
    assert viewer.start_s() == 0.0  # vertical scrolling leaves the time alone
    viewer.set_paper(PaperSettings(25.0, 5.0))  # now it fits
    assert not bar.isEnabled()


def test_set_recording_resets_the_view_but_keeps_the_zoom(long_viewer: EcgViewer) -> None:
    viewer = long_viewer
    viewer.set_zoom(1.5)
    viewer.scroll_to(200.0)
    viewer.add_time_caliper(201.0, 202.0)
    viewer.set_beats([_beat(1, 72000)])
    viewer.set_recording(read_recording(SAMPLES / "119.hea"))
    assert viewer.start_s() == 0.0
    assert viewer.zoom() == 1.5
    assert viewer.calipers() == [] and viewer.beats() == []


# -- (4) calipers --------------------------------------------------------------------------


@pytest.fixture
def synthetic(viewer: EcgViewer) -> tuple[EcgViewer, np.ndarray, float]:
    fs = 250.0
    signal, r_peaks = synthetic_ecg(fs, 60.0, rr_s=0.8, seed=3)
    viewer.set_recording(_recording(np.vstack([signal, -signal]), fs, ("II", "V1")))
    return viewer, r_peaks, fs


def test_time_caliper_between_r_peaks(qtbot, synthetic) -> None:  # type: ignore[no-untyped-def]
    viewer, r, fs = synthetic
    t1, t2 = r[3] / fs, r[4] / fs
    with qtbot.waitSignal(viewer.caliperChanged) as blocker:
        caliper = viewer.add_time_caliper(t1, t2)
    reading = caliper.reading()
    assert isinstance(reading, TimeReading) and blocker.args == [reading]
    assert reading.interval_ms == pytest.approx((r[4] - r[3]) / fs * 1000.0)
    assert reading.bpm == pytest.approx(60000.0 / reading.interval_ms)
    assert caliper.text() == f"{reading.interval_ms:.0f} ms · {reading.bpm:.0f} bpm"
    assert caliper.label.toPlainText() == caliper.text()
    panel = viewer.panels()[0]
    assert caliper.line1.value() == pytest.approx(panel.to_paper(t1 - viewer.start_s(), 0.0, viewer.paper())[0])
    assert caliper.line1.movable and caliper.line1.angle == 90
    # drag the second line onto the next R peak
    x5 = float(panel.to_paper(r[5] / fs - viewer.start_s(), 0.0, viewer.paper())[0])
    with qtbot.waitSignal(viewer.caliperChanged) as blocker:
        caliper.line2.setValue(x5)
    moved = blocker.args[0]
    assert moved.t2_s == pytest.approx(r[5] / fs)
    assert moved.interval_ms == pytest.approx((r[5] - r[3]) / fs * 1000.0)
    assert caliper.reading() == moved
    # scrolling keeps the caliper on the record's times
    viewer.scroll_to(0.5)
    assert caliper.reading() == moved
    assert caliper.line1.value() == pytest.approx(panel.to_paper(t1 - 0.5, 0.0, viewer.paper())[0])


@pytest.fixture
def unthrottled_mouse() -> Iterator[None]:
    """pyqtgraph drops mouse moves closer than 1/100 s; synthetic moves come faster."""
    import pyqtgraph as pg

    before = pg.getConfigOption("mouseRateLimit")
    pg.setConfigOption("mouseRateLimit", -1)
    yield None
    pg.setConfigOption("mouseRateLimit", before)


@pytest.mark.usefixtures("unthrottled_mouse")
def test_time_caliper_follows_a_mouse_drag(qtbot, synthetic) -> None:  # type: ignore[no-untyped-def]
    viewer, r, fs = synthetic
    caliper = viewer.add_time_caliper(r[2] / fs, r[3] / fs)
    viewport = viewer._view.viewport()
    y_mm = viewer.panels()[-1].baseline_mm - 20.0  # below the traces, on the line
    start = _device_point(viewer, float(caliper.line2.value()), y_mm).toPoint()
    end = start + QPoint(38, 0)  # 38 px = 10 mm = 0.4 s at 25 mm/s
    qtbot.mouseMove(viewport, start)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    for k in range(1, 5):
        qtbot.mouseMove(viewport, start + QPoint(38 * k // 4, 0))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    expected = r[3] / fs + (end.x() - start.x()) / viewer.px_per_mm() / 25.0
    assert caliper.reading().t2_s == pytest.approx(expected, abs=0.02)


def test_march_out_repeats_the_interval_across_the_page(synthetic) -> None:  # type: ignore[no-untyped-def]
    viewer, _r, _fs = synthetic
    viewer.scroll_to(10.0)
    caliper = viewer.add_time_caliper(12.0, 12.8, march_out=True)
    lo, hi = viewer.start_s(), viewer.start_s() + viewer.page_s()
    expected = [12.0 + k * 0.8 for k in range(-20, 40) if k not in (0, 1) and lo <= 12.0 + k * 0.8 <= hi]
    assert caliper.march_positions_s() == pytest.approx(expected)
    x, _y = caliper.march_item.getOriginalDataset()
    assert x is not None and x.size == 2 * len(expected)  # one dashed line (two points) per repeat
    assert np.allclose(x[::2], [viewer.panels()[0].to_paper(t - lo, 0.0, viewer.paper())[0] for t in expected])
    plain = viewer.add_time_caliper(12.0, 12.8)
    assert plain.march_positions_s() == []


def test_amplitude_caliper_reads_mv_through_the_paper(qtbot, synthetic) -> None:  # type: ignore[no-untyped-def]
    viewer, r, fs = synthetic
    viewer.set_paper(PaperSettings(25.0, 20.0))
    caliper = viewer.add_amplitude_caliper(1, r[2] / fs, -0.1, 1.1)
    reading = caliper.reading()
    assert isinstance(reading, AmplitudeReading)
    assert (reading.lead_index, reading.v1_mv, reading.v2_mv) == (1, -0.1, 1.1)
    assert reading.delta_mv == pytest.approx(1.2)
    assert caliper.text() == "1.20 mV"
    panel = viewer.panels()[1]
    assert caliper.panel == panel
    assert caliper.line2.value() == pytest.approx(panel.baseline_mm + 1.1 * 20.0)
    with qtbot.waitSignal(viewer.caliperChanged) as blocker:
        caliper.line2.setValue(panel.baseline_mm + 0.5 * 20.0)
    assert blocker.args[0].v2_mv == pytest.approx(0.5)
    assert caliper.reading().delta_mv == pytest.approx(0.6)
    assert caliper.label.toPlainText() == "0.60 mV"
    with pytest.raises(IndexError):
        viewer.add_amplitude_caliper(5, 1.0, 0.0, 1.0)


def test_clear_calipers_removes_their_items(synthetic) -> None:  # type: ignore[no-untyped-def]
    viewer, _r, _fs = synthetic
    time_caliper = viewer.add_time_caliper(1.0, 2.0, march_out=True)
    amp = viewer.add_amplitude_caliper(0, 1.0, 0.0, 1.0)
    assert len(viewer.calipers()) == 2
    assert all(item in _items(viewer) for item in time_caliper.items() + amp.items())
    viewer.clear_calipers()
    assert viewer.calipers() == []
    assert not any(item in _items(viewer) for item in time_caliper.items() + amp.items())


# -- (5) beats -----------------------------------------------------------------------------

DAY_FS = 128.0
DAY_SAMPLES = int(24 * 3600 * DAY_FS)
N_BEATS = 100_000


@pytest.fixture
def day(viewer: EcgViewer) -> EcgViewer:
    flat = np.broadcast_to(np.zeros(1, dtype=np.float32), (2, DAY_SAMPLES))  # 24 h, no memory
    viewer.set_recording(Recording(flat, DAY_FS, ("ECG1", "ECG2")))
    samples = np.linspace(64, DAY_SAMPLES - 64, N_BEATS).astype(np.int64)
    beats = []
    for i, s in enumerate(samples.tolist()):
        label = "V" if i % 7 == 0 else "S" if i % 13 == 0 else "N"
        beats.append(_beat(i + 1, s, label, author="user" if i % 41 == 0 else "algorithm"))
    viewer.set_beats(beats)
    viewer.scroll_to(12 * 3600.0)
    return viewer


def _beats_on_page(viewer: EcgViewer) -> list[BeatView]:
    lo, hi = viewer.start_s() * DAY_FS, (viewer.start_s() + viewer.page_s()) * DAY_FS
    return [b for b in viewer.beats() if lo <= b.sample < hi]


def test_only_the_visible_beats_are_drawn(day: EcgViewer) -> None:
    viewer = day
    assert len(viewer.beats()) == N_BEATS
    on_page = _beats_on_page(viewer)
    labels = viewer.beat_label_items()
    assert 0 < len(labels) <= len(on_page)
    assert len(labels) == len(on_page)  # 12x1: labels on the top strip only
    right = CAL_PULSE_MARGIN_MM + viewer.page_s() * 25.0
    assert all(CAL_PULSE_MARGIN_MM <= item.pos().x() <= right for item in labels)
    assert [item.toPlainText() for item in labels] == [b.label for b in on_page]
    viewer.set_layout(Layout.DUAL)
    assert len(viewer.beat_label_items()) == 2 * len(_beats_on_page(viewer))  # each ambulatory strip


@pytest.mark.parametrize("layout", [Layout.SIX_BY_TWO, Layout.THREE_BY_FOUR_RHYTHM])
def test_beat_labels_sit_on_the_top_row_or_the_rhythm_strip(viewer: EcgViewer, layout: Layout) -> None:
    fs = 250.0
    signal, r = synthetic_ecg(fs, 30.0)
    names = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
    viewer.set_recording(_recording(np.tile(signal, (12, 1)), fs, names))
    viewer.set_layout(layout)
    viewer.set_beats([_beat(i, int(s)) for i, s in enumerate(r)])
    on_page = [s for s in r if s < viewer.page_s() * fs]
    labels = viewer.beat_label_items()
    assert len(labels) == len(on_page)  # one label per beat: across the top row's columns, or on the rhythm strip
    top_row = max(p.baseline_mm for p in viewer.panels())
    if layout is Layout.THREE_BY_FOUR_RHYTHM:
        strip = next(p for p in viewer.panels() if p.rhythm)
    else:
        strip = max(viewer.panels(), key=lambda p: p.baseline_mm)
    above = viewer.headroom_mm() if strip.baseline_mm == top_row else 0.0
    assert all(item.pos().y() == pytest.approx(strip.baseline_mm + strip.height_mm / 2 + above) for item in labels)
    panel = viewer.panels()[0]
    expected_x = [panel.to_paper(s / fs, 0.0, viewer.paper())[0] for s in on_page]
    assert [item.pos().x() for item in labels] == pytest.approx(expected_x)


def test_update_beat_keeps_the_view_and_zoom(day: EcgViewer) -> None:
    viewer = day
    viewer.set_zoom(1.5)
    viewer.scroll_to(12 * 3600.0 + 0.123)
    start, zoom, page = viewer.start_s(), viewer.zoom(), viewer.page_s()
    target = _beats_on_page(viewer)[3]
    changed = BeatView(target.id, 1, target.sample, "V", target.original_label, "user", "dr", False, "dr", None, 2)
    viewer.update_beat(changed)
    assert (viewer.start_s(), viewer.zoom(), viewer.page_s()) == (start, zoom, page)
    item = viewer.beat_label_items()[3]
    assert item.toPlainText() == "V"
    assert item.textItem.font().bold()
    viewer.update_beat(BeatView(target.id, 1, target.sample, "V", "N", "user", "dr", True, "dr", None, 3))
    assert len(viewer.beats()) == N_BEATS - 1
    assert target.id not in {b.id for b in viewer.beats()}
    assert (viewer.start_s(), viewer.zoom()) == (start, zoom)
    far = viewer.beats()[10]  # far off the page
    viewer.update_beat(BeatView(far.id, 1, far.sample, "A", far.original_label, "user", "dr", False, None, None, 2))
    assert (viewer.start_s(), viewer.zoom()) == (start, zoom)
    added = _beat(N_BEATS + 1, target.sample + 5, "F")
    viewer.update_beat(added)
    assert viewer.beats()[viewer.beats().index(added) - 1].sample <= added.sample
    assert (viewer.start_s(), viewer.zoom()) == (start, zoom)


def test_set_beats_keeps_scroll_and_zoom(day: EcgViewer) -> None:
    viewer = day
    viewer.set_zoom(2.0)
    start = viewer.start_s()
    viewer.set_beats(viewer.beats()[::2])
    assert viewer.start_s() == start and viewer.zoom() == 2.0
    assert len(viewer.beats()) == N_BEATS // 2


def test_human_and_algorithm_labels_look_different(viewer: EcgViewer) -> None:
    fs = 250.0
    signal, r = synthetic_ecg(fs, 20.0)
    viewer.set_recording(_recording(signal, fs, ("II",)))
    beats = [
        _beat(1, int(r[0]), "N"),  # algorithm
        _beat(2, int(r[1]), "V", author="user"),  # a person's beat
        _beat(3, int(r[2]), "V", original="N"),  # relabelled
        _beat(4, int(r[3]), "N", author="file"),  # reference file: as read
    ]
    viewer.set_beats(beats)
    assert [is_human_label(b) for b in beats] == [False, True, True, False]
    items = viewer.beat_label_items()
    assert [i.textItem.font().bold() for i in items] == [False, True, True, False]
    assert [i.textItem.font().underline() for i in items] == [False, True, True, False]
    colours = [i.color.getRgb()[:3] for i in items]
    assert colours[1] == beat_colour("V") != colours[0] == beat_colour("N")
    assert beat_colour("A") == beat_colour("S") != beat_colour("F")
    assert beat_colour("/") != beat_colour("Q") != beat_colour("V")


def test_next_beat_of_a_class(day: EcgViewer) -> None:
    viewer = day
    start = viewer.start_s()
    on_page = _beats_on_page(viewer)
    first_v = next(b for b in on_page if b.label == "V")
    assert viewer.next_beat("V") == first_v
    assert viewer.selected_beat() == first_v
    assert viewer.start_s() == start  # on the page: no scroll
    # jump until a V lies off the page: the page then puts it a third of the way in
    for _ in range(20):
        before = viewer.start_s()
        beat = viewer.next_beat("V")
        assert beat is not None and beat.label == "V" and beat.sample > first_v.sample
        if viewer.start_s() != before:
            assert beat.sample / DAY_FS - viewer.start_s() == pytest.approx(viewer.page_s() / 3.0, abs=1e-6)
            break
    else:
        pytest.fail("never scrolled")
    back = viewer.next_beat("V", forward=False)
    assert back is not None and back.label == "V" and back.sample < beat.sample
    any_next = viewer.next_beat()
    assert any_next is not None and any_next.sample > back.sample
    assert any_next == viewer.beats()[viewer.beats().index(back) + 1]
    assert viewer.next_beat("X") is None
    assert viewer.selected_beat() == any_next


def test_clicking_a_beat_selects_it(qtbot, viewer: EcgViewer) -> None:  # type: ignore[no-untyped-def]
    fs = 250.0
    signal, r = synthetic_ecg(fs, 20.0)
    viewer.set_recording(_recording(signal, fs, ("II",)))
    viewer.set_beats([_beat(i + 10, int(s)) for i, s in enumerate(r)])
    panel = viewer.panels()[0]
    x, _y = panel.to_paper(r[4] / fs, 0.0, viewer.paper())
    point = _device_point(viewer, float(x) + 0.5, panel.baseline_mm - 5.0).toPoint()
    with qtbot.waitSignal(viewer.beatClicked) as blocker:
        qtbot.mouseClick(viewer._view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert blocker.args == [14]
    selected = viewer.selected_beat()
    assert selected is not None and selected.id == 14
    viewer.select_beat(12)
    assert viewer.selected_beat() == viewer.beats()[2]
    with pytest.raises(KeyError):
        viewer.select_beat(999)


# -- (6) filters -----------------------------------------------------------------------------


def test_filters_change_the_drawing_not_the_recording(viewer: EcgViewer) -> None:
    fs = 250.0
    signal, _r = synthetic_ecg(fs, 40.0)
    t = np.arange(signal.size) / fs
    wander = (signal + 1.5 * np.sin(2 * np.pi * 0.15 * t) + 0.8).astype(np.float32)
    rec = _recording(wander, fs, ("II",))
    stored = np.array(rec.signals, copy=True)
    viewer.set_recording(rec)
    viewer.scroll_to(10.0)
    assert viewer.filters_enabled() is False
    _x, raw = viewer.visible_curve_data()["II"]
    raw = raw.copy()
    viewer.set_filters_enabled(True)
    assert viewer.filters_enabled() is True
    _x, filtered = viewer.visible_curve_data()["II"]
    baseline = viewer.panels()[0].baseline_mm
    assert not np.allclose(raw, filtered)
    assert abs(np.median(filtered) - baseline) < abs(np.median(raw) - baseline)
    assert abs(np.median(filtered) - baseline) < 1.0  # wander gone: within 0.1 mV of 0 at 10 mm/mV
    np.testing.assert_array_equal(rec.signals, stored)
    # the page is filtered with a margin: the same as filtering the whole record, to 0.01 mV
    from ecgstation.core.filters import lowpass, remove_baseline

    whole = lowpass(remove_baseline(rec.signals[0], fs, 0.5), fs, 40.0)
    x, y = viewer.visible_curve_data()["II"]
    samples = np.round((x - CAL_PULSE_MARGIN_MM) / 25.0 * fs).astype(int) + int(10.0 * fs)
    assert np.abs((y - baseline) / 10.0 - whole[samples]).max() < 0.01
    viewer.scroll_by(0.5)
    viewer.scroll_by(-0.5)
    np.testing.assert_allclose(viewer.visible_curve_data()["II"][1], filtered, atol=1e-4)
    viewer.set_filters_enabled(False)
    np.testing.assert_array_equal(viewer.visible_curve_data()["II"][1], raw)


def test_filters_survive_nan_gaps(viewer: EcgViewer) -> None:
    fs = 250.0
    signal, _r = synthetic_ecg(fs, 20.0)
    signal[1000:1100] = np.nan
    viewer.set_recording(_recording(signal, fs, ("II",)))
    viewer.set_filters_enabled(True)
    _x, y = viewer.visible_curve_data()["II"]
    assert np.isfinite(y).sum() > 0.9 * y.size
    assert np.isnan(y).any()


# -- edge cases ---------------------------------------------------------------------------------


def test_empty_viewer_and_short_records(viewer: EcgViewer) -> None:
    assert viewer.recording is None
    assert viewer.panels() == [] and viewer.visible_curve_data() == {}
    assert viewer.next_beat() is None
    viewer.scroll_to(10.0)
    assert viewer.start_s() == 0.0
    viewer.set_recording(_recording(np.array([[0.0, 1.0]]), 100.0))
    assert viewer.visible_curve_data()["L0"][0].size == 2
    with pytest.raises(TypeError):
        viewer.set_recording(np.zeros((1, 10)))  # type: ignore[arg-type]
    assert math.isfinite(viewer.page_s()) and viewer.page_s() > 0


def test_recording_with_calibration_gains_draws_mv(viewer: EcgViewer) -> None:
    """Two Recordings whose leads came from different ADC gains but hold the same mV draw alike."""
    mv = np.zeros((1, 500), dtype=np.float32)
    mv[0, 100:200] = 1.0
    low = Recording(mv.copy(), 250.0, ("II",), calibration=(LeadCalibration(gain=200.0),))
    high = Recording(mv.copy(), 250.0, ("II",), calibration=(LeadCalibration(gain=1000.0, baseline=-35.0),))
    viewer.set_recording(low)
    a = viewer.visible_curve_data()["II"]
    viewer.set_recording(high)
    b = viewer.visible_curve_data()["II"]
    np.testing.assert_array_equal(a[1], b[1])
    assert a[1].max() - a[1].min() == pytest.approx(10.0)


def test_tall_complexes_of_the_top_strip_stay_in_view(viewer: EcgViewer) -> None:
    """A 2.5 mV R wave rises above its 25 mm strip: the view makes room above it, labels go higher still."""
    fs = 250.0
    signal, r = synthetic_ecg(fs, 20.0)
    tall = (signal / np.nanmax(signal) * 2.5).astype(np.float32)
    viewer.set_recording(_recording(np.vstack([tall, tall]), fs, ("II", "V1")))
    viewer.set_layout(Layout.DUAL)
    viewer.set_beats([_beat(i, int(s)) for i, s in enumerate(r)])
    top = viewer.panels()[0]
    peak_mm = top.baseline_mm + 2.5 * viewer.paper().gain_mm_mv
    _x0, _x1, _y0, view_top = viewer.view_box.viewRange()[0] + viewer.view_box.viewRange()[1]
    assert viewer.headroom_mm() > 0 and view_top >= peak_mm - 0.5
    top_labels = [item for item in viewer.beat_label_items() if item.pos().y() > top.baseline_mm]
    assert top_labels and all(item.pos().y() >= peak_mm - 0.5 for item in top_labels)
