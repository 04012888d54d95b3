"""`sweatsync analyze --weather`: the local CLI asks the provider directly when the settings allow it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.gps import gps_run_fit
from support.services import REPO
from support.weather_server import FakeArchive, fake_open_meteo


@pytest.fixture
def archive() -> Iterator[FakeArchive]:
    with fake_open_meteo() as fake:
        yield fake


def run_cli(*args: str, cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWEATSYNC_")}
    env.update({f"SWEATSYNC_{k.upper()}": v for k, v in settings.items()})
    env["PYTHONPATH"] = str(REPO)  # this checkout, as the worker runs it
    return subprocess.run(
        [sys.executable, "-m", "sweatsync.cli", *args], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_analyze_with_weather_uses_the_observed_weather_when_enabled(
    tmp_path: Path, archive: FakeArchive
) -> None:
    path = tmp_path / "run.fit"
    path.write_bytes(gps_run_fit(30, start_at=(52.52, 13.36)))  # stays in one 0.1° cell

    r = run_cli("analyze", str(path), "--weather", "--json", cwd=tmp_path, weather_enabled="true",
                weather_base_url=archive.url, weather_recent_url=archive.recent_url)  # fmt: skip

    assert r.returncode == 0, r.stderr
    ambient = json.loads(r.stdout)["ambient"]
    assert (ambient["temp_c"], ambient["sources"]["temp_c"]) == (27.5, "weather")
    assert len(archive.requests) == 1
    assert not (tmp_path / "var").exists()  # no database: the local CLI keeps no cache


def test_analyze_with_weather_says_the_lookups_are_off_and_asks_nothing(
    tmp_path: Path, archive: FakeArchive
) -> None:
    path = tmp_path / "run.fit"
    path.write_bytes(gps_run_fit(30))

    r = run_cli("analyze", str(path), "--weather", cwd=tmp_path, weather_base_url=archive.url,
                weather_recent_url=archive.recent_url)  # fmt: skip

    assert r.returncode == 0, r.stderr
    assert "SWEATSYNC_WEATHER_ENABLED=true" in r.stderr
    assert "weather: not used, weather lookups are turned off on this server" in r.stdout
    assert archive.requests == []
