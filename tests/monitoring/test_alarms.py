"""The alarm engine on synthetic beat sequences: every alarm kind, thresholds, grace, de-duplication, escalation."""

from __future__ import annotations

import numpy as np
import pytest

from ecgstation.devices.events import DeviceStatus
from ecgstation.monitoring.alarms import AlarmEngine, AlarmEvent, AlarmSettings, SliceObservation


def _beats(start: float, stop: float, rr: float) -> list[float]:
    return [float(t) for t in np.arange(start + rr / 2, stop, rr)]


def _slice(k: int, beats: list[float], labels: str | None = None, rhythm: str = "sinus_rhythm",
           quality: str = "good", gaps: tuple[tuple[float, float], ...] = ()) -> SliceObservation:  # fmt: skip
    a, b = 10.0 * k, 10.0 * (k + 1)
    mine = [t for t in beats if a <= t < b]
    labs = list(labels) if labels is not None else ["N"] * len(mine)
    rr = np.diff(mine)
    hr = 60.0 / float(rr.mean()) if rr.size >= 2 else None
    return SliceObservation(a, b, mine, labs, hr, rhythm, quality, gaps)


def _run(engine: AlarmEngine, beats: list[float], n_slices: int, **kw: object) -> list[AlarmEvent]:
    out: list[AlarmEvent] = []
    for k in range(n_slices):
        out += engine.on_slice(_slice(k, beats, **kw))  # type: ignore[arg-type]
    return out


def _raised(events: list[AlarmEvent]) -> list[tuple[str, float, float]]:
    return [(e.kind, round(e.onset_s, 2), round(e.t_s, 2)) for e in events if e.action == "raise"]


def test_clean_sinus_raises_nothing() -> None:
    assert _run(AlarmEngine(), _beats(0, 120, 0.8), 12) == []


def test_asystole_across_a_slice_border() -> None:
    beats = [t for t in _beats(0, 60, 1.0) if not 18.0 < t < 23.0]  # last beat 17.5, next 23.5: 6 s
    raised = _raised(_run(AlarmEngine(), beats, 6))
    assert raised == [("asystole", 17.5, 23.5)]


def test_asystole_raised_at_the_slice_end_while_no_beat_comes() -> None:
    beats = [t for t in _beats(0, 60, 1.0) if t < 12.0]  # beats stop at 11.5
    events = _run(AlarmEngine(), beats, 2)
    assert _raised(events) == [("asystole", 11.5, 20.0)]


def test_pause_threshold_comes_from_the_settings() -> None:
    beats = sorted([t for t in _beats(0, 40, 1.0) if t != 15.5])  # one 2 s RR: 14.5 -> 16.5
    assert _raised(_run(AlarmEngine(), beats, 4)) == []  # 2 s < 2.5 s default
    raised = _raised(_run(AlarmEngine(AlarmSettings(pause_s=1.8)), beats, 4))
    assert raised == [("pause", 14.5, 16.5)]


def test_pauses_are_one_alarm_per_episode() -> None:
    beats = [t for t in _beats(0, 100, 1.0) if t not in (15.5, 16.5, 25.5, 26.5, 85.5, 86.5)]  # 3 s pauses
    events = _run(AlarmEngine(), beats, 10)
    assert _raised(events) == [("pause", 14.5, 17.5), ("pause", 84.5, 87.5)]
    assert [e.kind for e in events if e.action == "clear"] == ["pause"]  # the first episode ended in between


def test_bradycardia_needs_10_s_sustained() -> None:
    beats = _beats(0, 20, 1.0) + _beats(20, 45, 1.7)  # 35 bpm from 20 s
    raised = _raised(_run(AlarmEngine(), beats, 4))
    assert raised == [("bradycardia", 20.0, 30.0)]
    assert _raised(_run(AlarmEngine(AlarmSettings(brady_bpm=30)), beats, 4)) == []
    assert _raised(_run(AlarmEngine(AlarmSettings(brady_sustain_s=20)), beats, 4)) == [("bradycardia", 20.0, 40.0)]


