"""How the burst-scaling figure is taken: no timing is asserted here, only the method."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.service import Burst, Scaling

REPO = Path(__file__).resolve().parents[2]


def _burst(workers: int, span_s: float) -> Burst:
    return Burst(workers, 24, 0.5, span_s, span_s, span_s, span_s, 0.0, [12, 12], [2.4, 2.4], [0.2] * 24)


def test_the_burst_workers_leave_the_relay_to_a_queue_of_its_own() -> None:
    # In a subprocess: importing bench.worker_app changes the routes of the project's (shared) Celery app.
    code = (
        "from bench.worker_app import celery_app as app\n"
        "print(*(app.amqp.router.route({}, t)['queue'].name "
        "for t in ('sweatsync.relay_outbox', 'sweatsync.process_upload')))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["sweatsync-relay", "sweatsync"]


def test_the_least_disturbed_try_of_each_process_count_is_the_one_that_counts() -> None:
    scaling = Scaling("SQLite", tries=[_burst(1, 6.5), _burst(2, 6.3), _burst(1, 6.1), _burst(2, 3.1)])
    assert scaling.runs[1].span_s == 6.1
    assert scaling.runs[2].span_s == 3.1
    assert scaling.factor == 6.1 / 3.1
    assert scaling.spans(2) == [6.3, 3.1]


def test_no_factor_is_given_until_both_process_counts_ran() -> None:
    assert Scaling("SQLite", tries=[_burst(1, 6.1)]).factor is None
