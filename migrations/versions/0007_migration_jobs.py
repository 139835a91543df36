"""jobs moving the running instances of a version to another

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa
import app.db.base


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('migration_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.String(length=128), nullable=False),
    sa.Column('from_version', sa.Integer(), nullable=False),
    sa.Column('to_version', sa.Integer(), nullable=False),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('instance_ids', sa.JSON(), nullable=False),
    sa.Column('results', sa.JSON(), nullable=False),
    sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', app.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_migration_jobs'))
    )
    with op.batch_alter_table('migration_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_migration_jobs_model_id'), ['model_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('migration_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_migration_jobs_model_id'))
    op.drop_table('migration_jobs')
