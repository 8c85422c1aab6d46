"""discovery runs and findings

Revision ID: ceba7c5bfc72
Revises: d692fba99034
Created: 2026-11-24 16:22:42.430859
"""

from alembic import op
import sqlalchemy as sa


revision = 'ceba7c5bfc72'
down_revision = 'd692fba99034'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('discovery_leases',
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_discovery_leases_school_id_schools'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('school_id', name=op.f('pk_discovery_leases'))
    )
    op.create_table('discovery_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('batch_key', sa.String(length=80), nullable=True),
    sa.Column('actor', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_discovery_runs_school_id_schools'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_discovery_runs')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('discovery_runs', schema=None) as batch_op:
        batch_op.create_index('ix_discovery_runs_school_id_id', ['school_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_discovery_runs_status'), ['status'], unique=False)
        batch_op.create_index('uq_discovery_runs_batch', ['school_id', 'batch_key'], unique=True)

    op.create_table('observations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('mac', sa.String(length=17), nullable=True),
    sa.Column('hostname', sa.String(length=255), nullable=True),
    sa.Column('sys_descr', sa.Text(), nullable=True),
    sa.Column('sys_object_id', sa.String(length=255), nullable=True),
    sa.Column('serial', sa.String(length=80), nullable=True),
    sa.Column('model', sa.String(length=120), nullable=True),
    sa.Column('vendor', sa.String(length=120), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=True),
    sa.Column('switch', sa.String(length=80), nullable=True),
    sa.Column('port', sa.String(length=80), nullable=True),
    sa.Column('open_ports', sa.String(length=120), nullable=True),
    sa.Column('credential', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['discovery_runs.id'], name=op.f('fk_observations_run_id_discovery_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_observations')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('observations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_observations_mac'), ['mac'], unique=False)
        batch_op.create_index(batch_op.f('ix_observations_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_observations_serial'), ['serial'], unique=False)

    op.create_table('findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('first_run_id', sa.Integer(), nullable=True),
    sa.Column('last_run_id', sa.Integer(), nullable=True),
    sa.Column('times_seen', sa.Integer(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('seen', sa.JSON(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=120), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_findings_device_id_devices'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['first_run_id'], ['discovery_runs.id'], name=op.f('fk_findings_first_run_id_discovery_runs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['last_run_id'], ['discovery_runs.id'], name=op.f('fk_findings_last_run_id_discovery_runs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_findings_school_id_schools'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_findings')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_findings_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_findings_kind'), ['kind'], unique=False)
        batch_op.create_index('ix_findings_school_id_status', ['school_id', 'status'], unique=False)
        batch_op.create_index('uq_findings_kind_key_standing', ['kind', 'key'], unique=True, sqlite_where=sa.text("status IN ('open', 'ignored')"), postgresql_where=sa.text("status IN ('open', 'ignored')"))

    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unseen_runs', sa.Integer(), server_default='0', nullable=False))



def downgrade():
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_column('unseen_runs')

    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_index('uq_findings_kind_key_standing', sqlite_where=sa.text("status IN ('open', 'ignored')"), postgresql_where=sa.text("status IN ('open', 'ignored')"))
        batch_op.drop_index('ix_findings_school_id_status')
        batch_op.drop_index(batch_op.f('ix_findings_kind'))
        batch_op.drop_index(batch_op.f('ix_findings_device_id'))

    op.drop_table('findings')
    with op.batch_alter_table('observations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_observations_serial'))
        batch_op.drop_index(batch_op.f('ix_observations_run_id'))
        batch_op.drop_index(batch_op.f('ix_observations_mac'))

    op.drop_table('observations')
    with op.batch_alter_table('discovery_runs', schema=None) as batch_op:
        batch_op.drop_index('uq_discovery_runs_batch')
        batch_op.drop_index(batch_op.f('ix_discovery_runs_status'))
        batch_op.drop_index('ix_discovery_runs_school_id_id')

    op.drop_table('discovery_runs')
    op.drop_table('discovery_leases')
