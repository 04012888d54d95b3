"""Alembic migrations build exactly the schema the models describe, and walk down and up again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.db import get_engine
from core.migrate import alembic_config, upgrade_to_head
from core.models import Base


def test_the_migrated_schema_matches_the_models(database_url: str) -> None:
    with get_engine().connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_every_migration_can_be_undone_and_redone(database_url: str) -> None:
    command.downgrade(alembic_config(database_url), "base")
    upgrade_to_head(database_url)
    with get_engine().connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
