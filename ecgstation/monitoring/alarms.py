"""Alarm thresholds and the alarm engine: a pure state machine fed per slice and per device status.

Onset definitions (session seconds; ``raised_s`` is when the engine could know, ``onset_s`` when the
condition began):

- asystole: no beat for more than ``asystole_s`` on usable signal; onset = the last beat (or the
  start of usable signal); raised at the first beat after the pause or at the end of the slice.
- pause: an RR interval longer than ``pause_s`` (and not an asystole); onset = the beat before it.
- bradycardia / tachycardia: the slice heart rate below ``brady_bpm`` / above ``tachy_bpm`` on
  consecutive slices covering ``brady_sustain_s`` / ``tachy_sustain_s``; onset = start of the first.
- ventricular_run: ``vrun_min_beats`` or more consecutive V beats faster than ``vrun_min_rate_bpm``
  (across slice borders); onset = the first V beat of the run.
- atrial_fibrillation: consecutive slices whose rhythm is AF covering ``af_min_s``; onset = start of
  the first AF slice; raised at the end of the slice that completes ``af_min_s``.
- lead_off: a ``lead_off`` status while streaming; unusable_signal: slices of unusable quality
  covering ``unusable_s``; device_disconnected: the source reconnecting (or a disconnect followed
  by anything but the end of the stream). No lead-off, asystole or pause before the first samples
  (``waiting_for_ecg``) nor within ``startup_grace_s`` of them.

One alarm per condition episode: an episode ends when the condition clears (event-like conditions,
pause and ventricular run, after ``episode_hold_s`` without a recurrence); only then can the same
kind raise again. An alarm not acknowledged is escalated every ``escalation_after_s``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ecgstation.devices.events import DeviceStatus

__all__ = [
    "AF_CODES",
    "ALARM_KINDS",
    "AlarmEngine",
    "AlarmEvent",
    "AlarmSettings",
    "SliceObservation",
]

ALARM_KINDS = (
    "asystole", "pause", "bradycardia", "tachycardia", "ventricular_run", "atrial_fibrillation",
    "lead_off", "unusable_signal", "device_disconnected",
)  # fmt: skip
AF_CODES = frozenset({"atrial_fibrillation", "atrial_fibrillation_or_flutter"})
_SEVERITIES = ("low", "medium", "high")
_DEFAULT_SEVERITY = {
    "asystole": "high", "ventricular_run": "high", "bradycardia": "high", "tachycardia": "medium",
    "pause": "medium", "atrial_fibrillation": "medium", "lead_off": "low", "unusable_signal": "low",
    "device_disconnected": "medium",
}  # fmt: skip


@dataclass(frozen=True)
class AlarmSettings:
    """One patient's alarm thresholds (s, bpm, beats), severities per kind and escalation time (s)."""

    asystole_s: float = 4.0
    pause_s: float = 2.5
    brady_bpm: float = 40.0
    brady_sustain_s: float = 10.0
    tachy_bpm: float = 150.0
    tachy_sustain_s: float = 10.0
    vrun_min_beats: int = 3
    vrun_min_rate_bpm: float = 100.0
    af_min_s: float = 30.0
    unusable_s: float = 10.0
    startup_grace_s: float = 5.0
    episode_hold_s: float = 30.0
    escalation_after_s: float = 60.0
    severities: Mapping[str, str] = field(default_factory=lambda: dict(_DEFAULT_SEVERITY))
    disabled: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("asystole_s", "pause_s", "brady_bpm", "tachy_bpm", "vrun_min_rate_bpm", "escalation_after_s"):
            if not float(getattr(self, name)) > 0:
                raise ValueError(f"alarm setting {name} must be positive, not {getattr(self, name)}")
        for name in ("brady_sustain_s", "tachy_sustain_s", "af_min_s", "unusable_s", "startup_grace_s",
                     "episode_hold_s"):  # fmt: skip
            if float(getattr(self, name)) < 0:
                raise ValueError(f"alarm setting {name} must not be negative, not {getattr(self, name)}")
        if self.pause_s >= self.asystole_s:
            raise ValueError(
                f"the pause limit ({self.pause_s} s) must be below the asystole limit ({self.asystole_s} s)"
            )
        if self.brady_bpm >= self.tachy_bpm:
            raise ValueError(
                f"the bradycardia limit ({self.brady_bpm} bpm) must be below tachycardia ({self.tachy_bpm})"
            )
        if int(self.vrun_min_beats) < 2:
            raise ValueError("a ventricular run needs at least 2 beats")
        sev = dict(_DEFAULT_SEVERITY)
        for kind, level in dict(self.severities).items():
            if kind not in ALARM_KINDS:
                raise ValueError(f"unknown alarm kind {kind!r} (one of {', '.join(ALARM_KINDS)})")
            if level not in _SEVERITIES:
                raise ValueError(f"severity of {kind} is low, medium or high, not {level!r}")
            sev[kind] = level
        object.__setattr__(self, "severities", sev)
        unknown = set(self.disabled) - set(ALARM_KINDS)
        if unknown:
            raise ValueError(f"unknown alarm kinds to disable: {sorted(unknown)}")
        object.__setattr__(self, "disabled", tuple(self.disabled))

    def severity(self, kind: str) -> str:
        """The severity of alarms of ``kind``."""
        return self.severities[kind]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document (what ``store.alarm_settings`` keeps)."""
        out = dataclasses.asdict(self)
        out["severities"] = dict(self.severities)
        out["disabled"] = list(self.disabled)
        return out

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any] | None) -> AlarmSettings:
        """Settings from a stored document; missing keys keep their defaults, unknown keys are refused."""
        if not doc:
            return cls()
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(doc) - names
        if unknown:
            raise ValueError(f"unknown alarm settings {sorted(unknown)}")
        kw = dict(doc)
        if "disabled" in kw:
            kw["disabled"] = tuple(kw["disabled"])
        return cls(**kw)


@dataclass(frozen=True)
class SliceObservation:
    """What the analysis of one slice says, on the session clock (s).

    ``beat_times_s``/``beat_labels``: the beats new in this slice (N, S, V, F, Q), oldest first;
    ``usable_spans``: (start_s, end_s) parts of the slice with samples (the rest are gaps);
    ``quality``: good, acceptable, unusable, flat (unusable but without activity: asystole is judged on
    it) or missing (mostly a gap); ``rhythm_code``: the fused rhythm of the slice.
    """

    start_s: float
    end_s: float
    beat_times_s: Sequence[float] = ()
    beat_labels: Sequence[str] = ()
    heart_rate_bpm: float | None = None
    rhythm_code: str | None = None
    quality: str = "good"
    gaps: Sequence[tuple[float, float]] = ()


@dataclass(frozen=True)
class AlarmEvent:
    """A change of an alarm: ``action`` raise, clear (the condition ended) or escalate.

    ``key`` identifies the alarm episode within the engine; ``level`` the escalation level.
    """

    action: Literal["raise", "clear", "escalate"]
    key: int
    kind: str
    severity: str
    message: str
    t_s: float
    onset_s: float
    level: int = 0
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class _Episode:
    key: int
    kind: str
    onset_s: float
    raised_s: float
    last_seen_s: float
    acknowledged: bool = False
    level: int = 0
    last_escalation_s: float = 0.0
    open: bool = True


class AlarmEngine:
    """Turns slice observations and device statuses into alarm events (no I/O, one thread)."""

    def __init__(self, settings: AlarmSettings | None = None) -> None:
        self.settings = settings or AlarmSettings()
        self._next_key = 1
        self._open: dict[str, _Episode] = {}  # kind -> open episode
        self._unacked: dict[int, _Episode] = {}
        self._streaming_since: float | None = None  # first ECG sample time
        self._usable_since: float | None = None  # usable signal without interruption since
        self._last_beat: float | None = None
        self._vrun: list[float] = []  # times of the current run of V beats
        self._brady_since: float | None = None
        self._tachy_since: float | None = None
        self._af_since: float | None = None
        self._unusable_since: float | None = None
        self._lead_off = False
        self._disconnect_pending: DeviceStatus | None = None
        self.now_s = 0.0

    # ---- bookkeeping -------------------------------------------------------------------------
    def _raise(self, kind: str, t_s: float, onset_s: float, message: str, **details: Any) -> list[AlarmEvent]:
        s = self.settings
        if kind in s.disabled:
            return []
        ep = self._open.get(kind)
        if ep is not None:  # the same episode goes on: no second alarm
            ep.last_seen_s = max(ep.last_seen_s, t_s)
            return []
        ep = _Episode(self._next_key, kind, onset_s, t_s, t_s, last_escalation_s=t_s)
        self._next_key += 1
        self._open[kind] = ep
        self._unacked[ep.key] = ep
        return [AlarmEvent("raise", ep.key, kind, s.severity(kind), message, t_s, onset_s, 0, dict(details))]

    def _clear(self, kind: str, t_s: float, message: str = "") -> list[AlarmEvent]:
        ep = self._open.pop(kind, None)
        if ep is None:
            return []
        ep.open = False
        return [AlarmEvent("clear", ep.key, kind, self.settings.severity(kind), message or f"{kind} ended",
                           t_s, ep.onset_s, ep.level)]  # fmt: skip

    def _in_grace(self, t_s: float) -> bool:
        return self._streaming_since is None or t_s < self._streaming_since + self.settings.startup_grace_s

    def _interrupt(self, t_s: float) -> None:
        """The signal stopped being usable: beat-to-beat judgements restart afterwards."""
        self._usable_since = None
        self._last_beat = None
        self._vrun.clear()

    def acknowledge(self, key: int) -> None:
        """A named user acknowledged alarm ``key``: no more escalation."""
        ep = self._unacked.pop(key, None)
        if ep is not None:
            ep.acknowledged = True

    def open_kinds(self) -> set[str]:
        """Kinds whose condition is going on now."""
        return set(self._open)

    def tick(self, now_s: float) -> list[AlarmEvent]:
        """Escalate alarms unacknowledged for ``escalation_after_s`` since they were raised (or last escalated)."""
        self.now_s = max(self.now_s, now_s)
        out: list[AlarmEvent] = []
        for ep in list(self._unacked.values()):
            if now_s - ep.last_escalation_s >= self.settings.escalation_after_s:
                ep.level += 1
                ep.last_escalation_s = now_s
                out.append(AlarmEvent("escalate", ep.key, ep.kind, self.settings.severity(ep.kind),
                                      f"{ep.kind} not acknowledged (level {ep.level})", now_s, ep.onset_s, ep.level))  # fmt: skip
        return out

    # ---- inputs ------------------------------------------------------------------------------
    def on_status(self, status: DeviceStatus) -> list[AlarmEvent]:
        """A device status (lead off/on, gap, disconnect, reconnect, first samples)."""
        t = status.t_s
        out: list[AlarmEvent] = []
        if self._disconnect_pending is not None and status.kind != "disconnected":
            pending, self._disconnect_pending = self._disconnect_pending, None
            out += self._raise("device_disconnected", t, pending.t_s,
                               f"Device disconnected{': ' + pending.message if pending.message else ''}")  # fmt: skip
        kind = status.kind
        if kind == "streaming":
            if self._streaming_since is None:
                self._streaming_since = t
            self._usable_since = t
            out += self._clear("device_disconnected", t, "device streaming again")
        elif kind == "lead_off":
            self._interrupt(t)
            if self._streaming_since is not None and not self._lead_off:
                self._lead_off = True
                out += self._raise("lead_off", t, t, "Lead off: check the electrodes")
        elif kind == "lead_on":
            if self._lead_off:
                self._lead_off = False
                self._usable_since = t
                out += self._clear("lead_off", t, "leads back on")
        elif kind == "gap":
            self._interrupt(t)
        elif kind == "disconnected":
            self._interrupt(t)
            self._disconnect_pending = status
        elif kind == "reconnecting":
            self._interrupt(t)
        return out

    def end_of_stream(self) -> None:
        """The source ended: a disconnect just before is its normal end, not an alarm."""
        self._disconnect_pending = None

    def on_slice(self, obs: SliceObservation) -> list[AlarmEvent]:
        """The analysis of one slice: beats, rate, rhythm, quality, gaps."""
        s = self.settings
        out: list[AlarmEvent] = []
        if self._disconnect_pending is not None:
            pending, self._disconnect_pending = self._disconnect_pending, None
            out += self._raise("device_disconnected", obs.start_s, pending.t_s, "Device disconnected")
        if self._streaming_since is None:
            self._streaming_since = obs.start_s
        if self._usable_since is None and not self._lead_off:
            self._usable_since = obs.start_s
        end = obs.end_s
        # A gap inside the slice interrupts the beat sequence at the gap.
        gaps = sorted(obs.gaps)
        unusable = obs.quality == "unusable" or self._lead_off
        if obs.quality == "missing":  # mostly a gap: nothing to judge (the gap is recorded, not alarmed twice)
            self._interrupt(end)
            self._brady_since = self._tachy_since = self._af_since = None
            return out + self._close_event_episodes(end)
        # ---- technical: unusable signal
        if unusable:
            if self._unusable_since is None:
                self._unusable_since = obs.start_s
            if not self._lead_off and end - self._unusable_since >= s.unusable_s and not self._in_grace(end):
                out += self._raise("unusable_signal", end, self._unusable_since,
                                   "Signal unusable: check the electrodes and the patient")  # fmt: skip
            self._interrupt(end)
            self._brady_since = self._tachy_since = self._af_since = None
            return out + self._close_event_episodes(end)
        if self._unusable_since is not None:
            self._unusable_since = None
            out += self._clear("unusable_signal", obs.start_s, "signal usable again")
        # ---- beats: pauses, asystole, ventricular runs
        times = list(obs.beat_times_s)
        labels = list(obs.beat_labels) or ["Q"] * len(times)
        gi = 0
        for t, lab in zip(times, labels, strict=True):
            while gi < len(gaps) and gaps[gi][1] <= t:  # a gap before this beat breaks the sequence
                self._interrupt(gaps[gi][0])
                self._usable_since = gaps[gi][1]
                gi += 1
            ref = self._last_beat if self._last_beat is not None else self._usable_since
            if ref is not None and not self._in_grace(t):
                rr = t - ref
                if rr > s.asystole_s:
                    out += self._raise("asystole", t, ref, f"Asystole: no beat for {rr:.1f} s", pause_s=round(rr, 2))
                    out += self._clear("asystole", t, "beats again")
                elif rr > s.pause_s and self._last_beat is not None:
                    out += self._raise("pause", t, ref, f"Pause of {rr:.1f} s", pause_s=round(rr, 2))
            self._last_beat = t
            if lab == "V":
                self._vrun.append(t)
                n = len(self._vrun)
                if n >= s.vrun_min_beats:
                    rate = 60.0 * (n - 1) / max(self._vrun[-1] - self._vrun[0], 1e-6)
                    if rate > s.vrun_min_rate_bpm and not self._in_grace(self._vrun[0]):
                        out += self._raise("ventricular_run", t, self._vrun[0],
                                           f"Ventricular run: {n} beats at {rate:.0f} bpm", beats=n,
                                           rate_bpm=round(rate, 1))  # fmt: skip
            else:
                self._vrun.clear()
        for a, b in gaps[gi:]:
            self._interrupt(a)
            self._usable_since = b
        # no beat until the end of the slice (judged on usable signal only)
        ref = self._last_beat if self._last_beat is not None else self._usable_since
        if ref is not None and end - ref > s.asystole_s and not self._in_grace(end):
            out += self._raise("asystole", end, ref, f"Asystole: no beat for {end - ref:.1f} s")
        # ---- rate, sustained
        hr = obs.heart_rate_bpm
        dur = end - obs.start_s
        if hr is not None and hr < s.brady_bpm:
            self._brady_since = obs.start_s if self._brady_since is None else self._brady_since
            if end - self._brady_since >= s.brady_sustain_s - 1e-9 and not self._in_grace(end):
                out += self._raise(
                    "bradycardia", end, self._brady_since, f"Bradycardia: {hr:.0f} bpm", hr_bpm=round(hr, 1)
                )
        else:
            self._brady_since = None
            if hr is not None and hr >= s.brady_bpm + 5:
                out += self._clear("bradycardia", end, f"heart rate {hr:.0f} bpm")
        if hr is not None and hr > s.tachy_bpm:
            self._tachy_since = obs.start_s if self._tachy_since is None else self._tachy_since
            if end - self._tachy_since >= s.tachy_sustain_s - 1e-9 and not self._in_grace(end):
                out += self._raise(
                    "tachycardia", end, self._tachy_since, f"Tachycardia: {hr:.0f} bpm", hr_bpm=round(hr, 1)
                )
        else:
            self._tachy_since = None
            if hr is not None and hr <= s.tachy_bpm - 5:
                out += self._clear("tachycardia", end, f"heart rate {hr:.0f} bpm")
        # ---- atrial fibrillation, sustained
        if obs.rhythm_code in AF_CODES:
            self._af_since = obs.start_s if self._af_since is None else self._af_since
            if end - self._af_since >= s.af_min_s - 1e-9 and dur > 0:
                out += self._raise("atrial_fibrillation", end, self._af_since,
                                   f"Atrial fibrillation for {end - self._af_since:.0f} s")  # fmt: skip
        elif obs.rhythm_code is not None:
            self._af_since = None
            out += self._clear("atrial_fibrillation", end, f"rhythm now {obs.rhythm_code}")
        return out + self._close_event_episodes(end)

    def _close_event_episodes(self, now_s: float) -> list[AlarmEvent]:
        """Pause and ventricular-run episodes end after ``episode_hold_s`` without a recurrence."""
        out: list[AlarmEvent] = []
        for kind in ("pause", "ventricular_run"):
            ep = self._open.get(kind)
            if ep is not None and now_s - ep.last_seen_s >= self.settings.episode_hold_s:
                out += self._clear(kind, now_s)
        return out
