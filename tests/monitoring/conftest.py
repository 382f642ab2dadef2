"""Monitoring tests reuse the storage fixtures (a migrated database on SQLite and on PostgreSQL, actors)."""

from __future__ import annotations

from tests.storage.conftest import actors, db, db_url

__all__ = ["actors", "db", "db_url"]
