"""Where the database lives: explicit URL, then $ECGSTATION_DATABASE_URL, then SQLite in the user data folder."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest
from sqlalchemy.engine import make_url

from ecgstation.storage import DATABASE_URL_ENV, DatabaseSettings, default_sqlite_path
from ecgstation.storage.settings import SQLITE_FILE_NAME, resolve_database_url

PG = "postgresql+psycopg://ecg:pw@db.example.org:5432/ecg"


def test_default_is_sqlite_in_the_user_data_folder() -> None:
    path = default_sqlite_path()
    assert path == Path(platformdirs.user_data_dir("ecgstation", appauthor=False)) / SQLITE_FILE_NAME
    assert path.name == "ecgstation.sqlite3" and path.is_absolute()
    url = resolve_database_url(None, {})
    assert url == f"sqlite:///{path}"
    assert make_url(url).get_backend_name() == "sqlite" and make_url(url).database == str(path)


def test_default_follows_platformdirs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(platformdirs, "user_data_dir", lambda appname, appauthor=None: str(tmp_path / appname))
    assert resolve_database_url(None, {}) == f"sqlite:///{tmp_path / 'ecgstation' / SQLITE_FILE_NAME}"


def test_precedence_explicit_then_environment_then_default() -> None:
    env = {DATABASE_URL_ENV: PG}
    assert resolve_database_url("sqlite:////tmp/explicit.db", env) == "sqlite:////tmp/explicit.db"
    assert resolve_database_url(None, env) == PG
    assert resolve_database_url("", env) == PG  # an empty explicit value is no value
    assert resolve_database_url(None, {DATABASE_URL_ENV: "   "}) == f"sqlite:///{default_sqlite_path()}"
    assert resolve_database_url(None, {DATABASE_URL_ENV: f"  {PG}\n"}) == PG
    assert resolve_database_url(None, {"OTHER": PG}) == f"sqlite:///{default_sqlite_path()}"


def test_process_environment_is_read_when_none_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, PG)
    assert resolve_database_url() == PG
    assert DatabaseSettings().resolved_url() == PG
    assert DatabaseSettings(url="sqlite:////x/y.db").resolved_url() == "sqlite:////x/y.db"
    monkeypatch.delenv(DATABASE_URL_ENV)
    assert resolve_database_url() == f"sqlite:///{default_sqlite_path()}"
    # An explicit environment mapping wins over the process environment.
    monkeypatch.setenv(DATABASE_URL_ENV, PG)
    assert DatabaseSettings().resolved_url({}) == f"sqlite:///{default_sqlite_path()}"


def test_bare_path_becomes_a_sqlite_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "sub dir" / "ecg.db"
    assert resolve_database_url(str(target), {}) == f"sqlite:///{target}"
    monkeypatch.chdir(tmp_path)
    url = resolve_database_url("relative.sqlite3", {})
    assert url == f"sqlite:///{tmp_path.resolve() / 'relative.sqlite3'}"
    assert make_url(url).database == str(tmp_path.resolve() / "relative.sqlite3")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_database_url("~/home.db", {}) == f"sqlite:///{tmp_path.resolve() / 'home.db'}"
    # A bare path from the environment is taken as a path too.
    assert resolve_database_url(None, {DATABASE_URL_ENV: str(target)}) == f"sqlite:///{target}"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://ecg:pw@host/db", "postgresql+psycopg://ecg:pw@host/db"),
        ("postgres://ecg:pw@host:5433/db", "postgresql+psycopg://ecg:pw@host:5433/db"),
        ("postgresql+psycopg://ecg@host/db", "postgresql+psycopg://ecg@host/db"),
        ("sqlite:///relative.db", "sqlite:///relative.db"),
        ("sqlite:////abs/path.db", "sqlite:////abs/path.db"),
    ],
)
def test_urls_are_kept_and_postgres_gets_psycopg(given: str, expected: str) -> None:
    assert resolve_database_url(given, {}) == expected
    assert resolve_database_url(None, {DATABASE_URL_ENV: given}) == expected
    if expected.startswith("postgresql"):
        assert make_url(expected).get_driver_name() == "psycopg"


def test_settings_defaults() -> None:
    s = DatabaseSettings()
    assert (s.url, s.sqlite_busy_timeout_s, s.pool_size, s.migrate) == (None, 30.0, 5, True)
    with pytest.raises(AttributeError):
        s.url = "x"  # type: ignore[misc]
