"""BeatEditor: relabel, add and delete beats with undo, stored with author and time, refused when stale."""

from __future__ import annotations

import itertools

import pytest
from pytestqt.qtbot import QtBot

from ecgstation.storage.views import BeatView
from ecgstation.ui.beat_editing import BeatEditor
from ecgstation.ui.session import WorkstationSession

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("qsettings_tmp")]

#: Fixtures (tests/gui/_workstation.py): qsettings_tmp, db_settings, sessions, sample_ids, swapped_record.
pytest_plugins = ["tests.gui._workstation"]

#: The accounts of the seeded database (see tests/gui/_workstation.py).
ADMIN, CARDIO, NURSE, STUDENT = "doctor", "cardio", "nurse", "student"


def _stored(session: WorkstationSession, recording_id: int, beat_id: int) -> BeatView:
    with session.db.reader(session.actor) as store:
        (view,) = [b for b in store.beats.list(recording_id, include_deleted=True) if b.id == beat_id]
    return view


def _history(session: WorkstationSession, beat_id: int) -> list[tuple[str, str | None, str | None, str]]:
    with session.db.reader(session.actor) as store:
        return [(h.action, h.old_label, h.new_label, h.edited_by) for h in store.beats.history(beat_id)]


@pytest.fixture
def rec_100(sample_ids: dict[str, int]) -> int:
    return sample_ids["100.hea"]


def _editor(session: WorkstationSession, recording_id: int, kind: str = "algorithm") -> tuple[BeatEditor, BeatView]:
    with session.db.reader(session.actor) as store:
        beats = [b for b in store.beats.list(recording_id) if b.author_kind == kind]
    return BeatEditor(session, recording_id, beats, fs=360.0), beats[100]


def test_relabel_is_stored_with_author_and_time_and_undone(
    qtbot: QtBot, sessions: dict[str, WorkstationSession], rec_100: int
) -> None:
    cardio = sessions[CARDIO]
    editor, beat = _editor(cardio, rec_100)
    orig = beat.label  # the beat model's label, kept as the original
    assert orig == beat.original_label and orig in ("N", "S", "F") and beat.author_kind == "algorithm"
    with qtbot.waitSignal(editor.beatChanged) as changed:
        assert editor.relabel(beat.id, "V") is True
    stored = _stored(cardio, rec_100, beat.id)
    assert changed.args[0] == stored
    assert (stored.label, stored.original_label, stored.author_kind) == ("V", orig, "algorithm")
    assert stored.updated_by == CARDIO and stored.updated_at is not None and stored.version == beat.version + 1
    assert _history(cardio, beat.id) == [("relabel", orig, "V", CARDIO)]
    assert editor.undo_stack.count() == 1 and editor.undo_stack.undoText() == "Relabel beat at " + (
        f"{beat.sample / 360.0:.2f} s ({orig} → V)"
    )

    with qtbot.waitSignal(editor.beatChanged) as changed:
        editor.undo()
    assert changed.args[0].label == orig
    assert _stored(cardio, rec_100, beat.id).label == orig
    assert _history(cardio, beat.id)[-1] == ("relabel", "V", orig, CARDIO)

    editor.redo()
    stored = _stored(cardio, rec_100, beat.id)
    assert (stored.label, stored.original_label) == ("V", orig)
    assert [h[0] for h in _history(cardio, beat.id)] == ["relabel"] * 3


def test_relabel_of_a_reference_beat_keeps_the_file_label(
    sessions: dict[str, WorkstationSession], rec_100: int
) -> None:
    editor, beat = _editor(sessions[CARDIO], rec_100, kind="file")
    assert editor.relabel(beat.id, "A") is True
    stored = _stored(sessions[CARDIO], rec_100, beat.id)
    assert (stored.label, stored.original_label, stored.author_kind) == ("A", "N", "file")
    assert editor.relabel(beat.id, "A") is True  # the same label again: nothing to store or undo
    assert editor.undo_stack.count() == 1


def test_delete_and_restore(qtbot: QtBot, sessions: dict[str, WorkstationSession], rec_100: int) -> None:
    cardio = sessions[CARDIO]
    editor, beat = _editor(cardio, rec_100)
    with qtbot.waitSignal(editor.beatChanged) as changed:
        assert editor.delete(beat.id) is True
    assert changed.args[0].deleted and _stored(cardio, rec_100, beat.id).deleted
    with cardio.db.reader(cardio.actor) as store:
        assert beat.id not in {b.id for b in store.beats.list(rec_100)}
    editor.undo()
    assert not _stored(cardio, rec_100, beat.id).deleted
    assert [h[0] for h in _history(cardio, beat.id)] == ["delete", "restore"]


