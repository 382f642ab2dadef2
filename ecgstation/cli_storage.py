"""Command line for the database: ``import``, ``patient``, ``user``, ``backup``, ``restore``."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date
from typing import Any

from ecgstation.core.errors import EcgStationError
from ecgstation.tracing import traced

__all__ = ["STORAGE_COMMANDS", "add_storage_commands", "run_storage_command"]

log = logging.getLogger(__name__)

#: The subcommands this module adds.
STORAGE_COMMANDS = ("import", "patient", "user", "backup", "restore")


def _database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", metavar="URL", help="database URL or SQLite file (default: the embedded one)")
    parser.add_argument("--user", help="act as this user (default: your login name)")


def add_storage_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the database subcommands to the ``ecgstation`` parser."""
    imp = sub.add_parser("import", help="store ECG files in the database", parents=[common])
    imp.add_argument("files", nargs="+", metavar="FILE", help="ECG files (WFDB .hea, CSV, ...)")
    imp.add_argument("--patient", metavar="MRN", help="attach the recordings to this patient")
    imp.add_argument(
        "--analyze", action="store_true", help="also detect and label beats and store the rule and model findings"
    )
    imp.add_argument("--models", metavar="DIR", help="folder of ONNX models (default: the bundled models)")
    imp.add_argument("--no-models", action="store_true", help="with --analyze: rules only, no models")
    imp.add_argument("--mains", type=float, default=50.0, choices=[50.0, 60.0], help="mains frequency in Hz")
    _database_options(imp)

    pat = sub.add_parser("patient", help="manage patients", parents=[common])
    pat_sub = pat.add_subparsers(dest="patient_command", required=True)
    add = pat_sub.add_parser("add", help="create a patient", parents=[common])
    add.add_argument("mrn", help="medical record number (unique)")
    add.add_argument("--family", help="family name")
    add.add_argument("--given", help="given name")
    add.add_argument("--sex", choices=["M", "F", "O", "U"], default="U")
    add.add_argument("--birth-date", type=date.fromisoformat, metavar="YYYY-MM-DD")
    add.add_argument("--height-cm", type=float)
    add.add_argument("--weight-kg", type=float)
    _database_options(add)
    lst = pat_sub.add_parser("list", help="list patients", parents=[common])
    lst.add_argument("search", nargs="?", default="", help="part of an MRN or name")
    _database_options(lst)
    alm = pat_sub.add_parser(
        "alarms", help="show or set a patient's monitoring alarm limits (nurses, cardiologists)", parents=[common]
    )
    alm.add_argument("mrn", help="medical record number")
    alm.add_argument(
        "--set", dest="limits", action="append", default=[], metavar="NAME=VALUE",
        help="a limit to change, e.g. asystole_s=5 or tachy_bpm=140 (repeat for several)",
    )  # fmt: skip
    alm.add_argument("--reset", action="store_true", help="back to the default limits")
    _database_options(alm)

    usr = sub.add_parser("user", help="manage user accounts (admins)", parents=[common])
    usr_sub = usr.add_subparsers(dest="user_command", required=True)
    uadd = usr_sub.add_parser("add", help="create an account; the password is asked for", parents=[common])
    uadd.add_argument("username")
    uadd.add_argument("--role", required=True, choices=["admin", "cardiologist", "nurse", "student"])
    uadd.add_argument("--display-name")
    uadd.add_argument(
        "--new-password-env", metavar="VAR", help="read the new account's password from this environment variable"
    )
    _database_options(uadd)
    _add_backup_commands(sub, common)


def _add_backup_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    bk = sub.add_parser("backup", help="back up the database into a new folder (admins)", parents=[common])
    bk.add_argument("dest", help="backup folder to create (must not exist, or be empty)")
    _database_options(bk)
    rs = sub.add_parser("restore", help="replace the database with a verified backup (admins)", parents=[common])
    rs.add_argument("src", help="backup folder written by 'ecgstation backup'")
    _database_options(rs)


def run_storage_command(args: argparse.Namespace) -> int | None:
    """Run a database subcommand; None when ``args.command`` is not one of them."""
    if args.command not in STORAGE_COMMANDS:
        return None
    import getpass

    from ecgstation.cli_session import cli_actor, open_cli_database

    handlers = {"import": _import, "patient": _patient, "user": _user, "backup": _backup, "restore": _restore}
    with traced(f"{args.command}") as trace_id:
        try:
            db = open_cli_database(args.database)
            try:
                actor = cli_actor(db, args.user or getpass.getuser())
                return handlers[args.command](db, actor, args)
            finally:
                db.dispose()
        except (EcgStationError, ValueError) as err:
            log.info("%s refused: %s", args.command, err)
            print(f"ecgstation: {err}", file=sys.stderr)
            return 1
        except Exception:  # a bug: logged with the trace for a report, a short message for the user
            log.exception("internal error during %s", args.command)
            print(f"ecgstation: internal error during {args.command} (trace {trace_id}); see the log above",
                  file=sys.stderr)  # fmt: skip
            return 3


