"""which process runs a migration job, and when it last wrote: stalled jobs are taken over

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa
import app.db.base


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('migration_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('runner', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', app.db.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('migration_jobs', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('runner')
