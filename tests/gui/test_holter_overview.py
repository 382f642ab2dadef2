"""pytest-qt tests of the Holter widgets: overview (trend, lanes, minimap), beat templates, event list."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QApplication, QTableWidgetItem, QWidget

from ecgstation.core.beat_templates import BeatFamily
from ecgstation.core.events import Event, EventCriteria, HrTrend, detect_events, heart_rate_trend
from ecgstation.ui.event_list import COLUMNS, EventList, format_clock
from ecgstation.ui.holter_overview import HolterOverview, format_elapsed
from ecgstation.ui.templates_panel import RELABEL_CHOICES, TemplatesPanel

pytestmark = pytest.mark.gui

FS = 128.0
BIN_S = 60.0


def holter_beats(hours: float = 2.0, seed: int = 0) -> tuple[NDArray[np.int64], list[str], int]:
    """Beats of a ``hours`` long record at ``FS`` Hz: sinus at 75 bpm with a V beat every 20 and one 3 s pause."""
    rng = np.random.default_rng(seed)
    n_beats = int(hours * 3600 / 0.8)
    rr = 0.8 * (1 + 0.03 * rng.standard_normal(n_beats))
    rr[n_beats // 2] = 3.0
    times = 1.0 + np.concatenate([[0.0], np.cumsum(rr)])
    labels = ["V" if k % 20 == 19 else "N" for k in range(times.size)]
    peaks = np.round(times * FS).astype(np.int64)
    return peaks, labels, int(peaks[-1] + 2 * FS)


@pytest.fixture
def overview(qtbot) -> HolterOverview:  # type: ignore[no-untyped-def]
    widget = HolterOverview()
    qtbot.addWidget(widget)
    widget.resize(1000, 420)
    peaks, labels, n = holter_beats()
    trend = heart_rate_trend(peaks, FS, n, bin_s=BIN_S)
    events = detect_events(peaks, labels, FS, n)
    widget.set_data(n / FS, trend, peaks / FS, labels, events)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def click_plot(  # type: ignore[no-untyped-def]
    qtbot, overview: HolterOverview, plot_name: str, t_s: float, button: Qt.MouseButton = Qt.MouseButton.LeftButton
) -> None:
    """A real mouse click on the graphics view at time ``t_s`` in the middle of the plot's height."""
    plot = getattr(overview, plot_name)
    box = plot.getViewBox()
    (_x0, _x1), (y0, y1) = box.viewRange()
    scene = box.mapViewToScene(QPointF(t_s, (y0 + y1) / 2.0))
    pos = overview.graphics.mapFromScene(scene)
    qtbot.mouseClick(overview.graphics.viewport(), button, pos=pos)


def double_click(qtbot, widget: QWidget, pos: QPoint) -> None:  # type: ignore[no-untyped-def]
    """A user's double click: QTest's double click alone lacks the first press that item views expect."""
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseDClick(widget, Qt.MouseButton.LeftButton, pos=pos)


# ---------------------------------------------------------------- overview


def test_overview_draws_trend_v_beats_and_events(overview: HolterOverview) -> None:
    _peaks, labels, n = holter_beats()
    assert overview.duration_s == pytest.approx(n / FS)
    assert overview.bin_s == BIN_S
    assert int(overview.v_counts().sum()) == labels.count("V")
    assert overview.v_counts().size == int(np.ceil(n / FS / BIN_S))
    assert overview.n_events() == 1  # the 3 s pause
    x0, x1 = overview.event_bars["pause"].opts["x0"], overview.event_bars["pause"].opts["x1"]
    assert len(x0) == 1 and x1[0] > x0[0]
    x, y = overview.mean_curve.getData()
    assert x is not None and y is not None and np.nanmedian(y) == pytest.approx(75.0, rel=0.03)


