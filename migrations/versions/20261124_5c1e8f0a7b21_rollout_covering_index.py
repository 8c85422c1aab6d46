"""rollout covering index on devices

Revision ID: 5c1e8f0a7b21
Revises: d427024a43b7
Created: 2026-11-24 20:05:00.000000
"""

from alembic import op


revision = '5c1e8f0a7b21'
down_revision = 'd427024a43b7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.create_index('ix_devices_rollout', ['room_id', 'kind', 'status', 'last_seen_at', 'parent_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_index('ix_devices_rollout')
