"""The workspace wiring: overview, events and templates move the viewer; relabels update in place."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QObject, Signal

from ecgstation.io import read_recording
from ecgstation.storage.views import BeatView
from ecgstation.ui.recording_workspace import RecordingWorkspace, choose_beats

pytestmark = pytest.mark.gui


def _beats(samples: Sequence[int], labels: Sequence[str], kind: str = "file") -> list[BeatView]:
    return [
        BeatView(i + 1, 1, int(s), lab, lab, kind, "atr", False, None, None, 1)
        for i, (s, lab) in enumerate(zip(samples, labels, strict=True))
    ]


class _Editor(QObject):
    """Stores relabels in memory the way BeatEditor does, and reports each changed beat."""

    beatChanged = Signal(object)
    beatsChanged = Signal(list)

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[list[int], str]] = []

    def relabel_family(self, beats: Sequence[BeatView], label: str) -> None:
        self.calls.append(([b.id for b in beats], label))
        now = datetime.now(UTC)
        self.beatsChanged.emit([
            BeatView(b.id, b.recording_id, b.sample, label, b.original_label, b.author_kind, b.author_name,
                     False, "cardio", now, b.version + 1)
            for b in beats
        ])  # fmt: skip


@pytest.fixture
def workspace(qtbot, samples_dir: Path) -> tuple[RecordingWorkspace, list[BeatView]]:  # type: ignore[no-untyped-def]
    rec = read_recording(samples_dir / "208.hea")
    keep = [i for i, lab in enumerate(rec.annotations.labels) if lab in "NVFSQ"]
    beats = _beats(rec.annotations.samples[keep].tolist(), [rec.annotations.labels[i] for i in keep])
    ws = RecordingWorkspace(dpi=96.0)
    qtbot.addWidget(ws)
    ws.resize(1200, 900)
    ws.show()
    qtbot.waitExposed(ws)
    ws.set_recording(rec, beats)
    return ws, beats


def test_choose_beats_prefers_the_reference_set_and_keeps_user_beats() -> None:
    algo = _beats([10, 20], ["Q", "Q"], "algorithm")
    ref = [BeatView(9, 1, 11, "N", "N", "file", "atr", False, None, None, 1)]
    user = [BeatView(8, 1, 30, "V", "V", "user", "cardio", False, "cardio", None, 1)]
    gone = [BeatView(7, 1, 40, "N", "N", "file", "atr", True, None, None, 2)]
    assert [b.id for b in choose_beats(algo + ref + user + gone)] == [9, 8]
    assert [b.id for b in choose_beats(algo)] == [1, 2]


def test_long_record_gets_overview_templates_and_events(workspace) -> None:  # type: ignore[no-untyped-def]
    ws, beats = workspace
    assert ws.overview.isVisibleTo(ws) and ws.tabs.isVisibleTo(ws)
    families = ws.families()
    assert families and sum(f.count for f in families) == len(beats)
    assert {f.dominant_label for f in families[:2]} == {"N", "V"}
    assert ws.event_list() == ws.events.events()
    assert any(e.kind in ("bigeminy", "v_run", "trigeminy") for e in ws.event_list())


def test_overview_click_event_and_family_move_the_viewer(workspace, qtbot) -> None:  # type: ignore[no-untyped-def]
    ws, beats = workspace
    with qtbot.waitSignal(ws.viewer.viewChanged):
        ws.overview.jumpRequested.emit(900.0)
    start = ws.viewer.start_s()
    assert start < 900.0 < start + ws.viewer.page_s()
    assert ws.overview.view_window() == pytest.approx((start, start + ws.viewer.page_s()))
    event = ws.event_list()[len(ws.event_list()) // 2]
    ws.events.eventActivated.emit(event.start_s, event.end_s)
    assert ws.viewer.start_s() <= event.start_s < ws.viewer.start_s() + ws.viewer.page_s()
    v_family = next(f for f in ws.families() if f.dominant_label == "V")
    ws.templates.familyActivated.emit(v_family.family_id)
    selected = ws.viewer.selected_beat()
    assert selected is not None and selected.id == beats[int(v_family.beat_indices[0])].id


def test_family_relabel_goes_through_the_editor_and_keeps_the_view(workspace, qtbot) -> None:  # type: ignore[no-untyped-def]
    ws, beats = workspace
    editor = _Editor()
    ws.set_editor(editor)
    ws.viewer.scroll_to(600.0)
    ws.viewer.set_zoom(2.0)
    before = (ws.viewer.start_s(), ws.viewer.zoom(), ws.viewer.page_s())
    small = min((f for f in ws.families() if not f.is_other), key=lambda f: f.count)
    ws.templates.relabelRequested.emit(small.family_id, "F")
    (ids, label), = editor.calls
    assert label == "F" and sorted(ids) == sorted(beats[int(i)].id for i in small.beat_indices)
    assert (ws.viewer.start_s(), ws.viewer.zoom(), ws.viewer.page_s()) == before
    shown = {b.id: b.label for b in ws.viewer.beats()}
    assert all(shown[i] == "F" for i in ids)
    qtbot.waitUntil(lambda: any(f.dominant_label == "F" for f in ws.families()))
    assert (ws.viewer.start_s(), ws.viewer.zoom()) == before[:2]


def test_short_record_hides_the_holter_panels(qtbot, samples_dir: Path) -> None:  # type: ignore[no-untyped-def]
    ws = RecordingWorkspace(dpi=96.0)
    qtbot.addWidget(ws)
    ws.show()
    rec = read_recording(samples_dir / "ptbxl_00003_hr.hea")
    ws.set_recording(rec, _beats(np.arange(100, 5000, 400).tolist(), ["N"] * 13, "algorithm"))
    assert not ws.overview.isVisibleTo(ws) and not ws.tabs.isVisibleTo(ws)
    assert ws.families() == [] and len(ws.viewer.beats()) == 13


def test_unclassified_beats_give_rate_events_only(qtbot, samples_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """All-"Q" beats (no classifier yet): no ectopy or AF events, and the tab says why."""
    rec = read_recording(samples_dir / "208.hea")
    keep = [i for i, lab in enumerate(rec.annotations.labels) if lab in "NVFSQ"]
    beats = _beats(rec.annotations.samples[keep].tolist(), ["Q"] * len(keep), "algorithm")
    ws = RecordingWorkspace(dpi=96.0)
    qtbot.addWidget(ws)
    ws.set_recording(rec, beats)
    assert {e.kind for e in ws.event_list()} <= {"pause", "bradycardia", "tachycardia"}
    assert "unclassified" in ws.tabs.tabText(1)


def test_the_other_family_is_not_relabelled_at_once(workspace, qtbot) -> None:  # type: ignore[no-untyped-def]
    ws = workspace[0]
    editor = _Editor()
    ws.set_editor(editor)
    other = next((f for f in ws.families() if f.is_other), None)
    if other is None:
        pytest.skip("record 208 gave no 'other' family with these settings")
    with qtbot.waitSignal(ws.summaryFailed) as failed:
        ws.templates.relabelRequested.emit(other.family_id, "V")
    assert "one by one" in failed.args[0] and editor.calls == []


def test_a_24_hour_record_clusters_in_the_background(qtbot) -> None:  # type: ignore[no-untyped-def]
    """100,000 beats: set_recording returns before the templates exist; they arrive through familiesChanged."""
    from ecgstation.core.recording import Recording

    fs, n_beats = 128.0, 100_000
    samples = (np.arange(n_beats, dtype=np.int64) * 110 + 50)  # ~70 bpm
    t = np.arange(int(samples[-1]) + 200)
    signal = np.zeros((2, t.size), dtype=np.float32)
    for offset, value in ((-1, 0.3), (0, 1.0), (1, 0.3)):
        signal[:, samples + offset] = value
    rec = Recording(signal, fs, ("ECG1", "ECG2"))
    ws = RecordingWorkspace(dpi=96.0)
    qtbot.addWidget(ws)
    with qtbot.waitSignal(ws.familiesChanged, timeout=60_000) as ready:
        ws.set_recording(rec, _beats(samples.tolist(), ["N"] * n_beats, "algorithm"))
        assert ws.families() == []  # not yet: computed on the thread pool
    assert ready.args[0] >= 1 and sum(f.count for f in ws.families()) == n_beats
