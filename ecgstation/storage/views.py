"""What repositories return: frozen snapshots, never live ORM rows (so nothing lazy-loads past a role check)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

__all__ = [
    "AlarmSettingsView",
    "AlarmView",
    "AuditView",
    "BeatEditView",
    "BeatView",
    "DeviceView",
    "FindingView",
    "ImageView",
    "PatientView",
    "RecordingView",
    "SessionOwnerView",
    "SessionView",
    "SliceView",
    "UserView",
]


@dataclass(frozen=True)
class PatientView:
    """A patient as the reader may see them; identifying fields are None for de-identified readers.

    ``age_years`` is whole years (capped at 90 for de-identified readers); ``bmi`` in kg/m².
    """

    id: int
    mrn: str | None
    family_name: str | None
    given_name: str | None
    sex: str
    birth_date: date | None
    age_years: int | None
    height_cm: float | None
    weight_kg: float | None
    bmi: float | None
    phone: str | None
    email: str | None
    address: str | None
    version: int
    deidentified: bool

    @property
    def display_name(self) -> str:
        """"Family, Given (MRN)" for identified readers, "Patient #id" for de-identified ones."""
        if self.deidentified:
            return f"Patient #{self.id}"
        name = ", ".join(p for p in (self.family_name, self.given_name) if p) or "(no name)"
        return f"{name} ({self.mrn})"


@dataclass(frozen=True)
class UserView:
    """A user account (never the password hash)."""

    id: int
    username: str
    display_name: str | None
    role: str
    active: bool


@dataclass(frozen=True)
class DeviceView:
    """A registered patch or strap."""

    id: int
    serial: str
    kind: str
    model: str | None
    firmware: str | None
    last_seen_at: datetime | None
    status: str


@dataclass(frozen=True)
class RecordingView:
    """A stored recording; ``source_name`` and ``acquired_at`` are None for de-identified readers.

    ``fs`` in Hz, ``duration_s`` in s.
    """

    id: int
    patient_id: int | None
    source_name: str | None
    source_format: str
    file_sha256: str
    signal_sha256: str
    fs: float
    n_leads: int
    n_samples: int
    duration_s: float
    lead_names: tuple[str, ...]
    acquired_at: datetime | None
    imported_at: datetime
    sample_encoding: str


@dataclass(frozen=True)
class SessionView:
    """A monitoring session; ``fs`` in Hz."""

    id: int
    patient_id: int | None
    device_id: int | None
    started_at: datetime
    ended_at: datetime | None
    state: str
    fs: float
    lead_names: tuple[str, ...]
    summary: dict[str, Any] | None
    n_slices: int


@dataclass(frozen=True)
class SliceView:
    """One stored 10 s slice: ``signals`` float32 (leads, samples) in mV, ``fs`` in Hz, its analysis."""

    session_id: int
    index: int
    started_at: datetime
    fs: float
    signals: Any
    analysis: dict[str, Any] | None


@dataclass(frozen=True)
class FindingView:
    """A finding with its source and review state; ``start_s``/``end_s`` in s, ``confidence`` 0..1."""

    id: int
    recording_id: int | None
    session_id: int | None
    source_kind: str
    source_name: str
    source_version: str | None
    code: str
    label: str
    confidence: float | None
    start_s: float | None
    end_s: float | None
    status: str
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str | None
    version: int


@dataclass(frozen=True)
class BeatView:
    """A beat annotation at ``sample`` (0-based) with its current and original label."""

    id: int
    recording_id: int
    sample: int
    label: str
    original_label: str
    author_kind: str
    author_name: str
    deleted: bool
    updated_by: str | None
    updated_at: datetime | None
    version: int


@dataclass(frozen=True)
class BeatEditView:
    """One edit in a beat's history."""

    action: str
    old_label: str | None
    new_label: str | None
    edited_by: str
    edited_at: datetime


@dataclass(frozen=True)
class ImageView:
    """A stored ECG image (the bytes are read separately)."""

    id: int
    patient_id: int | None
    recording_id: int | None
    file_name: str | None
    media_type: str
    sha256: str
    size_bytes: int
    analysis: dict[str, Any] | None


@dataclass(frozen=True)
class AlarmView:
    """An alarm and its acknowledgement and escalation state."""

    id: int
    session_id: int | None
    patient_id: int | None
    kind: str
    severity: str
    message: str
    raised_at: datetime
    offset_s: float | None
    details: dict[str, Any] | None
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    escalation_level: int
    version: int


@dataclass(frozen=True)
class AuditView:
    """One line of the audit log."""

    id: int
    occurred_at: datetime
    username: str
    role: str
    action: str
    entity_type: str
    entity_id: str | None
    details: dict[str, Any] | None
    trace_id: str | None
    workstation: str | None


@dataclass(frozen=True)
class AlarmSettingsView:
    """A patient's alarm thresholds (``settings``: the JSON document), who set them last and when."""

    patient_id: int
    settings: dict[str, Any]
    updated_by: str | None
    updated_at: datetime
    version: int


@dataclass(frozen=True)
class SessionOwnerView:
    """Which process runs an active monitoring session and when it last wrote a heartbeat."""

    session_id: int
    owner_host: str | None
    owner_pid: int | None
    heartbeat_at: datetime | None
    started_at: datetime
