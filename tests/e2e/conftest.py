"""The service stack for end-to-end tests: API, Redis, a Celery worker process, SMTP, a database."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis

from conftest import BACKENDS, isolated_env, migrated_database
from support.services import ApiServer, celery_worker, smtp_server
from support.stack import Stack


@pytest.fixture(scope="module", params=BACKENDS)
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, redis_url: str
) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp(f"stack-{request.param}")
    redis.Redis.from_url(redis_url).flushall()
    with (
        pytest.MonkeyPatch.context() as mp,
        migrated_database(request.param, tmp) as db_url,
        smtp_server() as (smtp_url, sink),
        # The real sample files are years old: a wide alert window lets them stand in for fresh sessions.
        isolated_env(
            mp, tmp, database_url=db_url, broker_url=redis_url, smtp_url=smtp_url, alert_window_h="1000000"
        ),
    ):
        env = {k: v for k, v in os.environ.items() if k.startswith("SWEATSYNC_")}
        log = tmp / "worker.log"
        with celery_worker(env, concurrency=2, log=log), ApiServer() as api:
            yield Stack(api.url, sink, tmp, log)
