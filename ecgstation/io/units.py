"""Voltage unit names as found in ECG files, and their factor to millivolts."""

from __future__ import annotations

import re

#: Canonical unit name -> factor that turns a value in that unit into mV.
MV_PER_UNIT: dict[str, float] = {"nV": 1e-6, "uV": 1e-3, "mV": 1.0, "V": 1e3}

_ALIASES: dict[str, str] = {
    "nv": "nV",
    "nanovolt": "nV",
    "nanovolts": "nV",
    "uv": "uV",
    "\u00b5v": "uV",  # micro sign
    "\u03bcv": "uV",  # Greek small mu
    "microvolt": "uV",
    "microvolts": "uV",
    "mv": "mV",
    "millivolt": "mV",
    "millivolts": "mV",
    "v": "V",
    "volt": "V",
    "volts": "V",
}

_SPACES = re.compile(r"\s+")


def canonical_voltage_unit(unit: str | None) -> str | None:
    """The canonical name (``"nV"``, ``"uV"``, ``"mV"``, ``"V"``) of a voltage unit, else None.

    Case-insensitive, so ``"mv"`` (seen in CinC 2021 headers) is mV; ``"µV"``,
    ``"μV"`` and ``"uV"`` are all microvolts. Non-voltage units (``"mmHg"``,
    ``"NU"``) and empty strings give None.
    """
    if unit is None:
        return None
    key = _SPACES.sub("", unit).lower()
    return _ALIASES.get(key)


def mv_per_unit(unit: str | None) -> float | None:
    """Factor turning a value in ``unit`` into mV (``"uV"`` -> 0.001), or None if not a voltage."""
    name = canonical_voltage_unit(unit)
    return None if name is None else MV_PER_UNIT[name]
