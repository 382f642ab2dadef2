"""Import files into the database on a worker thread, with progress signals and a cancel between chunk batches."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from ecgstation.core.analysis import AnalysisSettings
from ecgstation.storage import Actor, Database
from ecgstation.storage.importing import Analyzer, ImportOutcome, import_file
from ecgstation.tracing import traced

__all__ = ["PROGRESS_STEPS", "ImportWorker"]

log = logging.getLogger(__name__)

#: ``fileProgress`` reports the current file's progress in this many steps.
PROGRESS_STEPS = 100


class ImportWorker(QObject):
    """Imports ``paths`` one by one (each file one transaction) with :func:`import_file`.

    Signals (emitted on the worker thread; Qt queues them to receivers in the GUI thread):

    - ``progress(done, total, current)``: ``done`` files of ``total`` are finished; ``current``
      is the name of the file being imported now ("" once all are done);
    - ``fileProgress(step)``: 0..``PROGRESS_STEPS`` of the current file's samples are stored
      (emitted only when the step changes);
    - ``fileDone(ImportOutcome)``: one file is finished (imported, duplicate, failed or cancelled);
    - ``finished(list[ImportOutcome])``: every file has an outcome; files not tried because of a
      cancel have status "cancelled".

    :meth:`cancel` may be called from any thread: the file being stored is rolled back (the
    check runs between batches of chunks and before the commit) and no further file is started.
    Use :meth:`start` to run on a new QThread, or call :meth:`run` directly (blocking).
    """

    progress = Signal(int, int, str)
    fileProgress = Signal(int)
    fileDone = Signal(object)
    finished = Signal(list)

    def __init__(
        self,
        db: Database,
        actor: Actor,
        paths: Sequence[str | Path],
        *,
        patient_mrn: str | None = None,
        analyze: AnalysisSettings | None = None,
        analyzer: Analyzer | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.analyzer = analyzer
        self._db = db
        self._actor = actor
        self.paths = [Path(p) for p in paths]
        self.patient_mrn = patient_mrn
        self.analyze = analyze
        self._cancel = threading.Event()
        self._thread: QThread | None = None
        self._step = -1
        #: The outcomes so far (complete once ``finished`` was emitted).
        self.outcomes: list[ImportOutcome] = []

    def cancel(self) -> None:
        """Ask the import to stop: the current file is rolled back, the next ones are not started."""
        if not self._cancel.is_set():
            log.info("import cancel requested")
        self._cancel.set()

    def is_cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._cancel.is_set()

    def _file_progress(self, done: int, total: int) -> None:
        step = PROGRESS_STEPS if total <= 0 else min(PROGRESS_STEPS, done * PROGRESS_STEPS // total)
        if step != self._step:
            self._step = step
            self.fileProgress.emit(step)

    @Slot()
    def run(self) -> None:
        """Import every file (blocking); emits the signals described in the class docstring."""
        total = len(self.paths)
        self.outcomes = []
        with traced(f"import {total} file(s)"):
            for index, path in enumerate(self.paths):
                if self._cancel.is_set():
                    outcome = ImportOutcome(str(path), "cancelled", f"{path}: not imported (cancelled)")
                else:
                    self.progress.emit(index, total, path.name)
                    self._step = -1
                    self._file_progress(0, 1)
                    outcome = import_file(
                        self._db,
                        self._actor,
                        path,
                        patient_mrn=self.patient_mrn,
                        analyze=self.analyze,
                        analyzer=self.analyzer,
                        should_cancel=self._cancel.is_set,
                        progress=self._file_progress,
                    )
                self.outcomes.append(outcome)
                self.fileDone.emit(outcome)
            self.progress.emit(total, total, "")
        self.finished.emit(list(self.outcomes))

    def start(self) -> QThread:
        """Run :meth:`run` on a new QThread (the worker moves to it); returns the thread."""
        if self._thread is not None:
            raise RuntimeError("an ImportWorker runs once")
        if self.parent() is not None:
            raise RuntimeError("an ImportWorker with a parent cannot move to its thread")
        thread = QThread()
        thread.setObjectName("import")
        self._thread = thread
        self.moveToThread(thread)
        thread.started.connect(self.run)
        # Direct: quit from the worker thread itself, so the thread ends as soon as run() returns.
        self.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.start()
        return thread

    def wait(self, timeout_ms: int = 60_000) -> bool:
        """Wait until the thread of :meth:`start` ended; True when it did (or never started)."""
        if self._thread is None:
            return True
        return bool(self._thread.wait(timeout_ms))

    def is_running(self) -> bool:
        """Whether the thread of :meth:`start` is still running."""
        return self._thread is not None and self._thread.isRunning()
