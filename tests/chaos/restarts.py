"""Scenarios where a whole process goes away and comes back (reliability.md §5): the worker (R2), the broker
(R4), the database (R6), and a model upgrade that recomputes every session (D2)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import psutil
from sqlalchemy import func, select, update

from chaos.postgres import private_postgres
from chaos.stack import Chaos, Result, chaos_stack, duplicates, wait
from core.db import dispose_engines, unit_of_work
from core.models import AlertOutbox, Upload, WorkoutSession
from fitgen import DEFAULT_START, build_fit, steady_records
from sweatsync.embedded import start_redis

REPO = Path(__file__).resolve().parents[2]


def ride(i: int, minutes: int = 20) -> bytes:
    return build_fit(
        steady_records(minutes=minutes, hr=150, speed_ms=3.0),
        sport="running",
        start=DEFAULT_START + timedelta(days=i, minutes=i),
    )


def statuses(ids: list[str]) -> list[str | None]:
    with unit_of_work() as uow:
        rows = {str(u.id): u.status for u in uow.session.scalars(select(Upload))}
    return [rows.get(i) for i in ids]


def done(ids: list[str]) -> int:
    return sum(s == "done" for s in statuses(ids))


def processing_pid(upload_id: str) -> int | None:
    with unit_of_work() as uow:
        row = uow.session.get(Upload, uuid.UUID(upload_id))
        return row.worker_pid if row is not None and row.status == "processing" else None


def r2_worker_killed(stack: Chaos, runs: int = 2) -> Result:
    """kill -9 the worker's parent and children mid-parse; a new worker starts 5 s later."""
    from chaos.scenarios import slow_gpx

    worst, lost = 0.0, 0
    for i in range(runs):
        upload_id = stack.upload(f"whole{i}.gpx", slow_gpx(300 + i)).json()["id"]
        with stack.worker(concurrency=1, name=f"r2-{i}") as proc:
            wait(lambda u=upload_id: processing_pid(u) is not None, "R2: the worker claims the upload")
            family = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
            for member in family:
                member.kill()
            proc.wait()  # type: ignore[attr-defined]
            killed = time.monotonic()
        time.sleep(5)  # reliability.md R2: restart after 5 s
        with stack.worker(concurrency=1, name=f"r2-{i}-restarted"):
            wait(lambda u=upload_id: statuses([u]) == ["done"], "R2: processed by the restarted worker")
        worst = max(worst, time.monotonic() - killed)
        lost += statuses([upload_id]) != ["done"]
    return Result(
        "R2 kill -9 whole worker mid-parse",
        runs,
        lost,
        duplicates(),
        stack.five_xx,
        worst,
        stack.memory.peak_mb,
        "restarted after 5 s",
    )


def r4_broker_restart(stack: Chaos, queued: int = 30) -> Result:
    """kill -9 the redis-server (AOF on) with uploads queued and in flight; restart it on its port."""
    ids = [stack.upload(f"b{i}.fit", ride(1000 + i, minutes=60)).json()["id"] for i in range(queued)]
    time.sleep(1.5)  # appendfsync everysec: the queue reaches the append-only file
    with stack.supervised_worker(concurrency=2, name="r4") as worker:  # kombu can make it exit on the loss
        wait(lambda: done(ids) >= 3, "R4: the first uploads")
        stack.redis_proc.kill()  # type: ignore[attr-defined]
        stack.redis_proc.wait()  # type: ignore[attr-defined]
        time.sleep(2)
        stack.redis_proc, _ = start_redis(stack.redis_dir, stack.redis_port)
        restarted, before = time.monotonic(), done(ids)
        wait(lambda: done(ids) > before, "R4: the workers consume again")
        consuming_again = time.monotonic() - restarted
        wait(lambda: done(ids) == queued, "R4: every upload after the restart")
    return Result(
        "R4 kill -9 broker, restart, AOF on",
        queued,
        queued - done(ids),
        duplicates(),
        stack.five_xx,
        time.monotonic() - restarted,
        stack.memory.peak_mb,
        f"consuming again {consuming_again:.1f} s after the restart; worker started again {worker.restarts}x",
    )


