"""when instances ended, and how long completed instances and user tasks took, for the reports

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

import math

from alembic import op
import sqlalchemy as sa
import app.db.base


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('process_instances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ended_at', app.db.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_index('ix_process_instances_created_at')
        batch_op.create_index('ix_process_instances_created_at', ['created_at', 'model_id'], unique=False)
        batch_op.create_index('ix_process_instances_ended_at', ['ended_at', 'model_id'], unique=False)
    # An ended instance was last changed when it ended.
    op.execute("UPDATE process_instances SET ended_at = updated_at WHERE status IN ('complete', 'cancelled')")
    completion_times = op.create_table('completion_times',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.String(length=128), nullable=False),
    sa.Column('element_id', sa.String(length=255), nullable=True),
    sa.Column('completed_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seconds', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.SmallInteger(), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], name=op.f('fk_completion_times_instance_id_process_instances'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_completion_times'))
    )
    with op.batch_alter_table('completion_times', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_completion_times_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index('ix_completion_times_report', ['model_id', 'element_id', 'bucket', 'completed_at', 'seconds'], unique=False)
    # The instances completed before: their whole time is known (their tasks' times are not).
    instances = sa.table(
        'process_instances',
        sa.column('id', sa.Integer()), sa.column('model_id', sa.String()), sa.column('status', sa.String()),
        sa.column('created_at', app.db.base.UTCDateTime()), sa.column('ended_at', app.db.base.UTCDateTime()),
    )
    connection = op.get_bind()
    done = connection.execute(
        sa.select(instances.c.id, instances.c.model_id, instances.c.created_at, instances.c.ended_at)
        .where(instances.c.status == 'complete')
    ).all()
    rows = []
    for instance_id, model_id, created_at, ended_at in done:
        seconds = max(0, round((ended_at - created_at).total_seconds()))
        bucket = 0 if seconds < 1 else math.floor(math.log(seconds) / math.log(1.05)) + 1
        rows.append({'instance_id': instance_id, 'model_id': model_id, 'element_id': None,
                     'completed_at': ended_at, 'seconds': seconds, 'bucket': bucket})
    for start in range(0, len(rows), 5000):
        op.bulk_insert(completion_times, rows[start:start + 5000])


def downgrade() -> None:
    with op.batch_alter_table('completion_times', schema=None) as batch_op:
        batch_op.drop_index('ix_completion_times_report')
        batch_op.drop_index(batch_op.f('ix_completion_times_instance_id'))
    op.drop_table('completion_times')
    with op.batch_alter_table('process_instances', schema=None) as batch_op:
        batch_op.drop_index('ix_process_instances_ended_at')
        batch_op.drop_index('ix_process_instances_created_at')
        batch_op.create_index('ix_process_instances_created_at', ['created_at'], unique=False)
        batch_op.drop_column('ended_at')