@pytest.mark.parametrize("plot_name", ["trend_plot", "event_plot", "minimap_plot"])
@pytest.mark.parametrize("t_s", [600.0, 4000.0])
def test_click_emits_jump_with_the_time_under_the_mouse(  # type: ignore[no-untyped-def]
    qtbot, overview: HolterOverview, plot_name: str, t_s: float
) -> None:
    with qtbot.waitSignal(overview.jumpRequested, timeout=2000) as blocker:
        click_plot(qtbot, overview, plot_name, t_s)
    assert blocker.args is not None
    assert blocker.args[0] == pytest.approx(t_s, abs=BIN_S)


def test_click_after_zooming_the_trend(qtbot, overview: HolterOverview) -> None:  # type: ignore[no-untyped-def]
    overview.trend_plot.setXRange(3000.0, 3600.0, padding=0)
    QApplication.processEvents()
    # the event plot follows the trend's zoom; the minimap still shows the whole record
    assert overview.event_plot.getViewBox().viewRange()[0] == pytest.approx([3000.0, 3600.0], abs=1.0)
    assert overview.minimap_plot.getViewBox().viewRange()[0][1] == pytest.approx(overview.duration_s, rel=0.01)
    with qtbot.waitSignal(overview.jumpRequested, timeout=2000) as blocker:
        click_plot(qtbot, overview, "trend_plot", 3300.0)
    assert blocker.args is not None and blocker.args[0] == pytest.approx(3300.0, abs=5.0)


def test_right_click_and_clicks_outside_the_plots_do_not_jump(qtbot, overview: HolterOverview) -> None:  # type: ignore[no-untyped-def]
    with qtbot.assertNotEmitted(overview.jumpRequested, wait=100):
        click_plot(qtbot, overview, "trend_plot", 600.0, button=Qt.MouseButton.RightButton)
    with qtbot.assertNotEmitted(overview.jumpRequested, wait=100):
        qtbot.mouseClick(overview.graphics.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(3, 3))
    # the menu a right click may open is not part of this widget's contract; close anything open
    for widget in QApplication.topLevelWidgets():
        if widget.isVisible() and widget is not overview and widget.inherits("QMenu"):
            widget.close()


def test_view_window_is_highlighted(overview: HolterOverview) -> None:
    assert overview.view_window() is None
    overview.set_view_window(1200.0, 10.0)
    assert overview.view_window() == pytest.approx((1200.0, 1210.0))
    assert all(region.isVisible() for region in overview.view_regions)
    assert overview.minimap_plot.getViewBox().viewRange()[0][1] == pytest.approx(overview.duration_s, rel=0.01)


def test_overview_with_100000_beats_and_nothing(qtbot) -> None:  # type: ignore[no-untyped-def]
    widget = HolterOverview()
    qtbot.addWidget(widget)
    peaks, labels, n = holter_beats(hours=23.0)
    assert peaks.size > 100_000
    trend = heart_rate_trend(peaks, FS, n)
    widget.set_data(n / FS, trend, peaks / FS, labels, detect_events(peaks, labels, FS, n))
    assert int(widget.v_counts().sum()) == labels.count("V")
    widget.clear()
    assert widget.duration_s == 0.0 and widget.view_window() is None
    empty = HrTrend(60.0, np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))
    widget.set_data(0.0, empty, np.zeros(0), [], [])
    with qtbot.assertNotEmitted(widget.jumpRequested, wait=50):
        widget.show()
        qtbot.mouseClick(widget.graphics.viewport(), Qt.MouseButton.LeftButton)


def test_clock_format() -> None:
    assert format_elapsed(3725.4) == "1:02:05"
    assert format_elapsed(3725.4, with_seconds=False) == "1:02"
    assert format_clock(3725.9) == "01:02:05"
    assert format_clock(90061.0) == "25:01:01"


# ---------------------------------------------------------------- templates


