"""The [database] table of the settings file, and its place in the URL precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecgstation.storage import StorageError
from ecgstation.storage.settings import DATABASE_URL_ENV, load_database_settings


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_file_names_the_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    cfg = _write(tmp_path, '[database]\nurl = "postgresql://ward:pw@db.clinic/ecg"\npool_size = 3\n')
    settings = load_database_settings(cfg)
    assert settings.resolved_url() == "postgresql+psycopg://ward:pw@db.clinic/ecg"
    assert settings.pool_size == 3


def test_environment_beats_file_and_argument_beats_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _write(tmp_path, '[database]\nurl = "sqlite:////from/file.sqlite3"\n')
    monkeypatch.setenv(DATABASE_URL_ENV, "sqlite:////from/env.sqlite3")
    assert load_database_settings(cfg).resolved_url() == "sqlite:////from/env.sqlite3"
    assert load_database_settings(cfg, url="sqlite:////from/arg.sqlite3").resolved_url() == "sqlite:////from/arg.sqlite3"


def test_missing_file_means_embedded_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    url = load_database_settings(tmp_path / "absent.toml").resolved_url()
    assert url.startswith("sqlite:///") and url.endswith("ecgstation.sqlite3")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[database\nurl = 1", "Cannot read the settings file"),
        ('[database]\nurll = "x"\n', "Unknown keys in [database]"),
        ('[database]\npool_size = "many"\n', "Invalid value in [database]"),
    ],
)
def test_bad_file_is_named_in_the_message(tmp_path: Path, text: str, expected: str) -> None:
    cfg = _write(tmp_path, text)
    with pytest.raises(StorageError) as info:
        load_database_settings(cfg)
    assert expected in str(info.value) and str(cfg) in str(info.value)
