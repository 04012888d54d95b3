"""The embedded stack the service figures are taken on: SQLite (or a throwaway PostgreSQL database), Redis, a
Celery worker process, the API (uvicorn in its own process) and a real SMTP server (aiosmtpd) that notes when
each email arrives."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
from aiosmtpd.controller import Controller

from sweatsync.embedded import free_port, start_redis, stop, worker_command

REPO = Path(__file__).resolve().parents[1]
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
QUEUE = "sweatsync"
# A rider whose hot 3-h ride is high risk, so every upload of it ends in an email (as in tests/e2e).
RIDER = {
    "mass_kg": 84, "height_m": 1.80, "sex": "m", "birth_year": 1982, "hr_max": 186, "hr_rest": 55,
    "lthr": 165, "ftp_w": 230, "cramp_history": "recent",
}  # fmt: skip


@dataclass
class Inbox:
    """aiosmtpd handler: when each recipient's email arrived (monotonic seconds)."""

    arrivals: dict[str, float] = field(default_factory=dict)

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802
        now = time.monotonic()
        for rcpt in envelope.rcpt_tos:
            self.arrivals.setdefault(rcpt.lower(), now)
        return "250 OK"

    def wait_for(self, emails: list[str], timeout_s: float = 600) -> list[float]:
        deadline = time.monotonic() + timeout_s
        while not all(e in self.arrivals for e in emails):
            if time.monotonic() > deadline:
                missing = [e for e in emails if e not in self.arrivals]
                raise RuntimeError(
                    f"no email for {len(missing)} of {len(emails)} uploads in {timeout_s:.0f} s"
                )
            time.sleep(0.005)
        return [self.arrivals[e] for e in emails]