def test_tachycardia_needs_sustain_and_clears() -> None:
    beats = _beats(0, 10, 0.8) + _beats(10, 30, 0.35) + _beats(30, 50, 0.8)  # 171 bpm for 20 s
    events = _run(AlarmEngine(), beats, 5)
    assert _raised(events) == [("tachycardia", 10.0, 20.0)]
    assert [(e.kind, e.t_s) for e in events if e.action == "clear"] == [("tachycardia", 40.0)]
    assert _raised(_run(AlarmEngine(AlarmSettings(tachy_bpm=180)), beats, 5)) == []


def test_ventricular_run_across_a_slice_border_and_rate_limit() -> None:
    beats = _beats(0, 30, 0.8)
    labels = ["N"] * len(beats)
    i = next(k for k, t in enumerate(beats) if t > 9.0)  # 9.2, 10.0, 10.8: across the border
    fast = list(beats)
    for j in range(i, i + 3):
        labels[j] = "V"
    engine = AlarmEngine()
    events: list[AlarmEvent] = []
    for k in range(3):
        idx = [n for n, t in enumerate(fast) if 10 * k <= t < 10 * (k + 1)]
        events += engine.on_slice(_slice(k, fast, "".join(labels[n] for n in idx)))
    # 75 bpm: three V beats, but not faster than 100 bpm
    assert _raised(events) == []
    assert _raised(_runs_at(0.5)) == [("ventricular_run", 9.3, 10.3)]


def _runs_at(rr: float) -> list[AlarmEvent]:
    beats = [0.8 * k + 0.4 for k in range(11)] + [8.8 + rr * (k + 1) for k in range(3)]
    beats += [beats[-1] + 0.8 * (k + 1) for k in range(20)]
    labels = "".join("V" if 11 <= n < 14 else "N" for n in range(len(beats)))
    engine = AlarmEngine()
    out: list[AlarmEvent] = []
    for k in range(3):
        idx = [n for n, t in enumerate(beats) if 10 * k <= t < 10 * (k + 1)]
        out += engine.on_slice(_slice(k, beats, "".join(labels[n] for n in idx)))
    return out


def test_atrial_fibrillation_after_30_s() -> None:
    beats = _beats(0, 80, 0.7)
    engine = AlarmEngine()
    events: list[AlarmEvent] = []
    for k in range(8):
        events += engine.on_slice(_slice(k, beats, rhythm="atrial_fibrillation" if 2 <= k < 6 else "sinus_rhythm"))
    assert _raised(events) == [("atrial_fibrillation", 20.0, 50.0)]
    assert [(e.kind, e.t_s) for e in events if e.action == "clear"] == [("atrial_fibrillation", 70.0)]
    short = AlarmEngine()
    assert not any(
        e.action == "raise"
        for k in range(8)
        for e in short.on_slice(_slice(k, beats, rhythm="atrial_fibrillation" if k in (2, 3, 5, 6) else "sinus_rhythm"))
    )


def test_lead_off_not_while_waiting_for_ecg_and_once_per_episode() -> None:
    engine = AlarmEngine()
    assert engine.on_status(DeviceStatus("waiting_for_ecg", 0.0)) == []
    assert engine.on_status(DeviceStatus("lead_off", 1.0)) == []  # no ECG yet: nothing to lose
    engine.on_status(DeviceStatus("streaming", 2.0))
    ev = engine.on_status(DeviceStatus("lead_off", 30.0))
    assert [(e.action, e.kind) for e in ev] == [("raise", "lead_off")]
    assert engine.on_status(DeviceStatus("lead_off", 31.0)) == []
    # no asystole during lead-off: the missing beats are not the patient's
    assert engine.on_slice(SliceObservation(30.0, 40.0, [], [], None, None, "unusable")) == []
    ev = engine.on_status(DeviceStatus("lead_on", 41.0))
    assert [(e.action, e.kind) for e in ev] == [("clear", "lead_off")]


