"""A crashed worker or a lost broker queue delays work, never loses it (reliability.md R1, R5)."""

from __future__ import annotations

import os
import signal
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import func, select

from conftest import isolated_env, migrated_database
from core.db import unit_of_work
from core.models import Upload, WorkoutSession
from fitgen import DEFAULT_START, build_fit, steady_records
from support.services import SAMPLES, ApiServer, celery_worker, supervised_worker
from support.waiting import wait_for_count, wait_until

pytestmark = pytest.mark.integration

LONG_FILE = SAMPLES / "multi_garmin-fenix5x_14h05.fit"  # several seconds of parsing: time to kill it


@contextmanager
def api_and_env(tmp: Path, redis_url: str, **extra: str) -> Iterator[tuple[str, str, dict[str, str]]]:
    redis.Redis.from_url(redis_url).flushall()
    with (
        pytest.MonkeyPatch.context() as mp,
        migrated_database("sqlite", tmp) as db_url,
        isolated_env(mp, tmp, database_url=db_url, broker_url=redis_url, **extra),
        ApiServer() as api,
    ):
        token = httpx.post(f"{api.url}/v1/users", json={"email": "r@example.com"}).json()["token"]
        env = {k: v for k, v in os.environ.items() if k.startswith("SWEATSYNC_")}
        yield api.url, token, env


