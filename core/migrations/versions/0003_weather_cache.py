"""weather cache: hourly observations by provider, rounded place and hour

Revision ID: 0003_weather
Revises: 0002
Create Date: 2026-12-04 15:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_weather"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "weather_cache",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("lat_e4", sa.Integer(), nullable=False),
        sa.Column("lon_e4", sa.Integer(), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("temp_c", sa.Float(), nullable=True),
        sa.Column("humidity_pct", sa.Float(), nullable=True),
        sa.Column("wind_ms", sa.Float(), nullable=True),
        sa.Column("cloud_cover_pct", sa.Float(), nullable=True),
        sa.Column("shortwave_w_m2", sa.Float(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider", "lat_e4", "lon_e4", "hour", name="uq_weather_cache_place_hour"),
    )


def downgrade() -> None:
    op.drop_table("weather_cache")
