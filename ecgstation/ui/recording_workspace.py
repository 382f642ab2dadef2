"""One open recording: the true-scale viewer with its Holter overview, beat templates and event list, wired together.

The workspace owns no data source: the main window hands it a Recording and its beats, and
an optional editor that stores beat relabels (:class:`~ecgstation.ui.beat_editing.BeatEditor`).
Clicks anywhere (trend, minimap, event, template) move the viewer; the viewer's page is shown
on the overview. Templates and events are recomputed when beats change, never the view.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

import numpy as np
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QSplitter, QTabWidget, QVBoxLayout, QWidget

from ecgstation.core.beat_templates import BeatFamily, cluster_beats
from ecgstation.core.errors import EcgStationError
from ecgstation.core.events import Event, EventCriteria, detect_events, heart_rate_trend
from ecgstation.core.recording import Recording
from ecgstation.storage.views import BeatView, FindingView
from ecgstation.ui.ecg_viewer import EcgViewer
from ecgstation.ui.event_list import EventList
from ecgstation.ui.holter_overview import HolterOverview
from ecgstation.ui.paper_layout import Layout, PaperSettings
from ecgstation.ui.templates_panel import TemplatesPanel

__all__ = ["HOLTER_MIN_S", "FamilyEditor", "RecordingWorkspace", "choose_beats"]

log = logging.getLogger(__name__)

#: Records at least this long (s) get the Holter overview, templates and events.
HOLTER_MIN_S = 120.0
#: Labels of beats no classifier has named (the detector's "Q").
UNCLASSIFIED_LABELS = frozenset({"Q", "?"})
#: Events that need no beat classes (found from the RR intervals alone).
RATE_ONLY_EVENTS = frozenset({"pause", "bradycardia", "tachycardia"})
#: Smallest heights (px) of the overview (trend + lanes + minimap) and of the templates/events tabs.
OVERVIEW_MIN_HEIGHT_PX = 260
TABS_MIN_HEIGHT_PX = 160


#: Above this many beats, beat templates are computed on the thread pool (the window stays responsive).
BACKGROUND_CLUSTERING_BEATS = 20_000


class _ClusterSignals(QObject):
    done = Signal(int, list)
    failed = Signal(int, str)


class _ClusterJob(QRunnable):
    """cluster_beats off the GUI thread; the result comes back through queued signals with its token."""

    def __init__(self, token: int, rec: Recording, r_peaks: np.ndarray, labels: list[str],
                 signals: _ClusterSignals) -> None:  # fmt: skip
        super().__init__()
        self._args = (token, rec, r_peaks, labels)
        self._signals = signals

    def run(self) -> None:
        token, rec, r_peaks, labels = self._args
        try:
            families = cluster_beats(rec.signals, rec.fs, r_peaks, labels)
        except EcgStationError as err:
            self._signals.failed.emit(token, str(err))
            return
        except Exception:  # a bug: logged; the viewer goes on without templates
            log.exception("beat templates failed")
            self._signals.failed.emit(token, "The beat templates could not be computed (internal error; see the log).")
            return
        self._signals.done.emit(token, families)


class FamilyEditor(Protocol):
    """What the workspace needs from a beat editor: relabel many beats, and tell when a beat changed."""

    beatChanged: Any  # Signal(object) carrying the new BeatView
    beatsChanged: Any  # Signal(list) carrying many new BeatViews (one transaction)

    def relabel_family(self, beats: Sequence[BeatView], label: str) -> object: ...


def choose_beats(beats: Sequence[BeatView]) -> list[BeatView]:
    """The one annotation set to show: the source file's reference beats when present, else the detector's.

    Beats a user added are always kept. Deleted beats are dropped.
    """
    live = [b for b in beats if not b.deleted]
    kinds = {b.author_kind for b in live}
    main = "file" if "file" in kinds else "algorithm"
    chosen = sorted((b for b in live if b.author_kind in (main, "user")), key=lambda b: (b.sample, b.id))
    # One beat per sample (older databases may hold a user beat on top of another one): the first stays.
    out: list[BeatView] = []
    for b in chosen:
        if not out or b.sample != out[-1].sample:
            out.append(b)
    return out


class RecordingWorkspace(QWidget):
    """Holter overview on top, the viewer, then beat templates and events in tabs (long records only).

    ``familiesChanged`` carries the number of beat families after each recomputation.
    """

    familiesChanged = Signal(int)
    #: The overview, templates or events could not be computed: the message says why.
    summaryFailed = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, paper: PaperSettings | None = None,
                 layout: Layout = Layout.TWELVE_BY_ONE, dpi: float | None = None,
                 calibration: float = 1.0) -> None:  # fmt: skip
        super().__init__(parent)
        self.viewer = EcgViewer(self, paper=paper, layout=layout, dpi=dpi, calibration=calibration)
        self.viewer.setObjectName("ecgViewer")
        self.overview = HolterOverview(self)
        self.overview.setObjectName("holterOverview")
        self.templates = TemplatesPanel(self)
        self.events = EventList(parent=self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.templates, "Beat templates")
        self.tabs.addTab(self.events, "Events")

        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.overview)
        split.addWidget(self.viewer)
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 4)
        split.setStretchFactor(2, 1)
        split.setChildrenCollapsible(False)
        self.overview.setMinimumHeight(OVERVIEW_MIN_HEIGHT_PX)
        self.tabs.setMinimumHeight(TABS_MIN_HEIGHT_PX)
        split.setSizes([280, 520, 220])
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(split)

        self._recording: Recording | None = None
        self._beats: list[BeatView] = []
        self._families: list[BeatFamily] = []
        self._events: list[Event] = []
        self._editor: FamilyEditor | None = None
        self._summary_pending = False
        self._structure_changed = False
        self._cluster_token = 0
        self._cluster_signals = _ClusterSignals(self)
        self._cluster_signals.done.connect(self._on_clustered)
        self._cluster_signals.failed.connect(self._on_cluster_failed)

        self.overview.jumpRequested.connect(self._jump)
        self.viewer.viewChanged.connect(self.overview.set_view_window)
        self.events.eventActivated.connect(self._open_event)
        self.events.criteriaChanged.connect(self._on_criteria)
        self.templates.relabelRequested.connect(self._relabel_family)
        self.templates.familyActivated.connect(self._open_family)
        self._show_holter(False)

    # -- data ---------------------------------------------------------------------------------

    def set_editor(self, editor: FamilyEditor | None) -> None:
        """The editor that stores relabels (None: read-only, e.g. for students)."""
        if self._editor is not None:
            try:
                self._editor.beatChanged.disconnect(self._on_beat_changed)
                self._editor.beatsChanged.disconnect(self._on_beats_changed)
            except (RuntimeError, TypeError):
                pass
        self._editor = editor
        if editor is not None:
            editor.beatChanged.connect(self._on_beat_changed)
            editor.beatsChanged.connect(self._on_beats_changed)

    def set_recording(self, recording: Recording, beats: Sequence[BeatView] = ()) -> None:
        """Show ``recording`` from its start with ``beats`` (see :func:`choose_beats`)."""
        self._recording = recording
        self._beats = choose_beats(beats)
        self.viewer.set_recording(recording)
        self.viewer.set_beats(self._beats)
        holter = recording.duration_s >= HOLTER_MIN_S
        self._show_holter(holter)
        if holter:
            self._recompute(families=True)
        else:
            self._families, self._events = [], []

    def set_findings(self, findings: Sequence[FindingView]) -> None:
        """Mark the findings that have a time span on the overview's findings lane."""
        spans = [
            (f.start_s, f.end_s if f.end_s is not None else f.start_s, f"{f.label} ({f.status})")
            for f in findings
            if f.start_s is not None
        ]
        self.overview.set_findings(spans)

    def recording(self) -> Recording | None:
        """The recording on screen."""
        return self._recording

    def beats(self) -> list[BeatView]:
        """The beats shown (chosen set, current labels)."""
        return list(self._beats)

    def families(self) -> list[BeatFamily]:
        """The beat families of the recording on screen (empty for short records)."""
        return list(self._families)

    def event_list(self) -> list[Event]:
        """The events found with the current criteria."""
        return list(self._events)

    # -- internals ----------------------------------------------------------------------------

    def _show_holter(self, on: bool) -> None:
        self.overview.setVisible(on)
        self.tabs.setVisible(on)

    def _arrays(self) -> tuple[np.ndarray, list[str]]:
        samples = np.array([b.sample for b in self._beats], dtype=np.int64)
        return samples, [b.label for b in self._beats]

    def _recompute(self, families: bool) -> None:
        rec = self._recording
        if rec is None:
            return
        r_peaks, labels = self._arrays()
        try:
            self._summaries(rec, r_peaks, labels, families)
        except EcgStationError as err:  # the viewer stays usable; the summaries say why they are missing
            log.warning("Holter summaries of %s not computed: %s", rec.source_path or "the recording", err)
            self.events.set_events([])
            self.templates.set_families([], rec.fs, rec.lead_names)
            self._families, self._events = [], []
            self.summaryFailed.emit(str(err))

    def _summaries(self, rec: Recording, r_peaks: np.ndarray, labels: list[str], families: bool) -> None:
        trend = heart_rate_trend(r_peaks, rec.fs, rec.n_samples, bin_s=60.0 if rec.duration_s > 1800 else 10.0)
        events = detect_events(r_peaks, labels, rec.fs, rec.n_samples, self.events.criteria())
        unclassified = bool(labels) and set(labels) <= UNCLASSIFIED_LABELS
        if unclassified:
            # Without beat classes, ectopic beats look like irregular normal beats: the ectopy rules
            # find nothing and the AF screen raises false alarms. Keep what needs no classes.
            events = [e for e in events if e.kind in RATE_ONLY_EVENTS]
        self._events = events
        self.tabs.setTabText(1, "Events (beats unclassified: pauses and rate only)" if unclassified else "Events")
        self.overview.set_data(rec.duration_s, trend, r_peaks / rec.fs, labels, self._events)
        self.overview.set_view_window(self.viewer.start_s(), self.viewer.page_s())
        self.events.set_events(self._events)
        if families and r_peaks.size > BACKGROUND_CLUSTERING_BEATS:
            # Clustering 100,000 beats takes seconds: done on the thread pool, shown when ready.
            self._cluster_token += 1
            token = self._cluster_token
            self._families = []
            self.templates.set_families([], rec.fs, rec.lead_names)
            job = _ClusterJob(token, rec, r_peaks, labels, self._cluster_signals)
            QThreadPool.globalInstance().start(job)
            return
        if families:
            self._cluster_token += 1  # any clustering still running is out of date
            self._families = cluster_beats(rec.signals, rec.fs, r_peaks, labels) if r_peaks.size else []
        else:
            self._families = [self._relabelled(f) for f in self._families]
        self.templates.set_families(self._families, rec.fs, rec.lead_names)
        self.familiesChanged.emit(len(self._families))

    def _on_clustered(self, token: int, families: list[BeatFamily]) -> None:
        if token != self._cluster_token or self._recording is None:
            return
        self._families = families
        self.templates.set_families(families, self._recording.fs, self._recording.lead_names)
        self.familiesChanged.emit(len(families))

    def _on_cluster_failed(self, token: int, message: str) -> None:
        if token == self._cluster_token:
            self.summaryFailed.emit(message)

    def _relabelled(self, family: BeatFamily) -> BeatFamily:
        """The family with its label counts updated from the current beat labels (members unchanged)."""
        counts = Counter(self._beats[i].label for i in family.beat_indices if i < len(self._beats))
        dominant = counts.most_common(1)[0][0] if counts else None
        return replace(family, dominant_label=dominant, label_counts=dict(counts))

    def _jump(self, t_s: float) -> None:
        self.viewer.scroll_to(max(0.0, t_s - self.viewer.page_s() / 3.0))

    def _open_event(self, start_s: float, _end_s: float) -> None:
        self.viewer.scroll_to(max(0.0, start_s - 1.0))

    def _on_criteria(self, _criteria: EventCriteria) -> None:
        self._recompute(families=False)

    def _open_family(self, family_id: int) -> None:
        family = next((f for f in self._families if f.family_id == family_id), None)
        if family is None or family.count == 0:
            return
        beat = self._beats[int(family.beat_indices[0])]
        self.viewer.select_beat(beat.id)

    def _relabel_family(self, family_id: int, label: str) -> None:
        family = next((f for f in self._families if f.family_id == family_id), None)
        if family is None or self._editor is None:
            return
        if family.is_other:
            self.summaryFailed.emit(
                "The 'other' family mixes beats that fit no template; relabel its beats one by one."
            )
            return
        members = [self._beats[int(i)] for i in family.beat_indices if int(i) < len(self._beats)]
        self._editor.relabel_family(members, label)

    def _on_beat_changed(self, beat: BeatView) -> None:
        """One stored edit: update that beat in place (the view does not move), then the summaries."""
        index = {b.id: i for i, b in enumerate(self._beats)}
        i = index.get(beat.id)
        if beat.deleted:
            if i is not None:
                del self._beats[i]
                self._structure_changed = True
        elif i is None:
            self._beats.append(beat)
            self._beats.sort(key=lambda b: (b.sample, b.id))
            self._structure_changed = True
        else:
            self._beats[i] = beat
        self.viewer.update_beat(beat)
        if self._recording is not None and self._recording.duration_s >= HOLTER_MIN_S:
            self._schedule_summary()

    def _on_beats_changed(self, beats: list[BeatView]) -> None:
        """Many stored edits (one transaction): one pass over the beats, one redraw, one summary."""
        index = {b.id: i for i, b in enumerate(self._beats)}
        for beat in beats:
            i = index.get(beat.id)
            if i is None or beat.deleted or self._beats[i].sample != beat.sample:
                self._structure_changed = True
                break
        if self._structure_changed:
            merged = {b.id: b for b in self._beats}
            for beat in beats:
                merged[beat.id] = beat
            self._beats = choose_beats(list(merged.values()))
        else:
            for beat in beats:
                self._beats[index[beat.id]] = beat
        self.viewer.update_beats(beats)
        if self._recording is not None and self._recording.duration_s >= HOLTER_MIN_S:
            self._schedule_summary()

    def _schedule_summary(self) -> None:
        """Many beats change at once in a family relabel: recompute the summaries once, after the burst."""
        if self._summary_pending:
            return
        self._summary_pending = True
        QTimer.singleShot(0, self._run_summary)

    def _run_summary(self) -> None:
        self._summary_pending = False
        # Added or deleted beats shift the indices families hold: recluster; relabels keep the families.
        self._recompute(families=self._structure_changed)
        self._structure_changed = False

