"""the editor: a comment per version, and analysts' drafts

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa

import app.db.base


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('process_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('comment', sa.Text(), nullable=False, server_default=''))
    op.create_table(
        'model_drafts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('model_id', sa.String(length=128), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('base_version', sa.Integer(), nullable=True),
        sa.Column('files', sa.JSON(), nullable=False),
        sa.Column('created_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_model_drafts')),
        sa.UniqueConstraint('model_id', 'username', name=op.f('uq_model_drafts_model_id')),
    )
    with op.batch_alter_table('model_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_model_drafts_model_id'), ['model_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('model_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_model_drafts_model_id'))
    op.drop_table('model_drafts')
    with op.batch_alter_table('process_versions', schema=None) as batch_op:
        batch_op.drop_column('comment')
