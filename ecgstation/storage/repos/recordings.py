"""Recordings: store a Recording as compressed chunks, find duplicates by content hash, read any window back."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import insert, select

from ecgstation.core.recording import Annotations, LeadCalibration, PatientInfo, Recording
from ecgstation.storage.access import Permission, require
from ecgstation.storage.errors import ImportCancelled
from ecgstation.storage.orm import RecordingRow, WaveformChunkRow
from ecgstation.storage.repos.base import Repository
from ecgstation.storage.views import RecordingView
from ecgstation.storage.waveform_codec import (
    SampleEncoding,
    choose_encoding,
    decode_block,
    encode_block,
    signal_sha256,
)

__all__ = ["CHUNK_SECONDS", "RecordingRepository", "StoreResult"]

log = logging.getLogger(__name__)

#: Length of one stored chunk in s: a 10 s window touches at most two chunks.
CHUNK_SECONDS = 10.0
#: Chunks inserted per statement while storing a long record.
_INSERT_BATCH = 256
#: Chunks per batch when a caller follows the progress or may cancel.
_WATCHED_BATCH = 32


@dataclass(frozen=True)
class StoreResult:
    """What :meth:`RecordingRepository.store` did: the recording, and whether it was already stored."""

    recording: RecordingView
    duplicate: bool


def _jsonable(value: Any) -> Any:
    """Metadata made JSON-safe (numbers, strings, lists, dicts; anything else as its text)."""
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    return str(value)


class RecordingRepository(Repository):
    """Stored recordings; identifying details (file name, acquisition time) are hidden from de-identified readers."""

    def _view(self, row: RecordingRow) -> RecordingView:
        identified = self.actor.can(Permission.READ_IDENTIFYING)
        return RecordingView(
            id=row.id,
            patient_id=row.patient_id,
            source_name=row.source_name if identified else None,
            source_format=row.source_format,
            file_sha256=row.file_sha256,
            signal_sha256=row.signal_sha256,
            fs=row.fs,
            n_leads=row.n_leads,
            n_samples=row.n_samples,
            duration_s=row.duration_s,
            lead_names=tuple(row.lead_names),
            acquired_at=row.acquired_at if identified else None,
            imported_at=row.imported_at,
            sample_encoding=row.sample_encoding,
        )

    @staticmethod
    def _encoding(row: RecordingRow) -> SampleEncoding:
        return SampleEncoding(row.sample_encoding, tuple(row.storage_gains))

    def find_duplicate(self, signal_hash: str) -> RecordingView | None:
        """The stored recording with this content hash, if any."""
        require(self.actor, Permission.READ_CLINICAL)
        row = self.session.scalar(select(RecordingRow).where(RecordingRow.signal_sha256 == signal_hash))
        return None if row is None else self._view(row)

    def store(
        self,
        recording: Recording,
        *,
        source_name: str,
        source_format: str,
        file_sha256: str,
        patient_id: int | None = None,
        device_id: int | None = None,
        should_cancel: Callable[[], bool] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> StoreResult:
        """Store the samples of ``recording`` in chunks of 10 s (annotations are stored by the caller).

        Content already stored (same samples, fs and lead names) is not stored again: the result
        names the existing recording with ``duplicate=True``. A start time without a timezone
        (WFDB headers give local wall-clock time) is kept as ``extra["acquired_local"]``.

        ``progress(done, total)`` is called with the number of samples (per lead) written so far
        and the record's length in samples, after every batch of chunks. ``should_cancel()`` is
        asked before every batch; when it answers True, :class:`ImportCancelled` is raised, and the
        caller's transaction (see ``Database.session``) rolls back whatever was written.
        """
        require(self.actor, Permission.IMPORT_RECORDINGS)
        if patient_id is not None:
            require(self.actor, Permission.READ_IDENTIFYING)
        signals = recording.signals
        encoding = choose_encoding(signals, [c.gain for c in recording.calibration])
        digest = signal_sha256(signals, recording.fs, recording.lead_names, encoding)
        existing = self.session.scalar(select(RecordingRow).where(RecordingRow.signal_sha256 == digest))
        if existing is not None:
            self.audit.record("import-duplicate", "recording", existing.id, source_name=source_name)
            return StoreResult(self._view(existing), duplicate=True)
        chunk = max(1, round(CHUNK_SECONDS * recording.fs))
        start_time = recording.start_time
        aware = start_time is not None and start_time.utcoffset() is not None
        extra: dict[str, Any] = {
            "metadata": _jsonable(dict(recording.metadata)),
            "source_units": [c.source_unit for c in recording.calibration],
            "source_gains": [c.gain for c in recording.calibration],
        }
        if start_time is not None and not aware:
            extra["acquired_local"] = start_time.isoformat()
        row = RecordingRow(
            patient_id=patient_id,
            device_id=device_id,
            source_name=source_name[:500],
            source_format=source_format,
            file_sha256=file_sha256,
            signal_sha256=digest,
            fs=float(recording.fs),
            n_leads=recording.n_leads,
            n_samples=recording.n_samples,
            duration_s=recording.duration_s,
            lead_names=list(recording.lead_names),
            acquired_at=start_time if aware else None,
            chunk_samples=chunk,
            sample_encoding=encoding.kind,
            storage_gains=list(encoding.gains),
            extra=extra,
            imported_by=self.actor.user_id,
        )
        self.session.add(row)
        self.session.flush()
        total = recording.n_samples
        # With a caller watching, batches are smaller so that a cancel is noticed within ~5 min of signal.
        batch_size = _INSERT_BATCH if should_cancel is None and progress is None else _WATCHED_BATCH

        def flush(rows: list[dict[str, Any]], done: int) -> None:
            if should_cancel is not None and should_cancel():
                raise ImportCancelled(f"The import of {source_name} was cancelled; nothing of it was stored.")
            if rows:
                self.session.execute(insert(WaveformChunkRow), rows)
            if progress is not None:
                progress(done, total)

        batch: list[dict[str, Any]] = []
        for index, start in enumerate(range(0, recording.n_samples, chunk)):
            block = signals[:, start : start + chunk]
            batch.append(
                {
                    "recording_id": row.id,
                    "chunk_index": index,
                    "start_sample": start,
                    "n_samples": block.shape[1],
                    "data": encode_block(block, encoding),
                }
            )
            if len(batch) >= batch_size:
                flush(batch, min(total, start + chunk))
                batch = []
        if batch or total == 0:
            flush(batch, total)
        self.audit.record(
            "create", "recording", row.id, source_name=source_name, duration_s=round(recording.duration_s, 3)
        )
        log.info("stored recording #%d: %d leads x %d samples at %g Hz", row.id, row.n_leads, row.n_samples, row.fs)
        return StoreResult(self._view(row), duplicate=False)

    def get(self, recording_id: int) -> RecordingView:
        """One recording's description."""
        require(self.actor, Permission.READ_CLINICAL)
        return self._view(self._get(RecordingRow, recording_id, "Recording"))

    def for_patient(self, patient_id: int | None) -> list[RecordingView]:
        """The recordings of a patient (None: those stored without a patient), oldest import first."""
        require(self.actor, Permission.READ_CLINICAL)
        cond = RecordingRow.patient_id.is_(None) if patient_id is None else RecordingRow.patient_id == patient_id
        return [self._view(r) for r in self.session.scalars(select(RecordingRow).where(cond).order_by(RecordingRow.id))]

    def read_samples(self, recording_id: int, start: int, stop: int) -> NDArray[np.float32]:
        """Samples ``start``..``stop`` (0-based, clipped to the record) of all leads, float32 mV.

        Only the chunks that overlap the range are read and decoded.
        """
        require(self.actor, Permission.READ_CLINICAL)
        row = self._get(RecordingRow, recording_id, "Recording")
        start, stop = max(0, int(start)), min(row.n_samples, int(stop))
        if stop <= start:
            return np.zeros((row.n_leads, 0), dtype=np.float32)
        first, last = start // row.chunk_samples, (stop - 1) // row.chunk_samples
        chunks = self.session.execute(
            select(WaveformChunkRow.start_sample, WaveformChunkRow.n_samples, WaveformChunkRow.data)
            .where(
                WaveformChunkRow.recording_id == recording_id,
                WaveformChunkRow.chunk_index >= first,
                WaveformChunkRow.chunk_index <= last,
            )
            .order_by(WaveformChunkRow.chunk_index)
        ).all()
        encoding = self._encoding(row)
        out = np.empty((row.n_leads, stop - start), dtype=np.float32)
        filled = 0
        for chunk_start, n, data in chunks:
            block = decode_block(data, encoding, row.n_leads, n)
            lo, hi = max(start, chunk_start), min(stop, chunk_start + n)
            out[:, lo - start : hi - start] = block[:, lo - chunk_start : hi - chunk_start]
            filled += hi - lo
        if filled != stop - start:
            raise RuntimeError(f"recording #{recording_id}: chunks cover {filled} of {stop - start} samples")
        return out

    def read_window(self, recording_id: int, start_s: float, duration_s: float) -> NDArray[np.float32]:
        """The window [``start_s``, ``start_s + duration_s``) in s, all leads, float32 mV."""
        row = self._get(RecordingRow, recording_id, "Recording")
        start = round(start_s * row.fs)
        return self.read_samples(recording_id, start, start + round(duration_s * row.fs))

    def load(self, recording_id: int) -> Recording:
        """The whole recording as a :class:`Recording` (audited as a view), with its current beat labels."""
        from ecgstation.storage.orm import BeatAnnotationRow

        require(self.actor, Permission.READ_CLINICAL)
        row = self._get(RecordingRow, recording_id, "Recording")
        signals = self.read_samples(recording_id, 0, row.n_samples)
        signals.setflags(write=False)
        beats = self.session.execute(
            select(BeatAnnotationRow.sample, BeatAnnotationRow.label)
            .where(BeatAnnotationRow.recording_id == recording_id, BeatAnnotationRow.deleted.is_(False))
            .order_by(BeatAnnotationRow.sample)
        ).all()
        annotations = (
            Annotations(np.array([b[0] for b in beats], dtype=np.int64), tuple(b[1] for b in beats), source="database")
            if beats
            else Annotations.empty("database")
        )
        extra = row.extra or {}
        gains: list[float | None] = list(extra.get("source_gains") or [None] * row.n_leads)
        units = extra.get("source_units") or ["mV"] * row.n_leads
        calibration = tuple(LeadCalibration(gain=g, source_unit=u) for g, u in zip(gains, units, strict=False))
        identified = self.actor.can(Permission.READ_IDENTIFYING)
        start_time = row.acquired_at
        if start_time is None and extra.get("acquired_local"):
            start_time = datetime.fromisoformat(extra["acquired_local"])
        self.audit.record("view", "recording", recording_id)
        return Recording(
            signals=signals,
            fs=row.fs,
            lead_names=tuple(row.lead_names),
            start_time=start_time if identified else None,
            patient=PatientInfo(),
            calibration=calibration if len(calibration) == row.n_leads else (),
            metadata={"recording_id": row.id, **(extra.get("metadata") or {})} if identified else {},
            annotations=annotations,
            source_path=row.source_name if identified else None,
        )