def family(family_id: int, label: str, count: int, sign: float = 1.0, other: bool = False) -> BeatFamily:
    t = np.linspace(-0.25, 0.4, 84)
    wave = np.stack([sign * np.exp(-0.5 * (t / 0.02) ** 2), 0.5 * sign * np.exp(-0.5 * (t / 0.03) ** 2)])
    return BeatFamily(
        family_id=family_id,
        beat_indices=np.arange(count, dtype=np.int64) * 3 + family_id,
        count=count,
        mean_waveform=wave.astype(np.float32),
        window_start_s=-0.25,
        dominant_label=label,
        label_counts={label: count},
        is_other=other,
    )


@pytest.fixture
def templates(qtbot) -> TemplatesPanel:  # type: ignore[no-untyped-def]
    panel = TemplatesPanel()
    qtbot.addWidget(panel)
    panel.resize(600, 400)
    panel.set_families([family(0, "N", 900), family(1, "V", 120, -1.0), family(2, "N", 7, other=True)], FS, ("I", "II"))
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def test_templates_show_one_tile_per_family(templates: TemplatesPanel) -> None:
    assert templates.family_ids() == [0, 1, 2]
    assert templates.list.item(1).text() == "#1  V  ×120"
    assert "other" in templates.list.item(2).text()
    assert "V 120" in templates.list.item(1).toolTip()
    assert not templates.list.item(0).icon().isNull()
    assert templates.summary.text() == "3 families, 1027 beats"
    assert [templates.label_combo.itemText(i) for i in range(templates.label_combo.count())] == list(RELABEL_CHOICES)
    assert not templates.relabel_button.isEnabled()  # nothing selected yet


