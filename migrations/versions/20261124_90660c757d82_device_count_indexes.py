"""device count indexes

Revision ID: 90660c757d82
Revises: f400b3c0a0f0
Created: 2026-11-24 18:09:35.920507
"""

from alembic import op
import sqlalchemy as sa


revision = '90660c757d82'
down_revision = 'f400b3c0a0f0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.create_index('ix_devices_school_id_room_id_status', ['school_id', 'room_id', 'status'], unique=False)
        batch_op.create_index('ix_devices_school_id_status', ['school_id', 'status'], unique=False)


def downgrade():
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_index('ix_devices_school_id_status')
        batch_op.drop_index('ix_devices_school_id_room_id_status')

