"""Waiting on state, never on the clock: generous ceilings that only a hang reaches, and the time it took.

A busy CI machine may be several times slower than a laptop; a test fails here only when nothing moves
for `stall_s`, or when the whole wait passes a ceiling far beyond any healthy run.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable


def report(what: str, seconds: float) -> None:
    # Shown with `pytest -s` or in the captured output of a failure; the chaos table reads it too.
    print(f"[waited] {what}: {seconds:.1f} s", file=sys.stderr)


def wait_until(predicate: Callable[[], bool], *, what: str, ceiling_s: float = 900.0) -> float:
    """Seconds until predicate() held; AssertionError after ceiling_s."""
    started = time.monotonic()
    while not predicate():
        elapsed = time.monotonic() - started
        assert elapsed < ceiling_s, f"{what}: still not true after {elapsed:.0f} s"
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    report(what, elapsed)
    return elapsed


def wait_for_count(
    count: Callable[[], int], target: int, *, what: str, stall_s: float = 300.0, ceiling_s: float = 1800.0
) -> float:
    """Seconds until count() >= target. Fails when the count stops growing for stall_s (a hang), not
    because a slow machine needs longer than a fast one."""
    started = last_change = time.monotonic()
    last = count()
    while last < target:
        time.sleep(0.3)
        now, current = time.monotonic(), count()
        if current != last:
            last, last_change = current, now
        assert now - last_change < stall_s, f"{what}: stuck at {last}/{target} for {now - last_change:.0f} s"
        assert now - started < ceiling_s, f"{what}: {last}/{target} after {now - started:.0f} s"
    elapsed = time.monotonic() - started
    report(what, elapsed)
    return elapsed
