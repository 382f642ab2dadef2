"""Viewer preferences (units, paper speed, gain, mains, theme, screen calibration, filters), kept in QSettings."""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QSettings, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QVBoxLayout,
    QWidget,
)

from ecgstation.ui.paper_layout import GAINS_MM_PER_MV, PAPER_SPEEDS_MM_PER_S, Layout, PaperSettings

__all__ = [
    "CALIBRATION_RANGE",
    "MAINS_CHOICES_HZ",
    "ORGANIZATION",
    "RECENT_FILES_MAX",
    "SETTINGS_APP",
    "THEMES",
    "UNIT_CHOICES",
    "SettingsDialog",
    "ViewerPreferences",
    "app_settings",
    "apply_theme",
    "load_preferences",
    "recent_files",
    "remember_recent_file",
    "save_preferences",
    "set_recent_files",
]

log = logging.getLogger(__name__)

#: QSettings organisation and application names.
ORGANIZATION = "ECG Station"
SETTINGS_APP = "ecgstation"

#: Units of measurement read-outs (calipers, intervals): time and amplitude, or paper millimetres.
UNIT_CHOICES: dict[str, str] = {
    "ms/mV": "Time in ms, amplitude in mV",
    "ms/µV": "Time in ms, amplitude in µV",
    "mm": "Paper millimetres (small squares)",
}
#: Local mains frequencies in Hz (powerline filter and quality check).
MAINS_CHOICES_HZ = (50.0, 60.0)
#: Colour themes of the window.
THEMES = ("light", "dark")
#: Allowed screen calibration factors (shown length / measured length: > 1 enlarges the paper).
CALIBRATION_RANGE = (0.5, 2.0)
#: How many files File → Recent files remembers.
RECENT_FILES_MAX = 10

_LAYOUT_TITLES: dict[str, str] = {
    Layout.TWELVE_BY_ONE.value: "12 × 1 (all leads stacked)",
    Layout.SIX_BY_TWO.value: "6 × 2",
    Layout.THREE_BY_FOUR_RHYTHM.value: "3 × 4 + rhythm strip",
    Layout.SINGLE.value: "Single lead",
    Layout.DUAL.value: "Two leads",
}
_RECENT_KEY = "files/recent"
_PREFIX = "viewer/"

T = TypeVar("T")


@dataclass(frozen=True)
class ViewerPreferences:
    """How ECGs are shown; validated when built.

    ``units``: a key of :data:`UNIT_CHOICES`; ``paper_speed_mm_s`` in mm/s (12.5, 25, 50);
    ``gain_mm_mv`` in mm/mV (5, 10, 20); ``mains_hz`` the local mains frequency in Hz (50, 60);
    ``theme`` "light" or "dark"; ``screen_calibration`` corrects a screen that reports a wrong
    DPI (shown length / measured length, 0.5..2.0: a grid measured too small needs > 1); ``filters_on`` the display filters;
    ``layout`` a :class:`Layout` value.
    """

    units: str = "ms/mV"
    paper_speed_mm_s: float = 25.0
    gain_mm_mv: float = 10.0
    mains_hz: float = 50.0
    theme: str = "light"
    screen_calibration: float = 1.0
    filters_on: bool = False
    layout: str = Layout.TWELVE_BY_ONE.value

    def __post_init__(self) -> None:
        if self.units not in UNIT_CHOICES:
            raise ValueError(f"units must be one of {', '.join(UNIT_CHOICES)}, not {self.units!r}")
        if self.paper_speed_mm_s not in PAPER_SPEEDS_MM_PER_S:
            speeds = ", ".join(f"{s:g}" for s in PAPER_SPEEDS_MM_PER_S)
            raise ValueError(f"paper speed must be one of {speeds} mm/s, not {self.paper_speed_mm_s!r}")
        if self.gain_mm_mv not in GAINS_MM_PER_MV:
            gains = ", ".join(f"{g:g}" for g in GAINS_MM_PER_MV)
            raise ValueError(f"gain must be one of {gains} mm/mV, not {self.gain_mm_mv!r}")
        if self.mains_hz not in MAINS_CHOICES_HZ:
            raise ValueError(f"mains frequency must be 50 or 60 Hz, not {self.mains_hz!r}")
        if self.theme not in THEMES:
            raise ValueError(f"theme must be light or dark, not {self.theme!r}")
        low, high = CALIBRATION_RANGE
        if not (math.isfinite(self.screen_calibration) and low <= self.screen_calibration <= high):
            raise ValueError(f"screen calibration must be {low:g}..{high:g}, not {self.screen_calibration!r}")
        if self.layout not in {layout.value for layout in Layout}:
            raise ValueError(f"layout must be one of {', '.join(item.value for item in Layout)}, not {self.layout!r}")

    @property
    def paper(self) -> PaperSettings:
        """Paper speed and gain for the viewer."""
        return PaperSettings(speed_mm_s=self.paper_speed_mm_s, gain_mm_mv=self.gain_mm_mv)

    @property
    def layout_kind(self) -> Layout:
        """The layout as a :class:`Layout`."""
        return Layout(self.layout)

    def with_changes(self, **changes: Any) -> ViewerPreferences:
        """A copy with ``changes`` (validated)."""
        return dataclasses.replace(self, **changes)


