"""groups besides the lane's that may take a task

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('human_task_groups',
    sa.Column('group_name', sa.String(length=64), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['human_tasks.id'], name=op.f('fk_human_task_groups_task_id_human_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_name', 'task_id', name=op.f('pk_human_task_groups'))
    )
    with op.batch_alter_table('human_task_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_human_task_groups_task_id'), ['task_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('human_task_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_human_task_groups_task_id'))
    op.drop_table('human_task_groups')
