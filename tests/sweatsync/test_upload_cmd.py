"""`sweatsync upload PATH...` against a real API, a real Celery worker process and a private redis."""

from __future__ import annotations

import argparse
import gzip
import itertools
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import redis

from conftest import isolated_env, migrated_database
from core.models import Upload
from fitgen import DEFAULT_START, build_fit, steady_records
from support.services import SAMPLES, ApiServer, celery_worker
from support.uploads import new_api_user, uploads_of
from sweatsync import upload_cmd
from sweatsync.embedded import free_port

pytestmark = pytest.mark.integration

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
TCX = b"""<?xml version="1.0" encoding="UTF-8"?>
<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">
  <Activities/>
</TrainingCenterDatabase>
"""


@dataclass
class Stack:
    url: str
    db_url: str
    worker_log: Path

    def new_user(self) -> tuple[str, uuid.UUID]:
        return new_api_user(self.url)

    def uploads_of(self, user_id: uuid.UUID) -> list[Upload]:
        return uploads_of(self.db_url, user_id)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("upload-cmd")
    redis.Redis.from_url(redis_url).flushall()
    with (
        pytest.MonkeyPatch.context() as mp,
        migrated_database("sqlite", tmp) as db_url,
        isolated_env(mp, tmp, database_url=db_url, broker_url=redis_url),
    ):
        env = {k: v for k, v in os.environ.items() if k.startswith("SWEATSYNC_")}
        log = tmp / "worker.log"
        with celery_worker(env, concurrency=2, log=log), ApiServer() as api:
            yield Stack(api.url, db_url, log)


@dataclass
class Run:
    code: int
    out: str
    err: str
    rows: dict[str, tuple[str, str]]  # file as shown -> (result, sessions or reason)


