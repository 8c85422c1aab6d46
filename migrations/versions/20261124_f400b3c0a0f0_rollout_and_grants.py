"""rollout and grants

Revision ID: f400b3c0a0f0
Revises: ceba7c5bfc72
Created: 2026-11-24 17:15:16.509004
"""

from alembic import op
import sqlalchemy as sa


revision = 'f400b3c0a0f0'
down_revision = 'ceba7c5bfc72'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=60), nullable=False),
    sa.Column('programme', sa.String(length=40), nullable=False),
    sa.Column('applied', sa.Date(), nullable=True),
    sa.Column('decided', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('rate', sa.Numeric(precision=5, scale=4), nullable=False),
    sa.Column('project_end', sa.Date(), nullable=True),
    sa.Column('proof_due', sa.Date(), nullable=True),
    sa.Column('proof_submitted', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grants')),
    sa.UniqueConstraint('ref', name=op.f('uq_grants_ref')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grants_programme'), ['programme'], unique=False)

    op.create_table('grant_schools',
    sa.Column('grant_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['grant_id'], ['grants.id'], name=op.f('fk_grant_schools_grant_id_grants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_grant_schools_school_id_schools'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('grant_id', 'school_id', name=op.f('pk_grant_schools'))
    )
    with op.batch_alter_table('grant_schools', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grant_schools_school_id'), ['school_id'], unique=False)

    with op.batch_alter_table('carriers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('funding', sa.JSON(), server_default='{}', nullable=False))
        batch_op.add_column(sa.Column('budgets', sa.JSON(), server_default='{}', nullable=False))

    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('items', sa.JSON(), server_default='{}', nullable=False))
        batch_op.add_column(sa.Column('target_date', sa.Date(), nullable=True))

    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.add_column(sa.Column('network_since', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('target_date', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.drop_column('target_date')
        batch_op.drop_column('network_since')

    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.drop_column('target_date')
        batch_op.drop_column('items')

    with op.batch_alter_table('carriers', schema=None) as batch_op:
        batch_op.drop_column('budgets')
        batch_op.drop_column('funding')

    with op.batch_alter_table('grant_schools', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grant_schools_school_id'))

    op.drop_table('grant_schools')
    with op.batch_alter_table('grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grants_programme'))

    op.drop_table('grants')
