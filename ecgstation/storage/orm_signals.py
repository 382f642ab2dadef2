"""Tables of signals: recordings with their waveform chunks, monitoring sessions with their 10 s slices, ECG images."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ecgstation.storage.column_types import UtcDateTime, utcnow
from ecgstation.storage.orm_base import Base

__all__ = ["EcgImageRow", "MonitoringSessionRow", "MonitoringSliceRow", "RecordingRow", "WaveformChunkRow"]


class RecordingRow(Base):
    """One stored ECG recording; its samples live in :class:`WaveformChunkRow` rows.

    ``signal_sha256`` is the hash of the stored samples, fs and lead names (the duplicate check);
    ``file_sha256`` is the hash of the source file(s) as read. ``storage_gains`` holds, per lead,
    the counts per mV of the int16 chunks (empty for float32 chunks).
    """

    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"), index=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    source_name: Mapped[str] = mapped_column(String(500))
    source_format: Mapped[str] = mapped_column(String(32))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    signal_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    fs: Mapped[float] = mapped_column(Float)
    n_leads: Mapped[int] = mapped_column(Integer)
    n_samples: Mapped[int] = mapped_column(BigInteger)
    duration_s: Mapped[float] = mapped_column(Float)
    lead_names: Mapped[list[str]] = mapped_column(JSON)
    acquired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    chunk_samples: Mapped[int] = mapped_column(Integer)
    sample_encoding: Mapped[str] = mapped_column(String(16))
    storage_gains: Mapped[list[float]] = mapped_column(JSON)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    imported_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class WaveformChunkRow(Base):
    """``n_samples`` samples of all leads of a recording from ``start_sample``, compressed (see waveform_codec)."""

    __tablename__ = "waveform_chunks"

    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), primary_key=True)
    chunk_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    start_sample: Mapped[int] = mapped_column(BigInteger)
    n_samples: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class MonitoringSessionRow(Base):
    """A live monitoring session of one patient with one device; ``state`` is active, ended or interrupted."""

    __tablename__ = "monitoring_sessions"
    __table_args__ = (CheckConstraint("state IN ('active', 'ended', 'interrupted')", name="state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"), index=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(16), default="active")
    fs: Mapped[float] = mapped_column(Float)
    lead_names: Mapped[list[str]] = mapped_column(JSON)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    started_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: the process running the session (host name, pid) and when it last said it is alive (crash recovery)
    owner_host: Mapped[str | None] = mapped_column(String(128))
    owner_pid: Mapped[int | None] = mapped_column(Integer)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class MonitoringSliceRow(Base):
    """One 10 s slice of a monitoring session: its samples (compressed) and its analysis (JSON)."""

    __tablename__ = "monitoring_slices"
    __table_args__ = (UniqueConstraint("session_id", "slice_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("monitoring_sessions.id", ondelete="CASCADE"))
    slice_index: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    fs: Mapped[float] = mapped_column(Float)
    n_leads: Mapped[int] = mapped_column(Integer)
    n_samples: Mapped[int] = mapped_column(Integer)
    sample_encoding: Mapped[str] = mapped_column(String(16))
    storage_gains: Mapped[list[float]] = mapped_column(JSON)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class EcgImageRow(Base):
    """A photographed or scanned paper ECG: the file itself, its sha256 and the digitisation analysis."""

    __tablename__ = "ecg_images"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"), index=True)
    recording_id: Mapped[int | None] = mapped_column(ForeignKey("recordings.id", ondelete="SET NULL"))
    file_name: Mapped[str] = mapped_column(String(500))
    media_type: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