def post(api: str, token: str, name: str, data: bytes) -> str:
    r = httpx.post(
        f"{api}/v1/uploads",
        files={"file": (name, data)},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert r.status_code == 202, r.text
    return r.json()["id"]


def wait_for(predicate, timeout_s: float, what: str) -> None:  # noqa: ANN001
    """Wait on state; `timeout_s` is what a healthy run needs, the ceiling is five times that."""
    wait_until(predicate, what=what, ceiling_s=5 * timeout_s)


def statuses() -> dict[str, int]:
    with unit_of_work() as uow:
        rows = uow.session.execute(select(Upload.status, func.count()).group_by(Upload.status))
        return dict(rows.all())  # type: ignore[arg-type]


@pytest.mark.skipif(not LONG_FILE.exists(), reason="sample file missing")
def test_killing_the_worker_child_mid_parse_delays_the_upload_but_loses_nothing(
    tmp_path: Path, redis_url: str
) -> None:
    with api_and_env(tmp_path, redis_url) as (api, token, env):
        with celery_worker(env, concurrency=1, log=tmp_path / "worker.log"):
            upload_id = post(api, token, LONG_FILE.name, LONG_FILE.read_bytes())

            def worker_pid() -> int | None:
                with unit_of_work() as uow:
                    row = uow.session.get(Upload, uuid.UUID(upload_id))
                    return row.worker_pid if row and row.status == "processing" else None

            wait_for(lambda: worker_pid() is not None, 60, "the worker to claim the upload")
            os.kill(worker_pid(), signal.SIGKILL)  # the prefork child, mid-parse
            wait_for(lambda: statuses().get("done") == 1, 240, "the upload to be processed after the kill")
        with unit_of_work() as uow:
            row = uow.session.scalar(select(Upload))
            assert row.attempts == 2
            legs = uow.session.scalar(select(func.count()).select_from(WorkoutSession))
            assert legs >= 1
            assert uow.session.scalar(select(func.count(func.distinct(WorkoutSession.leg_index)))) == legs


@pytest.mark.skipif(not LONG_FILE.exists(), reason="sample file missing")
def test_killing_the_whole_worker_mid_parse_delays_the_upload_but_loses_nothing(
    tmp_path: Path, redis_url: str
) -> None:
    """R2: parent and children killed at once; a new worker starts 5 s later."""
    import psutil

    with api_and_env(tmp_path, redis_url, broker_visibility_timeout_s="10") as (api, token, env):
        with celery_worker(env, concurrency=1, log=tmp_path / "worker.log") as worker:
            upload_id = post(api, token, LONG_FILE.name, LONG_FILE.read_bytes())
            wait_for(lambda: statuses().get("processing") == 1, 60, "the worker to claim the upload")
            family = [worker, *psutil.Process(worker.pid).children(recursive=True)]
            for proc in family:
                os.kill(proc.pid, signal.SIGKILL)
            worker.wait()
        time.sleep(5)
        with celery_worker(env, concurrency=1, log=tmp_path / "worker2.log"):
            wait_for(lambda: statuses().get("done") == 1, 300, "the upload to be processed by the new worker")
        with unit_of_work() as uow:
            row = uow.session.get(Upload, uuid.UUID(upload_id))
            assert row is not None and row.attempts == 2
            assert uow.session.scalar(select(func.count()).select_from(WorkoutSession)) >= 1


def test_the_sweeper_recovers_every_upload_when_the_broker_loses_its_queue(
    tmp_path: Path, redis_url: str
) -> None:
    with api_and_env(tmp_path, redis_url, stuck_after_s="1", sweep_interval_s="2") as (api, token, env):
        ids = [
            post(
                api,
                token,
                f"run{i}.fit",
                build_fit(
                    steady_records(minutes=20, hr=150),
                    sport="running",
                    start=DEFAULT_START + timedelta(days=i),
                ),
            )
            for i in range(5)
        ]
        redis.Redis.from_url(redis_url).flushall()  # every queued message is gone
        with celery_worker(env, concurrency=2, beat=True, log=tmp_path / "worker.log"):
            wait_for(
                lambda: statuses().get("done") == len(ids), 120, "the sweeper to re-enqueue the lost uploads"
            )


def test_workers_consume_again_after_the_broker_is_killed_and_restarted(tmp_path: Path) -> None:
    """R4: kill -9 a redis-server (AOF on) with tasks queued and in flight; restart it on the same port.

    Run as production runs it: the worker supervised, with beat. A message popped by the worker just as the
    broker died can be lost (a Redis list pop is not acknowledged); the sweeper sends that upload again."""
    from core.settings import Settings
    from support.uploads import make_upload
    from sweatsync.embedded import free_port, start_redis, stop
    from workers.celery_app import make_celery

    port = free_port()
    redis_dir = tmp_path / "broker"
    proc, broker = start_redis(redis_dir, port)
    try:
        with (
            pytest.MonkeyPatch.context() as mp,
            migrated_database("sqlite", tmp_path) as db_url,
            isolated_env(
                mp,
                tmp_path,
                database_url=db_url,
                broker_url=broker,
                broker_visibility_timeout_s="10",
                stuck_after_s="10",
                sweep_interval_s="10",
            ),
        ):
            ids = [
                make_upload(
                    build_fit(
                        steady_records(minutes=90, hr=150),
                        sport="running",
                        start=DEFAULT_START + timedelta(days=i),
                    )
                )
                for i in range(40)
            ]
            sender = make_celery(Settings())
            for upload_id in ids:
                sender.send_task("sweatsync.process_upload", args=[str(upload_id)])
            time.sleep(1.5)  # appendfsync everysec: let the queue reach the append-only file
            env = {k: v for k, v in os.environ.items() if k.startswith("SWEATSYNC_")}
            # Supervised as `sweatsync up` and compose run it: kombu can make a worker exit on the loss.
            with supervised_worker(env, concurrency=2, beat=True, log=tmp_path / "worker.log") as worker:
                wait_for_count(lambda: statuses().get("done", 0), 4, what="R4: the first uploads")
                proc.kill()
                proc.wait()
                time.sleep(2)
                proc, _ = start_redis(redis_dir, port)
                # No fixed deadline: fail only when no upload finishes for 4 minutes (a worker that stopped
                # consuming, celery#8030), however slow the machine; the time taken is reported.
                wait_for_count(
                    lambda: statuses().get("done", 0),
                    len(ids),
                    what="R4: every upload after the restart",
                    stall_s=240,
                )
                print(f"[R4] worker started again {worker.restarts} time(s)", file=sys.stderr)
            with unit_of_work() as uow:
                assert uow.session.scalar(select(func.count()).select_from(WorkoutSession)) == len(ids)
    finally:
        stop(proc)
