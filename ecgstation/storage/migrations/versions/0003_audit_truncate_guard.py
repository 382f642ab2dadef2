"""The audit log refuses TRUNCATE too (PostgreSQL): row triggers do not fire on it, a statement trigger does.

SQLite has no TRUNCATE (its DELETE without WHERE fires the row trigger of the baseline).

Revision ID: 0003_audit_truncate_guard
Revises: 0002_optimistic_versions
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0003_audit_truncate_guard"
down_revision = "0002_optimistic_versions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION ecgstation_audit_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
