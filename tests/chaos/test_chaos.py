"""The fault scenarios as tests (reduced counts, see chaos.scenarios.REDUCED): nothing lost, nothing done
twice, no 5xx. `python tests/chaos` runs the same scenarios and prints the fault table."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaos.scenarios import SCENARIOS, Result, d1_bytes_kept, r8_flood, r12_no_long_eta, table
from chaos.stack import chaos_stack

pytestmark = pytest.mark.integration


def check(result: Result) -> None:
    print("\n" + table([result]))
    assert (result.lost, result.duplicated, result.five_xx) == (0, 0, 0), result


@pytest.mark.parametrize("name", [n for n in SCENARIOS if n != "R8"])
def test_the_scenario_loses_nothing_and_does_nothing_twice(name: str, tmp_path: Path) -> None:
    with chaos_stack(tmp_path) as stack:
        check(SCENARIOS[name](stack))


def test_uploads_at_full_speed_are_all_found_and_stored_byte_for_byte(tmp_path: Path) -> None:
    with chaos_stack(tmp_path) as stack:
        check(r8_flood(stack))
        check(d1_bytes_kept(stack))


def test_no_task_is_scheduled_with_a_long_eta() -> None:
    check(r12_no_long_eta())