# -- QSettings -------------------------------------------------------------------------------


def app_settings() -> QSettings:
    """The application's QSettings: an INI file in the user scope (tests redirect it with QSettings.setPath)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, SETTINGS_APP)


def _as_float(value: object) -> float:
    return float(str(value))


def _as_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ValueError(f"not a yes/no value: {value!r}")


def _read(settings: QSettings, key: str, convert: Callable[[object], T], default: T) -> T:
    value = settings.value(_PREFIX + key)
    if value is None:
        return default
    try:
        return convert(value)
    except (TypeError, ValueError):
        log.warning("ignoring the stored preference %s=%r", key, value)
        return default


def load_preferences(settings: QSettings | None = None) -> ViewerPreferences:
    """The stored preferences; a missing or invalid value takes its default (and is logged)."""
    s = settings or app_settings()
    d = ViewerPreferences()
    values: dict[str, Any] = {
        "units": _read(s, "units", str, d.units),
        "paper_speed_mm_s": _read(s, "paper_speed_mm_s", _as_float, d.paper_speed_mm_s),
        "gain_mm_mv": _read(s, "gain_mm_mv", _as_float, d.gain_mm_mv),
        "mains_hz": _read(s, "mains_hz", _as_float, d.mains_hz),
        "theme": _read(s, "theme", str, d.theme),
        "screen_calibration": _read(s, "screen_calibration", _as_float, d.screen_calibration),
        "filters_on": _read(s, "filters_on", _as_bool, d.filters_on),
        "layout": _read(s, "layout", str, d.layout),
    }
    kept: dict[str, Any] = {}
    for key, value in values.items():
        try:
            ViewerPreferences(**{key: value})
        except ValueError as err:
            log.warning("ignoring the stored preference: %s", err)
            continue
        kept[key] = value
    return ViewerPreferences(**kept)


def save_preferences(preferences: ViewerPreferences, settings: QSettings | None = None) -> None:
    """Store ``preferences``."""
    s = settings or app_settings()
    for field in dataclasses.fields(preferences):
        s.setValue(_PREFIX + field.name, getattr(preferences, field.name))
    s.sync()


def recent_files(settings: QSettings | None = None) -> list[str]:
    """The remembered files, newest first, without those that no longer exist (they are forgotten)."""
    s = settings or app_settings()
    stored = s.value(_RECENT_KEY)
    if stored is None:
        names: list[str] = []
    elif isinstance(stored, str):
        names = [stored] if stored else []
    else:
        names = [str(v) for v in stored]
    present = [n for n in names if Path(n).is_file()][:RECENT_FILES_MAX]
    if present != names:
        set_recent_files(present, s)
    return present


def set_recent_files(paths: list[str], settings: QSettings | None = None) -> None:
    """Replace the remembered files (at most :data:`RECENT_FILES_MAX`, newest first)."""
    s = settings or app_settings()
    s.setValue(_RECENT_KEY, list(paths[:RECENT_FILES_MAX]))
    s.sync()


def remember_recent_file(path: str | Path, settings: QSettings | None = None) -> list[str]:
    """Put ``path`` (made absolute) first in the recent files; returns the new list."""
    s = settings or app_settings()
    name = str(Path(path).expanduser().resolve())
    files = [name, *(f for f in recent_files(s) if f != name)][:RECENT_FILES_MAX]
    set_recent_files(files, s)
    return files


# -- theme -----------------------------------------------------------------------------------

_original: dict[str, Any] = {}


def _dark_palette() -> QPalette:
    palette = QPalette()
    window, base, text = QColor(45, 45, 48), QColor(30, 30, 30), QColor(225, 225, 225)
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: window,
        QPalette.ColorRole.ToolTipBase: base,
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: window,
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor(255, 80, 80),
        QPalette.ColorRole.Link: QColor(90, 160, 255),
        QPalette.ColorRole.Highlight: QColor(42, 110, 200),
        QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
        QPalette.ColorRole.PlaceholderText: QColor(140, 140, 140),
    }
    for role, colour in roles.items():
        palette.setColor(role, colour)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 120, 120))
    return palette


def apply_theme(theme: str, app: QApplication | None = None) -> None:
    """Give the application the light (its own) or dark colours."""
    if theme not in THEMES:
        raise ValueError(f"theme must be light or dark, not {theme!r}")
    instance = app or QApplication.instance()
    if not isinstance(instance, QApplication):
        return
    if not _original:
        _original["palette"] = instance.palette()
        _original["style"] = instance.style().name()
    if theme == "dark":
        instance.setStyle("Fusion")
        instance.setPalette(_dark_palette())
    else:
        instance.setStyle(str(_original["style"]))
        instance.setPalette(_original["palette"])


# -- dialog ----------------------------------------------------------------------------------


def _combo(parent: QWidget, items: list[tuple[str, object]], current: object, name: str) -> QComboBox:
    combo = QComboBox(parent)
    combo.setObjectName(name)
    for text, data in items:
        combo.addItem(text, data)
    index = combo.findData(current)
    combo.setCurrentIndex(max(0, index))
    return combo


class SettingsDialog(QDialog):
    """Edits :class:`ViewerPreferences`; OK emits ``preferencesAccepted`` with the new preferences."""

    preferencesAccepted = Signal(object)

    def __init__(self, preferences: ViewerPreferences | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        prefs = preferences or ViewerPreferences()
        self._initial = prefs
        self.units_combo = _combo(self, [(f"{label} ({key})", key) for key, label in UNIT_CHOICES.items()],
                                  prefs.units, "unitsCombo")  # fmt: skip
        self.speed_combo = _combo(self, [(f"{s:g} mm/s", float(s)) for s in PAPER_SPEEDS_MM_PER_S],
                                  prefs.paper_speed_mm_s, "speedCombo")  # fmt: skip
        self.gain_combo = _combo(self, [(f"{g:g} mm/mV", float(g)) for g in GAINS_MM_PER_MV],
                                 prefs.gain_mm_mv, "gainCombo")  # fmt: skip
        self.mains_combo = _combo(self, [(f"{m:g} Hz", m) for m in MAINS_CHOICES_HZ], prefs.mains_hz, "mainsCombo")
        self.theme_combo = _combo(self, [("Light", "light"), ("Dark", "dark")], prefs.theme, "themeCombo")
        self.layout_combo = _combo(self, [(title, value) for value, title in _LAYOUT_TITLES.items()],
                                   prefs.layout, "layoutCombo")  # fmt: skip
        self.calibration_spin = QDoubleSpinBox(self)
        self.calibration_spin.setObjectName("calibrationSpin")
        self.calibration_spin.setRange(*CALIBRATION_RANGE)
        self.calibration_spin.setDecimals(2)
        self.calibration_spin.setSingleStep(0.01)
        self.calibration_spin.setValue(prefs.screen_calibration)
        self.calibration_spin.setToolTip(
            "Measure 100 mm of the grid on the screen with a ruler and enter 100 / measured mm "
            "(e.g. 100 mm measured as 90 mm: 1.11); the grid then grows to true size."
        )
        self.filters_check = QCheckBox("Display filters: 0.5–40 Hz, zero-phase (off: the signal as recorded)", self)
        self.filters_check.setObjectName("filtersCheck")
        self.filters_check.setChecked(prefs.filters_on)

        form = QFormLayout()
        form.addRow("Measurement units:", self.units_combo)
        form.addRow("Paper speed:", self.speed_combo)
        form.addRow("Gain:", self.gain_combo)
        form.addRow("Default layout:", self.layout_combo)
        form.addRow("Mains frequency:", self.mains_combo)
        form.addRow("Screen calibration:", self.calibration_spin)
        form.addRow("", self.filters_check)
        form.addRow("Theme:", self.theme_combo)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults,
            self,
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        defaults = self.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        defaults.clicked.connect(lambda: self.set_preferences(ViewerPreferences()))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)

    def set_preferences(self, prefs: ViewerPreferences) -> None:
        """Show ``prefs`` in the controls."""
        for combo, value in (
            (self.units_combo, prefs.units),
            (self.speed_combo, prefs.paper_speed_mm_s),
            (self.gain_combo, prefs.gain_mm_mv),
            (self.mains_combo, prefs.mains_hz),
            (self.theme_combo, prefs.theme),
            (self.layout_combo, prefs.layout),
        ):
            combo.setCurrentIndex(max(0, combo.findData(value)))
        self.calibration_spin.setValue(prefs.screen_calibration)
        self.filters_check.setChecked(prefs.filters_on)

    def preferences(self) -> ViewerPreferences:
        """The preferences the controls show now."""
        return ViewerPreferences(
            units=str(self.units_combo.currentData()),
            paper_speed_mm_s=float(self.speed_combo.currentData()),
            gain_mm_mv=float(self.gain_combo.currentData()),
            mains_hz=float(self.mains_combo.currentData()),
            theme=str(self.theme_combo.currentData()),
            screen_calibration=round(float(self.calibration_spin.value()), 2),
            filters_on=self.filters_check.isChecked(),
            layout=str(self.layout_combo.currentData()),
        )

    def accept(self) -> None:
        """Close with OK and emit the new preferences."""
        prefs = self.preferences()
        super().accept()
        self.preferencesAccepted.emit(prefs)

    @staticmethod
    def edit(preferences: ViewerPreferences, parent: QWidget | None = None) -> ViewerPreferences | None:
        """Ask modally; the new preferences, or None when cancelled."""
        dialog = SettingsDialog(preferences, parent)
        try:
            if dialog.exec() == QDialog.DialogCode.Accepted:
                return dialog.preferences()
            return None
        finally:
            dialog.deleteLater()
