"""ECG images (photos and scans of paper ECGs): the file, its sha256, and the digitisation analysis."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import func, select

from ecgstation.storage.access import Permission, require
from ecgstation.storage.orm import EcgImageRow
from ecgstation.storage.repos.base import Repository
from ecgstation.storage.views import ImageView

__all__ = ["ImageRepository"]


class ImageRepository(Repository):
    """Stored ECG images; the same bytes stored twice give back the first copy."""

    def _view(self, row: EcgImageRow, size: int) -> ImageView:
        identified = self.actor.can(Permission.READ_IDENTIFYING)
        return ImageView(row.id, row.patient_id, row.recording_id, row.file_name if identified else None,
                         row.media_type, row.sha256, size, row.analysis)  # fmt: skip

    def add(
        self,
        data: bytes,
        *,
        file_name: str,
        media_type: str,
        patient_id: int | None = None,
        recording_id: int | None = None,
        analysis: dict[str, Any] | None = None,
    ) -> tuple[ImageView, bool]:
        """Store an image; returns (view, duplicate) where duplicate means the same bytes were already stored."""
        require(self.actor, Permission.IMPORT_RECORDINGS)
        if not data:
            raise ValueError(f"{file_name} is empty")
        digest = hashlib.sha256(data).hexdigest()
        existing = self.session.scalar(select(EcgImageRow).where(EcgImageRow.sha256 == digest))
        if existing is not None:
            self.audit.record("import-duplicate", "image", existing.id, file_name=file_name)
            return self._view(existing, len(existing.data)), True
        row = EcgImageRow(
            patient_id=patient_id, recording_id=recording_id, file_name=file_name[:500], media_type=media_type,
            sha256=digest, data=data, analysis=analysis, created_by=self.actor.user_id,
        )  # fmt: skip
        self.session.add(row)
        self.session.flush()
        self.audit.record("create", "image", row.id, file_name=file_name)
        return self._view(row, len(data)), False

    def get(self, image_id: int) -> ImageView:
        """One image's description."""
        require(self.actor, Permission.READ_CLINICAL)
        row = self._get(EcgImageRow, image_id, "ECG image")
        size = self.session.scalar(select(func.length(EcgImageRow.data)).where(EcgImageRow.id == image_id))
        return self._view(row, int(size or 0))

    def data(self, image_id: int) -> bytes:
        """The image file's bytes (audited as a view)."""
        require(self.actor, Permission.READ_CLINICAL)
        row = self._get(EcgImageRow, image_id, "ECG image")
        self.audit.record("view", "image", image_id)
        return bytes(row.data)

    def set_analysis(self, image_id: int, analysis: dict[str, Any], recording_id: int | None = None) -> ImageView:
        """Attach the digitisation result (and the recording it produced)."""
        require(self.actor, Permission.IMPORT_RECORDINGS)
        row = self._get(EcgImageRow, image_id, "ECG image")
        row.analysis = analysis
        if recording_id is not None:
            row.recording_id = recording_id
        self.audit.record("update", "image", image_id)
        return self._view(row, len(row.data))
