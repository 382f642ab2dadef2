"""pytest-qt tests of the live bed monitor: sweeping trace, HR, status, alarms, acknowledgement, sound (offscreen)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PySide6.QtCore import Qt

from ecgstation.devices.events import SampleChunk
from ecgstation.io import read_recording
from ecgstation.monitoring.bed_feed import AlarmState, BedFeed
from ecgstation.ui.alarm_sound import AlarmSound, audible_level, write_tone
from ecgstation.ui.live_monitor import LiveMonitor, alarm_text, hr_text, rhythm_text, status_text
from ecgstation.ui.sweep_trace import SweepClock, SweepTrace, gap_runs, sweep_columns

pytestmark = pytest.mark.gui

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"


@pytest.fixture(scope="module")
def record() -> tuple[NDArray[np.float32], float]:
    rec = read_recording(SAMPLES / "100.hea")
    return rec.signals[:, : int(rec.fs * 30)].copy(), rec.fs


def feed_chunks(feed: BedFeed, signals: NDArray[np.float32], fs: float, start: int, stop: int, chunk: int = 36) -> None:
    """Push ``signals[:, start:stop]`` in ``chunk``-sample pieces at their session times."""
    for seq, a in enumerate(range(start, stop, chunk)):
        b = min(stop, a + chunk)
        feed.push(SampleChunk(signals[:, a:b], fs, a / fs, seq))


def make_monitor(qtbot, feed: BedFeed, **kwargs) -> LiveMonitor:  # type: ignore[no-untyped-def]
    kwargs.setdefault("auto_refresh", False)
    kwargs.setdefault("sound", None)
    monitor = LiveMonitor(feed, **kwargs)
    qtbot.addWidget(monitor)
    monitor.resize(1200, 560)
    monitor.show()
    qtbot.waitExposed(monitor)
    monitor.refresh()
    return monitor


def test_sweep_places_samples_at_their_sweep_positions(qtbot, record) -> None:  # type: ignore[no-untyped-def]
    signals, fs = record
    feed = BedFeed("Bed 1", "Doe", fs, ("MLII", "V5"), display_s=2.0)
    monitor = make_monitor(qtbot, feed)
    n = feed.snapshot().samples.shape[1]
    written = int(fs * 5.3)  # wrapped twice and a bit
    feed_chunks(feed, signals, fs, 0, written)
    monitor.refresh()
    trace = monitor.trace
    pos = written % n
    erase = round(trace.erase_s * fs)
    sweep = trace.sweep_buffer()
    for k in range(written - n + erase, written):
        assert sweep[k % n] == signals[0, k]
    assert np.isnan(sweep[pos : pos + erase]).all()  # the erase bar runs ahead of the write position
    assert trace.frame().write_x_s == pytest.approx(pos / fs)
    # 720 samples on a ~1000 px trace: drawn as they are, each at its sweep x.
    xs, ys = trace.curve_data()
    assert xs.size == n
    np.testing.assert_allclose(xs, np.arange(n) / fs)
    np.testing.assert_array_equal(ys, sweep)
    assert trace.curve.opts["connect"] == "finite"


def test_long_sweep_is_reduced_to_min_max_per_column(qtbot, record) -> None:  # type: ignore[no-untyped-def]
    signals, fs = record
    feed = BedFeed("Bed 1", "Doe", fs, ("MLII", "V5"), display_s=10.0)
    monitor = make_monitor(qtbot, feed)
    feed_chunks(feed, signals, fs, 0, int(fs * 12))
    monitor.refresh()
    xs, ys = monitor.trace.curve_data()
    width = monitor.trace.width()
    assert xs.size <= 2 * width + 2 < 3600
    sweep = monitor.trace.sweep_buffer()
    assert np.nanmax(ys) == pytest.approx(np.nanmax(sweep))  # R peaks survive
    assert np.nanmin(ys) == pytest.approx(np.nanmin(sweep))


def test_gap_is_a_break_with_a_mark(qtbot, record) -> None:  # type: ignore[no-untyped-def]
    signals, fs = record
    feed = BedFeed("Bed 1", "Doe", fs, ("MLII", "V5"), display_s=4.0)
    monitor = make_monitor(qtbot, feed)
    feed_chunks(feed, signals, fs, 0, int(fs * 1.0))
    gap_from, gap_to = int(fs * 1.0), int(fs * 1.5)  # reconnect: 0.5 s never arrived
    feed_chunks(feed, signals, fs, gap_to, int(fs * 3.0))
    feed.update(status="streaming")
    monitor.refresh()
    xs, ys = monitor.trace.curve_data()
    inside = (xs >= (gap_from + 1) / fs) & (xs < (gap_to - 1) / fs)
    assert inside.any() and np.isnan(ys[inside]).all()
    before = (xs > 0.2) & (xs < 0.9)
    assert np.isfinite(ys[before]).all()
    frame = monitor.trace.frame()
    assert len(frame.gaps) == 1
    assert frame.gaps[0][0] == pytest.approx(1.0) and frame.gaps[0][1] == pytest.approx(0.5)
    assert monitor.trace.gap_label_texts() == ["gap 0.5 s"]
    assert "1 gap(s), 0.5 s" in monitor.gap_label.text()


def test_heart_rate_rhythm_battery_and_status(qtbot, record) -> None:  # type: ignore[no-untyped-def]
    signals, fs = record
    feed = BedFeed("Bed 7", "Jane Roe", fs, ("MLII", "V5"))
    monitor = make_monitor(qtbot, feed)
    assert monitor.hr_label.text() == "--"
    assert monitor.status_label.text() == "Connecting…"
    feed.update(status="waiting_for_ecg")
    monitor.refresh()
    assert monitor.status_label.text() == "Waiting for ECG…"
    feed_chunks(feed, signals, fs, 0, 360)
    feed.update(status="streaming", heart_rate_bpm=72.4, rhythm="Sinus rhythm", battery_pct=64.0)
    monitor.refresh()
    assert monitor.hr_label.text() == "72"
    assert monitor.rhythm_label.text() == "Sinus rhythm"
    assert monitor.battery_label.text() == "Battery 64 %"
    assert monitor.status_label.text() == "Streaming"
    assert monitor.title_label.text() == "Bed 7  Jane Roe"
    feed.update(status="reconnecting", status_message="attempt 2", heart_rate_bpm=None)
    monitor.refresh()
    assert monitor.status_label.text() == "Reconnecting… (attempt 2)"
    assert monitor.hr_label.text() == "--"
    feed.update(status="lead_off", status_message="")
    monitor.refresh()
    assert monitor.status_label.text() == "Lead off: check the electrodes"
    feed.update(status="disconnected", status_message="gave up after 5 attempts")
    monitor.refresh()
    assert monitor.status_label.text() == "Disconnected (gave up after 5 attempts)"
    assert hr_text(float("nan")) == "--" and status_text("something_new") == "Something new"
    # The monitoring session's own messages: shown where they add something.
    assert status_text("streaming", "Monitoring") == "Streaming"
    assert status_text("reconnecting", "Reconnecting (attempt 3)") == "Reconnecting (attempt 3)"
    assert status_text("lead_off", "Lead off") == "Lead off: check the electrodes"
    assert rhythm_text("sinus_rhythm") == "Sinus rhythm" and rhythm_text("AF") == "AF" and rhythm_text(None) == ""


def test_unchanged_version_is_not_redrawn(qtbot, record, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    signals, fs = record
    feed = BedFeed("Bed 1", "", fs, ("MLII", "V5"))
    monitor = make_monitor(qtbot, feed, smooth_sweep=False)
    calls: list[float] = []
    original = monitor.trace.show_samples

    def counting(*a):  # type: ignore[no-untyped-def]
        calls.append(a[2])
        return original(*a)

    monkeypatch.setattr(monitor.trace, "show_samples", counting)
    monitor.refresh()
    assert calls == []
    feed_chunks(feed, signals, fs, 0, 36)
    monitor.refresh()
    monitor.refresh()
    assert calls == [pytest.approx(0.1)]


def test_lead_selector(qtbot, record) -> None:  # type: ignore[no-untyped-def]
    signals, fs = record
    feed = BedFeed("Bed 1", "", fs, ("MLII", "V5"), display_s=2.0)
    monitor = make_monitor(qtbot, feed)
    assert monitor.lead_combo.isVisible() and monitor.lead_combo.count() == 2
    feed_chunks(feed, signals, fs, 0, 360)
    monitor.lead_combo.setCurrentIndex(1)
    assert monitor.lead() == 1
    sweep = monitor.trace.sweep_buffer()
    np.testing.assert_array_equal(sweep[: 360 - 90], signals[1, : 360 - 90])
    single = make_monitor(qtbot, BedFeed("Bed 2", "", fs, ("ECG",)))
    assert not single.lead_combo.isVisible()


def acknowledging_feed(feed: BedFeed, calls: list[tuple[str, AlarmState, str]]):  # type: ignore[no-untyped-def]
    """A callback that acts as the host: records the call and marks the alarm acknowledged on the feed."""

    def on_ack(bed: str, alarm: AlarmState, user: str) -> None:
        calls.append((bed, alarm, user))
        feed.update(
            alarms=tuple(replace(a, acknowledged_by=user) if a.alarm_id == alarm.alarm_id else a
                         for a in feed.snapshot().alarms)
        )  # fmt: skip

    return on_ack


def test_alarm_banner_and_named_acknowledgement(qtbot, record) -> None:  # type: ignore[no-untyped-def]
    _, fs = record
    feed = BedFeed("Bed 3", "Doe", fs, ("MLII", "V5"))
    calls: list[tuple[str, AlarmState, str]] = []
    monitor = make_monitor(qtbot, feed, on_acknowledge=acknowledging_feed(feed, calls), user_name="nurse")
    assert monitor.banner_severity() == "" and not monitor.ack_button.isEnabled()
    high = AlarmState("asystole", "high", "Asystole", 12.0, alarm_id=1, escalation_level=1)
    low = AlarmState("battery", "low", "Battery low", 3.0, alarm_id=2)
    feed.update(alarms=(low, high))
    monitor.refresh()
    assert monitor.banner_severity() == "high"
    assert monitor.alarm_banner.text() == "Asystole   (+1 more)"
    rows = monitor.alarm_rows()
    assert rows[0].startswith("HIGH  Asystole") and "escalated ×1" in rows[0]
    assert rows[1].startswith("LOW  Battery low")
    assert monitor.ack_button.isEnabled()

    qtbot.mouseClick(monitor.ack_button, Qt.MouseButton.LeftButton)
    assert calls == [("Bed 3", high, "nurse")]
    assert monitor.banner_severity() == "low"
    assert any("acknowledged by nurse" in r for r in monitor.alarm_rows())
    assert monitor.ack_label.text() == "Acknowledged by nurse"

    # The selected alarm is the one acknowledged.
    monitor.alarm_list.setCurrentRow(0)
    assert monitor.selected_alarm() == low
    assert monitor.acknowledge()
    assert calls[-1] == ("Bed 3", low, "nurse")
    assert monitor.banner_severity() == "" and not monitor.ack_button.isEnabled()
    assert not monitor.acknowledge()  # nothing left to acknowledge


def test_acknowledgement_needs_a_name_and_a_host(qtbot, record) -> None:  # type: ignore[no-untyped-def]
    _, fs = record
    feed = BedFeed("Bed 3", "Doe", fs, ("MLII", "V5"))
    calls: list[tuple[str, AlarmState, str]] = []
    monitor = make_monitor(qtbot, feed, on_acknowledge=acknowledging_feed(feed, calls), user_name="")
    feed.update(alarms=(AlarmState("vt", "high", "V-tach", 1.0, alarm_id=5),))
    monitor.refresh()
    assert not monitor.ack_button.isEnabled()
    assert not monitor.acknowledge() and calls == []
    monitor.set_user_name("cardio")
    assert monitor.ack_button.isEnabled()

    def refuse(bed: str, alarm: AlarmState, user: str) -> None:
        raise KeyError("alarm 5 is no longer active")

    monitor.on_acknowledge = refuse
    assert not monitor.acknowledge()
    assert monitor.ack_label.text().startswith("Not acknowledged")
    hostless = make_monitor(qtbot, feed, user_name="nurse")
    assert not hostless.ack_button.isEnabled()


def test_alarm_sound_follows_alarms_and_mute(qtbot, record) -> None:  # type: ignore[no-untyped-def]
    _, fs = record
    feed = BedFeed("Bed 3", "Doe", fs, ("MLII", "V5"))
    monitor = make_monitor(qtbot, feed)
    sound = monitor.sound
    assert sound.playing is None and sound.plays == 0
    feed.update(alarms=(AlarmState("brady", "medium", "HR < 40", 1.0, alarm_id=1),))
    monitor.refresh()
    assert sound.playing == "medium" and sound.plays == 1
    feed.update(alarms=(AlarmState("asystole", "high", "Asystole", 2.0, alarm_id=2),))
    monitor.refresh()
    assert sound.playing == "high" and sound.plays == 2
    qtbot.mouseClick(monitor.mute_button, Qt.MouseButton.LeftButton)
    assert sound.muted and sound.playing is None and monitor.mute_button.text() == "Sound off"
    monitor.refresh()
    assert sound.plays == 2  # muted: no more bursts, the banner stays
    assert monitor.banner_severity() == "high"
    qtbot.mouseClick(monitor.mute_button, Qt.MouseButton.LeftButton)
    assert sound.playing == "high" and sound.plays == 3
    feed.update(alarms=(AlarmState("battery", "low", "Battery low", 3.0, alarm_id=3),))
    monitor.refresh()
    assert sound.playing is None  # low alarms are visual only


def test_alarm_sound_helpers(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_tone(tmp_path / "t.wav", 960.0, 3)
    assert path.stat().st_size > 1000
    alarms = [AlarmState("a", "medium", "", 0.0), AlarmState("b", "high", "", 0.0, acknowledged_by="nurse")]
    assert audible_level(alarms) == "medium"
    sound = AlarmSound(use_multimedia=False)
    assert not sound.has_audio
    sound.set_level("high")
    assert sound.playing == "high"
    sound.stop()
    assert sound.playing is None
    with pytest.raises(ValueError):
        sound.set_level("loud")
    assert "acknowledged by nurse" in alarm_text(alarms[1])


def test_sweep_helpers() -> None:
    finite = np.array([False, False, True, True, False, False, True, False])
    assert gap_runs(finite) == [(4, 2), (7, 1)]
    assert gap_runs(np.zeros(4, dtype=bool)) == []
    x = np.arange(100, dtype=np.float32)
    x[10] = 99.0
    x[50] = np.nan
    pos, val = sweep_columns(x, 10)
    assert val.size == 20 and np.nanmax(val) == 99.0
    assert np.isnan(val[10:12]).all()  # the column holding the NaN is a break
    assert pos.max() <= 99
    with pytest.raises(ValueError):
        SweepTrace(display_s=0.0)


def test_sweep_clock_runs_smoothly_behind_chunks() -> None:
    now = [100.0]
    clock = SweepClock(lag_s=0.08, jump_s=0.5, clock=lambda: now[0])
    assert clock.display_end(2.0) == 2.0  # first data: straight to it
    shown = []
    end = 2.0
    for frame in range(60):  # 40 ms chunks, 30 frames/s
        now[0] += 1 / 30
        while end < 2.0 + (frame + 1) / 30 - 0.02:
            end += 0.04
        shown.append(clock.display_end(end))
        assert shown[-1] <= end
    steps = np.diff(shown)
    assert (steps > 0).all()  # moves every frame, never backwards
    assert 2.0 + 60 / 30 - 0.2 < shown[-1] <= end
    now[0] += 1 / 30
    assert clock.display_end(end + 3.0) == end + 3.0  # a reconnect after a gap: drawn at once


def test_smooth_sweep_holds_back_the_newest_samples(qtbot, record) -> None:  # type: ignore[no-untyped-def]
    signals, fs = record
    feed = BedFeed("Bed 1", "Doe", fs, ("MLII", "V5"), display_s=4.0)
    monitor = make_monitor(qtbot, feed)
    now = [0.0]
    monitor.clock = SweepClock(clock=lambda: now[0])
    feed_chunks(feed, signals, fs, 0, 720)
    monitor.refresh()
    assert monitor.trace.frame().end_s == pytest.approx(2.0)
    feed_chunks(feed, signals, fs, 720, 720 + 36)  # 0.1 s more, arriving at once
    now[0] += 0.05
    monitor.refresh()
    end = monitor.trace.frame().end_s
    assert 2.0 < end < 2.1
    sweep = monitor.trace.sweep_buffer()
    shown = round(end * fs)
    assert np.isnan(sweep[shown : 720 + 36]).all()  # not yet swept: under the erase bar
    np.testing.assert_array_equal(sweep[shown - 30 : shown], signals[0, shown - 30 : shown])


def test_sweep_clock_stays_smooth_with_ble_sized_frames() -> None:
    """Data in 0.25 s frames (a 250 Hz patch's BLE notifications): the sweep moves every 33 ms frame."""
    from ecgstation.ui.sweep_trace import SweepClock

    now = [0.0]
    clock = SweepClock(clock=lambda: now[0])
    shown = []
    for frame in range(300):  # 10 s of 30 Hz display ticks
        now[0] = frame / 30.0
        newest = np.floor(now[0] / 0.25) * 0.25 + 0.25  # the last frame that has arrived
        shown.append(clock.display_end(newest))
    steps = np.diff(shown[60:])  # after the first 2 s
    assert (steps > 0).all(), "the sweep stalled between frames"
    assert np.abs(steps - 1 / 30).max() < 0.012
    assert all(d <= n for d, n in zip(shown, (np.floor(k / 30 / 0.25) * 0.25 + 0.25 for k in range(300))))
