"""Alembic environment: migrations run on the connection ECG Station hands over (see ecgstation.storage.migrate)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from ecgstation.storage.orm import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # the alembic command line: -x url=...
        url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
        if not url:
            raise SystemExit("give the database: alembic -x url=sqlite:///path/to/ecgstation.sqlite3 upgrade head")
        engine = create_engine(url)
        with engine.begin() as conn:
            context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
            context.run_migrations()
        return
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode rebuilds the table
        transactional_ddl=True,
    )
    context.run_migrations()


run_migrations()
