"""Audible alarms: a repeating tone burst while a high or medium alarm is unacknowledged, with a mute.

The tones are generated at run time (a few kB of 16-bit WAV in a temporary folder, never
downloaded) and played with QSoundEffect when Qt Multimedia and an audio device exist;
otherwise :meth:`QApplication.beep` stands in (and a missing audio backend is logged once,
never raised: offscreen tests and headless workstations run without sound).
High alarms repeat every ``HIGH_REPEAT_MS``, medium ones every ``MEDIUM_REPEAT_MS``; low
alarms are visual only (IEC 60601-1-8 style priorities, simplified).
"""

from __future__ import annotations

import logging
import math
import tempfile
import wave
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from PySide6.QtWidgets import QApplication

from ecgstation.monitoring.bed_feed import AlarmState

__all__ = ["HIGH_REPEAT_MS", "MEDIUM_REPEAT_MS", "AlarmSound", "audible_level", "write_tone"]

log = logging.getLogger(__name__)

HIGH_REPEAT_MS = 2_000
MEDIUM_REPEAT_MS = 6_000
#: (frequency Hz, pulses) of each burst.
_BURSTS = {"high": (960.0, 5), "medium": (660.0, 3)}
_RATE = 22_050

_backend_logged = False


def audible_level(alarms: Iterable[AlarmState]) -> str | None:
    """``"high"`` or ``"medium"`` when an unacknowledged alarm of that severity is present, else None."""
    level: str | None = None
    for alarm in alarms:
        if not alarm.active:
            continue
        if alarm.severity == "high":
            return "high"
        if alarm.severity == "medium":
            level = "medium"
    return level


def write_tone(path: Path, frequency_hz: float, pulses: int, pulse_s: float = 0.12, pause_s: float = 0.08) -> Path:
    """Write a burst of ``pulses`` sine pulses (with 10 ms ramps) as 16-bit mono WAV to ``path``."""
    n_pulse = int(pulse_s * _RATE)
    n_pause = int(pause_s * _RATE)
    t = np.arange(n_pulse) / _RATE
    ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)
    pulse = 0.5 * np.sin(2 * math.pi * frequency_hz * t) * ramp
    one = np.concatenate([pulse, np.zeros(n_pause)])
    signal = np.tile(one, pulses)
    pcm = np.round(signal * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(_RATE)
        out.writeframes(pcm.tobytes())
    return path


def _sound_effect_class() -> Any:
    try:
        from PySide6.QtMultimedia import QSoundEffect
    except ImportError:
        return None
    return QSoundEffect


def _log_backend_once(message: str) -> None:
    global _backend_logged
    if not _backend_logged:
        _backend_logged = True
        log.info("alarm sound: %s; using the system beep", message)


class AlarmSound(QObject):
    """Plays the alarm tone of the highest unacknowledged severity handed to :meth:`set_alarms`.

    ``playing`` is the level now sounding (None when silent or muted); ``plays`` counts the
    bursts started; ``mutedChanged(bool)`` follows :meth:`set_muted`.
    """

    mutedChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None, *, use_multimedia: bool = True) -> None:
        super().__init__(parent)
        self._muted = False
        self._level: str | None = None
        self.plays = 0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._play)
        self._effects: dict[str, Any] = {}
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        if use_multimedia:
            self._load_effects()

    def _load_effects(self) -> None:
        cls = _sound_effect_class()
        if cls is None:
            _log_backend_once("Qt Multimedia is not installed")
            return
        try:
            from PySide6.QtMultimedia import QMediaDevices

            if QMediaDevices.defaultAudioOutput().isNull():
                _log_backend_once("no audio output device")
                return
            self._folder = tempfile.TemporaryDirectory(prefix="ecgstation-alarm-")
            for level, (freq, pulses) in _BURSTS.items():
                path = write_tone(Path(self._folder.name) / f"{level}.wav", freq, pulses)
                effect = cls(self)
                effect.setSource(QUrl.fromLocalFile(str(path)))
                effect.setVolume(0.8)
                self._effects[level] = effect
        except Exception as exc:  # noqa: BLE001 - an audio backend failing must never take the monitor down
            _log_backend_once(f"audio backend unavailable ({exc})")
            self._effects.clear()

    @property
    def has_audio(self) -> bool:
        """Whether real tones play (False: the system beep stands in)."""
        return bool(self._effects)

    @property
    def muted(self) -> bool:
        """Whether the tone is silenced (the alarms stay visible)."""
        return self._muted

    @property
    def playing(self) -> str | None:
        """The severity sounding now, or None."""
        return self._level if self._timer.isActive() else None

    def set_muted(self, muted: bool) -> None:
        """Silence (or re-enable) the tone."""
        if muted == self._muted:
            return
        self._muted = muted
        self._apply(self._level)
        self.mutedChanged.emit(muted)

    def set_alarms(self, alarms: Iterable[AlarmState]) -> None:
        """Sound for the highest unacknowledged severity among ``alarms`` (silence when none)."""
        self.set_level(audible_level(alarms))

    def set_level(self, level: str | None) -> None:
        """Sound ``"high"``, ``"medium"`` or nothing."""
        if level not in (None, "high", "medium"):
            raise ValueError(f"unknown alarm level {level!r}")
        if level == self._level and (self._timer.isActive() or level is None or self._muted):
            return
        self._level = level
        self._apply(level)

    def _apply(self, level: str | None) -> None:
        if level is None or self._muted:
            self._timer.stop()
            for effect in self._effects.values():
                effect.stop()
            return
        self._timer.setInterval(HIGH_REPEAT_MS if level == "high" else MEDIUM_REPEAT_MS)
        self._play()
        self._timer.start()

    def _play(self) -> None:
        level = self._level
        if level is None or self._muted:
            return
        self.plays += 1
        effect = self._effects.get(level)
        if effect is not None:
            effect.play()
            return
        app = QApplication.instance()
        if isinstance(app, QApplication):
            QApplication.beep()

    def stop(self) -> None:
        """Silence and release the tone files."""
        self._level = None
        self._apply(None)
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None
