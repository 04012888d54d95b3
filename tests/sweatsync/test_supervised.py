"""`sweatsync up` keeps its children running: one that exits on its own is started again; stop() is final."""

from __future__ import annotations

import subprocess
import sys

from support.waiting import wait_until
from sweatsync.embedded import Supervised


def python(code: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code])


def test_a_child_that_exits_on_its_own_is_started_again() -> None:
    lives = iter([python("raise SystemExit(3)"), python("import time; time.sleep(600)")])
    child = Supervised("a child", lambda: next(lives), max_delay_s=1)
    try:
        wait_until(lambda: child.restarts == 1 and child.proc.poll() is None, what="the child started again")
    finally:
        child.stop(timeout_s=5)
    assert child.proc.poll() is not None


def test_a_child_keeps_being_started_while_it_keeps_failing() -> None:
    child = Supervised("a failing child", lambda: python("raise SystemExit(1)"), max_delay_s=0.2)
    try:
        wait_until(lambda: child.restarts >= 3, what="three restarts")
    finally:
        child.stop(timeout_s=5)


def test_stopping_it_stops_the_child_and_starts_no_other() -> None:
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        started.append(python("import time; time.sleep(600)"))
        return started[-1]

    child = Supervised("a child", start, max_delay_s=0.2)
    child.stop(timeout_s=5)
    assert len(started) == 1 and started[0].poll() is not None
    assert child.restarts == 0
