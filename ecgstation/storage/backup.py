"""Back up and restore the whole database, with a sha256 manifest that restore verifies first.

A backup is a directory::

    DEST/
        ecgstation.sqlite3   (SQLite: a copy made with SQLite's online backup API)
        ecgstation.pgdump    (PostgreSQL: ``pg_dump --format=custom``)
        MANIFEST.json        (format, engine, schema revision, app version, time, sha256 and size of each file)
        SHA256SUMS           (the same hashes, for ``sha256sum -c SHA256SUMS``; it covers MANIFEST.json too)

:func:`backup_database` writes it into a temporary sibling directory and renames it into place at
the end, so a failed backup leaves nothing half-written. :func:`restore_database` verifies every
hash before it touches the live database, refuses a backup of the other engine or of a newer
schema, replaces the database in one transaction, upgrades an older backup to the current schema
and appends a "restore" line to the (restored) audit log.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import exc
from sqlalchemy.engine import URL

from ecgstation import __version__
from ecgstation.storage.access import Actor, Permission, require
from ecgstation.storage.database import Database, translate_db_error
from ecgstation.storage.errors import BackupError
from ecgstation.storage.migrate import alembic_config, current_revision, upgrade_to_head

__all__ = [
    "BACKUP_FORMAT",
    "BACKUP_FORMAT_VERSION",
    "MANIFEST_NAME",
    "SUMS_NAME",
    "BackupFile",
    "BackupManifest",
    "backup_database",
    "restore_database",
    "verify_backup",
]

log = logging.getLogger(__name__)

#: ``format`` of MANIFEST.json.
BACKUP_FORMAT = "ecgstation-backup"
#: ``format_version`` this version writes and the newest it reads.
BACKUP_FORMAT_VERSION = 1
MANIFEST_NAME = "MANIFEST.json"
SUMS_NAME = "SHA256SUMS"
#: The data file of each engine inside a backup.
DATA_FILES: Mapping[str, str] = {"sqlite": "ecgstation.sqlite3", "postgresql": "ecgstation.pgdump"}

_HASH_BLOCK = 1 << 20
#: Where PostgreSQL client programs live when they are not on PATH (Debian/Ubuntu, RHEL, macOS).
_PG_BIN_GLOBS = ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/opt/homebrew/opt/postgresql@*/bin")
#: Query parameters of a SQLAlchemy URL that are not libpq connection keywords.
_NOT_LIBPQ = frozenset({"driver", "client_encoding_name"})


@dataclass(frozen=True)
class BackupFile:
    """One file of a backup: its sha256 (hex) and size in bytes."""

    sha256: str
    bytes: int


@dataclass(frozen=True)
class BackupManifest:
    """What MANIFEST.json says about a backup.

    ``created_at`` is ISO 8601 in UTC; ``schema_revision`` the Alembic revision of the backed-up
    database; ``files`` maps each file name (inside the backup directory) to its hash and size.
    ``path`` (the backup directory) and ``manifest_sha256`` (of MANIFEST.json itself) are not
    stored in the manifest.
    """

    format: str
    format_version: int
    engine: str
    schema_revision: str | None
    app_version: str
    created_at: str
    files: Mapping[str, BackupFile]
    path: Path | None = field(default=None, compare=False)
    manifest_sha256: str | None = field(default=None, compare=False)

    @property
    def data_file(self) -> str:
        """The name of the database copy inside the backup."""
        return DATA_FILES[self.engine]

    @property
    def total_bytes(self) -> int:
        """The size of the backed-up files together."""
        return sum(f.bytes for f in self.files.values())

    def to_json(self) -> dict[str, Any]:
        """The MANIFEST.json object."""
        return {
            "format": self.format,
            "format_version": self.format_version,
            "engine": self.engine,
            "schema_revision": self.schema_revision,
            "app_version": self.app_version,
            "created_at": self.created_at,
            "files": {name: {"sha256": f.sha256, "bytes": f.bytes} for name, f in sorted(self.files.items())},
        }


# --------------------------------------------------------------------------------------------- helpers


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    """Flush a file (or, on POSIX, a directory entry) to disk; best effort."""
    flags = (os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)) if path.is_dir() else os.O_RDONLY
    try:
        fd = os.open(path, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _known_revisions() -> set[str]:
    return {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def _sqlite_path(db: Database) -> Path:
    name = db.url.database
    if not name or name == ":memory:" or name.startswith("file:"):
        raise BackupError(f"The database {db.describe()} is not a SQLite file; it cannot be backed up or restored.")
    return Path(name)


def _sqlite_error(error: sqlite3.Error, what: str) -> BackupError:
    return BackupError(f"{what} failed: {error}")


def _integrity_check(conn: sqlite3.Connection, what: str) -> None:
    rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
    if rows != ["ok"]:
        raise BackupError(f"{what} failed the SQLite integrity check: {'; '.join(rows[:5])}")


@contextlib.contextmanager
def _sqlite_connect(target: str, *, uri: bool = False, timeout_s: float = 30.0) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(target, uri=uri, timeout=timeout_s, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
        yield conn
    finally:
        conn.close()


def _readonly_uri(path: Path) -> str:
    return path.resolve().as_uri() + "?mode=ro"


# ------------------------------------------------------------------------------ PostgreSQL client tools


def _tool_version(path: str) -> tuple[int, ...]:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    match = re.search(r"(\d+(?:\.\d+)*)", out)
    return tuple(int(p) for p in match.group(1).split(".")) if match else ()


def _find_pg_tool(name: str, near: Path | None = None) -> str:
    """The newest ``name`` (pg_dump, pg_restore, psql) on PATH or in the usual PostgreSQL folders.

    ``near``: prefer the copy in this folder (so pg_restore and psql come from the same release).
    """
    if near is not None and (near / name).is_file() and os.access(near / name, os.X_OK):
        return str(near / name)
    candidates: list[str] = []
    on_path = shutil.which(name)
    if on_path:
        candidates.append(on_path)
    for pattern in _PG_BIN_GLOBS:
        for folder in glob.glob(pattern):
            path = Path(folder) / name
            if path.is_file() and os.access(path, os.X_OK):
                candidates.append(str(path))
    versions = {c: _tool_version(c) for c in dict.fromkeys(candidates)}
    usable = [c for c, v in versions.items() if v]
    if not usable:
        raise BackupError(
            f"The PostgreSQL program {name} was not found (looked on PATH and in /usr/lib/postgresql/*/bin). "
            "Install the PostgreSQL client programs (package postgresql-client) of the server's version or newer."
        )
    return max(usable, key=lambda c: versions[c])


def _libpq_args(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string for ``url`` without the password, and the environment carrying it."""

    def quote(value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    parts: dict[str, str] = {}
    if url.host:
        parts["host"] = url.host
    if url.port:
        parts["port"] = str(url.port)
    if url.username:
        parts["user"] = url.username
    if url.database:
        parts["dbname"] = url.database
    for key, value in url.query.items():
        if key not in _NOT_LIBPQ:
            parts[key] = value if isinstance(value, str) else value[-1]
    env = dict(os.environ)
    env.setdefault("PGCONNECT_TIMEOUT", "15")
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return " ".join(f"{k}={quote(v)}" for k, v in parts.items()), env


def _run_tool(args: list[str], env: Mapping[str, str], what: str) -> None:
    log.info("running %s", " ".join(a if not a.startswith("--dbname=") else "--dbname=..." for a in args))
    try:
        proc = subprocess.run(args, env=dict(env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    except OSError as error:
        raise BackupError(f"{what} failed: {args[0]} could not be started: {error}") from error
    if proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", "replace").strip()
        detail = "\n".join(stderr.splitlines()[-15:]) or f"exit status {proc.returncode}"
        raise BackupError(f"{what} failed ({Path(args[0]).name} exit status {proc.returncode}): {detail}")


#: Run before the restored dump, in the same transaction: empties schema public (tables, views,
#: sequences, functions, types; not objects that belong to an extension), so a backup of an older
#: schema restores cleanly into a database that a newer version has already upgraded.
_PG_EMPTY_PUBLIC = """
SET lock_timeout = '60s';
DO $ecgstation$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('DROP %s IF EXISTS public.%I CASCADE',
                       CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                      WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
                       r.relname);
    END LOOP;
    FOR r IN
        SELECT p.oid::regprocedure::text AS sig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                          AND d.objid = p.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('DROP ROUTINE IF EXISTS %s CASCADE', r.sig);
    END LOOP;
    FOR r IN
        SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'r', 'm')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                          AND d.objid = t.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('DROP TYPE IF EXISTS public.%I CASCADE', r.typname);
    END LOOP;
END
$ecgstation$;
"""


# ------------------------------------------------------------------------------------------- backup


def _backup_sqlite(db: Database, target: Path) -> None:
    live = _sqlite_path(db)
    if not live.is_file():
        raise BackupError(f"The database file {live} does not exist.")
    timeout = db.settings.sqlite_busy_timeout_s
    try:
        with _sqlite_connect(str(live), timeout_s=timeout) as src, _sqlite_connect(str(target)) as dst:
            src.backup(dst)  # one step: a consistent snapshot; writers in WAL mode are not blocked
            # The copy inherits the WAL flag of the live header: make it one self-contained file.
            dst.execute("PRAGMA journal_mode = DELETE")
        with _sqlite_connect(_readonly_uri(target), uri=True) as check:
            _integrity_check(check, f"The backup copy {target.name}")
    except sqlite3.Error as error:
        raise _sqlite_error(error, f"Backing up {live}") from error


def _backup_postgresql(db: Database, target: Path) -> None:
    conninfo, env = _libpq_args(db.url)
    pg_dump = _find_pg_tool("pg_dump")
    _run_tool(
        [pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--file={target}", f"--dbname={conninfo}"],
        env,
        f"Backing up {db.describe()} with pg_dump",
    )


def _write_manifest(folder: Path, manifest: BackupManifest) -> str:
    """Write MANIFEST.json and SHA256SUMS into ``folder``; return the manifest's sha256."""
    path = folder / MANIFEST_NAME
    path.write_text(json.dumps(manifest.to_json(), indent=2) + "\n", encoding="utf-8")
    manifest_sha = _sha256_file(path)
    lines = [f"{f.sha256}  {name}\n" for name, f in sorted(manifest.files.items())]
    lines.append(f"{manifest_sha}  {MANIFEST_NAME}\n")
    (folder / SUMS_NAME).write_text("".join(lines), encoding="utf-8")
    return manifest_sha


def backup_database(db: Database, actor: Actor, dest: Path) -> BackupManifest:
    """Back up the whole database into the new directory ``dest`` (admins only); returns its manifest.

    SQLite: a consistent copy through SQLite's online backup API (other workstations keep working),
    checked with ``PRAGMA integrity_check``. PostgreSQL: ``pg_dump --format=custom``.
    Raises :class:`BackupError` if ``dest`` exists and is not empty, or the copy fails; then
    nothing is left at ``dest``.
    """
    require(actor, Permission.BACKUP)
    dest = Path(dest).expanduser().absolute()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"The backup folder {dest} already exists and is not empty; choose a new folder.")
    if db.dialect not in DATA_FILES:
        raise BackupError(f"The database {db.describe()} cannot be backed up: unsupported engine {db.dialect}.")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    except OSError as error:
        raise BackupError(f"The backup folder {dest} cannot be created: {error}") from error
    data_name = DATA_FILES[db.dialect]
    try:
        try:
            revision = current_revision(db)
        except exc.DBAPIError as error:
            raise translate_db_error(error, db.describe()) from error
        created_at = datetime.now(UTC).isoformat(timespec="seconds")
        if db.dialect == "sqlite":
            _backup_sqlite(db, work / data_name)
        else:
            _backup_postgresql(db, work / data_name)
        data = work / data_name
        manifest = BackupManifest(
            format=BACKUP_FORMAT,
            format_version=BACKUP_FORMAT_VERSION,
            engine=db.dialect,
            schema_revision=revision,
            app_version=__version__,
            created_at=created_at,
            files={data_name: BackupFile(sha256=_sha256_file(data), bytes=data.stat().st_size)},
        )
        manifest_sha = _write_manifest(work, manifest)
        for path in work.iterdir():
            _fsync(path)
        _fsync(work)
        if dest.exists():
            dest.rmdir()  # empty (checked above); a rename onto a directory is not portable
        os.replace(work, dest)
        _fsync(dest.parent)
    except OSError as error:
        shutil.rmtree(work, ignore_errors=True)
        raise BackupError(f"The backup {dest} cannot be written: {error}") from error
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    manifest = BackupManifest(**{**manifest.__dict__, "path": dest, "manifest_sha256": manifest_sha})
    with db.session(actor) as store:
        store.audit.record(
            "backup", "database", None, path=str(dest), engine=db.dialect, schema_revision=revision,
            bytes=manifest.total_bytes, manifest_sha256=manifest_sha,
        )  # fmt: skip
    log.info("backed up %s to %s (%d bytes)", db.describe(), dest, manifest.total_bytes)
    return manifest


# ------------------------------------------------------------------------------------------- verify


def _parse_manifest(src: Path, raw: bytes) -> BackupManifest:
    where = src / MANIFEST_NAME
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BackupError(
            f"The backup manifest {where} has been altered or damaged: it is not JSON ({error})."
        ) from error
    if not isinstance(data, dict) or data.get("format") != BACKUP_FORMAT:
        raise BackupError(f"{src} is not an ECG Station backup ({where} does not describe one).")
    version = data.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise BackupError(f"The backup manifest {where} has been altered or damaged: no format_version.")
    if version > BACKUP_FORMAT_VERSION:
        raise BackupError(
            f"The backup {src} was written by a newer version of ECG Station (backup format {version}); "
            "update ECG Station to restore it."
        )
    engine = data.get("engine")
    if not isinstance(engine, str) or engine not in DATA_FILES:
        raise BackupError(f"The backup manifest {where} names an unknown database engine {engine!r}.")
    files_raw = data.get("files")
    revision = data.get("schema_revision")
    if not isinstance(files_raw, dict) or not isinstance(revision, (str, type(None))):
        raise BackupError(f"The backup manifest {where} has been altered or damaged: malformed fields.")
    files: dict[str, BackupFile] = {}
    for name, entry in files_raw.items():
        ok_name = isinstance(name, str) and name and name == Path(name).name and name not in (".", "..")
        sha = entry.get("sha256") if isinstance(entry, dict) else None
        size = entry.get("bytes") if isinstance(entry, dict) else None
        if (
            not ok_name
            or not isinstance(sha, str)
            or not re.fullmatch(r"[0-9a-f]{64}", sha)
            or not isinstance(size, int)
            or isinstance(size, bool)
            or size < 0
        ):
            raise BackupError(f"The backup manifest {where} has been altered or damaged: bad entry for {name!r}.")
        files[name] = BackupFile(sha256=sha, bytes=size)
    if DATA_FILES[engine] not in files:
        raise BackupError(f"The backup manifest {where} does not list the database copy {DATA_FILES[engine]}.")
    return BackupManifest(
        format=BACKUP_FORMAT,
        format_version=version,
        engine=engine,
        schema_revision=revision,
        app_version=str(data.get("app_version", "?")),
        created_at=str(data.get("created_at", "?")),
        files=files,
        path=src,
        manifest_sha256=hashlib.sha256(raw).hexdigest(),
    )


def _read_sums(src: Path) -> dict[str, str]:
    path = src / SUMS_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BackupError(f"The backup {src} is incomplete: {SUMS_NAME} is missing.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise BackupError(f"The backup file {path} cannot be read: {error}") from error
    sums: dict[str, str] = {}
    for line in text.splitlines():
        match = re.fullmatch(r"([0-9a-f]{64}) [ *](.+)", line.strip())
        if not match:
            raise BackupError(f"The backup file {path} has been altered or damaged: bad line {line[:80]!r}.")
        sums[match.group(2)] = match.group(1)
    return sums


def verify_backup(src: Path) -> BackupManifest:
    """Check a backup directory: the manifest, and the sha256 and size of every file it lists.

    Raises :class:`BackupError` naming the file and the reason (missing, altered or damaged).
    """
    src = Path(src).expanduser().absolute()
    if not src.is_dir():
        raise BackupError(f"The backup {src} does not exist or is not a folder.")
    manifest_path = src / MANIFEST_NAME
    try:
        raw = manifest_path.read_bytes()
    except FileNotFoundError:
        raise BackupError(f"{src} is not a complete ECG Station backup: {MANIFEST_NAME} is missing.") from None
    except OSError as error:
        raise BackupError(f"The backup file {manifest_path} cannot be read: {error}") from error
    manifest = _parse_manifest(src, raw)
    sums = _read_sums(src)
    if sums.get(MANIFEST_NAME) != manifest.manifest_sha256:
        raise BackupError(f"The backup file {manifest_path} has been altered or damaged: sha256 mismatch.")
    for name, expected in sorted(manifest.files.items()):
        path = src / name
        if sums.get(name) != expected.sha256:
            raise BackupError(
                f"The backup {src} has been altered or damaged: {SUMS_NAME} and {MANIFEST_NAME} disagree on {name}."
            )
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise BackupError(f"The backup {src} is incomplete: {name} is missing.") from None
        except OSError as error:
            raise BackupError(f"The backup file {path} cannot be read: {error}") from error
        if size != expected.bytes:
            raise BackupError(
                f"The backup file {path} has been altered or damaged: it has {size} bytes, "
                f"the manifest says {expected.bytes}."
            )
        try:
            actual = _sha256_file(path)
        except OSError as error:
            raise BackupError(f"The backup file {path} cannot be read: {error}") from error
        if actual != expected.sha256:
            raise BackupError(f"The backup file {path} has been altered or damaged: sha256 mismatch.")
    return manifest


# ------------------------------------------------------------------------------------------ restore


def _restore_sqlite(db: Database, copy: Path) -> None:
    live = _sqlite_path(db)
    live.parent.mkdir(parents=True, exist_ok=True)
    try:
        with _sqlite_connect(_readonly_uri(copy), uri=True) as src:
            _integrity_check(src, f"The backup copy {copy}")
            db.dispose()
            with _sqlite_connect(str(live), timeout_s=db.settings.sqlite_busy_timeout_s) as dst:
                # One step, in one write transaction on the live file: other readers see the old or
                # the new database, never a mix; its WAL and shared-memory files stay consistent.
                src.backup(dst)
                _integrity_check(dst, f"The restored database {live}")
    except sqlite3.Error as error:
        raise _sqlite_error(error, f"Restoring {live} from {copy}") from error


def _restore_postgresql(db: Database, dump: Path) -> None:
    conninfo, env = _libpq_args(db.url)
    pg_restore = _find_pg_tool("pg_restore")
    psql = _find_pg_tool("psql", near=Path(pg_restore).parent)
    with tempfile.TemporaryDirectory(prefix="ecgstation-restore-") as tmp:
        script = Path(tmp) / "restore.sql"
        # Render the dump as SQL first (pg_restore reads all of it): a damaged dump fails here,
        # before the live database is touched.
        _run_tool(
            [pg_restore, "--no-owner", "--no-privileges", f"--file={script}", str(dump)],
            env,
            f"Reading the backup {dump} with pg_restore",
        )
        db.dispose()
        # Empty schema public and load the dump in one transaction: all of it, or nothing.
        _run_tool(
            [
                psql, "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--single-transaction",
                f"--dbname={conninfo}", f"--command={_PG_EMPTY_PUBLIC}", f"--file={script}",
            ],
            env,
            f"Restoring {db.describe()} with pg_restore/psql",
        )  # fmt: skip


def restore_database(db: Database, actor: Actor, src: Path) -> BackupManifest:
    """Replace the whole database with the backup in ``src`` (admins only); returns the backup's manifest.

    The backup is verified first (nothing is touched when a file is missing, altered or damaged);
    a backup of the other engine, or of a schema newer than this version knows, is refused. An
    older backup is upgraded to the current schema. The restored audit log gets a "restore" line.
    """
    require(actor, Permission.BACKUP)
    manifest = verify_backup(src)
    assert manifest.path is not None
    if manifest.engine != db.dialect:
        raise BackupError(
            f"The backup {manifest.path} is of a {manifest.engine} database; it cannot be restored into "
            f"the {db.dialect} database {db.describe()}."
        )
    if manifest.schema_revision is not None and manifest.schema_revision not in _known_revisions():
        raise BackupError(
            f"The backup {manifest.path} has schema revision {manifest.schema_revision}, which this version of "
            f"ECG Station ({__version__}) does not know: it was made by a newer version. Update ECG Station."
        )
    data = manifest.path / manifest.data_file
    log.info("restoring %s from %s (backup of %s)", db.describe(), manifest.path, manifest.created_at)
    if db.dialect == "sqlite":
        _restore_sqlite(db, data)
    else:
        _restore_postgresql(db, data)
    upgrade_to_head(db)
    with db.session(actor) as store:
        # The actor's account as the restored database knows it (its id may differ, or it may not exist).
        user = store.users.get_by_name(actor.username)
        store.audit.actor = Actor(None if user is None else user.id, actor.username, actor.role)
        store.audit.record(
            "restore", "database", None, path=str(manifest.path), backup_created_at=manifest.created_at,
            manifest_sha256=manifest.manifest_sha256, backup_schema_revision=manifest.schema_revision,
            backup_app_version=manifest.app_version,
        )  # fmt: skip
    log.info("restored %s from %s", db.describe(), manifest.path)
    return manifest
