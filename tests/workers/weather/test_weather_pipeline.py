"""End to end: uploads analysed by a real Celery worker fetch the weather from a loopback archive, and
carry on without it when the archive is unreachable; a later recompute picks it up; overrides still win."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from conftest import BACKENDS, isolated_env, migrated_database
from fitgen import build_fit, steady_records
from support.gps import gps_run_fit
from support.services import ApiServer, celery_worker, smtp_server
from support.stack import Stack
from support.weather_server import FakeArchive, fake_open_meteo

pytestmark = pytest.mark.integration

START = datetime(2025, 6, 21, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module", params=BACKENDS)
def weather_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, redis_url: str
) -> Iterator[tuple[Stack, FakeArchive]]:
    tmp = tmp_path_factory.mktemp(f"weather-{request.param}")
    redis.Redis.from_url(redis_url).flushall()
    with (
        fake_open_meteo() as archive,
        pytest.MonkeyPatch.context() as mp,
        migrated_database(request.param, tmp) as db_url,
        smtp_server() as (smtp_url, sink),
        isolated_env(
            mp,
            tmp,
            database_url=db_url,
            broker_url=redis_url,
            smtp_url=smtp_url,
            weather_enabled="true",
            weather_base_url=archive.url,
            weather_recent_url=archive.recent_url,
            weather_timeout_s="10",
            weather_attempts="2",
            weather_retry_budget_s="5",
        ),
    ):
        env = {k: v for k, v in os.environ.items() if k.startswith("SWEATSYNC_")}
        log = tmp / "worker.log"
        with celery_worker(env, concurrency=2, log=log), ApiServer() as api:
            yield Stack(api.url, sink, tmp, log), archive


def analysed(stack: Stack, token: str, path: Path) -> dict[str, Any]:
    r = stack.upload(token, path)
    assert r.status_code == 202, r.text
    done = stack.wait_until_finished(token, r.json()["id"])
    assert done["status"] == "done", done
    with stack.client(token) as c:
        return c.get(f"/v1/sessions/{done['sessions'][0]}").json()


def wait_for(
    stack: Stack, token: str, session_id: str, ok: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    with stack.client(token) as c:
        while True:
            body = c.get(f"/v1/sessions/{session_id}").json()
            if ok(body):
                return body
            assert time.monotonic() < deadline, body["ambient"]
            time.sleep(0.3)


def gps_file(tmp: Path, name: str, start: datetime) -> Path:
    path = tmp / name
    path.write_bytes(gps_run_fit(75, start=start))
    return path


def test_a_gps_session_takes_its_temperature_and_humidity_from_the_weather(
    weather_stack: tuple[Stack, FakeArchive], tmp_path: Path
) -> None:
    stack, archive = weather_stack
    archive.default = "ok"
    token = stack.new_user(f"sun-{id(tmp_path)}@example.com", mass_kg=70, height_m=1.75)
    before = len(archive.requests)

    session = analysed(stack, token, gps_file(tmp_path, "run.fit", START))

    ambient = session["ambient"]
    assert (ambient["temp_c"], ambient["humidity_pct"]) == (27.5, 64)
    assert (ambient["sources"]["temp_c"], ambient["sources"]["humidity_pct"]) == ("weather", "weather")
    assert ambient["weather"]["provider"] == "open-meteo"
    assert ambient["weather_lookup"]["status"] == "used" and len(ambient["weather_lookup"]["samples"]) == 3
    assert any(a["source"] == "weather" for a in session["assumptions"])
    # The run heads 0.2° east: one call per rounded place, the first at the start fix on the 0.1° grid.
    asked = archive.requests[before:]
    assert [(q["latitude"], q["longitude"], q["start_date"]) for q in asked] == [
        ("52.5", "13.4", "2025-06-21"),
        ("52.5", "13.5", "2025-06-21"),
        ("52.5", "13.6", "2025-06-21"),
    ]


def test_with_the_archive_unreachable_the_session_finishes_on_the_fallback_and_recompute_picks_it_up(
    weather_stack: tuple[Stack, FakeArchive], tmp_path: Path
) -> None:
    stack, archive = weather_stack
    archive.default = "drop"  # every request hung up on (slow answers: test_weather_openmeteo, _lookup)
    email = f"slow-{id(tmp_path)}@example.com"
    token = stack.new_user(email, mass_kg=70, height_m=1.75)

    session = analysed(stack, token, gps_file(tmp_path, "late.fit", START + timedelta(days=3)))

    ambient = session["ambient"]
    assert ambient["sources"]["temp_c"] == "default" and ambient["temp_c"] == 20.0
    assert ambient["weather_lookup"]["status"] == "unavailable"
    assert ambient["weather_lookup"]["reason"] == "the weather service could not be reached"
    assert any("No weather observation was used" in a["message"] for a in session["assumptions"])

    archive.default = "ok"
    r = subprocess.run(
        [sys.executable, "-m", "sweatsync.cli", "recompute", "--user", email],
        env={**os.environ},
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    again = wait_for(stack, token, session["id"], lambda b: b["ambient"]["sources"]["temp_c"] == "weather")
    assert again["ambient"]["temp_c"] == 27.5


def test_indoor_and_no_gps_sessions_never_ask_and_overrides_win(
    weather_stack: tuple[Stack, FakeArchive], tmp_path: Path
) -> None:
    stack, archive = weather_stack
    archive.default = "ok"
    token = stack.new_user(f"in-{id(tmp_path)}@example.com", mass_kg=70, height_m=1.75)
    before = len(archive.requests)
    no_gps = tmp_path / "treadmill.fit"
    no_gps.write_bytes(build_fit(steady_records(40), sport="running", sub_sport="treadmill", start=START))

    indoor = analysed(stack, token, no_gps)

    assert indoor["ambient"]["weather_lookup"]["status"] == "not_applicable"
    assert len(archive.requests) == before

    outdoor = analysed(stack, token, gps_file(tmp_path, "hot.fit", START + timedelta(days=7)))
    with stack.client(token) as c:
        r = c.put(f"/v1/sessions/{outdoor['id']}/conditions", json={"temp_c": 33, "humidity_pct": 40})
        assert r.status_code == 202, r.text  # recomputed by the worker
    changed = wait_for(stack, token, outdoor["id"], lambda b: b["ambient"]["sources"]["temp_c"] == "override")
    assert (changed["ambient"]["temp_c"], changed["ambient"]["humidity_pct"]) == (33, 40)
