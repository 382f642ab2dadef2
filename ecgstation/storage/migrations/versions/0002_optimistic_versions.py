"""Several workstations on one database: a version counter on every row that two people may edit at once.

Patients, findings, beat annotations and alarms get ``version`` (starting at 1 for existing rows);
an edit states the version it was made on and is refused when another workstation got there first.

Revision ID: 0002_optimistic_versions
Revises: 0001_baseline
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_optimistic_versions"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None

_TABLES = ("patients", "findings", "beat_annotations", "alarms")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("version")
