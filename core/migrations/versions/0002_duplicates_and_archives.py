"""duplicates and archives

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 15:01:16.715241
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device_key", sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f("ix_sessions_device_key"), ["device_key"], unique=False)

    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("force", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("archive_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("duplicate_of", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key("fk_uploads_archive_id", "uploads", ["archive_id"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.drop_constraint("fk_uploads_archive_id", type_="foreignkey")
        batch_op.drop_column("duplicate_of")
        batch_op.drop_column("archive_id")
        batch_op.drop_column("force")

    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sessions_device_key"))
        batch_op.drop_column("device_key")