def test_relabel_emits_family_and_label(qtbot, templates: TemplatesPanel) -> None:  # type: ignore[no-untyped-def]
    rect = templates.list.visualItemRect(templates.item_for(1))
    qtbot.mouseClick(templates.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert templates.selected_family_id() == 1
    assert templates.relabel_button.isEnabled()
    templates.label_combo.setCurrentText("F")
    with qtbot.waitSignal(templates.relabelRequested, timeout=1000) as blocker:
        qtbot.mouseClick(templates.relabel_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [1, "F"]
    # a label typed by hand
    templates.label_combo.setEditText(" x ")
    with qtbot.waitSignal(templates.relabelRequested, timeout=1000) as blocker:
        qtbot.mouseClick(templates.relabel_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [1, "x"]


def test_double_click_and_enter_activate_a_family(qtbot, templates: TemplatesPanel) -> None:  # type: ignore[no-untyped-def]
    rect = templates.list.visualItemRect(templates.item_for(2))
    with qtbot.waitSignal(templates.familyActivated, timeout=1000) as blocker:
        double_click(qtbot, templates.list.viewport(), rect.center())
    assert blocker.args == [2]
    templates.select_family(0)
    with qtbot.waitSignal(templates.familyActivated, timeout=1000) as blocker:
        qtbot.keyClick(templates.list, Qt.Key.Key_Return)
    assert blocker.args == [0]


def test_selection_survives_new_families(templates: TemplatesPanel) -> None:
    templates.select_family(1)
    templates.set_families([family(0, "N", 900), family(1, "F", 120, -1.0)], FS)
    assert templates.selected_family_id() == 1
    with pytest.raises(KeyError):
        templates.select_family(7)
    templates.set_families([], FS)
    assert templates.family_ids() == [] and not templates.relabel_button.isEnabled()


# ---------------------------------------------------------------- event list


EVENTS = [
    Event("pause", 3725.0, 3728.5, 2, 17.1, 17.1, "Pause 3.50 s"),
    Event("v_run", 100.0, 101.2, 4, 160.0, 140.0, "Run of 4 V beats at 150 bpm"),
    Event("af", 7200.0, 7800.0, 900, 160.0, 60.0, "AF (rhythm annotation AFIB)"),
]


def cell(widget: EventList, row: int, column: int) -> QTableWidgetItem:
    item = widget.table.item(row, column)
    assert item is not None
    return item


@pytest.fixture
def event_list(qtbot) -> EventList:  # type: ignore[no-untyped-def]
    widget = EventList()
    qtbot.addWidget(widget)
    widget.resize(900, 300)
    widget.set_events(EVENTS)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_event_table_rows(event_list: EventList) -> None:
    table = event_list.table
    assert [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())] == list(COLUMNS)  # type: ignore[union-attr]
    assert table.rowCount() == 3
    rows = [[cell(event_list, r, c).text() for c in range(5)] for r in range(3)]
    assert rows == [
        ["V run", "00:01:40", "1.2", "4", "160"],
        ["Pause", "01:02:05", "3.5", "2", "17"],
        ["AF", "02:00:00", "600.0", "900", "160"],
    ]
    assert event_list.summary.text().startswith("3 events")
    event_list.set_events([])
    assert table.rowCount() == 0 and event_list.summary.text() == "No events"


def test_double_click_opens_the_events_strip(qtbot, event_list: EventList) -> None:  # type: ignore[no-untyped-def]
    table = event_list.table
    rect = table.visualItemRect(cell(event_list, 1, 1))
    with qtbot.waitSignal(event_list.eventActivated, timeout=1000) as blocker:
        double_click(qtbot, table.viewport(), rect.center())
    assert blocker.args == [3725.0, 3728.5]


def test_enter_opens_the_current_event(qtbot, event_list: EventList) -> None:  # type: ignore[no-untyped-def]
    event_list.table.setCurrentCell(2, 0)
    with qtbot.waitSignal(event_list.eventActivated, timeout=1000) as blocker:
        qtbot.keyClick(event_list.table, Qt.Key.Key_Return)
    assert blocker.args == [7200.0, 7800.0]


def test_editing_a_criterion_emits_the_new_criteria(qtbot, event_list: EventList) -> None:  # type: ignore[no-untyped-def]
    assert event_list.criteria() == EventCriteria()
    with qtbot.waitSignal(event_list.criteriaChanged, timeout=1000) as blocker:
        event_list.pause_spin.setValue(3.0)
    assert blocker.args is not None
    new = blocker.args[0]
    assert isinstance(new, EventCriteria) and new.pause_s == 3.0 and new.run_min_beats == 3
    assert event_list.criteria() == new
    # typed on the keyboard: one change when the edit is finished
    spin = event_list.run_spin
    spin.setFocus()
    spin.selectAll()
    with qtbot.waitSignal(event_list.criteriaChanged, timeout=1000) as blocker:
        qtbot.keyClicks(spin, "5")
        qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert blocker.args is not None and blocker.args[0].run_min_beats == 5 and blocker.args[0].pause_s == 3.0
    emitted: list[EventCriteria] = []
    event_list.criteriaChanged.connect(emitted.append)
    event_list.af_spin.setValue(60.0)
    event_list.brady_spin.setValue(35.0)
    event_list.brady_spin.setValue(35.0)  # no change, no signal
    assert [(c.af_min_duration_s, c.brady_bpm) for c in emitted] == [(60.0, 40.0), (60.0, 35.0)]
    assert event_list.criteria() == emitted[-1]


def test_set_criteria_does_not_emit(qtbot, event_list: EventList) -> None:  # type: ignore[no-untyped-def]
    wanted = EventCriteria(pause_s=2.5, run_min_beats=4, af_min_duration_s=120.0, brady_bpm=30.0, tachy_bpm=170.0)
    with qtbot.assertNotEmitted(event_list.criteriaChanged, wait=50):
        event_list.set_criteria(wanted)
    assert event_list.pause_spin.value() == 2.5 and event_list.run_spin.value() == 4
    assert event_list.af_spin.value() == 120.0 and event_list.tachy_spin.value() == 170.0
    assert event_list.criteria() == wanted
