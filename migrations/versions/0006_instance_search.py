"""instances found by business key, dates and searchable values

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('process_instances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('business_key', sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f('ix_process_instances_business_key'), ['business_key'], unique=False)
        batch_op.create_index('ix_process_instances_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_process_instances_updated_at', ['updated_at'], unique=False)
        batch_op.create_index('ix_process_instances_started_by', ['started_by'], unique=False)
    op.create_table('instance_values',
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], name=op.f('fk_instance_values_instance_id_process_instances'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('instance_id', 'name', name=op.f('pk_instance_values'))
    )
    with op.batch_alter_table('instance_values', schema=None) as batch_op:
        batch_op.create_index('ix_instance_values_name_value', ['name', 'value'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('instance_values', schema=None) as batch_op:
        batch_op.drop_index('ix_instance_values_name_value')
    op.drop_table('instance_values')
    with op.batch_alter_table('process_instances', schema=None) as batch_op:
        batch_op.drop_index('ix_process_instances_started_by')
        batch_op.drop_index('ix_process_instances_updated_at')
        batch_op.drop_index('ix_process_instances_created_at')
        batch_op.drop_index(batch_op.f('ix_process_instances_business_key'))
        batch_op.drop_column('business_key')
