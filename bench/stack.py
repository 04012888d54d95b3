"""The embedded stack the service figures are taken on: SQLite, Redis, a Celery worker process, the API
(uvicorn in its own process) and a real SMTP server (aiosmtpd) that notes when each email arrives."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from aiosmtpd.controller import Controller

from sweatsync.embedded import free_port, start_redis, stop, worker_command

REPO = Path(__file__).resolve().parents[1]
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
        self.api = ""
        self.users = 0

    def __enter__(self) -> Stack:
        from core.migrate import upgrade_to_head
        from core.settings import reset_settings_cache

        redis_proc, broker = start_redis(self.tmp / "redis")
        self.procs.append(redis_proc)
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

    def start_worker(self, concurrency: int) -> None:
        self.stop_worker()
        cmd = worker_command(concurrency=concurrency, beat=False)
        self.worker = subprocess.Popen(cmd, cwd=REPO, stdout=self._log("worker"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while len(psutil.Process(self.worker.pid).children()) < concurrency:  # the pool is up
            if time.monotonic() > deadline or self.worker.poll() is not None:
                raise RuntimeError("the Celery worker did not start; see worker.log")
            time.sleep(0.1)
        time.sleep(1.0)  # the consumer connects after the pool forks

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

    def worker_peak_rss_mb(self) -> float:
        """The largest peak RSS (VmHWM) among the pool processes."""
        assert self.worker is not None
        peaks = [0.0]
        for child in psutil.Process(self.worker.pid).children(recursive=True):
            with _gone_ok():
                for line in Path(f"/proc/{child.pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks.append(int(line.split()[1]) / 1024)
        return max(peaks)

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


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class _gone_ok:  # noqa: N801 - used as a statement
    """A pool process may be replaced between listing and reading it."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, *_: object) -> bool:
        return kind is not None and issubclass(kind, (psutil.Error, FileNotFoundError))  # type: ignore[arg-type]
