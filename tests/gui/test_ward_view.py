"""pytest-qt tests of the ward view: one tile per bed on one timer, alarm colours, double-click opens the bed."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from numpy.typing import NDArray
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QMainWindow

from ecgstation.devices.events import SampleChunk
from ecgstation.io import read_recording
from ecgstation.monitoring.bed_feed import AlarmState, BedFeed
from ecgstation.storage import Role
from ecgstation.ui.live_monitor import SEVERITY_COLOURS, LiveMonitor
from ecgstation.ui.monitoring_actions import add_monitoring_menu
from ecgstation.ui.ward_view import SYNC_EVERY_FRAMES, BedTile, WardView, ward_columns

pytestmark = pytest.mark.gui

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"


@pytest.fixture(scope="module")
def record() -> tuple[NDArray[np.float32], float]:
    rec = read_recording(SAMPLES / "119.hea")
    return rec.signals[:, : int(rec.fs * 20)].copy(), rec.fs


def push(feed: BedFeed, signals: NDArray[np.float32], fs: float, start: int, stop: int, chunk: int = 36) -> None:
    for seq, a in enumerate(range(start, stop, chunk)):
        feed.push(SampleChunk(signals[:, a : min(stop, a + chunk)], fs, a / fs, seq))


@pytest.fixture
def beds(record) -> list[BedFeed]:  # type: ignore[no-untyped-def]
    signals, fs = record
    feeds = []
    for i in range(8):
        feed = BedFeed(f"Bed {i + 1}", f"Patient {i + 1}", fs, ("MLII", "V1"), display_s=6.0)
        push(feed, signals, fs, 0, int(fs * (3 + i * 0.5)))
        feed.update(status="streaming", heart_rate_bpm=60.0 + i)
        feeds.append(feed)
    return feeds


@pytest.fixture
def acks() -> list[tuple[str, AlarmState, str]]:
    return []


@pytest.fixture
def ward(qtbot, beds, acks) -> Iterator[WardView]:  # type: ignore[no-untyped-def]
    def on_ack(bed: str, alarm: AlarmState, user: str) -> None:
        acks.append((bed, alarm, user))
        feed = next(f for f in beds if f.snapshot().bed == bed)
        feed.update(alarms=tuple(replace(a, acknowledged_by=user) for a in feed.snapshot().alarms))

    view = WardView(beds, on_acknowledge=on_ack, user_name="nurse", auto_refresh=False)
    qtbot.addWidget(view)
    view.resize(1100, 760)
    view.show()
    qtbot.waitExposed(view)
    view.refresh()
    yield view
    view.stop()


def test_one_tile_per_bed_on_one_timer(ward: WardView) -> None:
    assert ward.beds() == [f"Bed {i}" for i in range(1, 9)]
    assert ward_columns(8) == 2 and ward_columns(1) == 1 and ward_columns(12) == 3
    for tile in ward.tiles():
        assert tile.findChildren(QTimer) == []  # the ward's timer refreshes every tile
        assert tile.hr_label.text() == f"{60 + ward.tiles().index(tile):.0f}"
        assert tile.status_label.text() == "Streaming"
    positions = [ward.tile_position(bed) for bed in ward.beds()]
    assert positions[:3] == [(0, 0), (0, 1), (1, 0)]
    assert ward.summary_label.text() == "8 beds"


def test_timer_refreshes_tiles(qtbot, beds) -> None:  # type: ignore[no-untyped-def]
    view = WardView(beds[:2])
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: view.frames >= 2, timeout=3000)
    assert view.redraws >= 2
    before = view.redraws
    view.refresh()
    assert view.redraws == before  # nothing changed: no tile redrawn
    view.stop()


def test_tile_trace_shows_the_fed_samples(ward: WardView, beds, record) -> None:  # type: ignore[no-untyped-def]
    signals, fs = record
    tile = ward.tile("Bed 5")
    written = int(fs * 5.0)
    n = int(fs * 6.0)
    sweep = tile.trace.sweep_buffer()
    np.testing.assert_array_equal(sweep[:written], signals[0, :written])
    assert np.isnan(sweep[written:]).all()  # before the start: nothing (erase bar, then no signal yet)
    push(beds[4], signals, fs, written, int(fs * 7.0))
    ward.refresh()
    total = int(fs * 7.0)
    erase = round(tile.trace.erase_s * fs)
    for k in range(total - n + erase, total, 97):
        assert sweep[k % n] == signals[0, k]


def test_gap_shows_on_the_tile(ward: WardView, beds, record) -> None:  # type: ignore[no-untyped-def]
    signals, fs = record
    start = int(fs * 3.0)  # Bed 1 stopped at 3 s; it comes back at 4.2 s
    push(beds[0], signals, fs, int(fs * 4.2), int(fs * 5.0))
    ward.refresh()
    tile = ward.tile("Bed 1")
    gaps = tile.trace.frame().gaps
    assert len(gaps) == 1 and gaps[0][0] == pytest.approx(start / fs) and gaps[0][1] == pytest.approx(1.2)
    assert tile.alarm_label.text() == "gap 1.2 s in view"
    assert tile.trace.gap_label_texts() == ["gap 1.2 s"]


def test_alarm_state_colours(ward: WardView, beds) -> None:  # type: ignore[no-untyped-def]
    beds[1].update(alarms=(AlarmState("vf", "high", "V-fib", 2.0, alarm_id=1),))
    beds[2].update(alarms=(AlarmState("tachy", "medium", "HR > 120", 2.0, alarm_id=2),))
    beds[3].update(alarms=(AlarmState("battery", "low", "Battery low", 2.0, alarm_id=3),))
    ward.refresh()
    high, medium, low, calm = (ward.tile(f"Bed {i}") for i in (2, 3, 4, 5))
    assert high.alarm_severity == "high" and high.alarm_label.text() == "V-fib"
    assert high.border_colour() in (SEVERITY_COLOURS["high"][0], "#400000")  # flashing
    high.refresh(True)
    assert high.border_colour() == SEVERITY_COLOURS["high"][0]
    high.refresh(False)
    assert high.border_colour() == "#400000"
    assert medium.alarm_severity == "medium" and medium.border_colour() == SEVERITY_COLOURS["medium"][0]
    assert low.alarm_severity == "low" and low.border_colour() == SEVERITY_COLOURS["low"][0]
    assert calm.alarm_severity == "" and calm.alarm_label.text() == ""
    assert ward.summary_label.text() == "8 beds · 3 with active alarms"
    assert ward.sound.playing == "high"
    assert not high.grab().isNull()


def test_double_click_opens_the_bed(qtbot, ward: WardView, beds, acks) -> None:  # type: ignore[no-untyped-def]
    beds[5].update(alarms=(AlarmState("asystole", "high", "Asystole", 4.0, alarm_id=9),), rhythm="Asystole")
    ward.refresh()
    tile = ward.tile("Bed 6")
    assert isinstance(tile, BedTile)
    with qtbot.waitSignal(ward.bedOpened, timeout=1000) as signal:
        qtbot.mouseDClick(tile.trace, Qt.MouseButton.LeftButton)  # the trace lets clicks through to the tile
    assert signal.args == ["Bed 6"]
    monitor = ward.monitors["Bed 6"]
    assert isinstance(monitor, LiveMonitor) and monitor.isVisible() and monitor.isWindow()
    assert monitor.feed is beds[5] and monitor.sound is ward.sound
    monitor.refresh()
    assert monitor.rhythm_label.text() == "Asystole" and monitor.banner_severity() == "high"
    assert monitor.acknowledge()
    assert acks == [("Bed 6", AlarmState("asystole", "high", "Asystole", 4.0, alarm_id=9), "nurse")]
    ward.refresh()
    assert tile.alarm_severity == ""
    assert ward.sound.playing is None
    assert ward.open_bed("Bed 6") is monitor  # a second open raises the same window


def test_ward_mute(qtbot, ward: WardView, beds) -> None:  # type: ignore[no-untyped-def]
    beds[0].update(alarms=(AlarmState("vt", "high", "V-tach", 1.0, alarm_id=1),))
    ward.refresh()
    assert ward.sound.playing == "high"
    monitor = ward.open_bed("Bed 1")
    qtbot.mouseClick(ward.mute_button, Qt.MouseButton.LeftButton)
    assert ward.sound.muted and ward.sound.playing is None
    assert monitor.mute_button.isChecked()  # one sound, one mute state
    plays = ward.sound.plays
    ward.refresh()
    assert ward.sound.plays == plays
    qtbot.mouseClick(monitor.mute_button, Qt.MouseButton.LeftButton)
    assert not ward.sound.muted and not ward.mute_button.isChecked()
    assert ward.sound.playing == "high"


def test_add_and_remove_beds(qtbot, ward: WardView, record) -> None:  # type: ignore[no-untyped-def]
    _, fs = record
    ward.open_bed("Bed 8")
    ward.remove_bed("Bed 8")
    assert "Bed 8" not in ward.beds() and "Bed 8" not in ward.monitors
    feed = BedFeed("Bed 9", "New", fs, ("MLII",))
    tile = ward.add_bed(feed)
    assert ward.beds()[-1] == "Bed 9" and tile.status_label.text() == ""
    ward.refresh()
    assert tile.status_label.text() == "Connecting…" and tile.hr_label.text() == "--"
    ward.set_user_name("cardio")
    assert ward.user_label.text() == "Signed in: cardio"


def test_ward_follows_a_bed_source(qtbot, beds) -> None:  # type: ignore[no-untyped-def]
    source = {f.snapshot().bed: f for f in beds[:3]}
    view = WardView(auto_refresh=False)
    qtbot.addWidget(view)
    view.set_bed_source(lambda: dict(source))
    assert view.beds() == ["Bed 1", "Bed 2", "Bed 3"]
    del source["Bed 2"]
    source["Bed 4"] = beds[3]
    for _ in range(SYNC_EVERY_FRAMES):
        view.refresh()
    assert view.beds() == ["Bed 1", "Bed 3", "Bed 4"]
    view.stop()


class _FakeSession:
    """What acknowledge_callback asks of a MonitoringSession: acknowledge(alarm_id, actor) -> Future."""

    def __init__(self, feed: BedFeed) -> None:
        self.feed = feed
        self.calls: list[tuple[int, str]] = []

    def acknowledge(self, alarm_id: int, actor: SimpleNamespace) -> concurrent.futures.Future[None]:
        self.calls.append((alarm_id, actor.username))
        self.feed.update(alarms=tuple(replace(a, acknowledged_by=actor.username) for a in self.feed.snapshot().alarms))
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        done.set_result(None)
        return done


class _FakeHost:
    def __init__(self, feeds: list[BedFeed]) -> None:
        self.feeds = {f.snapshot().bed: f for f in feeds}
        self.sessions = {bed: _FakeSession(f) for bed, f in self.feeds.items()}
        self.stopped = False

    def beds(self) -> dict[str, BedFeed]:
        return dict(self.feeds)

    def add_bed(self, bed: str, source: object, patient_id: int | None = None, patient_label: str = "") -> BedFeed:
        raise NotImplementedError

    def session(self, bed: str) -> _FakeSession:
        return self.sessions[bed]

    def stop(self, timeout_s: float = 30.0) -> None:
        self.stopped = True


def _actor(name: str, allowed: bool = True) -> SimpleNamespace:
    return SimpleNamespace(username=name, role=Role.NURSE if allowed else Role.STUDENT, can=lambda _p: allowed)


def test_monitoring_menu_opens_the_ward_over_the_host(qtbot, beds) -> None:  # type: ignore[no-untyped-def]
    window = QMainWindow()
    qtbot.addWidget(window)
    window.menuBar().addMenu("&File")
    window.menuBar().addMenu("&Help")
    window.session = SimpleNamespace(actor=_actor("nurse"))  # type: ignore[attr-defined]
    host = _FakeHost(beds[:2])
    menu = add_monitoring_menu(window, lambda session: host)
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles == ["&File", "&Monitoring", "&Help"]
    actions = window.monitoring  # type: ignore[attr-defined]
    assert menu.actions()[0].text() == "&Ward view" and actions.ward_action.isEnabled()
    actions.ward_action.trigger()
    ward = actions.ward
    assert isinstance(ward, WardView) and ward.isWindow() and ward.beds() == ["Bed 1", "Bed 2"]
    assert ward.user_name == "nurse"
    beds[1].update(alarms=(AlarmState("vt", "high", "V-tach", 1.0, alarm_id=42),))
    ward.refresh()
    monitor = ward.open_bed("Bed 2")
    monitor.refresh()
    assert monitor.acknowledge()
    assert host.sessions["Bed 2"].calls == [(42, "nurse")]
    unstored = AlarmState("vt", "high", "V-tach", 1.0)  # no id yet: said, not sent
    assert not monitor.acknowledge(unstored) and "not stored yet" in monitor.ack_label.text()
    window.close()
    assert host.stopped and actions.ward is None


def test_monitoring_menu_is_off_for_students(qtbot) -> None:  # type: ignore[no-untyped-def]
    window = QMainWindow()
    qtbot.addWidget(window)
    window.session = SimpleNamespace(actor=_actor("student", allowed=False))  # type: ignore[attr-defined]
    add_monitoring_menu(window, lambda session: _FakeHost([]))
    actions = window.monitoring  # type: ignore[attr-defined]
    assert not actions.ward_action.isEnabled()
    assert "cannot run monitoring" in actions.ward_action.toolTip()