def test_unusable_signal_and_startup_grace() -> None:
    engine = AlarmEngine()
    ev = engine.on_slice(SliceObservation(0.0, 10.0, [], [], None, None, "unusable"))
    assert _raised(ev) == [("unusable_signal", 0.0, 10.0)]
    # within the startup grace no beat-based alarm: a first slice that begins with 4.5 s of silence
    engine = AlarmEngine(AlarmSettings(startup_grace_s=5.0))
    assert _raised(engine.on_slice(_slice(0, _beats(4.5, 10, 0.8)))) == []
    engine = AlarmEngine(AlarmSettings(startup_grace_s=0.0))
    assert [k for k, _, _ in _raised(engine.on_slice(_slice(0, _beats(4.5, 10, 0.8))))] == ["asystole"]


def test_a_gap_is_not_a_pause_and_disconnect_alarms_only_if_it_goes_on() -> None:
    beats = [t for t in _beats(0, 30, 0.8) if not 12.0 < t < 16.0]
    engine = AlarmEngine()
    events = _run(engine, beats, 1) + engine.on_status(DeviceStatus("gap", 12.0, 4.0))
    events += engine.on_slice(_slice(1, beats, gaps=((12.0, 16.0),))) + engine.on_slice(_slice(2, beats))
    assert _raised(events) == []
    engine.on_status(DeviceStatus("disconnected", 30.0, message="link lost"))
    ev = engine.on_status(DeviceStatus("reconnecting", 31.0, 1.0))
    assert _raised(ev) == [("device_disconnected", 30.0, 31.0)]
    end = AlarmEngine()
    end.on_status(DeviceStatus("disconnected", 30.0, message="end of record"))
    end.end_of_stream()
    assert end.on_slice(_slice(0, _beats(0, 10, 0.8))) == []


def test_escalation_until_acknowledged() -> None:
    engine = AlarmEngine(AlarmSettings(escalation_after_s=30.0))
    beats = [t for t in _beats(0, 60, 1.0) if t < 12.0]
    key = next(e.key for e in _run(engine, beats, 2) if e.action == "raise")
    assert engine.tick(40.0) == []
    ev = engine.tick(50.0)
    assert [(e.action, e.key, e.level) for e in ev] == [("escalate", key, 1)]
    assert engine.tick(79.0) == [] and [e.level for e in engine.tick(80.0)] == [2]
    engine.acknowledge(key)
    assert engine.tick(500.0) == []


def test_settings_validate_and_round_trip() -> None:
    s = AlarmSettings(brady_bpm=35, severities={"pause": "high"}, disabled=("pause",))
    assert AlarmSettings.from_dict(s.to_dict()) == s
    assert s.severity("pause") == "high" and s.severity("asystole") == "high"
    assert AlarmSettings.from_dict(None) == AlarmSettings()
    with pytest.raises(ValueError, match="unknown alarm settings"):
        AlarmSettings.from_dict({"bogus": 1})
    with pytest.raises(ValueError, match="below the asystole"):
        AlarmSettings(pause_s=5.0)
    with pytest.raises(ValueError, match="severity"):
        AlarmSettings(severities={"pause": "urgent"})
    beats = sorted([t for t in _beats(0, 40, 1.0) if t not in (15.5, 16.5)])
    assert _raised(_run(AlarmEngine(s), beats, 4)) == []  # pause disabled


def test_a_flat_line_with_electrodes_on_is_asystole_not_a_technical_alarm() -> None:
    engine = AlarmEngine()
    events = engine.on_slice(_slice(0, _beats(0, 10, 0.8)))
    events += engine.on_slice(SliceObservation(10.0, 20.0, [], [], None, None, "flat"))
    assert [k for k, _, _ in _raised(events)] == ["asystole"]
    noisy = AlarmEngine()
    events = noisy.on_slice(_slice(0, _beats(0, 10, 0.8)))
    events += noisy.on_slice(SliceObservation(10.0, 20.0, [], [], None, None, "unusable"))
    assert [k for k, _, _ in _raised(events)] == ["unusable_signal"]
