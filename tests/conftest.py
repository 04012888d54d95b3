"""Shared fixtures: an isolated environment and real, migrated databases (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from core.db import dispose_engines
from core.migrate import upgrade_to_head
from core.settings import reset_settings_cache
from support.services import fresh_postgres_database, postgres_reachable

_PG = postgres_reachable()
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=pytest.mark.skipif(not _PG, reason="PostgreSQL is not reachable on 127.0.0.1:5432"),
    ),
]


@contextmanager
def migrated_database(backend: str, tmp: Path) -> Iterator[str]:
    if backend == "sqlite":
        url = f"sqlite:///{tmp / 'sweatsync.db'}"
        upgrade_to_head(url)
        yield url
        return
    with fresh_postgres_database() as url:
        upgrade_to_head(url)
        yield url
        dispose_engines()


@contextmanager
def isolated_env(mp: pytest.MonkeyPatch, var_dir: Path, **values: str) -> Iterator[None]:
    """Point every SWEATSYNC_* setting at this test's own folder, database and services."""
    import os

    for key in list(os.environ):
        if key.startswith("SWEATSYNC_") and key != "SWEATSYNC_TEST_POSTGRES_URL":
            mp.delenv(key)
    mp.setenv("SWEATSYNC_VAR_DIR", str(var_dir))
    # The session's shared Redis would add up every test's requests from 127.0.0.1; tests of the limits
    # turn them on (rate_limits_enabled="true") with counters of their own.
    mp.setenv("SWEATSYNC_RATE_LIMITS_ENABLED", "false")
    for key, value in values.items():
        mp.setenv(f"SWEATSYNC_{key.upper()}", value)
    reset_settings_cache()
    dispose_engines()
    try:
        yield
    finally:
        reset_settings_cache()
        dispose_engines()


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A fresh database at the latest migration, with the environment pointing at it."""
    with (
        migrated_database(request.param, tmp_path) as url,
        isolated_env(monkeypatch, tmp_path, database_url=url),
    ):
        yield url


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server (AOF on) for the whole run; tests may kill and restart it by pid."""
    from support.services import redis_server

    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the chaos scenarios last: they kill and restart processes and move the in-process Celery app
    between brokers, and no later test should inherit what a scenario left behind."""
    chaos = [item for item in items if "/tests/chaos/" in str(item.path)]
    if chaos:
        rest = [item for item in items if "/tests/chaos/" not in str(item.path)]
        items[:] = rest + chaos
