"""A private stack for fault scenarios: redis-server, SQLite, a Celery worker with beat, the API; all on
loopback ports of their own, so scenarios kill exactly what they started, by pid."""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy import func, select

from conftest import isolated_env, migrated_database
from core.db import unit_of_work
from core.models import AlertOutbox, Upload, WorkoutSession
from support.services import ApiServer, celery_worker, supervised_worker
from sweatsync.embedded import Supervised, start_redis, stop


@dataclass
class Result:
    """One row of the fault table."""

    scenario: str
    runs: int
    lost: int
    duplicated: int
    five_xx: int
    worst_recovery_s: float
    peak_worker_mb: float
    note: str = ""


class MemoryWatch:
    """Peak resident memory of any one worker process (parent or child), sampled twice a second."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self.pids: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def watch(self, pid: int) -> None:
        self.pids.add(pid)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            for pid in list(self.pids):
                try:
                    family = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
                    rss = max(p.memory_info().rss for p in family)
                except psutil.Error:
                    continue
                self.peak_mb = max(self.peak_mb, rss / 1e6)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)


@dataclass
class Chaos:
    tmp: Path
    api: str
    token: str
    env: dict[str, str]
    redis_proc: object
    redis_dir: Path
    redis_port: int
    memory: MemoryWatch
    five_xx: int = 0
    unavailable: int = 0  # 503 + Retry-After answers (R6)
    sent: dict[str, str] = field(default_factory=dict)  # upload id -> sha256 of the bytes sent

    def upload(self, name: str, data: bytes) -> httpx.Response:
        import hashlib

        r = httpx.post(f"{self.api}/v1/uploads", files={"file": (name, data)},
                       headers={"Authorization": f"Bearer {self.token}"}, timeout=60)  # fmt: skip
        if r.status_code == 503 and "Retry-After" in r.headers:
            self.unavailable += 1  # the documented answer while the database is down: the client retries
        elif r.status_code >= 500:
            self.five_xx += 1
        elif r.status_code in (200, 202):
            self.sent[r.json()["id"]] = hashlib.sha256(data).hexdigest()
        return r

    @contextmanager
    def worker(self, concurrency: int = 2, name: str = "worker") -> Iterator[subprocess.Popen[bytes]]:
        with celery_worker(
            self.env, concurrency=concurrency, beat=True, log=self.tmp / f"{name}.log"
        ) as proc:
            self.memory.watch(proc.pid)
            yield proc

    @contextmanager
    def supervised_worker(self, concurrency: int = 2, name: str = "worker") -> Iterator[Supervised]:
        """Started again when it exits on its own, as `sweatsync up` and compose's restart policy do."""
        with supervised_worker(
            self.env, concurrency=concurrency, beat=True, log=self.tmp / f"{name}.log"
        ) as worker:
            self.memory.watch(worker.proc.pid)
            yield worker


def counts() -> dict[str, int]:
    with unit_of_work() as uow:
        rows = uow.session.execute(select(Upload.status, func.count()).group_by(Upload.status))
        return dict(rows.all())  # type: ignore[arg-type]


def duplicates() -> int:
    """Result rows or emails beyond one per (upload, leg) and per session."""
    with unit_of_work() as uow:
        sessions = uow.session.execute(
            select(func.count())
            .select_from(WorkoutSession)
            .group_by(WorkoutSession.upload_id, WorkoutSession.leg_index)
        ).scalars()
        emails = uow.session.execute(
            select(func.count()).select_from(AlertOutbox).group_by(AlertOutbox.session_id, AlertOutbox.kind)
        ).scalars()
        return sum(n - 1 for n in sessions) + sum(n - 1 for n in emails)


def _point_the_api_at(broker: str | None) -> str | None:
    """The API runs in this process, whose Celery app was made for the first stack's broker: move it, and
    answer the broker it had, so the stack can move it back for the tests that run after it."""
    from workers.celery_app import celery_app

    previous: str | None = celery_app.conf.broker_url
    celery_app.conf.broker_url = broker
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
        celery_app._pool = None
    celery_app.amqp._producer_pool = None
    return previous


@contextmanager
def database(tmp: Path, url: str | None) -> Iterator[str]:
    """The stack's database: SQLite in its folder, or the (private) PostgreSQL at url, migrated to head."""
    if url is None:
        with migrated_database("sqlite", tmp) as db_url:
            yield db_url
        return
    from core.migrate import upgrade_to_head

    upgrade_to_head(url)
    yield url


@contextmanager
def chaos_stack(tmp: Path, database_url: str | None = None, **settings: str) -> Iterator[Chaos]:
    from sweatsync.embedded import free_port

    port = free_port()
    redis_dir = tmp / "redis"
    proc, broker = start_redis(redis_dir, port)
    previous_broker = _point_the_api_at(broker)
    values = {
        "broker_url": broker, "stuck_after_s": "2", "sweep_interval_s": "2",
        "broker_visibility_timeout_s": "10", "max_waiting_uploads_per_user": "100000", **settings,
    }  # fmt: skip
    try:
        with (
            pytest.MonkeyPatch.context() as mp,
            database(tmp, database_url) as db_url,
            isolated_env(mp, tmp, database_url=db_url, **values),
            ApiServer() as api,
            MemoryWatch() as memory,
        ):
            email = f"chaos{uuid.uuid4().hex[:8]}@example.com"
            token = httpx.post(f"{api.url}/v1/users", json={"email": email}).json()["token"]
            profile = {"mass_kg": 70, "hr_max": 190, "hr_rest": 50, "cramp_history": "recent"}
            httpx.put(f"{api.url}/v1/profile", headers={"Authorization": f"Bearer {token}"}, json=profile)
            env = {k: v for k, v in os.environ.items() if k.startswith("SWEATSYNC_")}
            chaos = Chaos(tmp, api.url, token, env, proc, redis_dir, port, memory)
            yield chaos
            proc = chaos.redis_proc  # a scenario may have restarted it
    finally:
        stop(proc)  # type: ignore[arg-type]
        _point_the_api_at(previous_broker)  # later tests enqueue on their own broker, not this dead one


def wait(predicate: object, what: str, ceiling_s: float = 900.0) -> float:
    from support.waiting import wait_until

    return wait_until(predicate, what=what, ceiling_s=ceiling_s)  # type: ignore[arg-type]


def now() -> float:
    return time.monotonic()
