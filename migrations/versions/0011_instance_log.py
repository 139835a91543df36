"""what diagram code printed, per instance

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa

import app.db.base


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'instance_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('at', app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('element_id', sa.String(length=255), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ['instance_id'], ['process_instances.id'],
            name=op.f('fk_instance_log_instance_id_process_instances'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_instance_log')),
    )
    with op.batch_alter_table('instance_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instance_log_instance_id'), ['instance_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('instance_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instance_log_instance_id'))
    op.drop_table('instance_log')