class Stack:
    def __init__(self, tmp: Path, database_url: str | None = None) -> None:
        self.tmp = tmp
        self.database_url = database_url
        self.inbox = Inbox()
        self.procs: list[subprocess.Popen[bytes]] = []
        self.worker: subprocess.Popen[bytes] | None = None
        self.relay: subprocess.Popen[bytes] | None = None
        self.api = ""
        self.broker = ""
        self.users = 0

    def __enter__(self) -> Stack:
        from core.migrate import upgrade_to_head
        from core.settings import reset_settings_cache

        self.tmp.mkdir(parents=True, exist_ok=True)
        redis_proc, broker = start_redis(self.tmp / "redis")
        self.procs.append(redis_proc)
        self.broker = broker
        self.smtp = Controller(self.inbox, hostname="127.0.0.1", port=free_port())
        self.smtp.start()
        db = self.database_url or f"sqlite:///{self.tmp / 'bench.db'}"
        for key in [k for k in os.environ if k.startswith("SWEATSYNC_")]:
            del os.environ[key]
        os.environ.update(
            SWEATSYNC_VAR_DIR=str(self.tmp),
            SWEATSYNC_DATABASE_URL=db,
            SWEATSYNC_BROKER_URL=broker,
            SWEATSYNC_SMTP_URL=f"smtp://127.0.0.1:{self.smtp.port}",
            SWEATSYNC_ALERT_WINDOW_H="1000000",  # the sample files are years old
            SWEATSYNC_RATE_LIMITS_ENABLED="false",
            SWEATSYNC_MAX_WAITING_UPLOADS_PER_USER="1000000",  # the ingest run queues many at once
        )
        reset_settings_cache()
        upgrade_to_head(db)
        port = free_port()
        cmd = [sys.executable, "-m", "uvicorn", "--factory", "ingest.app:create_app", "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "warning"]  # fmt: skip
        self.procs.append(subprocess.Popen(cmd, cwd=REPO, stdout=self._log("api"), stderr=subprocess.STDOUT))
        self.api = f"http://127.0.0.1:{port}"
        self._wait_for_api()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop_worker()
        if self.relay is not None:
            stop(self.relay)
        for proc in reversed(self.procs):
            stop(proc)
        self.smtp.stop()

    def _log(self, name: str) -> Any:
        return open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process

    def _wait_for_api(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{self.api}/healthz", timeout=2)
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    # -- worker --------------------------------------------------------------------------------------

    def start_worker(self, concurrency: int, *, relay_apart: bool = False) -> None:
        """A fresh worker. relay_apart: the bench's app (bench/worker_app.py), whose relay tasks wait in a
        queue of their own for start_relay(), so that these processes only analyse."""
        self.stop_worker()
        self.worker = self._celery(concurrency, QUEUE, relay_apart, "worker")
        deadline = time.monotonic() + 120
        while len(psutil.Process(self.worker.pid).children()) < concurrency:  # the pool is up
            if time.monotonic() > deadline or self.worker.poll() is not None:
                raise RuntimeError("the Celery worker did not start; see worker.log")
            time.sleep(0.1)
        time.sleep(1.0)  # the consumer connects after the pool forks

    def start_relay(self) -> None:
        """One process that sends the emails the relay_apart workers queued (bench.worker_app.RELAY_QUEUE)."""
        from bench.worker_app import RELAY_QUEUE

        if self.relay is None:
            self.relay = self._celery(1, RELAY_QUEUE, True, "relay")

    def _celery(self, concurrency: int, queue: str, bench_app: bool, log: str) -> subprocess.Popen[bytes]:
        cmd = worker_command(concurrency=concurrency, beat=False)
        cmd[cmd.index("-Q") + 1] = queue
        if bench_app:
            cmd[cmd.index("-A") + 1] = "bench.worker_app:celery_app"
        cmd += ["-n", f"{log}@%h"]
        return subprocess.Popen(cmd, cwd=REPO, stdout=self._log(log), stderr=subprocess.STDOUT)

    def consuming(self, on: bool) -> None:
        """Stop or resume the worker's consumer (Celery remote control): a burst is queued while it is off."""
        from celery import Celery

        control = Celery("bench-control", broker=self.broker).control
        destination = [f"worker@{socket.gethostname()}"]
        if on:
            replies = control.add_consumer(QUEUE, reply=True, destination=destination, timeout=10)
        else:
            replies = control.cancel_consumer(QUEUE, reply=True, destination=destination, timeout=10)
        if not replies:
            raise RuntimeError("the worker did not answer the consumer control command")

    def stop_worker(self) -> None:
        if self.worker is not None:
            stop(self.worker, timeout_s=30)
            self.worker = None

    def worker_cpu_s(self) -> float:
        """User + system CPU seconds of the worker and its pool, the reaped children included."""
        assert self.worker is not None
        main = psutil.Process(self.worker.pid)
        t = main.cpu_times()
        total = t.user + t.system + t.children_user + t.children_system
        for child in main.children(recursive=True):
            with _gone_ok():
                c = child.cpu_times()
                total += c.user + c.system
        return total

    def pool_pids(self) -> list[int]:
        assert self.worker is not None
        return [c.pid for c in psutil.Process(self.worker.pid).children()]

    @staticmethod
    def rss_mb(pid: int) -> tuple[float, float]:
        """(current RSS, peak RSS = VmHWM) of a process, in MB."""
        fields = {}
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024
        return fields["VmRSS"], fields["VmHWM"]

    def uploads(self, ids: list[str]) -> list[UploadRow]:
        """The workers' own record of the uploads: status, start and finish (their clock), which process."""
        from core.db import unit_of_work
        from core.models import Upload

        wanted = [uuid.UUID(i) for i in ids]
        with unit_of_work() as uow:
            rows = uow.session.query(Upload).filter(Upload.id.in_(wanted)).all()
            return [UploadRow(r.status, r.started_at, r.finished_at, r.worker_pid) for r in rows]

    def outbox_recipients(self) -> list[str]:
        """Who the alert outbox holds an email for (sent or not)."""
        from core.db import unit_of_work
        from core.models import AlertOutbox

        with unit_of_work() as uow:
            return [
                r
                for (r,) in uow.session.query(AlertOutbox.recipient).filter(AlertOutbox.kind == "cramp_risk")
            ]

    def wait_uploads(self, ids: list[str], timeout_s: float = 600) -> list[UploadRow]:
        """Poll the database (not the API: the bench should load the machine as little as it can)."""
        deadline = time.monotonic() + timeout_s
        while True:
            rows = self.uploads(ids)
            if len(rows) == len(ids) and all(r.status in ("done", "failed", "duplicate") for r in rows):
                return rows
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(ids)} uploads not finished after {timeout_s:.0f} s")
            time.sleep(0.2)

    # -- API -----------------------------------------------------------------------------------------

    def new_user(self, profile: dict[str, Any] | None = None) -> tuple[str, str]:
        self.users += 1
        email = f"bench-{self.users}@example.com"
        with httpx.Client(base_url=self.api, timeout=60) as c:
            r = c.post("/v1/users", json={"email": email})
            r.raise_for_status()
            token = r.json()["token"]
            if profile:
                c.put("/v1/profile", json=profile, headers=_auth(token)).raise_for_status()
        return email, token

    def upload(self, token: str, name: str, data: bytes, client: httpx.Client | None = None) -> str:
        own = client or httpx.Client(base_url=self.api, timeout=60)
        try:
            r = own.post("/v1/uploads", files={"file": (name, data)}, headers=_auth(token))
        finally:
            if client is None:
                own.close()
        if r.status_code not in (200, 202):
            raise RuntimeError(f"upload of {name} answered {r.status_code}: {r.text[:200]}")
        return str(r.json()["id"])

    def wait_finished(self, token: str, upload_id: str, timeout_s: float = 600) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        with httpx.Client(base_url=self.api, timeout=60, headers=_auth(token)) as c:
            while True:
                body: dict[str, Any] = c.get(f"/v1/uploads/{upload_id}").json()
                if body["status"] in ("done", "failed", "duplicate"):
                    return body
                if time.monotonic() > deadline:
                    raise RuntimeError(f"upload {upload_id} still {body['status']} after {timeout_s:.0f} s")
                time.sleep(0.05)


@dataclass
class UploadRow:
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    worker_pid: int | None


@contextmanager
def throwaway_postgres() -> Iterator[str | None]:
    """A new database on the local PostgreSQL server for one run, dropped afterwards; None if unreachable."""
    import sqlalchemy as sa

    admin = sa.create_engine(
        POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 2}
    )
    name = f"sweatsync_bench_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError:
        admin.dispose()
        yield None
        return
    try:
        yield sa.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        from core.db import dispose_engines

        dispose_engines()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class _gone_ok:  # noqa: N801 - used as a statement
    """A pool process may be replaced between listing and reading it."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, *_: object) -> bool:
        return kind is not None and issubclass(kind, (psutil.Error, FileNotFoundError))  # type: ignore[arg-type]
