"""The one Recording type that carries every ECG signal through ECG Station."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ecgstation.core.errors import SignalError

#: Sampling rates (Hz) the signal core accepts.
MIN_FS_HZ = 50.0
MAX_FS_HZ = 20000.0


@dataclass(frozen=True)
class Annotations:
    """Reference annotations of a record: one entry per labelled sample.

    ``samples`` are int64 sample indices in the record's own numbering;
    ``labels`` the annotation symbols (e.g. WFDB beat codes ``N``, ``V``, ``+``);
    ``aux`` free text per entry (e.g. rhythm ``(AFIB``), ``""`` when absent.
    """

    samples: NDArray[np.int64]
    labels: tuple[str, ...]
    aux: tuple[str, ...] = ()
    source: str = ""

    def __post_init__(self) -> None:
        samples = np.asarray(self.samples, dtype=np.int64)
        object.__setattr__(self, "samples", samples)
        if samples.ndim != 1:
            raise SignalError("annotation samples must be one-dimensional")
        if len(self.labels) != samples.size:
            raise SignalError("annotation samples and labels differ in length")
        if self.aux and len(self.aux) != samples.size:
            raise SignalError("annotation samples and aux texts differ in length")
        if not self.aux:
            object.__setattr__(self, "aux", ("",) * samples.size)

    def __len__(self) -> int:
        return int(self.samples.size)

    @classmethod
    def empty(cls, source: str = "") -> Annotations:
        """No annotations."""
        return cls(np.zeros(0, dtype=np.int64), (), (), source)


@dataclass(frozen=True)
class PatientInfo:
    """Patient fields as found in the source file; every field may be unknown."""

    patient_id: str | None = None
    name: str | None = None
    sex: str | None = None  # "M", "F", "O" or None
    birth_date: date | None = None
    age_years: float | None = None
    height_cm: float | None = None
    weight_kg: float | None = None


@dataclass(frozen=True)
class LeadCalibration:
    """How one lead's stored integers map to mV: ``mV = (adc - baseline) / gain``.

    ``gain`` is in ADC units per mV (None when the source stored physical values),
    ``source_unit`` the unit written in the file (e.g. ``"mV"``, ``"uV"``).
    """

    gain: float | None = None
    baseline: float = 0.0
    source_unit: str = "mV"
    adc_resolution_bits: int | None = None


@dataclass(frozen=True, eq=False)
class Recording:
    """An ECG: ``signals`` float32 of shape ``(leads, samples)`` in mV, sampled at ``fs`` Hz.

    ``signals`` may be a read-only view or a ``numpy.memmap`` of the source; the
    Recording never copies it. ``start_time`` is the acquisition start (naive local
    time when the source gives no zone). ``metadata`` holds acquisition details as
    given by the source (device, filters, comments, ...).
    """

    signals: NDArray[np.float32]
    fs: float
    lead_names: tuple[str, ...]
    start_time: datetime | None = None
    patient: PatientInfo = field(default_factory=PatientInfo)
    calibration: tuple[LeadCalibration, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)
    annotations: Annotations = field(default_factory=Annotations.empty)
    source_path: str | None = None

    def __post_init__(self) -> None:
        sig = self.signals
        if not isinstance(sig, np.ndarray) or sig.dtype != np.float32 or sig.ndim != 2:
            raise SignalError("Recording signals must be a float32 array of shape (leads, samples)")
        n_leads, n_samples = sig.shape
        if n_leads < 1:
            raise SignalError("Recording has no leads")
        if n_samples < 2:
            raise SignalError(f"Recording has {n_samples} sample(s); at least 2 are needed")
        fs = float(self.fs)
        if not np.isfinite(fs) or not (MIN_FS_HZ <= fs <= MAX_FS_HZ):
            raise SignalError(f"sampling rate {self.fs!r} Hz is outside {MIN_FS_HZ:g}-{MAX_FS_HZ:g} Hz")
        object.__setattr__(self, "fs", fs)
        names = tuple(str(n) for n in self.lead_names)
        if len(names) != n_leads:
            raise SignalError(f"{n_leads} signal rows but {len(names)} lead names")
        object.__setattr__(self, "lead_names", names)
        if self.calibration and len(self.calibration) != n_leads:
            raise SignalError("one calibration entry per lead is needed")
        if not self.calibration:
            object.__setattr__(self, "calibration", tuple(LeadCalibration() for _ in names))
        if sig.flags.writeable and not isinstance(sig, np.memmap):
            sig.flags.writeable = False
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))
        ann = self.annotations
        if len(ann) and (ann.samples.min() < 0 or ann.samples.max() >= n_samples):
            raise SignalError("annotation sample outside the record")

    @property
    def n_leads(self) -> int:
        """Number of leads."""
        return int(self.signals.shape[0])

    @property
    def n_samples(self) -> int:
        """Number of samples per lead."""
        return int(self.signals.shape[1])

    @property
    def duration_s(self) -> float:
        """Duration in seconds."""
        return self.n_samples / self.fs

    def lead_index(self, name: str) -> int:
        """Index of the lead called ``name`` (case-insensitive); KeyError if absent."""
        wanted = name.strip().lower()
        for i, lead in enumerate(self.lead_names):
            if lead.strip().lower() == wanted:
                return i
        raise KeyError(name)

    def lead(self, name: str) -> NDArray[np.float32]:
        """A view of one lead's samples in mV."""
        row: NDArray[np.float32] = self.signals[self.lead_index(name)]
        return row

    def window(self, start_s: float, stop_s: float) -> NDArray[np.float32]:
        """A view of all leads between ``start_s`` and ``stop_s`` seconds (clipped to the record)."""
        a = max(0, int(round(start_s * self.fs)))
        b = min(self.n_samples, int(round(stop_s * self.fs)))
        view: NDArray[np.float32] = self.signals[:, a : max(a, b)]
        return view
