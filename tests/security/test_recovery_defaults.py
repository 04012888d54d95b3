"""Recovery without waiting out a lease: a retry retakes its own lease, lost messages are resent within
two sweeps, readiness tells a dead dependency from a live process, and SIGTERM stops all that `up` started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import psutil
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from core.db import unit_of_work
from core.models import Upload, UploadStatus, utcnow
from core.settings import Settings, get_settings, reset_settings_cache
from fitgen import build_fit, steady_records
from support.uploads import make_upload
from sweatsync.embedded import free_port
from workers import pipeline, sweeper
from workers import repository as repo


def status_of(upload_id: uuid.UUID) -> tuple[str, int]:
    with unit_of_work() as uow:
        upload = uow.session.get(Upload, upload_id)
        assert upload is not None
        return upload.status, upload.attempts


def test_a_retry_after_a_database_error_retakes_its_own_lease_at_once(database_url: str) -> None:
    upload_id = make_upload(build_fit(steady_records(minutes=15, hr=150, speed_ms=3.0), sport="running"))
    # The first attempt claimed the upload, then lost the database before it could store anything.
    with repo.working_on(upload_id), unit_of_work() as uow:
        assert repo.claim_upload(uow.session, upload_id=upload_id, lease_s=360) is not None
    assert status_of(upload_id) == (UploadStatus.PROCESSING, 1)
    # Celery's retry runs in the same worker process, long before the 6-minute lease runs out.
    assert pipeline.process_upload(upload_id, settings=get_settings()).status == UploadStatus.DONE
    assert status_of(upload_id) == (UploadStatus.DONE, 1)  # a database error is not a crash of the file


def test_a_lease_held_by_another_live_process_is_still_respected(database_url: str) -> None:
    upload_id = make_upload(build_fit(steady_records(minutes=15, hr=150, speed_ms=3.0), sport="running"))
    with unit_of_work() as uow:
        uow.session.execute(
            update(Upload)
            .where(Upload.id == upload_id)
            .values(status=UploadStatus.PROCESSING, worker_pid=os.getppid(), worker_host=repo.HOSTNAME,
                    locked_until=utcnow() + timedelta(minutes=5), attempts=1)
        )  # fmt: skip
    assert pipeline.process_upload(upload_id, settings=get_settings()).status == "skipped"


def test_the_default_sweeper_resends_a_lost_upload_within_two_sweep_periods(database_url: str) -> None:
    defaults = Settings()
    assert defaults.stuck_after_s <= defaults.sweep_interval_s
    upload_id = make_upload(b"\x0e\x10" + b"\x00" * 100)
    settings = get_settings()
    assert sweeper.stuck_upload_ids(settings) == []  # just accepted: its message may still be on its way
    with unit_of_work() as uow:  # accepted while the broker was down: no message was ever sent
        since = utcnow() - timedelta(seconds=defaults.stuck_after_s + 1)
        uow.session.execute(update(Upload).where(Upload.id == upload_id).values(updated_at=since))
    assert sweeper.stuck_upload_ids(settings) == [upload_id]
    assert sweeper.stuck_upload_ids(settings) == []  # resent once per period, not at every sweep


def test_readyz_answers_503_when_the_broker_is_down_while_healthz_stays_200(
    database_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingest.app import create_app

    monkeypatch.setenv("SWEATSYNC_BROKER_URL", redis_url)
    reset_settings_cache()
    with TestClient(create_app()) as client:
        assert client.get("/readyz").status_code == 200
        monkeypatch.setenv("SWEATSYNC_BROKER_URL", f"redis://127.0.0.1:{free_port()}/0")
        reset_settings_cache()
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["broker"] == "down"
        assert ready.headers["Retry-After"]
        assert client.get("/healthz").status_code == 200


def test_readyz_answers_503_when_the_database_is_down(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.db import dispose_engines
    from ingest.app import create_app

    monkeypatch.setenv("SWEATSYNC_BROKER_URL", redis_url)
    monkeypatch.setenv(
        "SWEATSYNC_DATABASE_URL",
        f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none?connect_timeout=2",
    )
    reset_settings_cache()
    dispose_engines()
    try:
        with TestClient(create_app()) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 503 and ready.json()["database"] == "down"
            assert client.get("/healthz").status_code == 200
    finally:
        reset_settings_cache()
        dispose_engines()


@pytest.mark.integration
def test_sigterm_to_sweatsync_up_stops_redis_and_the_worker_too(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWEATSYNC_")}
    port = free_port()
    log = open(tmp_path / "up.log", "wb")  # noqa: SIM115
    up = subprocess.Popen(
        [sys.executable, "-m", "sweatsync.cli", "up", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=log, stderr=log,
    )  # fmt: skip
    try:
        started = time.monotonic()
        while True:  # wait on state: the API answers and both children (redis-server, worker) exist
            try:
                up_and_running = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                up_and_running = False
            children = psutil.Process(up.pid).children(recursive=True)
            if up_and_running and len(children) >= 2:
                break
            assert up.poll() is None and time.monotonic() - started < 180, (tmp_path / "up.log").read_text()
            time.sleep(0.3)
        up.send_signal(signal.SIGTERM)
        up.wait(120)
    finally:
        if up.poll() is None:
            up.kill()
        log.close()
    gone, alive = psutil.wait_procs(children, timeout=60)
    assert not [c for c in alive if c.status() != psutil.STATUS_ZOMBIE], (tmp_path / "up.log").read_text()[
        -3000:
    ]


def test_an_upload_whose_whole_worker_was_killed_is_retaken_within_two_sweeps_not_after_its_lease(
    database_url: str,
) -> None:
    upload_id = make_upload(build_fit(steady_records(minutes=15, hr=150, speed_ms=3.0), sport="running"))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a worker on this host, killed whole: its pid is gone, its 6-minute lease is not
    settings = get_settings()
    with unit_of_work() as uow:
        since = utcnow() - timedelta(seconds=settings.stuck_after_s + 1)
        uow.session.execute(
            update(Upload)
            .where(Upload.id == upload_id)
            .values(status=UploadStatus.PROCESSING, worker_pid=dead.pid, worker_host=repo.HOSTNAME,
                    locked_until=utcnow() + timedelta(minutes=5), attempts=1, updated_at=since)
        )  # fmt: skip
    assert sweeper.stuck_upload_ids(settings) == [upload_id]
    assert sweeper.stuck_upload_ids(settings) == []  # resent once per period, not at every sweep
    assert pipeline.process_upload(upload_id, settings=settings).status == UploadStatus.DONE
