"""Beat annotations: bulk-stored from the detector or the source file; relabelled, added, deleted by cardiologists."""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from sqlalchemy import insert, select

from ecgstation.storage.access import Permission, require
from ecgstation.storage.column_types import utcnow
from ecgstation.storage.errors import ConcurrentEditError, ConflictError, NotFoundError
from ecgstation.storage.orm import BeatAnnotationRow, BeatEditRow, RecordingRow, UserRow
from ecgstation.storage.repos.base import Repository
from ecgstation.storage.views import BeatEditView, BeatView

__all__ = ["BeatRepository"]

_MAX_LABEL = 8
#: A beat added closer than this (s) to a stored beat is refused (no two QRS complexes within 150 ms).
MIN_BEAT_DISTANCE_S = 0.15


def _check_label(label: str) -> str:
    label = label.strip()
    if not label or len(label) > _MAX_LABEL:
        raise ValueError(f"a beat label is 1 to {_MAX_LABEL} characters, not {label!r}")
    return label


class BeatRepository(Repository):
    """Beats of a recording. Every human edit is kept (author, time, old and new label) and versioned."""

    def _view(self, row: BeatAnnotationRow) -> BeatView:
        return BeatView(
            id=row.id,
            recording_id=row.recording_id,
            sample=row.sample,
            label=row.label,
            original_label=row.original_label,
            author_kind=row.author_kind,
            author_name=row.author_name,
            deleted=row.deleted,
            updated_by=self._username(row.updated_by),
            updated_at=row.updated_at,
            version=row.version,
        )

    def add_many(
        self, recording_id: int, samples: Sequence[int], labels: Sequence[str], author_kind: str, author_name: str
    ) -> int:
        """Store beats from the detector (``author_kind`` "algorithm") or the source file ("file"); returns the count."""
        if author_kind not in ("algorithm", "file"):
            raise ValueError("add_many stores algorithm or file beats; a user adds beats one by one with add()")
        require(self.actor, Permission.IMPORT_RECORDINGS)
        if len(samples) != len(labels):
            raise ValueError(f"{len(samples)} beat samples but {len(labels)} labels")
        self._get(RecordingRow, recording_id, "Recording")
        now = utcnow()
        rows = [
            {
                "recording_id": recording_id,
                "sample": int(s),
                "label": _check_label(lab),
                "original_label": _check_label(lab),
                "author_kind": author_kind,
                "author_name": author_name,
                "deleted": False,
                "created_at": now,
                "version": 1,
            }
            for s, lab in zip(samples, labels, strict=True)
        ]
        for start in range(0, len(rows), 5000):
            self.session.execute(insert(BeatAnnotationRow), rows[start : start + 5000])
        if rows:
            self.audit.record("create", "beats", recording_id, count=len(rows), author=author_name)
        return len(rows)

    def list(
        self, recording_id: int, start: int = 0, stop: int | None = None, include_deleted: bool = False
    ) -> list[BeatView]:
        """Beats with ``start`` <= sample < ``stop`` (samples), in time order."""
        require(self.actor, Permission.READ_CLINICAL)
        q = select(BeatAnnotationRow).where(
            BeatAnnotationRow.recording_id == recording_id, BeatAnnotationRow.sample >= start
        )
        if stop is not None:
            q = q.where(BeatAnnotationRow.sample < stop)
        if not include_deleted:
            q = q.where(BeatAnnotationRow.deleted.is_(False))
        rows = list(self.session.scalars(q.order_by(BeatAnnotationRow.sample, BeatAnnotationRow.id)))
        names = {u.id: u.username for u in self.session.scalars(select(UserRow))} if rows else {}
        return [
            BeatView(
                id=r.id, recording_id=r.recording_id, sample=r.sample, label=r.label, original_label=r.original_label,
                author_kind=r.author_kind, author_name=r.author_name, deleted=r.deleted,
                updated_by=names.get(r.updated_by) if r.updated_by else None, updated_at=r.updated_at,
                version=r.version,
            )
            for r in rows
        ]  # fmt: skip

    def _edit(self, row: BeatAnnotationRow, action: str, old: str | None, new: str | None) -> None:
        assert self.actor.user_id is not None
        now = utcnow()
        row.updated_at, row.updated_by = now, self.actor.user_id
        self.session.add(
            BeatEditRow(
                annotation_id=row.id, action=action, old_label=old, new_label=new,
                edited_by=self.actor.user_id, edited_at=now,
            )
        )  # fmt: skip
        self.session.flush()  # the UPDATE checks the version: a concurrent edit raises here
        self.audit.record(action, "beat", row.id, recording_id=row.recording_id, old=old, new=new)

    def _editable(self, beat_id: int, expected_version: int) -> BeatAnnotationRow:
        require(self.actor, Permission.EDIT_BEATS)
        if self.actor.user_id is None:
            raise ValueError("beat edits need a signed-in user")
        row = self._get(BeatAnnotationRow, beat_id, "Beat")
        self._check_version(row, expected_version, f"Beat #{beat_id} at sample {row.sample}")
        return row

    def relabel(self, beat_id: int, new_label: str, expected_version: int) -> BeatView:
        """Give a beat a new label; its original label stays in ``original_label`` and in the history."""
        new_label = _check_label(new_label)
        row = self._editable(beat_id, expected_version)
        old = row.label
        if old != new_label:
            row.label = new_label
            self._edit(row, "relabel", old, new_label)
        return self._view(row)

    def relabel_many(self, edits: Sequence[tuple[int, int]], new_label: str) -> builtins.list[BeatView]:
        """Relabel many beats at once (a template family): ``edits`` are (beat id, expected version).

        All or nothing: if any beat changed since it was loaded, none is relabelled and
        ConcurrentEditError says how many were stale. One audit line covers the whole batch;
        each beat gets its own history entry.
        """
        new_label = _check_label(new_label)
        require(self.actor, Permission.EDIT_BEATS)
        if self.actor.user_id is None:
            raise ValueError("beat edits need a signed-in user")
        expected = dict(edits)
        rows: builtins.list[BeatAnnotationRow] = []
        ids = builtins.list(expected)
        for start in range(0, len(ids), 900):
            part = ids[start : start + 900]
            rows.extend(self.session.scalars(select(BeatAnnotationRow).where(BeatAnnotationRow.id.in_(part))))
        missing = set(ids) - {r.id for r in rows}
        if missing:
            raise NotFoundError(f"{len(missing)} of the beats to relabel no longer exist (first: #{min(missing)}).")
        stale = [r for r in rows if r.version != expected[r.id]]
        if stale:
            raise ConcurrentEditError(
                f"{len(stale)} of {len(rows)} beats were changed by someone else since you opened them; "
                "reload the recording and relabel again."
            )
        now = utcnow()
        history = []
        recordings = set()
        for row in rows:
            if row.label == new_label:
                continue
            history.append(
                {"annotation_id": row.id, "action": "relabel", "old_label": row.label, "new_label": new_label,
                 "edited_by": self.actor.user_id, "edited_at": now}
            )  # fmt: skip
            row.label, row.updated_at, row.updated_by = new_label, now, self.actor.user_id
            recordings.add(row.recording_id)
        self.session.flush()  # version-checked UPDATEs: a concurrent edit raises here
        if history:
            self.session.execute(insert(BeatEditRow), history)
            self.audit.record(
                "relabel", "beats", ",".join(str(r) for r in sorted(recordings)), count=len(history), new=new_label
            )
        return [self._view(r) for r in sorted(rows, key=lambda r: (r.sample, r.id))]

    def add(self, recording_id: int, sample: int, label: str) -> BeatView:
        """A beat the detector missed, placed by the signed-in cardiologist."""
        require(self.actor, Permission.EDIT_BEATS)
        if self.actor.user_id is None:
            raise ValueError("beat edits need a signed-in user")
        label = _check_label(label)
        rec = self._get(RecordingRow, recording_id, "Recording")
        if not 0 <= sample < rec.n_samples:
            raise ValueError(f"sample {sample} is outside recording #{recording_id} (0..{rec.n_samples - 1})")
        # Two beats closer than a refractory period cannot both be QRS complexes.
        near = max(1, round(MIN_BEAT_DISTANCE_S * rec.fs))
        clash = self.session.scalar(
            select(BeatAnnotationRow).where(
                BeatAnnotationRow.recording_id == recording_id,
                BeatAnnotationRow.deleted.is_(False),
                BeatAnnotationRow.sample > sample - near,
                BeatAnnotationRow.sample < sample + near,
            )
        )
        if clash is not None:
            raise ConflictError(
                f"A beat ({clash.label}) is already at {clash.sample / rec.fs:.2f} s, within "
                f"{MIN_BEAT_DISTANCE_S * 1000:.0f} ms of {sample / rec.fs:.2f} s; select it to relabel it instead."
            )
        now = utcnow()
        row = BeatAnnotationRow(
            recording_id=recording_id, sample=int(sample), label=label, original_label=label,
            author_kind="user", author_name=self.actor.username, deleted=False,
            created_at=now, updated_at=now, updated_by=self.actor.user_id,
        )  # fmt: skip
        self.session.add(row)
        self.session.flush()
        self.session.add(
            BeatEditRow(annotation_id=row.id, action="add", old_label=None, new_label=label,
                        edited_by=self.actor.user_id, edited_at=now)
        )  # fmt: skip
        self.audit.record("add", "beat", row.id, recording_id=recording_id, old=None, new=label)
        return self._view(row)

    def delete(self, beat_id: int, expected_version: int) -> BeatView:
        """Hide a beat (kept in the database with its history; :meth:`restore` brings it back)."""
        row = self._editable(beat_id, expected_version)
        if not row.deleted:
            row.deleted = True
            self._edit(row, "delete", row.label, None)
        return self._view(row)

    def restore(self, beat_id: int, expected_version: int) -> BeatView:
        """Undo a delete."""
        row = self._editable(beat_id, expected_version)
        if row.deleted:
            row.deleted = False
            self._edit(row, "restore", None, row.label)
        return self._view(row)

    def history(self, beat_id: int) -> builtins.list[BeatEditView]:
        """Every edit of a beat, oldest first."""
        require(self.actor, Permission.READ_CLINICAL)
        rows = self.session.execute(
            select(BeatEditRow, UserRow.username)
            .join(UserRow, UserRow.id == BeatEditRow.edited_by)
            .where(BeatEditRow.annotation_id == beat_id)
            .order_by(BeatEditRow.id)
        ).all()
        return [BeatEditView(e.action, e.old_label, e.new_label, name, e.edited_at) for e, name in rows]
