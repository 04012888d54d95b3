"""The fetch step: cache first, the provider for what is missing, and a reason whenever no weather is used."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import func, select

from core.db import dispose_engines, unit_of_work
from core.models import WeatherCache
from core.settings import Settings
from support.weather_server import FakeArchive, fake_open_meteo
from workers.activity import Activity
from workers.weather import lookup_weather

START = datetime(2024, 7, 1, 8, 10, tzinfo=UTC)


@pytest.fixture
def archive() -> Iterator[FakeArchive]:
    with fake_open_meteo() as fake:
        yield fake


def on(archive: FakeArchive, **kw: object) -> Settings:
    values: dict[str, object] = {
        "weather_enabled": True,
        "weather_base_url": archive.url,
        "weather_recent_url": archive.recent_url,
        "weather_timeout_s": 10.0,
        "weather_attempts": 2,
        **kw,
    }
    return Settings(**values)  # type: ignore[arg-type]


def ride(
    *, lat: float = 52.52, lon: float = 13.38, indoor: bool | None = False, gps: bool = True
) -> Activity:
    t = np.arange(0.0, 5400.0 + 1, 60.0)
    return Activity(
        t=t,
        start_time=START,
        sport="cycling",
        indoor=indoor,
        lat=np.full(t.size, lat) if gps else None,
        lon=np.full(t.size, lon) if gps else None,
    )


def cached_rows() -> int:
    with unit_of_work() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(WeatherCache)) or 0)


def test_it_is_off_by_default_and_asks_nothing(database_url: str, archive: FakeArchive) -> None:
    found = lookup_weather(Settings(weather_base_url=archive.url), ride())
    assert (found.observation, found.status) == (None, "off")
    assert found.reason == "weather lookups are turned off on this server"
    assert archive.requests == []


def test_indoor_sessions_and_files_without_gps_never_call_it(database_url: str, archive: FakeArchive) -> None:
    indoor = lookup_weather(on(archive), ride(indoor=True))
    no_gps = lookup_weather(on(archive), ride(indoor=None, gps=False))
    overridden = lookup_weather(on(archive), ride(), indoor_override=True)
    assert [x.status for x in (indoor, no_gps, overridden)] == ["not_applicable"] * 3
    assert no_gps.reason == "the file has no GPS position (or no start time)"
    assert archive.requests == []


def test_it_averages_the_samples_and_a_recompute_costs_no_call(
    database_url: str, archive: FakeArchive
) -> None:
    first = lookup_weather(on(archive), ride())
    assert first.status == "used" and first.observation is not None
    assert (first.observation.temp_c, first.observation.humidity_pct, first.observation.samples) == (
        27.5,
        64.0,
        3,
    )
    assert (first.observation.lat, first.observation.lon) == (52.5, 13.4)
    assert len(archive.requests) == 1 and cached_rows() == 3

    dispose_engines()  # as after a restart: the rows are in the database, not in memory
    again = lookup_weather(on(archive), ride())
    assert again.observation == first.observation and again.from_cache == 3
    assert len(archive.requests) == 1


def test_a_club_riding_together_costs_one_call(database_url: str, archive: FakeArchive) -> None:
    riders = [ride(lat=52.52 + i * 0.001, lon=13.38 - i * 0.001) for i in range(5)]
    used = [lookup_weather(on(archive), r).status for r in riders]
    assert used == ["used"] * 5 and len(archive.requests) == 1


def test_when_the_provider_is_slow_it_names_the_reason_and_caches_nothing(
    database_url: str, archive: FakeArchive
) -> None:
    archive.default = "slow"
    found = lookup_weather(on(archive, weather_timeout_s=0.2), ride())
    assert (found.observation, found.status) == (None, "unavailable")
    assert found.reason == "the weather service did not answer within 0.2 s"
    assert cached_rows() == 0


def test_hours_the_archive_has_not_filled_are_asked_of_the_forecast_api(
    database_url: str, archive: FakeArchive
) -> None:
    archive.script.append("null")
    archive.temp_c = 18.0  # what both answer where they have data; the archive's hours here are null

    found = lookup_weather(on(archive), ride())

    assert found.status == "used" and found.observation is not None and found.observation.temp_c == 18.0
    assert len(archive.requests) == 1 and len(archive.recent_requests) == 1
    assert archive.recent_requests[0]["start_date"] == "2024-07-01"


def test_without_the_forecast_api_unfilled_hours_are_asked_again_later(
    database_url: str, archive: FakeArchive
) -> None:
    archive.script.append("null")
    early = lookup_weather(on(archive, weather_recent_url="none"), ride())
    assert early.status == "unavailable" and early.reason is not None and "recompute" in early.reason
    assert cached_rows() == 0 and archive.recent_requests == []

    later = lookup_weather(on(archive, weather_recent_url="none"), ride())
    assert later.status == "used" and len(archive.requests) == 2
