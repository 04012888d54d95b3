"""Start and stop real processes on private loopback ports, so tests can kill them by pid."""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import sqlalchemy as sa
from aiosmtpd.controller import Controller

from sweatsync.embedded import Supervised, free_port, start_redis, stop, worker_command

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO.parent / "shared" / "fit-samples"
POSTGRES_ADMIN_URL = os.environ.get(
    "SWEATSYNC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def postgres_reachable() -> bool:
    try:
        engine = sa.create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001
        return False


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A throwaway database per test run, so parallel runs and reruns never share rows."""
    name = f"sweatsync_t_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def redis_server(data_dir: Path) -> Iterator[str]:
    proc, url = start_redis(data_dir)
    try:
        yield url
    finally:
        stop(proc)


@dataclass
class Sink:
    """An aiosmtpd handler that keeps every message, optionally answering with scripted codes."""

    replies: list[str] = field(default_factory=list)  # e.g. ["421 try later"] * 3; then 250
    messages: list[EmailMessage] = field(default_factory=list)
    attempts: int = 0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.attempts += 1
        if self.replies:
            return self.replies.pop(0)
        raw = envelope.content  # type: ignore[attr-defined]
        self.messages.append(message_from_bytes(raw, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"

    def wait_for(self, count: int, timeout_s: float = 60.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout_s
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.messages


@contextmanager
def smtp_server(sink: Sink | None = None) -> Iterator[tuple[str, Sink]]:
    sink = sink or Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", sink
    finally:
        controller.stop()


def _start_worker(
    env: dict[str, str], *, concurrency: int, beat: bool, log: Path
) -> subprocess.Popen[bytes]:
    cmd = worker_command(concurrency=concurrency, beat=beat, schedule_file=log.parent / "beat")
    with open(log, "ab") as fh:
        return subprocess.Popen(cmd, env={**os.environ, **env}, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT)


@contextmanager
def celery_worker(
    env: dict[str, str], *, concurrency: int = 2, beat: bool = False, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    proc = _start_worker(env, concurrency=concurrency, beat=beat, log=log)
    try:
        yield proc
    finally:
        stop(proc, timeout_s=20)


@contextmanager
def supervised_worker(
    env: dict[str, str], *, concurrency: int = 2, beat: bool = False, log: Path
) -> Iterator[Supervised]:
    """A worker started again when it exits on its own, as `sweatsync up` and compose's restart policy do."""
    worker = Supervised(
        "the Celery worker", lambda: _start_worker(env, concurrency=concurrency, beat=beat, log=log)
    )
    try:
        yield worker
    finally:
        worker.stop(timeout_s=20)


class ApiServer:
    """uvicorn in a thread of the test process, on a free loopback port."""

    def __init__(self) -> None:
        import uvicorn

        from core.settings import get_settings
        from ingest.app import create_app

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        head = get_settings().max_request_head_bytes  # as ingest.app.serve
        config = uvicorn.Config(
            create_app(),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            h11_max_incomplete_event_size=head,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ApiServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the API did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
