"""The workstation's database and signed-in user, and the bundled samples a fresh database starts with (Qt-free)."""

from __future__ import annotations

import getpass
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ecgstation.core.analysis import AnalysisSettings
from ecgstation.inference import ModelRegistry
from ecgstation.inference.model_analysis import AnalysisModels, load_analysis_models, model_analyzer
from ecgstation.storage import Actor, Database, DatabaseSettings, Permission, Role
from ecgstation.storage.importing import Analyzer, ImportOutcome, import_file
from ecgstation.storage.settings import load_database_settings
from ecgstation.tracing import traced

__all__ = [
    "UNASSIGNED_TITLE",
    "WorkstationSession",
    "bundled_sample_paths",
    "ensure_bundled_samples",
    "load_session_models",
    "open_workstation",
    "role_limits",
]

log = logging.getLogger(__name__)

#: Name of the group of recordings stored without a patient (the bundled samples among them).
UNASSIGNED_TITLE = "Unassigned / samples"

#: What each role may not do, in words (shown in the status bar and in Help → About).
_ROLE_LIMITS: dict[Role, str] = {
    Role.ADMIN: (
        "Administrators manage users, the audit log and backups, import recordings and connect "
        "monitoring patches; they cannot edit beats, confirm or reject findings or acknowledge alarms. "
        "Create a cardiologist or nurse account for that: ecgstation user add NAME --role cardiologist."
    ),
    Role.CARDIOLOGIST: "Cardiologists cannot manage users, read the audit log or back up the database.",
    Role.NURSE: "Nurses cannot edit beats or confirm or reject findings.",
    Role.STUDENT: "Students see de-identified patients only and cannot change anything.",
}


def role_limits(role: Role) -> str:
    """What ``role`` may not do, in one or two sentences for the user."""
    return _ROLE_LIMITS[role]


@dataclass(frozen=True)
class WorkstationSession:
    """The open database and the user signed in at this workstation.

    ``bootstrapped`` is True when this start created the database's first account (the local
    user, as administrator). ``models`` are the ONNX models every analysis of this session uses.
    """

    db: Database
    actor: Actor
    bootstrapped: bool = False
    #: the beat/rhythm/12-lead models analyses use (None: rules only)
    models: AnalysisModels | None = None

    def can(self, permission: Permission) -> bool:
        """Whether the signed-in user may do ``permission``."""
        return self.actor.can(permission)

    def analyzer(self) -> Analyzer | None:
        """The analysis function imports of this session use (None: the rules only)."""
        return model_analyzer(self.models) if self.models is not None else None

    def describe(self) -> str:
        """"user (role) on database" for the status bar and the log (no password)."""
        return f"{self.actor.username} ({self.actor.role.value}) on {self.db.describe()}"

    def close(self) -> None:
        """Close the database connections."""
        self.db.dispose()


def open_workstation(
    settings: DatabaseSettings | None = None,
    username: str | None = None,
    password: str | None = None,
    models: AnalysisModels | None = None,
) -> WorkstationSession:
    """Open (and migrate) the workstation's database and sign a user in.

    ``settings`` None: :func:`load_database_settings` (``$ECGSTATION_DATABASE_URL``, the settings
    file, else the embedded SQLite file). ``username`` None: the operating-system login name.
    On a database without any account the user becomes its first administrator, without a
    password (the one doctor of a new desktop workstation); role limits then apply (an
    administrator cannot edit beats or confirm findings, see :func:`role_limits`). Otherwise the
    account must exist, and ``password`` must match (an account without a password takes None).

    Raises StorageError (DatabaseUnavailableError, MigrationError) when the database cannot be
    opened and PermissionDeniedError when the sign-in is refused, each with a message for the user.
    ``models`` None: the bundled models (:func:`load_session_models`).
    """
    name = (username or getpass.getuser()).strip()
    with traced(f"open workstation for {name}"):
        db = Database.open(settings or load_database_settings())
        models = models if models is not None else load_session_models()
        try:
            with db.session(Actor(None, name, Role.ADMIN)) as store:
                if store.users.count() == 0:
                    view = store.users.create(name, Role.ADMIN, None, display_name=name)
                    log.info("fresh database %s: %s is its first administrator", db.describe(), name)
                    actor = Actor(view.id, view.username, Role(view.role))
                    return WorkstationSession(db, actor, bootstrapped=True, models=models)
            with db.session(Actor(None, name, Role.STUDENT)) as store:
                actor = store.users.authenticate(name, password)
        except BaseException:
            db.dispose()
            raise
        log.info("%s (%s) signed in on %s", actor.username, actor.role.value, db.describe())
        return WorkstationSession(db, actor, models=models)


def load_session_models(models_dir: str | Path | None = None) -> AnalysisModels:
    """The analysis models in ``models_dir`` (default: the bundled ones); problems are logged, never raised."""
    models = load_analysis_models(ModelRegistry.from_folder(models_dir))
    for problem in models.problems:
        log.warning("model not used: %s", problem)
    log.info("analysis models: %s", ", ".join(models.names) or "none (rules only)")
    return models


def bundled_sample_paths(session: WorkstationSession) -> list[Path]:
    """The bundled sample records to import: all of them on a database without patients or recordings, else none.

    Also none when the user may not import or when the samples are missing (logged).
    """
    from ecgstation.resources import ResourceError, list_samples

    if not session.can(Permission.IMPORT_RECORDINGS):
        return []
    with session.db.reader(session.actor) as store:
        if store.recordings.for_patient(None) or store.patients.search("", limit=1):
            return []
    try:
        return [sample.path for sample in list_samples()]
    except ResourceError as err:
        log.warning("no bundled samples to add: %s", err)
        return []


def ensure_bundled_samples(
    session: WorkstationSession,
    *,
    should_cancel: Callable[[], bool] | None = None,
    on_outcome: Callable[[ImportOutcome], None] | None = None,
) -> list[int]:
    """Import every bundled sample into a fresh database (without a patient), with algorithm beats and findings.

    Returns the ids of the sample recordings imported (or found already stored) by this call;
    an empty list on a database that already holds patients or recordings. Each file is one
    transaction; a failed one is logged and the others go on.
    """
    paths = bundled_sample_paths(session)
    if not paths:
        return []
    ids: list[int] = []
    with traced("add the bundled samples") as trace_id:
        for path in paths:
            if should_cancel is not None and should_cancel():
                break
            outcome = import_file(
                session.db, session.actor, path, analyze=AnalysisSettings(), should_cancel=should_cancel,
                analyzer=session.analyzer(),
            )  # fmt: skip
            if on_outcome is not None:
                on_outcome(outcome)
            if outcome.recording_id is not None:
                ids.append(outcome.recording_id)
            else:
                log.warning("bundled sample not added (trace %s): %s", outcome.trace_id, outcome.message)
        log.info("bundled samples stored as recordings %s (trace %s)", ids, trace_id)
    return ids
