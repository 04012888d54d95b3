"""profile: running FTP / critical power (running power is never divided by the cycling FTP, science.md §10.6)

Revision ID: 0005_running_ftp
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_running_ftp"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("profiles") as batch:
        batch.add_column(sa.Column("running_ftp_w", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("profiles") as batch:
        batch.drop_column("running_ftp_w")
