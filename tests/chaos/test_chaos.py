"""The fault scenarios as tests (reduced counts, see chaos.scenarios.REDUCED): nothing lost, nothing done
twice, no 5xx. `python tests/chaos` runs the same scenarios and prints the fault table."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaos.scenarios import SCENARIOS, Result, r8_and_d1, r12_no_long_eta, skipped, table

pytestmark = pytest.mark.integration


def check(result: Result) -> None:
    print("\n" + table([result]))
    assert (result.lost, result.duplicated, result.five_xx) == (0, 0, 0), result


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_scenario_loses_nothing_and_does_nothing_twice(name: str, tmp_path: Path) -> None:
    if name == "R6" and skipped():
        pytest.skip(skipped())
    check(SCENARIOS[name](tmp_path))


def test_uploads_at_full_speed_are_all_found_and_stored_byte_for_byte(tmp_path: Path) -> None:
    for result in r8_and_d1(tmp_path):
        check(result)


def test_no_task_is_scheduled_with_a_long_eta() -> None:
    check(r12_no_long_eta())
