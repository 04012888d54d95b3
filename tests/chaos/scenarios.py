"""Fault scenarios (reliability.md §5) against real processes, each giving one row of the fault table.

Counts are reduced from reliability.md so that all of them run in a few minutes in CI (see REDUCED); each
scenario function takes its count as a keyword for longer runs. Every wait is on state, with a generous
ceiling, and the time it took is what the table reports. The upload-path scenarios are here; whole-process
restarts and D2 in restarts.py; the email relay's faults in mail_faults.py.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import redis
from sqlalchemy import func, select

from chaos.stack import Chaos, Result, chaos_stack, duplicates, wait
from core.db import unit_of_work
from core.models import Upload, WorkoutSession
from core.settings import Settings, get_settings
from core.storage import raw_path
from fitgen import DEFAULT_START, build_fit, steady_records
from support.hostile import GPX_HEAD, gpx_points

REPO = Path(__file__).resolve().parents[2]


REDUCED = {
    "R1": "3 runs (reliability.md: 20)",
    "R2": "2 runs (20)",
    "R4": "30 queued (500)",
    "R5": "40 queued (500)",
    "R6": "30 uploads (200)",
    "R7": "20 ids x 10 (100 x 10)",
    "R8": "100 uploads (1,000)",
    "R9": "5 alerts, 3 kills (200 alerts, 50 kills)",
    "D1": "every upload of the R8 stack",
    "D2": "10 sessions (1,000)",
}


def ride(i: int, minutes: int = 20) -> bytes:
    return build_fit(steady_records(minutes=minutes, hr=150, speed_ms=3.0), sport="running",
                     start=DEFAULT_START + timedelta(days=i, minutes=i))  # fmt: skip


def slow_gpx(i: int) -> bytes:
    """A GPX that takes the worker a few seconds (gpxpy holds every point): time to kill it mid-parse."""
    points = gpx_points(40_000).replace(b"2024-01-01T", b"2024-%02d-%02dT" % (i // 28 % 12 + 1, i % 28 + 1))
    return GPX_HEAD.replace(b"hostile", f"chaos{i}".encode()) + points + b"</trkseg></trk></gpx>"


def _processing_pid(upload_id: str) -> int | None:
    with unit_of_work() as uow:
        row = uow.session.get(Upload, uuid.UUID(upload_id))
        return row.worker_pid if row is not None and row.status == "processing" else None


def _status(upload_id: str) -> str | None:
    with unit_of_work() as uow:
        row = uow.session.get(Upload, uuid.UUID(upload_id))
        return row.status if row else None


def r1_child_killed(stack: Chaos, runs: int = 3) -> Result:
    """kill -9 the prefork child mid-parse; the upload is taken over and processed once."""
    worst, lost = 0.0, 0
    with stack.worker(concurrency=1):
        for i in range(runs):
            upload_id = stack.upload(f"slow{i}.gpx", slow_gpx(i)).json()["id"]
            wait(lambda u=upload_id: _processing_pid(u) is not None, "R1: the child claims the upload")
            os.kill(_processing_pid(upload_id) or 0, signal.SIGKILL)
            killed = time.monotonic()
            wait(
                lambda u=upload_id: _status(u) in ("done", "failed", "duplicate"),
                "R1: processed after the kill",
            )
            worst = max(worst, time.monotonic() - killed)
            lost += _status(upload_id) != "done"
    return Result("R1 kill -9 worker child mid-parse", runs, lost, duplicates(), stack.five_xx, worst,
                  stack.memory.peak_mb)  # fmt: skip


def r3_poison(stack: Chaos) -> Result:
    """A file whose every attempt dies (here: its child is killed at each claim) is failed after 3."""
    with stack.worker(concurrency=1):
        poison = stack.upload("poison.gpx", slow_gpx(99)).json()["id"]
        other = stack.upload("fine.fit", ride(99)).json()["id"]
        started = time.monotonic()
        kills = 0
        while _status(poison) not in ("failed", "done"):
            pid = _processing_pid(poison)
            if pid and kills < 10:
                os.kill(pid, signal.SIGKILL)
                kills += 1
                wait(lambda p=pid: _processing_pid(poison) != p, "R3: the dead child's claim is released")
            time.sleep(0.05)
            assert time.monotonic() - started < 900, "R3: the poison file was never quarantined"
        wait(lambda: _status(other) == "done", "R3: the other upload is processed")
        with unit_of_work() as uow:
            row = uow.session.get(Upload, uuid.UUID(poison))
            attempts, status = row.attempts, row.status  # type: ignore[union-attr]
    note = f"{kills} kills; failed after {attempts - 1} attempts" if status == "failed" else "NOT quarantined"
    return Result("R3 poison file kills every attempt", 1, int(status != "failed"), duplicates(),
                  stack.five_xx, time.monotonic() - started, stack.memory.peak_mb, note)  # fmt: skip


def r5_flushall(stack: Chaos, queued: int = 40) -> Result:
    """FLUSHALL with uploads queued: the sweeper re-enqueues every one."""
    ids = [stack.upload(f"q{i}.fit", ride(200 + i)).json()["id"] for i in range(queued)]
    redis.Redis(port=stack.redis_port).flushall()
    flushed = time.monotonic()
    with stack.worker():
        wait(lambda: sum(_status(u) == "done" for u in ids) == queued, "R5: every upload after FLUSHALL")
    lost = sum(_status(u) != "done" for u in ids)
    return Result("R5 FLUSHALL with uploads queued", queued, lost, duplicates(), stack.five_xx,
                  time.monotonic() - flushed, stack.memory.peak_mb)  # fmt: skip


def r7_same_task_ten_times(stack: Chaos, ids_count: int = 20) -> Result:
    from workers.celery_app import make_celery

    ids = [stack.upload(f"t{i}.fit", ride(400 + i)).json()["id"] for i in range(ids_count)]
    sender = make_celery(Settings())
    for upload_id in ids:
        for _ in range(10):
            sender.send_task("sweatsync.process_upload", args=[upload_id])
    started = time.monotonic()
    with stack.worker(concurrency=2):
        wait(lambda: sum(_status(u) == "done" for u in ids) == ids_count, "R7: every id processed once")
    return Result("R7 same task enqueued 10x at once", ids_count, sum(_status(u) != "done" for u in ids),
                  duplicates(), stack.five_xx, time.monotonic() - started, stack.memory.peak_mb)  # fmt: skip


def r8_flood(stack: Chaos, uploads: int = 100) -> Result:
    """Uploads at full speed while workers consume: enqueue-after-commit means no 'not found'."""
    files = [ride(600 + i, minutes=5) for i in range(uploads)]
    started = time.monotonic()
    with stack.worker(concurrency=2, name="r8"):
        ids = [stack.upload(f"f{i}.fit", data).json()["id"] for i, data in enumerate(files)]
        wait(lambda: sum(_status(u) in ("done", "duplicate") for u in ids) == uploads, "R8: every upload")
    log = (stack.tmp / "r8.log").read_text(errors="replace")
    not_found = len(re.findall(r"not found|NoResultFound|LookupError", log))
    return Result(
        "R8 uploads at full speed",
        uploads,
        not_found,
        duplicates(),
        stack.five_xx,
        time.monotonic() - started,
        stack.memory.peak_mb,
        f"{not_found} 'not found' in the worker log",
    )


def d1_bytes_kept(stack: Chaos) -> Result:
    """Every stored raw file is byte-for-byte what was sent, failed uploads included."""
    settings = get_settings()
    with unit_of_work() as uow:
        keys = {str(u.id): u.storage_key for u in uow.session.scalars(select(Upload))}
    wrong = sum(
        hashlib.sha256(raw_path(settings, keys[i]).read_bytes()).hexdigest() != sha
        for i, sha in stack.sent.items() if i in keys
    )  # fmt: skip
    return Result("D1 raw bytes == sent bytes", len(stack.sent), wrong, 0, stack.five_xx, 0.0,
                  stack.memory.peak_mb)  # fmt: skip


def d3_same_file_twice(stack: Chaos) -> Result:
    data = ride(900)
    first = stack.upload("once.fit", data)
    second = stack.upload("again.fit", data)
    same = second.status_code == 200 and second.json()["id"] == first.json()["id"]
    with stack.worker():
        wait(lambda: _status(first.json()["id"]) == "done", "D3: the upload is processed")
    with unit_of_work() as uow:
        of_it = WorkoutSession.upload_id == uuid.UUID(first.json()["id"])
        runs = uow.session.scalar(select(func.count()).select_from(WorkoutSession).where(of_it))
    return Result(
        "D3 same file uploaded twice",
        2,
        int(not same),
        (runs or 0) - 1,
        stack.five_xx,
        0.0,
        stack.memory.peak_mb,
        "second answer 200, same id" if same else "second upload differs",
    )


def r12_no_long_eta() -> Result:
    """Static: no apply_async(eta=...) or countdown over 60 s anywhere (celery#2481 family)."""
    pattern = r"eta=|countdown=([6-9][1-9]|[0-9]{3,})"
    folders = ["core", "ingest", "workers", "alerts", "sweatsync"]
    run = subprocess.run(["grep", "-rnE", pattern, *folders], cwd=REPO, capture_output=True, text=True)
    hits = [line for line in run.stdout.splitlines() if "apply_async" in line or "countdown" in line]
    return Result("R12 no ETA/countdown > 60 s (static)", 1, len(hits), 0, 0, 0.0, 0.0, f"{len(hits)} hits")


def on_stack(scenario: Callable[[Chaos], Result]) -> Callable[[Path], Result]:
    """A scenario that runs on the default stack (SQLite, no SMTP server) in its own folder."""

    def run(tmp: Path) -> Result:
        with chaos_stack(tmp) as stack:
            return scenario(stack)

    return run


def r8_and_d1(tmp: Path) -> list[Result]:
    """R8, then D1 over the bytes of every upload that stack took, failed ones included."""
    with chaos_stack(tmp) as stack:
        return [r8_flood(stack), d1_bytes_kept(stack)]


def _scenarios() -> dict[str, Callable[[Path], Result]]:
    from chaos.mail_faults import r9_relay_killed, r10_smtp_421, r11_smtp_550
    from chaos.restarts import d2_recompute, r2_worker_killed, r4_broker_restart, r6_postgres_restart

    on_default = {
        "R1": r1_child_killed,
        "R2": r2_worker_killed,
        "R3": r3_poison,
        "R4": r4_broker_restart,
        "R5": r5_flushall,
        "R7": r7_same_task_ten_times,
        "D2": d2_recompute,
        "D3": d3_same_file_twice,
    }
    own = {"R6": r6_postgres_restart, "R9": r9_relay_killed, "R10": r10_smtp_421, "R11": r11_smtp_550}
    return {k: on_stack(v) for k, v in on_default.items()} | own


SCENARIOS = _scenarios()  # each takes a folder of its own; R8 + D1 share one stack (r8_and_d1), R12 none
ORDER = ["R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "R10", "R11", "R12", "D1", "D2", "D3"]


def run_all(tmp: Path, only: list[str] | None = None) -> list[Result]:
    """Every scenario on a stack of its own (a fresh broker and database), in reliability.md's order; a row
    this machine cannot run is left out and named by `skipped()`."""
    results: list[Result] = []
    for name in ORDER:
        if (only and name not in only) or (name == "R6" and skipped()):
            continue
        if name in SCENARIOS:
            results.append(SCENARIOS[name](tmp / name))
        elif name in ("R8", "D1") and not any(r.scenario.startswith("D1") for r in results):
            results += r8_and_d1(tmp / "R8")
        elif name == "R12":
            results.append(r12_no_long_eta())
    return results


def skipped() -> str:
    """Rows this machine cannot run, and why (empty when it can run them all)."""
    from chaos.postgres import available

    why = available()
    return f"R6 ({why})" if why else ""


def table(results: list[Result]) -> str:
    head = f"| {'scenario':<38} | runs | lost | duplicated | 5xx | worst recovery | peak worker RSS | note |"
    rule = "|" + "|".join("-" * (len(c) + 0) for c in head.split("|")[1:-1]) + "|"
    rows = [
        f"| {r.scenario:<38} | {r.runs:>4} | {r.lost:>4} | {r.duplicated:>10} | {r.five_xx:>3} | "
        f"{r.worst_recovery_s:>12.1f} s | {r.peak_worker_mb:>12.0f} MB | {r.note} |"
        for r in results
    ]
    return "\n".join([head, rule, *rows])
