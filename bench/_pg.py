"""Throw-away PostgreSQL databases on a server named by an environment variable (benchmarks and tests)."""

from __future__ import annotations

import os
import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

__all__ = ["create_database", "drop_database", "postgres_base_url"]


def postgres_base_url(*env_names: str) -> str | None:
    """The server URL from the first of ``env_names`` that is set (driver forced to psycopg 3), or None."""
    url = next((os.environ[n].strip() for n in env_names if os.environ.get(n, "").strip()), "")
    if not url:
        return None
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def create_database(base_url: str, prefix: str = "ecgst_") -> str:
    """Create an empty database with a unique name on the server of ``base_url``; return its URL."""
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
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
