"""human tasks no longer open, with their instances

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa
import app.db.base


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('closed_tasks',
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('element_id', sa.String(length=255), nullable=False),
    sa.Column('closed_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], name=op.f('fk_closed_tasks_instance_id_process_instances'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('task_id', name=op.f('pk_closed_tasks'))
    )
    with op.batch_alter_table('closed_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_closed_tasks_instance_id'), ['instance_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('closed_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_closed_tasks_instance_id'))
    op.drop_table('closed_tasks')
