"""`python tests/chaos [SCENARIO ...]`: run the fault scenarios and print the fault table.

Run from the repository root with the project's venv (`.venv/bin/python tests/chaos`); it starts its own
redis-server, SQLite databases, Celery workers and API on private loopback ports, and kills them by pid.
"""

from __future__ import annotations

import logging
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TESTS.parent), str(TESTS)]


def machine() -> str:
    import psutil

    memory = psutil.virtual_memory().total / 2**30
    return (f"{os.cpu_count()} CPUs, {memory:.0f} GB RAM, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")  # fmt: skip


def main(argv: list[str]) -> int:
    from chaos.scenarios import REDUCED, run_all, skipped, table

    logging.basicConfig(level=logging.WARNING)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sweatsync-chaos-") as tmp:
        results = run_all(Path(tmp), argv or None)
    print(table(results))
    print(f"\nmachine: {machine()}; {time.monotonic() - started:.0f} s in all")
    print("reduced counts: " + "; ".join(f"{k} {v}" for k, v in REDUCED.items()))
    if skipped():
        print("not run on this machine: " + skipped())
    return 1 if any(r.lost or r.duplicated or r.five_xx for r in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