def sweatsync_upload(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    parser = argparse.ArgumentParser(prog="sweatsync")
    upload_cmd.add_parser(parser.add_subparsers(dest="command", required=True))
    parsed = parser.parse_args(["upload", *args])
    code = parsed.func(parsed)
    captured = capsys.readouterr()
    rows = {}
    for line in captured.out.splitlines()[1:]:
        cells = re.split(r"\s{2,}", line.strip(), maxsplit=2)
        if len(cells) >= 2:
            rows[cells[0]] = (cells[1], cells[2] if len(cells) > 2 else "")
    return Run(code, captured.out, captured.err, rows)


_DAYS = itertools.count()


def run_fit(minutes: float, hr: int) -> bytes:
    # Each call is a different workout (its own day); the server would flag a second one at the same
    # start as the same activity.
    start = DEFAULT_START + timedelta(days=next(_DAYS))
    return build_fit(
        steady_records(minutes=minutes, hr=hr, speed_ms=3.2, every_s=2), sport="running", start=start
    )


def test_a_folder_with_two_good_files_a_png_and_a_duplicate_shows_each_outcome_and_exits_1(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    token, user_id = stack.new_user()
    folder = tmp_path / "export"
    (folder / "nested").mkdir(parents=True)
    (folder / "01_run.fit").write_bytes(run_fit(35, 150))
    ride = build_fit(
        steady_records(minutes=40, hr=140, power=190, speed_ms=8.0, every_s=2),
        sport="cycling",
        start=DEFAULT_START - timedelta(days=1),
    )
    (folder / "02_ride.fit.gz").write_bytes(gzip.compress(ride))
    (folder / "03_photo.fit").write_bytes(PNG)
    shutil.copy(folder / "01_run.fit", folder / "nested" / "04_same_run.fit")
    (folder / "notes.txt").write_text("not an activity file: never sent")
    monkeypatch.chdir(tmp_path)

    run = sweatsync_upload(capsys, "export", "--server", stack.url, "--token", token, "--timeout", "120")

    assert run.code == 1, run.out + run.err
    assert set(run.rows) == {"export/01_run.fit", "export/02_ride.fit.gz", "export/03_photo.fit",
                             "export/nested/04_same_run.fit"}, run.out  # fmt: skip
    run_result, run_sessions = run.rows["export/01_run.fit"]
    ride_result, ride_sessions = run.rows["export/02_ride.fit.gz"]
    assert (run_result, ride_result) == ("session", "session"), stack.worker_log.read_text()[-3000:]
    assert re.fullmatch(r"[0-9a-f-]{36}", run_sessions) and re.fullmatch(r"[0-9a-f-]{36}", ride_sessions)
    photo_result, photo_reason = run.rows["export/03_photo.fit"]
    assert photo_result == "refused" and "PNG image" in photo_reason
    assert run.rows["export/nested/04_same_run.fit"] == ("duplicate", run_sessions)
    assert "4 file(s)" in run.out
    assert "01_run.fit" in run.err  # progress, on stderr

    uploads = stack.uploads_of(user_id)
    assert sorted(u.original_name or "" for u in uploads) == ["01_run.fit", "02_ride.fit.gz"]
    assert all(u.status == "done" and u.attempts == 1 for u in uploads)


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/fit-samples is not there")
def test_real_files_named_directly_and_by_a_glob_become_sessions_and_the_exit_code_is_0(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    token, _ = stack.new_user()
    run = sweatsync_upload(
        capsys,
        str(SAMPLES / "run_coros_power_49min.fit"),
        str(SAMPLES / "bike_onelap_indoor_*.fit"),
        "--server", stack.url, "--token", token,
    )  # fmt: skip
    assert run.code == 0, run.out + run.err
    results = {Path(name).name: cells[0] for name, cells in run.rows.items()}
    assert results == {"run_coros_power_49min.fit": "session", "bike_onelap_indoor_12min.fit": "session"}


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/fit-samples is not there")
def test_a_settings_file_and_an_empty_tcx_are_listed_as_failed_each_with_the_servers_reason(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token, _ = stack.new_user()
    tcx = tmp_path / "morning.tcx"
    tcx.write_bytes(TCX)
    run = sweatsync_upload(
        capsys, str(SAMPLES / "nonactivity_settings_edge510.fit"), str(tcx),
        "--server", stack.url, "--token", token,
    )  # fmt: skip
    assert run.code == 1
    results = {Path(name).name: cells for name, cells in run.rows.items()}
    failed, reason = results["nonactivity_settings_edge510.fit"]
    assert failed == "failed" and "settings" in reason.lower(), run.out
    failed_tcx, why = results["morning.tcx"]
    assert failed_tcx == "failed" and "no track points in this TCX file" in why, run.out


def test_without_waiting_an_accepted_file_shows_its_upload_and_the_exit_code_is_0(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token, user_id = stack.new_user()
    path = tmp_path / "tempo.fit"
    path.write_bytes(run_fit(25, 165))
    run = sweatsync_upload(capsys, str(path), "--server", stack.url, "--token", token, "--no-wait")
    assert run.code == 0, run.out + run.err
    [(result, detail)] = run.rows.values()
    [upload] = stack.uploads_of(user_id)
    assert result == "accepted" and str(upload.id) in detail


def test_a_wrong_token_is_refused_with_the_servers_reason(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "easy.fit"
    path.write_bytes(run_fit(30, 130))
    run = sweatsync_upload(capsys, str(path), "--server", stack.url, "--token", "ss_not-a-real-token")
    assert run.code == 1
    [(result, reason)] = run.rows.values()
    assert result == "refused" and "token" in reason


def test_a_path_that_matches_nothing_and_a_server_that_is_down_are_both_reported_with_exit_code_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "long.fit"
    path.write_bytes(run_fit(30, 140))
    server = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    run = sweatsync_upload(capsys, str(path), str(tmp_path / "nothing-*.fit"), "--server", server,
                           "--token", "ss_whatever")  # fmt: skip
    assert run.code == 1
    results = {Path(name).name: cells for name, cells in run.rows.items()}
    assert results["long.fit"][0] == "unreachable" and "cannot connect" in results["long.fit"][1]
    assert results["nothing-*.fit"][0] == "missing"


def test_without_a_token_it_says_how_to_get_one_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SWEATSYNC_TOKEN", raising=False)
    path = tmp_path / "x.fit"
    path.write_bytes(run_fit(20, 140))
    run = sweatsync_upload(capsys, str(path))
    assert run.code == 2
    assert "SWEATSYNC_TOKEN" in run.err