def _backup(db: Any, actor: Any, args: argparse.Namespace) -> int:
    from pathlib import Path

    from ecgstation.storage.backup import backup_database

    manifest = backup_database(db, actor, Path(args.dest))
    print(
        f"Backed up {db.describe()} to {manifest.path} ({manifest.engine}, schema "
        f"{manifest.schema_revision}, {manifest.total_bytes} bytes)"
    )
    return 0


def _restore(db: Any, actor: Any, args: argparse.Namespace) -> int:
    from pathlib import Path

    from ecgstation.storage.backup import restore_database

    manifest = restore_database(db, actor, Path(args.src))
    print(
        f"Restored {db.describe()} from {manifest.path} (backup of {manifest.created_at}, "
        f"ECG Station {manifest.app_version})"
    )
    return 0


def _import(db: Any, actor: Any, args: argparse.Namespace) -> int:
    from ecgstation.core.analysis import AnalysisSettings
    from ecgstation.storage.importing import import_files

    analyze = AnalysisSettings(mains_hz=args.mains) if args.analyze else None
    analyzer = None
    if args.analyze and not args.no_models:
        from ecgstation.inference import ModelRegistry
        from ecgstation.inference.model_analysis import load_analysis_models, model_analyzer

        models = load_analysis_models(ModelRegistry.from_folder(args.models))
        for problem in models.problems:
            print(f"ecgstation: model not used: {problem}", file=sys.stderr)
        analyzer = model_analyzer(models)
    outcomes = import_files(db, actor, args.files, patient_mrn=args.patient, analyze=analyze, analyzer=analyzer)
    counts = {"imported": 0, "duplicate": 0, "failed": 0}
    for o in outcomes:
        counts[o.status] += 1
        stream = sys.stderr if o.status == "failed" else sys.stdout
        prefix = "ecgstation: " if o.status == "failed" else ""
        print(f"{prefix}{o.message}", file=stream)
    print(f"{counts['imported']} imported, {counts['duplicate']} already stored, {counts['failed']} failed")
    return 1 if counts["failed"] else 0


def _parse_limit(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` of ``patient alarms --set``: a number, or a comma list for ``disabled``."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise ValueError(f"--set expects NAME=VALUE, not {text!r}")
    name = name.strip()
    if name == "disabled":
        return name, [v.strip() for v in value.split(",") if v.strip()]
    if name.startswith("severity."):
        return name, value.strip()
    try:
        return name, float(value)
    except ValueError:
        raise ValueError(f"the limit {name} must be a number, not {value!r}") from None


def _patient_alarms(db: Any, actor: Any, args: argparse.Namespace) -> int:
    from ecgstation.monitoring.alarms import AlarmSettings

    with db.session(actor) as s:
        pid = s.patients.require_id(args.mrn)
        stored = s.alarm_settings.get(pid)
        doc: dict[str, Any] = {} if args.reset or stored is None else dict(stored.settings)
        if args.limits or args.reset:
            for name, value in (_parse_limit(t) for t in args.limits):
                if name.startswith("severity."):
                    doc.setdefault("severities", {})[name.removeprefix("severity.")] = value
                elif name == "vrun_min_beats":
                    doc[name] = int(value)
                else:
                    doc[name] = value
            settings = AlarmSettings.from_dict(doc)  # validates: ValueError names the bad limit
            s.alarm_settings.set(pid, settings.to_dict(), expected_version=stored.version if stored else None)
        else:
            settings = AlarmSettings.from_dict(doc)
    print(f"Alarm limits of {args.mrn}" + (" (defaults)" if not doc else "") + ":")
    for name, value in settings.to_dict().items():
        print(f"  {name}: {value}")
    return 0


def _patient(db: Any, actor: Any, args: argparse.Namespace) -> int:
    if args.patient_command == "alarms":
        return _patient_alarms(db, actor, args)
    if args.patient_command == "add":
        with db.session(actor) as s:
            p = s.patients.create(
                args.mrn, family_name=args.family, given_name=args.given, sex=args.sex,
                birth_date=args.birth_date, height_cm=args.height_cm, weight_kg=args.weight_kg,
            )  # fmt: skip
        print(f"patient #{p.id} created: {p.display_name}")
        return 0
    with db.session(actor) as s:
        for p in s.patients.search(args.search):
            print(f"#{p.id}\t{p.display_name}\t{p.sex}\t{'' if p.age_years is None else p.age_years}")
    return 0


def _user(db: Any, actor: Any, args: argparse.Namespace) -> int:
    import getpass
    import os

    from ecgstation.storage.access import Role

    if args.new_password_env:
        password = os.environ.get(args.new_password_env) or None
        if password is None:
            raise ValueError(f"the environment variable {args.new_password_env} is empty")
    elif sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.username}: ")
        if password != getpass.getpass("again: "):
            raise ValueError("the two passwords differ")
    else:
        raise ValueError("give the new password with --new-password-env VAR (no terminal to ask on)")
    with db.session(actor) as s:
        u = s.users.create(args.username, Role(args.role), password, args.display_name)
    print(f"user {u.username} ({u.role}) created")
    return 0
