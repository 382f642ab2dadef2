"""A throw-away PostgreSQL database per test, on the server named by $ECGSTATION_TEST_POSTGRES_URL."""

from __future__ import annotations

import os
import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

#: Environment variable with the URL of a PostgreSQL database whose role may CREATE DATABASE.
POSTGRES_URL_ENV = "ECGSTATION_TEST_POSTGRES_URL"

SKIP_REASON = (
    f"PostgreSQL tests need a server: set {POSTGRES_URL_ENV} "
    "(e.g. postgresql+psycopg://ecg:ecg@localhost/ecgstation_test; .ci/run starts one)"
)


def postgres_base_url() -> str | None:
    """The configured server URL (driver forced to psycopg 3), or None."""
    url = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if not url:
        return None
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def create_database(base_url: str) -> str:
    """Create an empty database with a unique name on the server of ``base_url``; return its URL."""
    name = f"ecgst_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def drop_database(base_url: str, url: str) -> None:
    """Drop a database made by :func:`create_database` (closing other connections to it first)."""
    name = make_url(url).database
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