def _upload_retrying(stack: Chaos, name: str, data: bytes) -> str:
    """Upload as a client would: on 503 + Retry-After, wait and send again."""
    while True:
        r = stack.upload(name, data)
        if r.status_code in (200, 202):
            return str(r.json()["id"])
        assert r.status_code == 503, (r.status_code, r.text)
        time.sleep(float(r.headers.get("Retry-After", "1")))


def r6_postgres_restart(tmp: Path, uploads: int = 30) -> Result:
    """kill -9 the PostgreSQL postmaster mid-batch and start it again: the API answers 503 meanwhile, the
    workers retry, and every upload is processed once."""
    with private_postgres() as pg, chaos_stack(tmp, database_url=pg.url) as stack:
        files = [ride(1100 + i, minutes=30) for i in range(uploads)]
        half = uploads // 2
        with stack.worker(concurrency=2, name="r6"):
            ids = [_upload_retrying(stack, f"p{i}.fit", files[i]) for i in range(half)]
            wait(lambda: done(ids) >= 2, "R6: the first uploads")
            pg.kill()
            killed = time.monotonic()
            refused = [stack.upload(f"down{i}.fit", files[half + i]).status_code for i in range(3)]
            time.sleep(3)
            pg.start()
            dispose_engines()  # this process's pool holds connections to the killed server
            ids += [_upload_retrying(stack, f"p{i}.fit", files[i]) for i in range(half, uploads)]
            wait(lambda: done(ids) == uploads, "R6: every upload after the restart")
        note = f"uploads during the outage answered {sorted(set(refused))} with Retry-After; resent"
        return Result(
            "R6 kill -9 PostgreSQL mid-batch",
            uploads,
            uploads - done(ids),
            duplicates(),
            stack.five_xx,
            time.monotonic() - killed,
            stack.memory.peak_mb,
            note,
        )


def _results() -> dict[str, tuple[str, dict[str, object]]]:
    with unit_of_work() as uow:
        rows = uow.session.scalars(select(WorkoutSession))
        return {str(r.id): (r.algorithm_version, r.metrics) for r in rows}


def _outbox_rows() -> int:
    with unit_of_work() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(AlertOutbox)) or 0)


def _figures(metrics: dict[str, object]) -> dict[str, object]:
    """What the models computed; `alert` says what happened to the email, which a recompute must change
    from "queued" to "already alerted"."""
    return {k: v for k, v in metrics.items() if k != "alert"}


def d2_recompute(stack: Chaos, sessions: int = 10) -> Result:
    """Every stored session marked as analysed by an older model, then `sweatsync recompute`: the same
    results (the rules did not change) and no new alert."""
    from chaos.mail_faults import HOT_PROFILE, hot_ride
    from workers.physiology import ALGORITHM_VERSION

    httpx.put(f"{stack.api}/v1/profile", headers={"Authorization": f"Bearer {stack.token}"}, json=HOT_PROFILE)
    ids = [
        stack.upload(f"d{i}.fit", hot_ride(1200 + i) if i % 2 else ride(1200 + i)).json()["id"]
        for i in range(sessions)
    ]
    with stack.worker(concurrency=1, name="d2"):  # in upload order: each sees the sessions before it
        wait(lambda: done(ids) == sessions, "D2: the first analysis")
        before, emails = _results(), _outbox_rows()
        with unit_of_work() as uow:
            uow.session.execute(update(WorkoutSession).values(algorithm_version="2026.01.1"))
        started = time.monotonic()
        env = {**os.environ, **stack.env}
        subprocess.run(
            [sys.executable, "-m", "sweatsync.cli", "recompute"],
            env=env,
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        current = lambda: all(v == ALGORITHM_VERSION for v, _ in _results().values())  # noqa: E731
        wait(current, "D2: every session recomputed")
    after = _results()
    changed = sum(_figures(after[k][1]) != _figures(before[k][1]) for k in before)
    new_emails = _outbox_rows() - emails
    return Result(
        "D2 model bump, recompute every session",
        len(before),
        changed,
        new_emails,
        stack.five_xx,
        time.monotonic() - started,
        stack.memory.peak_mb,
        f"{changed} results changed, {new_emails} new alerts",
    )
