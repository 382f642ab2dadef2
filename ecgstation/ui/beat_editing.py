"""Beat editing with undo: relabel, add and delete beats of one recording, written through the beat repository."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from ecgstation.core.errors import EcgStationError
from ecgstation.storage import ConcurrentEditError, Permission, Store
from ecgstation.storage.views import BeatView
from ecgstation.tracing import traced
from ecgstation.ui.session import WorkstationSession

__all__ = ["BeatEditor"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class _BeatCommand(QUndoCommand):
    """One undoable beat edit; a step that the database refuses makes the command obsolete (dropped)."""

    def __init__(self, text: str, apply: Callable[[], bool], revert: Callable[[], bool]) -> None:
        super().__init__(text)
        self._apply = apply
        self._revert = revert

    def redo(self) -> None:
        if not self._apply():
            self.setObsolete(True)

    def undo(self) -> None:
        if not self._revert():
            self.setObsolete(True)


class BeatEditor(QObject):
    """Edits the beats of recording ``recording_id`` as the session's user, with an undo stack.

    Every edit is one transaction through :class:`BeatRepository` (author and time recorded, the
    original algorithm or file label kept) using the version of the beat this editor last saw:
    a beat changed by another workstation since is refused (``editFailed`` with the message, and
    the beat is reloaded and re-emitted). ``beatChanged`` carries the new :class:`BeatView` of
    each beat written (``deleted`` True when a delete hid it), so a viewer can update one beat.
    Users without the right to edit beats (admins, nurses, students) get ``editFailed`` too.

    ``beats``: the beats the caller has shown (None: read them from the database).
    ``fs``: the sampling rate in Hz, for the undo texts (times in s instead of samples).
    """

    beatChanged = Signal(object)
    #: Many beats written in one transaction (a family relabel or its undo): the list of new views.
    beatsChanged = Signal(list)
    editFailed = Signal(str)

    def __init__(
        self,
        session: WorkstationSession,
        recording_id: int,
        beats: Sequence[BeatView] | None = None,
        fs: float | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self.recording_id = recording_id
        self._fs = fs
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setObjectName(f"beatUndo{recording_id}")
        if beats is None:
            with session.db.reader(session.actor) as store:
                beats = store.beats.list(recording_id, include_deleted=True)
        self._beats: dict[int, BeatView] = {b.id: b for b in beats}
        self._ok = False

    @property
    def can_edit(self) -> bool:
        """Whether the signed-in user may edit beats (cardiologists)."""
        return self._session.can(Permission.EDIT_BEATS)

    def beat(self, beat_id: int) -> BeatView | None:
        """The newest view of beat ``beat_id`` this editor knows, or None."""
        return self._beats.get(beat_id)

    # -- public edits -------------------------------------------------------------------------

    def relabel(self, beat_id: int, label: str) -> bool:
        """Give beat ``beat_id`` the label ``label``; True when stored. Undo restores the previous label."""
        current = self._known(beat_id)
        if current is None:
            return False
        old, new = current.label, label.strip()
        if old == new:
            return True
        text = f"Relabel beat at {self._where(current.sample)} ({old} → {new})"
        return self._push(
            text,
            lambda: self._write(f"relabel beat #{beat_id}", beat_id,
                                lambda s: s.beats.relabel(beat_id, new, self._version(beat_id))),
            lambda: self._write(f"undo relabel of beat #{beat_id}", beat_id,
                                lambda s: s.beats.relabel(beat_id, old, self._version(beat_id))),
        )  # fmt: skip

    def delete(self, beat_id: int) -> bool:
        """Hide beat ``beat_id`` (kept with its history); True when stored. Undo restores it."""
        current = self._known(beat_id)
        if current is None:
            return False
        if current.deleted:
            return True
        text = f"Delete beat at {self._where(current.sample)} ({current.label})"
        return self._push(
            text,
            lambda: self._write(f"delete beat #{beat_id}", beat_id,
                                lambda s: s.beats.delete(beat_id, self._version(beat_id))),
            lambda: self._write(f"restore beat #{beat_id}", beat_id,
                                lambda s: s.beats.restore(beat_id, self._version(beat_id))),
        )  # fmt: skip

    def add(self, sample: int, label: str) -> BeatView | None:
        """Add a beat at ``sample`` (0-based) labelled ``label``; its view, or None when refused.

        Undo hides the new beat; redo brings the same beat back.
        """
        added: list[int] = []

        def apply() -> bool:
            if not added:
                view = self._write_view(f"add beat at sample {sample}", None,
                                        lambda s: s.beats.add(self.recording_id, int(sample), label))  # fmt: skip
                if view is None:
                    return False
                added.append(view.id)
                return True
            beat_id = added[0]
            return self._write(f"redo add of beat #{beat_id}", beat_id,
                               lambda s: s.beats.restore(beat_id, self._version(beat_id)))  # fmt: skip

        def revert() -> bool:
            beat_id = added[0]
            return self._write(f"undo add of beat #{beat_id}", beat_id,
                               lambda s: s.beats.delete(beat_id, self._version(beat_id)))  # fmt: skip

        if not self._push(f"Add beat at {self._where(int(sample))} ({label.strip()})", apply, revert):
            return None
        return self._beats.get(added[0]) if added else None

    def relabel_family(self, beats: Sequence[BeatView], label: str) -> bool:
        """Relabel a whole template family in one transaction; True when stored. Undo restores each old label."""
        known = [self._beats[b.id] for b in beats if b.id in self._beats and not self._beats[b.id].deleted]
        new = label.strip()
        targets = [b for b in known if b.label != new]
        if not targets:
            return bool(known)
        old_by_id = {b.id: b.label for b in targets}

        def apply() -> bool:
            edits = [(i, self._version(i)) for i in old_by_id]
            return self._write_many(f"relabel {len(edits)} beats as {new}", lambda s: s.beats.relabel_many(edits, new))

        def revert() -> bool:
            groups: dict[str, list[int]] = {}
            for i, old in old_by_id.items():
                groups.setdefault(old, []).append(i)

            def op(s: Store) -> list[BeatView]:
                out: list[BeatView] = []
                for old, ids in groups.items():
                    out.extend(s.beats.relabel_many([(i, self._version(i)) for i in ids], old))
                return out

            return self._write_many(f"undo relabel of {len(old_by_id)} beats", op)

        return self._push(f"Relabel {len(targets)} beats as {new}", apply, revert)

    def _write_many(self, action: str, op: Callable[[Store], list[BeatView]]) -> bool:
        """Run a many-beat ``op`` in one transaction; emit each new view, or ``editFailed`` (then reload all)."""
        views = self._transaction(action, op, self._reload_all)
        if views is None:
            return False
        for view in views:
            self._beats[view.id] = view
        self.beatsChanged.emit(list(views))
        return True

    def _reload_all(self) -> None:
        """Read every beat of the recording again and emit those that changed."""
        try:
            with self._session.db.reader(self._session.actor) as store:
                views = store.beats.list(self.recording_id, include_deleted=True)
        except EcgStationError as err:
            log.warning("cannot reload the beats of recording #%d: %s", self.recording_id, err)
            return
        changed = [v for v in views if self._beats.get(v.id) != v]
        for view in changed:
            self._beats[view.id] = view
        if changed:
            self.beatsChanged.emit(changed)

    def undo(self) -> None:
        """Undo the last edit (same as the undo stack's action)."""
        self.undo_stack.undo()

    def redo(self) -> None:
        """Redo the last undone edit."""
        self.undo_stack.redo()

    # -- plumbing ------------------------------------------------------------------------------

    def _known(self, beat_id: int) -> BeatView | None:
        view = self._beats.get(beat_id)
        if view is None:
            self.editFailed.emit(
                f"Beat #{beat_id} is not a beat of recording #{self.recording_id}; reload the recording."
            )
        return view

    def _version(self, beat_id: int) -> int:
        return self._beats[beat_id].version

    def _where(self, sample: int) -> str:
        if self._fs:
            return f"{sample / self._fs:.2f} s"
        return f"sample {sample}"

    def _push(self, text: str, apply: Callable[[], bool], revert: Callable[[], bool]) -> bool:
        """Push one command; QUndoStack runs its first redo at once. True when that redo was stored."""
        self._ok = False

        def first_apply() -> bool:
            ok = apply()
            self._ok = ok
            return ok

        self.undo_stack.push(_BeatCommand(text, first_apply, revert))
        return self._ok

    def _write(self, action: str, beat_id: int | None, op: Callable[[Store], BeatView]) -> bool:
        return self._write_view(action, beat_id, op) is not None

    def _write_view(self, action: str, beat_id: int | None, op: Callable[[Store], BeatView]) -> BeatView | None:
        """Run ``op`` in one transaction; on success cache and emit the new view, else emit ``editFailed``."""
        view = self._transaction(action, op, lambda: None if beat_id is None else self._reload(beat_id))
        if view is None:
            return None
        self._beats[view.id] = view
        self.beatChanged.emit(view)
        return view

    def _transaction(self, action: str, op: Callable[[Store], T], on_stale: Callable[[], None]) -> T | None:
        """``op`` in one transaction as the session's user; None after telling why (``editFailed``).

        A concurrent edit by another workstation also calls ``on_stale`` (to reload what changed).
        """
        with traced(action) as trace_id:
            try:
                with self._session.db.session(self._session.actor) as store:
                    return op(store)
            except (EcgStationError, ValueError) as err:
                log.info("%s refused: %s", action, err)
                self.editFailed.emit(str(err))
                if isinstance(err, ConcurrentEditError):
                    on_stale()
                return None
            except Exception:  # a bug: logged with its trace id, a short message for the user
                log.exception("internal error during %s", action)
                self.editFailed.emit(
                    f"The beats could not be changed because of an internal error (trace {trace_id}); "
                    "the details are in the log."
                )
                return None

    def _reload(self, beat_id: int) -> None:
        """Read beat ``beat_id`` again (after another workstation changed it) and emit it."""
        known = self._beats.get(beat_id)
        if known is None:
            return
        try:
            with self._session.db.reader(self._session.actor) as store:
                views = store.beats.list(self.recording_id, known.sample, known.sample + 1, include_deleted=True)
        except EcgStationError as err:
            log.warning("cannot reload beat #%d: %s", beat_id, err)
            return
        for view in views:
            if view.id == beat_id:
                self._beats[beat_id] = view
                self.beatChanged.emit(view)
                return
