"""inventory tables

Revision ID: d692fba99034
Revises: 
Created: 2026-11-24 14:50:28.042252
"""

from alembic import op
import sqlalchemy as sa


revision = 'd692fba99034'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash')),
    sqlite_autoincrement=True
    )
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('object_repr', sa.String(length=200), nullable=True),
    sa.Column('school_code', sa.String(length=40), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_events_object', ['object_type', 'object_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_school_code'), ['school_code'], unique=False)

    op.create_table('carriers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('state', sa.String(length=2), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carriers')),
    sqlite_autoincrement=True
    )
    op.create_table('profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_profiles')),
    sa.UniqueConstraint('code', name=op.f('uq_profiles_code')),
    sqlite_autoincrement=True
    )
    op.create_table('schools',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=True),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('concept_date', sa.Date(), nullable=True),
    sa.Column('discovery', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schools')),
    sa.UniqueConstraint('code', name=op.f('uq_schools_code')),
    sqlite_autoincrement=True
    )
    op.create_table('api_token_schools',
    sa.Column('token_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_api_token_schools_school_id_schools'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['token_id'], ['api_tokens.id'], name=op.f('fk_api_token_schools_token_id_api_tokens'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_id', 'school_id', name=op.f('pk_api_token_schools'))
    )
    op.create_table('rooms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('building', sa.String(length=40), nullable=True),
    sa.Column('floor', sa.Integer(), nullable=True),
    sa.Column('profile_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], name=op.f('fk_rooms_profile_id_profiles')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_rooms_school_id_schools'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rooms')),
    sa.UniqueConstraint('school_id', 'code', name='uq_rooms_school_code'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rooms_profile_id'), ['profile_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rooms_school_id'), ['school_id'], unique=False)

    op.create_table('subnets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('cidr', sa.String(length=49), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_subnets_school_id_schools'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subnets')),
    sa.UniqueConstraint('cidr', name=op.f('uq_subnets_cidr')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('subnets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subnets_school_id'), ['school_id'], unique=False)

    op.create_table('devices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('vendor', sa.String(length=80), nullable=True),
    sa.Column('model', sa.String(length=120), nullable=True),
    sa.Column('serial', sa.String(length=80), nullable=True),
    sa.Column('asset_tag', sa.String(length=40), nullable=True),
    sa.Column('hostname', sa.String(length=63), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('ip_key', sa.String(length=32), nullable=True),
    sa.Column('borrower', sa.String(length=80), nullable=True),
    sa.Column('supplier', sa.String(length=120), nullable=True),
    sa.Column('invoice', sa.String(length=80), nullable=True),
    sa.Column('purchase_date', sa.Date(), nullable=True),
    sa.Column('price_net', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('price_gross', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('grant_ref', sa.String(length=60), nullable=True),
    sa.Column('funding_category', sa.String(length=32), nullable=True),
    sa.Column('warranty_end', sa.Date(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_seen_ip', sa.String(length=45), nullable=True),
    sa.Column('last_seen_ip_key', sa.String(length=32), nullable=True),
    sa.Column('last_seen_where', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['devices.id'], name=op.f('fk_devices_parent_id_devices')),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_devices_room_id_rooms')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_devices_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_devices')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_devices_asset_tag'), ['asset_tag'], unique=False)
        batch_op.create_index(batch_op.f('ix_devices_grant_ref'), ['grant_ref'], unique=False)
        batch_op.create_index(batch_op.f('ix_devices_hostname'), ['hostname'], unique=False)
        batch_op.create_index(batch_op.f('ix_devices_ip_key'), ['ip_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_devices_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_devices_last_seen_at'), ['last_seen_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_devices_last_seen_ip_key'), ['last_seen_ip_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_devices_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_devices_room_id'), ['room_id'], unique=False)
        batch_op.create_index('ix_devices_school_id_id', ['school_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_devices_serial'), ['serial'], unique=False)
        batch_op.create_index(batch_op.f('ix_devices_status'), ['status'], unique=False)
        batch_op.create_index('uq_devices_asset_tag_live', ['asset_tag'], unique=True, sqlite_where=sa.text("status <> 'retired'"), postgresql_where=sa.text("status <> 'retired'"))
        batch_op.create_index('uq_devices_serial_live', ['serial'], unique=True, sqlite_where=sa.text("status <> 'retired'"), postgresql_where=sa.text("status <> 'retired'"))

    op.create_table('interfaces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('mac', sa.String(length=17), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('last_ip', sa.String(length=45), nullable=True),
    sa.Column('live', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_interfaces_device_id_devices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interfaces')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('interfaces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interfaces_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interfaces_mac'), ['mac'], unique=False)
        batch_op.create_index('uq_interfaces_mac_live', ['mac'], unique=True, sqlite_where=sa.text('live'), postgresql_where=sa.text('live'))



def downgrade():
    with op.batch_alter_table('interfaces', schema=None) as batch_op:
        batch_op.drop_index('uq_interfaces_mac_live', sqlite_where=sa.text('live'), postgresql_where=sa.text('live'))
        batch_op.drop_index(batch_op.f('ix_interfaces_mac'))
        batch_op.drop_index(batch_op.f('ix_interfaces_device_id'))

    op.drop_table('interfaces')
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_index('uq_devices_serial_live', sqlite_where=sa.text("status <> 'retired'"), postgresql_where=sa.text("status <> 'retired'"))
        batch_op.drop_index('uq_devices_asset_tag_live', sqlite_where=sa.text("status <> 'retired'"), postgresql_where=sa.text("status <> 'retired'"))
        batch_op.drop_index(batch_op.f('ix_devices_status'))
        batch_op.drop_index(batch_op.f('ix_devices_serial'))
        batch_op.drop_index('ix_devices_school_id_id')
        batch_op.drop_index(batch_op.f('ix_devices_room_id'))
        batch_op.drop_index(batch_op.f('ix_devices_parent_id'))
        batch_op.drop_index(batch_op.f('ix_devices_last_seen_ip_key'))
        batch_op.drop_index(batch_op.f('ix_devices_last_seen_at'))
        batch_op.drop_index(batch_op.f('ix_devices_kind'))
        batch_op.drop_index(batch_op.f('ix_devices_ip_key'))
        batch_op.drop_index(batch_op.f('ix_devices_hostname'))
        batch_op.drop_index(batch_op.f('ix_devices_grant_ref'))
        batch_op.drop_index(batch_op.f('ix_devices_asset_tag'))

    op.drop_table('devices')
    with op.batch_alter_table('subnets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subnets_school_id'))

    op.drop_table('subnets')
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rooms_school_id'))
        batch_op.drop_index(batch_op.f('ix_rooms_profile_id'))

    op.drop_table('rooms')
    op.drop_table('api_token_schools')
    op.drop_table('schools')
    op.drop_table('profiles')
    op.drop_table('carriers')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_school_code'))
        batch_op.drop_index('ix_audit_events_object')
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))

    op.drop_table('audit_events')
    op.drop_table('api_tokens')
