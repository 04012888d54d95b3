"""Deeply nested XML is refused with a sentence before any tree is built, never crashing the process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from support.hostile import deep_gpx, deep_tcx
from workers.activity import FileRejected
from workers.formats.gpx import parse_gpx
from workers.formats.tcx import parse_tcx

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("suffix", "make"), [("gpx", deep_gpx), ("tcx", deep_tcx)])
def test_analyze_refuses_a_file_of_500000_nested_elements_instead_of_crashing(
    tmp_path: Path, suffix: str, make: Callable[[int], bytes]
) -> None:
    path = tmp_path / f"deep.{suffix}"
    path.write_bytes(make(500_000))
    run = subprocess.run(
        [sys.executable, "-m", "sweatsync.cli", "analyze", str(path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 2, run.stderr[-500:]  # 139 was the segfault
    assert "levels deep" in run.stderr


@pytest.mark.parametrize(("parse", "make"), [(parse_gpx, deep_gpx), (parse_tcx, deep_tcx)])
def test_the_readers_name_the_nesting_when_they_refuse_it(
    parse: Callable[[bytes], object], make: Callable[[int], bytes]
) -> None:
    with pytest.raises(FileRejected, match="more than 64 levels deep"):
        parse(make(200))


@pytest.mark.parametrize(("parse", "make"), [(parse_gpx, deep_gpx), (parse_tcx, deep_tcx)])
def test_the_readers_still_accept_ordinary_nesting(
    parse: Callable[[bytes], object], make: Callable[[int], bytes]
) -> None:
    parse(make(20))
