"""Baseline schema: patients, users, devices, recordings and waveform chunks, monitoring sessions and
slices, findings, beat annotations and their edits, ECG images, alarms, and the append-only audit log.

Revision ID: 0001_baseline
Revises: 
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001_baseline'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('devices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('model', sa.String(length=128), nullable=True),
    sa.Column('firmware', sa.String(length=64), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_devices')),
    sa.UniqueConstraint('serial', name=op.f('uq_devices_serial'))
    )
    op.create_table('patients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mrn', sa.String(length=64), nullable=False),
    sa.Column('family_name', sa.String(length=200), nullable=True),
    sa.Column('given_name', sa.String(length=200), nullable=True),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('height_cm', sa.Float(), nullable=True),
    sa.Column('weight_kg', sa.Float(), nullable=True),
    sa.Column('phone', sa.String(length=64), nullable=True),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("sex IN ('M', 'F', 'O', 'U')", name=op.f('ck_patients_sex')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patients')),
    sa.UniqueConstraint('mrn', name=op.f('uq_patients_mrn'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('admin', 'cardiologist', 'nurse', 'student')", name=op.f('ck_users_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('entity_type', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.Column('trace_id', sa.String(length=32), nullable=True),
    sa.Column('workstation', sa.String(length=128), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_events_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_occurred_at'), ['occurred_at'], unique=False)

    op.create_table('monitoring_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('fs', sa.Float(), nullable=False),
    sa.Column('lead_names', sa.JSON(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.Column('started_by', sa.Integer(), nullable=True),
    sa.CheckConstraint("state IN ('active', 'ended', 'interrupted')", name=op.f('ck_monitoring_sessions_state')),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_monitoring_sessions_device_id_devices'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_monitoring_sessions_patient_id_patients'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['started_by'], ['users.id'], name=op.f('fk_monitoring_sessions_started_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_sessions'))
    )
    with op.batch_alter_table('monitoring_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitoring_sessions_patient_id'), ['patient_id'], unique=False)

    op.create_table('recordings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('source_name', sa.String(length=500), nullable=False),
    sa.Column('source_format', sa.String(length=32), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('signal_sha256', sa.String(length=64), nullable=False),
    sa.Column('fs', sa.Float(), nullable=False),
    sa.Column('n_leads', sa.Integer(), nullable=False),
    sa.Column('n_samples', sa.BigInteger(), nullable=False),
    sa.Column('duration_s', sa.Float(), nullable=False),
    sa.Column('lead_names', sa.JSON(), nullable=False),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('chunk_samples', sa.Integer(), nullable=False),
    sa.Column('sample_encoding', sa.String(length=16), nullable=False),
    sa.Column('storage_gains', sa.JSON(), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('imported_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_recordings_device_id_devices'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['imported_by'], ['users.id'], name=op.f('fk_recordings_imported_by_users')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_recordings_patient_id_patients'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recordings')),
    sa.UniqueConstraint('signal_sha256', name=op.f('uq_recordings_signal_sha256'))
    )
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recordings_file_sha256'), ['file_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_recordings_patient_id'), ['patient_id'], unique=False)

    op.create_table('alarms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('severity', sa.String(length=8), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('offset_s', sa.Float(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.Column('acknowledged_by', sa.Integer(), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("severity IN ('low', 'medium', 'high')", name=op.f('ck_alarms_severity')),
    sa.ForeignKeyConstraint(['acknowledged_by'], ['users.id'], name=op.f('fk_alarms_acknowledged_by_users')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_alarms_patient_id_patients'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['session_id'], ['monitoring_sessions.id'], name=op.f('fk_alarms_session_id_monitoring_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alarms'))
    )
    with op.batch_alter_table('alarms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alarms_session_id'), ['session_id'], unique=False)

    op.create_table('beat_annotations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recording_id', sa.Integer(), nullable=False),
    sa.Column('sample', sa.BigInteger(), nullable=False),
    sa.Column('label', sa.String(length=8), nullable=False),
    sa.Column('original_label', sa.String(length=8), nullable=False),
    sa.Column('author_kind', sa.String(length=16), nullable=False),
    sa.Column('author_name', sa.String(length=128), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.CheckConstraint("author_kind IN ('algorithm', 'file', 'user')", name=op.f('ck_beat_annotations_author_kind')),
    sa.ForeignKeyConstraint(['recording_id'], ['recordings.id'], name=op.f('fk_beat_annotations_recording_id_recordings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_beat_annotations_updated_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_beat_annotations'))
    )
    with op.batch_alter_table('beat_annotations', schema=None) as batch_op:
        batch_op.create_index('ix_beat_annotations_recording_sample', ['recording_id', 'sample'], unique=False)

    op.create_table('ecg_images',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('recording_id', sa.Integer(), nullable=True),
    sa.Column('file_name', sa.String(length=500), nullable=False),
    sa.Column('media_type', sa.String(length=64), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('analysis', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_ecg_images_created_by_users')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_ecg_images_patient_id_patients'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['recording_id'], ['recordings.id'], name=op.f('fk_ecg_images_recording_id_recordings'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ecg_images')),
    sa.UniqueConstraint('sha256', name=op.f('uq_ecg_images_sha256'))
    )
    with op.batch_alter_table('ecg_images', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ecg_images_patient_id'), ['patient_id'], unique=False)

    op.create_table('findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recording_id', sa.Integer(), nullable=True),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('source_kind', sa.String(length=8), nullable=False),
    sa.Column('source_name', sa.String(length=128), nullable=False),
    sa.Column('source_version', sa.String(length=64), nullable=True),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('start_s', sa.Float(), nullable=True),
    sa.Column('end_s', sa.Float(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reviewed_by', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source_kind IN ('rule', 'model', 'user')", name=op.f('ck_findings_source_kind')),
    sa.CheckConstraint("status IN ('proposed', 'confirmed', 'rejected')", name=op.f('ck_findings_status')),
    sa.CheckConstraint('confidence IS NULL OR (confidence >= 0 AND confidence <= 1)', name=op.f('ck_findings_confidence')),
    sa.ForeignKeyConstraint(['recording_id'], ['recordings.id'], name=op.f('fk_findings_recording_id_recordings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewed_by'], ['users.id'], name=op.f('fk_findings_reviewed_by_users')),
    sa.ForeignKeyConstraint(['session_id'], ['monitoring_sessions.id'], name=op.f('fk_findings_session_id_monitoring_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_findings'))
    )
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_findings_recording_id'), ['recording_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_findings_session_id'), ['session_id'], unique=False)

    op.create_table('monitoring_slices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('slice_index', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fs', sa.Float(), nullable=False),
    sa.Column('n_leads', sa.Integer(), nullable=False),
    sa.Column('n_samples', sa.Integer(), nullable=False),
    sa.Column('sample_encoding', sa.String(length=16), nullable=False),
    sa.Column('storage_gains', sa.JSON(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('analysis', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['monitoring_sessions.id'], name=op.f('fk_monitoring_slices_session_id_monitoring_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_slices')),
    sa.UniqueConstraint('session_id', 'slice_index', name=op.f('uq_monitoring_slices_session_id'))
    )
    op.create_table('waveform_chunks',
    sa.Column('recording_id', sa.Integer(), nullable=False),
    sa.Column('chunk_index', sa.Integer(), nullable=False),
    sa.Column('start_sample', sa.BigInteger(), nullable=False),
    sa.Column('n_samples', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['recording_id'], ['recordings.id'], name=op.f('fk_waveform_chunks_recording_id_recordings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('recording_id', 'chunk_index', name=op.f('pk_waveform_chunks'))
    )
    op.create_table('beat_edits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('annotation_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('old_label', sa.String(length=8), nullable=True),
    sa.Column('new_label', sa.String(length=8), nullable=True),
    sa.Column('edited_by', sa.Integer(), nullable=False),
    sa.Column('edited_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("action IN ('relabel', 'add', 'delete', 'restore')", name=op.f('ck_beat_edits_action')),
    sa.ForeignKeyConstraint(['annotation_id'], ['beat_annotations.id'], name=op.f('fk_beat_edits_annotation_id_beat_annotations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['edited_by'], ['users.id'], name=op.f('fk_beat_edits_edited_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_beat_edits'))
    )
    with op.batch_alter_table('beat_edits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_beat_edits_annotation_id'), ['annotation_id'], unique=False)


    _create_audit_guards()


def downgrade() -> None:
    _drop_audit_guards()
    with op.batch_alter_table('beat_edits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_beat_edits_annotation_id'))

    op.drop_table('beat_edits')
    op.drop_table('waveform_chunks')
    op.drop_table('monitoring_slices')
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_findings_session_id'))
        batch_op.drop_index(batch_op.f('ix_findings_recording_id'))

    op.drop_table('findings')
    with op.batch_alter_table('ecg_images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ecg_images_patient_id'))

    op.drop_table('ecg_images')
    with op.batch_alter_table('beat_annotations', schema=None) as batch_op:
        batch_op.drop_index('ix_beat_annotations_recording_sample')

    op.drop_table('beat_annotations')
    with op.batch_alter_table('alarms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alarms_session_id'))

    op.drop_table('alarms')
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recordings_patient_id'))
        batch_op.drop_index(batch_op.f('ix_recordings_file_sha256'))

    op.drop_table('recordings')
    with op.batch_alter_table('monitoring_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitoring_sessions_patient_id'))

    op.drop_table('monitoring_sessions')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_occurred_at'))

    op.drop_table('audit_events')
    op.drop_table('users')
    op.drop_table('patients')
    op.drop_table('devices')


_PG_GUARD = """
CREATE OR REPLACE FUNCTION ecgstation_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql
"""


def _create_audit_guards() -> None:
    """Database triggers that refuse UPDATE and DELETE on audit_events, whoever connects."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_GUARD)
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION ecgstation_audit_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
                f"BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: {verb} refused'); END"
            )


def _drop_audit_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS ecgstation_audit_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
