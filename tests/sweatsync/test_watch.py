"""`sweatsync watch DIR` as a separate process, against a real API process (restartable on the same port),
a real Celery worker process and a private redis. Every file must arrive exactly once: counted server-side
as rows in the uploads table (each analysed once) and as POST /v1/uploads lines in the API's access log."""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from conftest import isolated_env, migrated_database
from core.models import Upload
from fitgen import DEFAULT_START, build_fit, steady_records
from support.services import REPO, SAMPLES, celery_worker
from support.uploads import new_api_user, uploads_of
from sweatsync.embedded import free_port, stop

pytestmark = pytest.mark.integration

SETTLE_S = 0.5
# Looks like a compressed GPX file by its name and is complete, but holds no workout: the server refuses it.
NOT_A_WORKOUT = gzip.compress(b"just some notes, not a workout\n")


def wait_until(what: str, check: Callable[[], Any], timeout_s: float = 60.0, logs: Path | None = None) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            tail = logs.read_text(errors="replace")[-3000:] if logs else ""
            raise AssertionError(f"timed out waiting until {what}\n{tail}")
        time.sleep(0.1)


class ApiProcess:
    """uvicorn in its own process on a fixed port, so it can be stopped and started again on that port."""

    def __init__(self, port: int, env: dict[str, str], log: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.env = {**os.environ, **env}
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        cmd = [sys.executable, "-m", "uvicorn", "ingest.app:create_app", "--factory",
               "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "info"]  # fmt: skip
        with open(self.log, "ab") as fh:
            self.proc = subprocess.Popen(cmd, env=self.env, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT)

        def up() -> bool:
            assert self.proc is not None and self.proc.poll() is None, self.log.read_text()[-3000:]
            try:
                return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until("the API answers", up, 30)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    def posts(self) -> int:
        """Upload requests the API answered, from its access log (across restarts)."""
        return self.log.read_text(errors="replace").count('"POST /v1/uploads HTTP/1.1"')


@dataclass
class Stack:
    api: ApiProcess
    db_url: str
    worker_log: Path

    def new_user(self) -> tuple[str, uuid.UUID]:
        return new_api_user(self.api.url)

    def uploads_of(self, user_id: uuid.UUID) -> list[Upload]:
        return uploads_of(self.db_url, user_id)

    def wait_for_uploads(self, user_id: uuid.UUID, count: int) -> list[Upload]:
        """Wait until the user has `count` uploads and every one of them is analysed."""

        def finished() -> list[Upload] | None:
            rows = self.uploads_of(user_id)
            settled = ("done", "failed", "duplicate")
            return rows if len(rows) >= count and all(u.status in settled for u in rows) else None

        return wait_until(f"{count} uploads are analysed", finished, 60, self.worker_log)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("watch")
    redis.Redis.from_url(redis_url).flushall()
    with (
        pytest.MonkeyPatch.context() as mp,
        migrated_database("sqlite", tmp) as db_url,
        isolated_env(mp, tmp, database_url=db_url, broker_url=redis_url),
    ):
        env = {k: v for k, v in os.environ.items() if k.startswith("SWEATSYNC_")}
        api = ApiProcess(free_port(), env, tmp / "api.log")
        with celery_worker(env, concurrency=2, log=tmp / "worker.log"):
            api.start()
            try:
                yield Stack(api, db_url, tmp / "worker.log")
            finally:
                api.stop()


class Watcher:
    """`python -m sweatsync.watch` as a child process, with its log in a file."""

    def __init__(self, folder: Path, server: str, token: str, log: Path) -> None:
        self.cmd = [sys.executable, "-m", "sweatsync.watch", str(folder), "--server", server, "--token",
                    token, "--interval", "0.2", "--settle", str(SETTLE_S), "--max-backoff", "2"]  # fmt: skip
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SWEATSYNC_")}
        self.log = log
        self.state = folder / ".sweatsync-sent.json"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Watcher:
        self.log_offset = self.log.stat().st_size if self.log.exists() else 0
        with open(self.log, "ab") as fh:
            self.proc = subprocess.Popen(
                self.cmd, env=self.env, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT
            )
        wait_until("the watcher starts", lambda: "watching" in self.output(), 30, self.log)
        return self

    def output(self) -> str:
        """What this run of the watcher logged (the log file is shared across restarts)."""
        with open(self.log, "rb") as fh:
            fh.seek(self.log_offset)
            return fh.read().decode(errors="replace")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(20)

    def recorded(self) -> dict[str, dict[str, Any]]:
        try:
            return json.loads(self.state.read_text())["files"]
        except FileNotFoundError:
            return {}

    def __enter__(self) -> Watcher:
        return self.start()

    def __exit__(self, *_: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.kill()


_DAYS = itertools.count()


def activity(minutes: float, hr: int) -> bytes:
    # Each call is a different workout (its own day), not the same activity in another file.
    start = DEFAULT_START + timedelta(days=next(_DAYS))
    return build_fit(
        steady_records(minutes=minutes, hr=hr, speed_ms=3.1, every_s=2), sport="running", start=start
    )


def write_slowly(
    path: Path, data: bytes, *, first: float = 0.4, pause_s: float = 1.5, chunks: int = 5
) -> None:
    """A device writing a file: part of it, a pause longer than the settle time, then the rest in chunks."""
    head = int(len(data) * first)
    with open(path, "wb") as fh:
        fh.write(data[:head])
        fh.flush()
        time.sleep(pause_s)
        step = -(-(len(data) - head) // chunks)
        for start in range(head, len(data), step):
            fh.write(data[start : start + step])
            fh.flush()
            time.sleep(0.3)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_files_that_appear_are_uploaded_once_each_and_a_slowly_written_file_only_after_its_last_byte(
    stack: Stack, tmp_path: Path
) -> None:
    token, user_id = stack.new_user()
    folder = tmp_path / "GARMIN" / "Activity"
    folder.mkdir(parents=True)
    posts_before = stack.api.posts()
    run, ride, slow = activity(35, 150), gzip.compress(activity(42, 138)), activity(55, 160)

    with Watcher(folder, stack.api.url, token, tmp_path / "watch.log") as watcher:
        (folder / "run.fit").write_bytes(run)
        (folder / "ride.fit.gz").write_bytes(ride)
        (folder / "ignored.txt").write_text("not an activity file")
        write_slowly(folder / "SLOW.FIT", slow)

        uploads = stack.wait_for_uploads(user_id, 3)
        wait_until("the watcher recorded 3 files", lambda: len(watcher.recorded()) == 3, 30, watcher.log)
        assert watcher.terminate() == 0

    assert {u.sha256 for u in uploads} == {sha(run), sha(ride), sha(slow)}
    assert {u.original_name: u.size for u in uploads}["SLOW.FIT"] == len(slow)
    assert all(u.status == "done" and u.attempts == 1 for u in uploads), [
        (u.status, u.error) for u in uploads
    ]
    assert stack.api.posts() - posts_before == 3  # never a half-written SLOW.FIT, never a second POST
    assert {e["outcome"] for e in watcher.recorded().values()} == {"sent"}
    assert "waiting for SLOW.FIT to be completely written" in watcher.output()
    assert "SIGTERM received" in watcher.output() and "stopped" in watcher.output()


def test_a_watcher_killed_mid_run_and_restarted_sends_nothing_twice_not_even_a_renamed_copy(
    stack: Stack, tmp_path: Path
) -> None:
    token, user_id = stack.new_user()
    folder = tmp_path / "export"
    folder.mkdir()
    posts_before = stack.api.posts()
    first, second, third = activity(30, 145), activity(33, 152), activity(48, 158)
    log = tmp_path / "watch.log"

    with Watcher(folder, stack.api.url, token, log) as watcher:
        (folder / "first.fit").write_bytes(first)
        (folder / "second.fit").write_bytes(second)
        wait_until("2 files are recorded as sent", lambda: len(watcher.recorded()) == 2, 30, log)
        with open(folder / "third.fit", "wb") as fh:  # half written when the watcher dies
            fh.write(third[: len(third) // 2])
        unfinished = "waiting for third.fit to be completely written"
        wait_until(
            "the watcher sees third.fit is unfinished", lambda: unfinished in watcher.output(), 30, log
        )
        watcher.kill()

    with open(folder / "third.fit", "ab") as fh:
        fh.write(third[len(third) // 2 :])
    shutil.copy(folder / "first.fit", folder / "first (copy).fit")

    with Watcher(folder, stack.api.url, token, log) as restarted:
        wait_until("third.fit is sent", lambda: "sent third.fit" in restarted.output(), 30, log)
        wait_until(
            "the copy is recognised", lambda: "skipped first (copy).fit" in restarted.output(), 30, log
        )
        assert restarted.terminate() == 0

    uploads = stack.wait_for_uploads(user_id, 3)
    assert sorted(u.original_name or "" for u in uploads) == ["first.fit", "second.fit", "third.fit"]
    assert all(u.status == "done" and u.attempts == 1 for u in uploads)
    assert {u.original_name: u.sha256 for u in uploads}["third.fit"] == sha(third)
    assert stack.api.posts() - posts_before == 3
    assert "sent first.fit" not in restarted.output() and "sent second.fit" not in restarted.output()


def test_files_dropped_while_the_server_is_down_arrive_exactly_once_when_it_is_back(
    stack: Stack, tmp_path: Path
) -> None:
    token, user_id = stack.new_user()
    folder = tmp_path / "sync"
    folder.mkdir()
    posts_before = stack.api.posts()
    early, during, late = activity(31, 141), activity(36, 149), activity(40, 155)
    log = tmp_path / "watch.log"

    with Watcher(folder, stack.api.url, token, log) as watcher:
        (folder / "early.fit").write_bytes(early)
        wait_until("early.fit is sent", lambda: "sent early.fit" in watcher.output(), 30, log)

        stack.api.stop()
        try:
            (folder / "during.fit").write_bytes(during)
            (folder / "late.fit.gz").write_bytes(gzip.compress(late))
            wait_until("the watcher has retried twice",
                       lambda: watcher.output().count("server unreachable") >= 2, 30, log)  # fmt: skip
            assert watcher.proc is not None and watcher.proc.poll() is None  # still running
        finally:
            stack.api.start()

        wait_until("both files are sent", lambda: len(watcher.recorded()) == 3, 60, log)
        assert "the server is back" in watcher.output()
        assert watcher.terminate() == 0

    uploads = stack.wait_for_uploads(user_id, 3)
    assert sorted(u.original_name or "" for u in uploads) == ["during.fit", "early.fit", "late.fit.gz"]
    assert all(u.status == "done" and u.attempts == 1 for u in uploads)
    assert stack.api.posts() - posts_before == 3


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/fit-samples is not there")
def test_a_real_watch_file_arrives_and_a_refused_file_is_recorded_with_its_reason_and_not_retried(
    stack: Stack, tmp_path: Path
) -> None:
    token, user_id = stack.new_user()
    folder = tmp_path / "Activity"
    folder.mkdir()
    posts_before = stack.api.posts()
    log = tmp_path / "watch.log"

    with Watcher(folder, stack.api.url, token, log) as watcher:
        shutil.copy(SAMPLES / "run_garmin-fenix2_hr_temp_47min.fit", folder / "2024-06-01-07-12-00.fit")
        (folder / "notes.gpx.gz").write_bytes(NOT_A_WORKOUT)
        wait_until("both files are recorded", lambda: len(watcher.recorded()) == 2, 30, log)
        time.sleep(10 * 0.2)  # ten more scans: a refused file is not sent again
        assert watcher.output().count("refused notes.gpx.gz") == 1, watcher.output()
        assert watcher.terminate() == 0

    [upload] = stack.wait_for_uploads(user_id, 1)
    assert upload.status == "done" and upload.attempts == 1
    by_name = {e["name"]: e for e in watcher.recorded().values()}
    assert by_name["2024-06-01-07-12-00.fit"]["outcome"] == "sent"
    assert by_name["notes.gpx.gz"]["outcome"] == "refused" and by_name["notes.gpx.gz"]["status"] == 415
    assert "not hold a workout file" in by_name["notes.gpx.gz"]["reason"]
    assert stack.api.posts() - posts_before == 2


def test_once_sends_the_complete_files_then_exits_1_naming_the_file_that_is_still_unfinished(
    stack: Stack, tmp_path: Path
) -> None:
    token, user_id = stack.new_user()
    folder = tmp_path / "card"
    folder.mkdir()
    done, cut = activity(32, 147), activity(38, 151)
    (folder / "done.fit").write_bytes(done)
    (folder / "cut.fit").write_bytes(cut[: len(cut) * 2 // 3])
    watcher = Watcher(folder, stack.api.url, token, tmp_path / "watch.log")
    once = subprocess.run([*watcher.cmd, "--once"], env=watcher.env, cwd=REPO, capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert once.returncode == 1, once.stderr
    assert "sent done.fit" in once.stderr
    assert "not sent: cut.fit" in once.stderr and "bytes its header declares" in once.stderr
    [upload] = stack.wait_for_uploads(user_id, 1)
    assert upload.sha256 == sha(done)


def test_a_first_run_on_a_folder_of_old_files_uploads_them_all_and_emails_about_none(
    stack: Stack, tmp_path: Path
) -> None:
    # A watch's history: hard, long sessions from years ago, by an athlete who cramped recently. Each is
    # analysed and listed as high risk, but none is news: no "act now" email for any of them (§10.8).
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from core.models import AlertOutbox, WorkoutSession

    token, user_id = stack.new_user()
    profile = {"mass_kg": 70, "height_m": 1.75, "sex": "m", "hr_max": 190, "hr_rest": 50,
               "cramp_history": "recent"}  # fmt: skip
    r = httpx.put(f"{stack.api.url}/v1/profile", json=profile, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    folder = tmp_path / "OLD"
    folder.mkdir()
    for day in range(4):
        start = datetime(2019, 5, 1 + 2 * day, 7, 0, tzinfo=UTC)
        records = steady_records(minutes=150, hr=172, speed_ms=3.6, every_s=5, hr_swing=6)
        (folder / f"old-{day}.fit").write_bytes(build_fit(records, sport="running", start=start))

    with Watcher(folder, stack.api.url, token, tmp_path / "watch.log") as watcher:
        uploads = stack.wait_for_uploads(user_id, 4)
        wait_until("the watcher recorded 4 files", lambda: len(watcher.recorded()) == 4, 30, watcher.log)
        assert watcher.terminate() == 0

    assert [u.status for u in uploads] == ["done"] * 4, [(u.status, u.error) for u in uploads]
    engine = sa.create_engine(stack.db_url)
    try:
        with Session(engine) as db:
            sessions = list(db.scalars(sa.select(WorkoutSession).where(WorkoutSession.user_id == user_id)))
            alerts = db.scalar(
                sa.select(sa.func.count()).select_from(AlertOutbox).where(AlertOutbox.user_id == user_id)
            )
    finally:
        engine.dispose()
    assert len(sessions) == 4 and alerts == 0
    assert {ws.metrics["risk"]["tier"] for ws in sessions} == {"high"}
    assert {ws.metrics["alert"]["status"] for ws in sessions} == {"not_due"}
