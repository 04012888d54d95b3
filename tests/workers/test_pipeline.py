"""process_upload as a service, on real databases: claims, attempts, outcomes, idempotence."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.db import unit_of_work
from core.models import AlertOutbox, Upload, UploadStatus, WorkoutSession
from core.settings import get_settings
from core.storage import raw_path
from fitgen import build_fit, steady_records
from support.uploads import make_upload
from workers import pipeline


def upload_row(upload_id: uuid.UUID) -> Upload:
    with unit_of_work() as uow:
        row = uow.session.get(Upload, upload_id)
        assert row is not None
        return row


@pytest.fixture
def hard_run() -> bytes:
    # 2.5 h at a high heart rate, ended half an hour ago: long and hard enough to stack risk factors, and
    # recent enough to be news (only sessions that ended within the alert window are emailed).
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    records = steady_records(minutes=150, hr=172, speed_ms=3.6, every_s=5, hr_swing=6)
    return build_fit(records, sport="running", start=start)


def test_it_stores_a_session_and_marks_the_upload_done(database_url: str, hard_run: bytes) -> None:
    upload_id = make_upload(hard_run)
    outcome = pipeline.process_upload(upload_id, settings=get_settings())
    assert outcome.status == UploadStatus.DONE
    row = upload_row(upload_id)
    assert (row.status, row.attempts, row.error) == ("done", 1, None)
    with unit_of_work() as uow:
        [ws] = uow.session.scalars(select(WorkoutSession).where(WorkoutSession.upload_id == upload_id))
        assert ws.algorithm_version == ws.metrics["algorithm_version"]
        assert ws.metrics["fluid"]["sweat_l"] > 0
        assert ws.metrics["risk"]["tier"] in ("low", "moderate", "high")


def test_it_fails_the_upload_with_the_parsers_reason_and_keeps_the_raw_file(database_url: str) -> None:
    settings_file = build_fit([], sport="generic", file_type="settings")
    upload_id = make_upload(settings_file)
    assert pipeline.process_upload(upload_id, settings=get_settings()).status == UploadStatus.FAILED
    row = upload_row(upload_id)
    assert row.status == "failed"
    assert "not an activity file" in (row.error or "")
    assert raw_path(get_settings(), row.storage_key).exists()


def test_it_queues_exactly_one_alert_however_often_the_task_runs(database_url: str, hard_run: bytes) -> None:
    upload_id = make_upload(hard_run, cramp_history="recent")
    pipeline.process_upload(upload_id, settings=get_settings())
    with unit_of_work() as uow:
        uow.session.get(Upload, upload_id).status = UploadStatus.QUEUED  # a redelivered message
    pipeline.process_upload(upload_id, settings=get_settings())
    with unit_of_work() as uow:
        [ws] = uow.session.scalars(select(WorkoutSession).where(WorkoutSession.upload_id == upload_id))
        outbox = uow.session.scalar(select(func.count()).select_from(AlertOutbox))
        assert ws.metrics["risk"]["tier"] == "high", ws.metrics["risk"]
        assert outbox == 1
        assert uow.session.scalar(select(func.count()).select_from(WorkoutSession)) == 1


def test_it_lets_only_one_of_ten_concurrent_deliveries_process_an_upload(
    database_url: str, hard_run: bytes
) -> None:
    upload_id = make_upload(hard_run)
    outcomes: list[str] = []
    barrier = threading.Barrier(10)

    def deliver() -> None:
        barrier.wait()
        outcomes.append(pipeline.process_upload(upload_id, settings=get_settings()).status)

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes).count("done") == 1
    assert outcomes.count("skipped") == 9
    assert upload_row(upload_id).attempts == 1


def test_it_marks_a_file_failed_after_it_crashed_the_worker_three_times(
    database_url: str, hard_run: bytes
) -> None:
    upload_id = make_upload(hard_run)
    with unit_of_work() as uow:
        row = uow.session.get(Upload, upload_id)
        row.attempts = get_settings().max_attempts  # three claims that never finished
    assert pipeline.process_upload(upload_id, settings=get_settings()).status == UploadStatus.FAILED
    row = upload_row(upload_id)
    assert row.attempts == get_settings().max_attempts + 1
    assert "stopped while reading this file 3 times" in (row.error or "")


def test_it_reads_a_gzipped_upload(database_url: str, hard_run: bytes) -> None:
    import gzip

    upload_id = make_upload(gzip.compress(hard_run), suffix=".fit.gz")
    assert pipeline.process_upload(upload_id, settings=get_settings()).status == UploadStatus.DONE


def test_it_refuses_a_gzip_bomb_past_the_decompressed_cap(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import gzip

    from core.settings import reset_settings_cache

    monkeypatch.setenv("SWEATSYNC_MAX_DECOMPRESSED_BYTES", str(1024 * 1024))
    reset_settings_cache()
    bomb = gzip.compress(b"\x0e" + b"\x00" * (20 * 1024 * 1024))
    upload_id = make_upload(bomb, suffix=".fit.gz")
    assert pipeline.process_upload(upload_id, settings=get_settings()).status == UploadStatus.FAILED
    assert "decompress" in (upload_row(upload_id).error or "")
