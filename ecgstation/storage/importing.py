"""Import ECG files into the database: each file in one transaction, duplicates found by content hash."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ecgstation import __version__ as _RULES_VERSION
from ecgstation.core.analysis import AnalysisResult, AnalysisSettings, analyze_recording
from ecgstation.core.errors import EcgStationError
from ecgstation.core.recording import Recording
from ecgstation.io import read_recording
from ecgstation.io.registry import ImporterRegistry
from ecgstation.storage.access import Actor
from ecgstation.storage.database import Database
from ecgstation.storage.errors import ImportCancelled
from ecgstation.storage.store import Store
from ecgstation.storage.waveform_codec import choose_encoding, signal_sha256
from ecgstation.tracing import traced

__all__ = ["BEAT_SYMBOLS", "ImportOutcome", "import_file", "import_files", "record_files", "record_files_sha256"]


#: An analysis function: ``analyze_recording`` or one that also runs models.
Analyzer = Callable[[Recording, AnalysisSettings], AnalysisResult]

log = logging.getLogger(__name__)

#: WFDB annotation symbols that mark beats (the others mark rhythm changes, noise, comments, ...).
BEAT_SYMBOLS = frozenset("NLRBAaJSVrFejnE/fQ?")



@dataclass(frozen=True)
class ImportOutcome:
    """What happened to one file: ``status`` imported, duplicate, failed or cancelled; ``message`` in words."""

    path: str
    status: str
    message: str
    recording_id: int | None = None
    trace_id: str = "-"


def record_files(path: Path) -> list[Path]:
    """The files that make up the record named by ``path``: a WFDB header and the signal files it names.

    Other formats are one file.
    """
    files = [path]
    if path.suffix.lower() != ".hea":
        return files
    try:
        lines = path.read_text(encoding="latin-1").splitlines()
    except OSError:
        return files
    body = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    seen: set[str] = set()
    for line in body[1:]:
        name = line.split()[0]
        if name in seen or name in ("~",) or "/" in name or "\\" in name:
            continue
        seen.add(name)
        candidate = path.parent / name
        if candidate.is_file() and candidate != path:
            files.append(candidate)
    return files


def record_files_sha256(path: Path) -> str:
    """sha256 over the bytes of :func:`record_files` in order (each file's name and content)."""
    digest = hashlib.sha256()
    for file in record_files(path):
        digest.update(file.name.encode() + b"\0")
        with file.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _beats(recording: Recording) -> tuple[list[int], list[str]]:
    ann = recording.annotations
    keep = [i for i, lab in enumerate(ann.labels) if lab in BEAT_SYMBOLS]
    first = int(recording.metadata.get("first_sample", 0) or 0)
    samples = [int(ann.samples[i]) - first for i in keep]
    return [s for s in samples if 0 <= s < recording.n_samples], [
        ann.labels[i] for i, s in zip(keep, samples, strict=True) if 0 <= s < recording.n_samples
    ]


def _store(
    store: Store,
    recording: Recording,
    path: Path,
    patient_id: int | None,
    analysis: AnalysisResult | None,
    should_cancel: Callable[[], bool] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, bool]:
    result = store.recordings.store(
        recording,
        source_name=path.name,
        source_format=str(recording.metadata.get("format", path.suffix.lstrip(".") or "unknown")),
        file_sha256=record_files_sha256(path),
        patient_id=patient_id,
        should_cancel=should_cancel,
        progress=progress,
    )
    rec_id = result.recording.id
    if result.duplicate:
        return rec_id, True
    samples, labels = _beats(recording)
    if samples:
        annotator = recording.annotations.source or "reference"
        store.beats.add_many(rec_id, samples, labels, "file", annotator)
    if analysis is not None:
        store.beats.add_many(rec_id, analysis.r_peaks.tolist(), list(analysis.beat_labels), "algorithm", "ecgstation")
        for f in analysis.findings:
            store.findings.add(
                code=f.code, label=f.text, source_kind="rule" if f.source == "rule" else "model",
                source_name="ecgstation-rules" if f.source == "rule" else f.source[:128],
                source_version=(f.source_version or _RULES_VERSION)[:64], recording_id=rec_id,
                confidence=f.confidence,
                start_s=f.start_s, end_s=f.end_s,
            )  # fmt: skip
    return rec_id, False


def _analyse_unless_stored(
    db: Database,
    actor: Actor,
    recording: Recording,
    analyze: AnalysisSettings | None,
    analyzer: Analyzer | None = None,
) -> AnalysisResult | None:
    """The analysis to store with ``recording``; None when none is asked for or the content is stored already.

    ``analyzer`` (default :func:`analyze_recording`) is called with the recording and ``analyze``.
    """
    if analyze is None:
        return None
    encoding = choose_encoding(recording.signals, [c.gain for c in recording.calibration])
    digest = signal_sha256(recording.signals, recording.fs, recording.lead_names, encoding)
    with db.reader(actor) as store:
        if store.recordings.find_duplicate(digest) is not None:
            return None
    return (analyzer or analyze_recording)(recording, analyze)


def import_file(
    db: Database,
    actor: Actor,
    path: str | Path,
    *,
    patient_mrn: str | None = None,
    analyze: AnalysisSettings | None = None,
    registry: ImporterRegistry | None = None,
    should_cancel: Callable[[], bool] | None = None,
    progress: Callable[[int, int], None] | None = None,
    analyzer: Analyzer | None = None,
) -> ImportOutcome:
    """Read one file and store it in one transaction; nothing of it remains if any step fails.

    ``analyze``: also detect beats and apply the measurement rules (stored as algorithm beats and
    rule findings); ``analyzer`` replaces :func:`analyze_recording` for that (the workstation
    passes one that also labels beats and fuses model findings). Refusals (unreadable file, unknown patient, not allowed) come back as an
    outcome with status "failed", never as an exception.

    ``progress(done, total)``: samples (per lead) of the record written so far, and its length in
    samples; called while the samples are stored. ``should_cancel()``: asked after the file is
    read, between batches of stored chunks and once more before the commit; when it answers True
    the transaction is rolled back and the outcome has status "cancelled" (nothing is stored).
    """
    p = Path(path)
    with traced(f"import {p}") as trace_id:
        try:
            recording = read_recording(p, registry=registry)
            if should_cancel is not None and should_cancel():
                raise ImportCancelled(f"The import of {p.name} was cancelled; nothing of it was stored.")
            # The analysis runs before the write transaction: no database lock is held for its seconds.
            analysis = _analyse_unless_stored(db, actor, recording, analyze, analyzer)
            with db.session(actor) as store:
                if should_cancel is not None and should_cancel():
                    raise ImportCancelled(f"The import of {p.name} was cancelled; nothing of it was stored.")
                patient_id = store.patients.require_id(patient_mrn) if patient_mrn else None
                rec_id, duplicate = _store(store, recording, p, patient_id, analysis, should_cancel, progress)
                if should_cancel is not None and should_cancel():
                    raise ImportCancelled(f"The import of {p.name} was cancelled; nothing of it was stored.")
        except ImportCancelled:
            msg = f"{p}: import cancelled; nothing was stored"
            log.info("%s", msg)
            return ImportOutcome(str(p), "cancelled", msg, None, trace_id)
        except EcgStationError as err:
            log.info("import of %s refused: %s", p, err)
            return ImportOutcome(str(p), "failed", str(err), None, trace_id)
        except Exception:  # a bug: logged with the trace id; the transaction was rolled back
            log.exception("internal error while importing %s", p)
            msg = f"{p}: internal error while importing (trace {trace_id}); nothing was stored"
            return ImportOutcome(str(p), "failed", msg, None, trace_id)
        if duplicate:
            msg = f"{p}: already stored as recording #{rec_id}; not imported again"
            log.info("%s", msg)
            return ImportOutcome(str(p), "duplicate", msg, rec_id, trace_id)
        msg = f"{p}: imported as recording #{rec_id} ({recording.n_leads} leads, {recording.duration_s:.1f} s)"
        log.info("%s", msg)
        return ImportOutcome(str(p), "imported", msg, rec_id, trace_id)


def import_files(
    db: Database,
    actor: Actor,
    paths: Iterable[str | Path],
    *,
    patient_mrn: str | None = None,
    analyze: AnalysisSettings | None = None,
    registry: ImporterRegistry | None = None,
    progress: Callable[[int, ImportOutcome], None] | None = None,
    analyzer: Analyzer | None = None,
) -> Sequence[ImportOutcome]:
    """Import each file in its own transaction; a failed file leaves nothing behind and the others go on."""
    outcomes: list[ImportOutcome] = []
    for i, path in enumerate(paths):
        outcome = import_file(
            db, actor, path, patient_mrn=patient_mrn, analyze=analyze, registry=registry, analyzer=analyzer
        )
        outcomes.append(outcome)
        if progress is not None:
            progress(i, outcome)
    return outcomes
