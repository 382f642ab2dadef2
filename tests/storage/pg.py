"""A throw-away PostgreSQL database per test, on the server named by $ECGSTATION_TEST_POSTGRES_URL."""

from __future__ import annotations

from bench import _pg

#: Environment variable with the URL of a PostgreSQL database whose role may CREATE DATABASE.
POSTGRES_URL_ENV = "ECGSTATION_TEST_POSTGRES_URL"

SKIP_REASON = (
    f"PostgreSQL tests need a server: set {POSTGRES_URL_ENV} "
    "(e.g. postgresql+psycopg://ecg:ecg@localhost/ecgstation_test; .ci/run starts one)"
)


def postgres_base_url() -> str | None:
    """The configured server URL (driver forced to psycopg 3), or None."""
    return _pg.postgres_base_url(POSTGRES_URL_ENV)


def create_database(base_url: str) -> str:
    """An empty database with a unique name on the server of ``base_url``; its URL."""
    return _pg.create_database(base_url, "ecgst_")


def drop_database(base_url: str, url: str) -> None:
    """Drop a database made by :func:`create_database`."""
    _pg.drop_database(base_url, url)