def test_add_undo_redo_keeps_one_beat(qtbot: QtBot, sessions: dict[str, WorkstationSession], rec_100: int) -> None:
    cardio = sessions[CARDIO]
    editor, _beat = _editor(cardio, rec_100)
    with cardio.db.reader(cardio.actor) as store:
        stored = sorted({b.sample for b in store.beats.list(rec_100, 10_000, 20_000)})
    gaps = [(b - a, (a + b) // 2) for a, b in itertools.pairwise(stored)]
    spot = max(gaps)[1]  # the middle of the widest gap: no beat within 150 ms
    with qtbot.waitSignal(editor.beatChanged) as changed:
        added = editor.add(spot, "S")
    assert added is not None and changed.args[0] == added
    assert (added.sample, added.label, added.original_label) == (spot, "S", "S")
    assert (added.author_kind, added.author_name, added.updated_by) == ("user", CARDIO, CARDIO)
    editor.undo()
    assert _stored(cardio, rec_100, added.id).deleted
    editor.redo()
    assert not _stored(cardio, rec_100, added.id).deleted
    with cardio.db.reader(cardio.actor) as store:
        assert [b.id for b in store.beats.list(rec_100, spot, spot + 1)] == [added.id]
    assert [h[0] for h in _history(cardio, added.id)] == ["add", "delete", "restore"]


def test_stale_version_is_refused_and_the_beat_reloaded(
    qtbot: QtBot, sessions: dict[str, WorkstationSession], rec_100: int
) -> None:
    cardio = sessions[CARDIO]
    editor, beat = _editor(cardio, rec_100)
    with cardio.db.session(cardio.actor) as store:  # another workstation relabels the beat first
        store.beats.relabel(beat.id, "S", beat.version)
    failures: list[str] = []
    editor.editFailed.connect(failures.append)
    with qtbot.waitSignal(editor.beatChanged) as changed:
        assert editor.relabel(beat.id, "V") is False
    assert len(failures) == 1 and "changed by someone else" in failures[0]
    assert changed.args[0].label == "S" and changed.args[0].version == beat.version + 1  # reloaded
    assert editor.undo_stack.count() == 0  # nothing to undo
    assert _stored(cardio, rec_100, beat.id).label == "S"
    assert editor.relabel(beat.id, "V") is True  # on the reloaded version it goes through
    assert _stored(cardio, rec_100, beat.id).label == "V"


def test_undo_after_someone_else_changed_the_beat_is_refused(
    sessions: dict[str, WorkstationSession], rec_100: int
) -> None:
    cardio = sessions[CARDIO]
    editor, beat = _editor(cardio, rec_100)
    assert editor.relabel(beat.id, "V")
    with cardio.db.session(cardio.actor) as store:
        store.beats.relabel(beat.id, "F", beat.version + 1)
    failures: list[str] = []
    editor.editFailed.connect(failures.append)
    editor.undo()
    assert failures and "changed by someone else" in failures[0]
    assert _stored(cardio, rec_100, beat.id).label == "F"  # the other edit stands
    assert editor.undo_stack.count() == 0  # the refused step is dropped
    assert editor.beat(beat.id) is not None and editor.beat(beat.id).label == "F"  # type: ignore[union-attr]


@pytest.mark.parametrize("username", [ADMIN, NURSE])
def test_only_cardiologists_edit_beats(sessions: dict[str, WorkstationSession], rec_100: int, username: str) -> None:
    session = sessions[username]
    editor, beat = _editor(session, rec_100)
    before = beat.label
    assert not editor.can_edit
    failures: list[str] = []
    editor.editFailed.connect(failures.append)
    assert editor.relabel(beat.id, "V") is False
    assert editor.delete(beat.id) is False
    assert editor.add(100, "N") is None
    assert failures == [f"{username} ({session.actor.role.value}) is not allowed to edit beat annotations."] * 3
    assert editor.undo_stack.count() == 0
    assert _stored(session, rec_100, beat.id).label == before


def test_invalid_label_and_unknown_beat_are_reported(sessions: dict[str, WorkstationSession], rec_100: int) -> None:
    editor, beat = _editor(sessions[CARDIO], rec_100)
    failures: list[str] = []
    editor.editFailed.connect(failures.append)
    assert editor.relabel(beat.id, "TOOLONGLABEL") is False
    assert editor.relabel(10**9, "V") is False
    assert editor.add(10**9, "N") is None
    assert "1 to 8 characters" in failures[0]
    assert "is not a beat of recording" in failures[1]
    assert "outside recording" in failures[2]
    assert editor.undo_stack.count() == 0
