"""Per-patient alarm thresholds, and an owner plus heartbeat on monitoring sessions (crash recovery).

``patient_alarm_settings`` keeps one JSON document of thresholds per patient (who set it, when,
a version counter for concurrent edits). ``monitoring_sessions`` gets ``owner_host``,
``owner_pid`` and ``heartbeat_at``: the process that runs a session writes them, so a restart can
tell a session whose process died (left "active") from one another workstation still runs.

Revision ID: 0004_alarm_settings
Revises: 0003_audit_truncate_guard
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_alarm_settings"
down_revision = "0003_audit_truncate_guard"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patient_alarm_settings",
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_patient_alarm_settings_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"], name=op.f("fk_patient_alarm_settings_updated_by_users")),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_patient_alarm_settings")),
    )
    with op.batch_alter_table("monitoring_sessions") as batch:
        batch.add_column(sa.Column("owner_host", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("owner_pid", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("monitoring_sessions") as batch:
        batch.drop_column("heartbeat_at")
        batch.drop_column("owner_pid")
        batch.drop_column("owner_host")
    op.drop_table("patient_alarm_settings")
