"""The Open-Meteo archive client against a loopback server answering in the documented format."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from support.weather_server import FakeArchive, fake_open_meteo
from workers.weather.openmeteo import OpenMeteoArchive, parse_archive, retry_after_seconds
from workers.weather.provider import WeatherUnavailable

FIRST = datetime(2024, 7, 1, 8, 0, tzinfo=UTC)
LAST = datetime(2024, 7, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def archive() -> Iterator[FakeArchive]:
    with fake_open_meteo() as fake:
        yield fake


def client(archive: FakeArchive, **kw: float) -> OpenMeteoArchive:
    options = {"timeout_s": 10.0, "attempts": 3, "retry_budget_s": 20.0, **kw}
    return OpenMeteoArchive(archive.url, **options)  # type: ignore[arg-type]


def test_it_asks_for_the_documented_parameters_and_reads_the_hours_asked(archive: FakeArchive) -> None:
    hours = client(archive).fetch_hourly(52.5, 13.4, FIRST, LAST)

    (query,) = archive.requests
    assert query == {
        "latitude": "52.5",
        "longitude": "13.4",
        "start_date": "2024-07-01",
        "end_date": "2024-07-01",
        "hourly": "temperature_2m,relative_humidity_2m,wind_speed_10m,cloud_cover,shortwave_radiation",
        "wind_speed_unit": "ms",
        "timezone": "GMT",
    }
    assert [h.hour for h in hours] == [FIRST, FIRST.replace(hour=9), LAST]
    assert {(h.temp_c, h.humidity_pct, h.wind_ms, h.cloud_cover_pct, h.shortwave_w_m2) for h in hours} == {
        (27.5, 64.0, 3.2, 25.0, 610.0)
    }


def test_it_keeps_hours_the_archive_has_not_filled_yet_as_unknown(archive: FakeArchive) -> None:
    archive.default = "null"
    hours = client(archive).fetch_hourly(52.5, 13.4, FIRST, LAST)
    assert len(hours) == 3 and all(h.temp_c is None and h.humidity_pct is None for h in hours)


def test_it_fills_the_hours_the_archive_lacks_from_the_forecast_api(archive: FakeArchive) -> None:
    archive.default = "null"
    recent = OpenMeteoArchive(archive.url, timeout_s=10.0, recent_url=archive.recent_url)

    hours = recent.fetch_hourly(52.5, 13.4, FIRST, LAST)

    assert [h.temp_c for h in hours] == [27.5, 27.5, 27.5]
    assert archive.recent_requests == archive.requests  # the same documented parameters


def test_when_the_forecast_api_fails_too_the_archives_empty_hours_stand(archive: FakeArchive) -> None:
    archive.default = "null"
    archive.recent_default = (400, {}, {"error": True, "reason": "start_date is out of allowed range"})
    recent = OpenMeteoArchive(archive.url, timeout_s=10.0, recent_url=archive.recent_url)

    hours = recent.fetch_hourly(52.5, 13.4, FIRST, LAST)

    assert len(hours) == 3 and all(h.temp_c is None for h in hours)


def test_it_gives_the_services_reason_when_it_refuses_the_request(archive: FakeArchive) -> None:
    reason = "Cannot initialize WeatherVariable from invalid String value tempeture_2m for key hourly"
    archive.default = (400, {}, {"error": True, "reason": reason})

    with pytest.raises(WeatherUnavailable) as refused:
        client(archive).fetch_hourly(52.5, 13.4, FIRST, LAST)

    assert refused.value.reason == f"the weather service refused the request: {reason}"
    assert len(archive.requests) == 1  # a bad request is not retried


def test_it_gives_up_with_a_reason_when_the_service_is_slower_than_its_timeout(archive: FakeArchive) -> None:
    archive.default = "slow"

    with pytest.raises(WeatherUnavailable) as slow:
        client(archive, timeout_s=0.2, attempts=2).fetch_hourly(52.5, 13.4, FIRST, LAST)

    assert slow.value.reason == "the weather service did not answer within 0.2 s"
    archive.wait_for_requests(2)  # each attempt timed out
    assert len(archive.requests) == 2


def test_it_waits_for_retry_after_and_then_succeeds_when_rate_limited(archive: FakeArchive) -> None:
    archive.script.append((429, {"Retry-After": "1"}, {"error": True, "reason": "Too many requests"}))

    hours = client(archive).fetch_hourly(52.5, 13.4, FIRST, LAST)

    assert len(archive.requests) == 2 and len(hours) == 3


def test_it_gives_up_at_once_when_retry_after_is_longer_than_its_budget(archive: FakeArchive) -> None:
    archive.default = (429, {"Retry-After": "3600"}, {"error": True, "reason": "Daily API request limit"})

    with pytest.raises(WeatherUnavailable) as limited:
        client(archive, retry_budget_s=5.0).fetch_hourly(52.5, 13.4, FIRST, LAST)

    assert limited.value.reason == "the weather service is rate-limiting requests"
    assert len(archive.requests) == 1


def test_it_retries_a_server_error_and_stops_after_its_attempts(archive: FakeArchive) -> None:
    archive.script.append((502, {}, b"bad gateway"))
    assert len(client(archive).fetch_hourly(52.5, 13.4, FIRST, LAST)) == 3

    archive.requests.clear()
    archive.default = (503, {}, b"down for maintenance")
    with pytest.raises(WeatherUnavailable) as down:
        client(archive, attempts=3).fetch_hourly(52.5, 13.4, FIRST, LAST)
    assert down.value.reason == "the weather service failed (HTTP 503)"
    assert len(archive.requests) == 3


def test_it_says_the_service_could_not_be_reached_when_it_hangs_up(archive: FakeArchive) -> None:
    archive.default = "drop"

    with pytest.raises(WeatherUnavailable) as dropped:
        client(archive, attempts=2).fetch_hourly(52.5, 13.4, FIRST, LAST)

    assert dropped.value.reason == "the weather service could not be reached"
    assert len(archive.requests) == 2


def test_it_says_the_service_could_not_be_reached_when_nothing_listens() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before the client connects: connection refused
    dead = OpenMeteoArchive(f"http://127.0.0.1:{port}/v1/archive", timeout_s=1.0, attempts=2)

    with pytest.raises(WeatherUnavailable) as unreachable:
        dead.fetch_hourly(52.5, 13.4, FIRST, LAST)

    assert unreachable.value.reason == "the weather service could not be reached"


def test_it_converts_km_per_hour_if_a_server_ignores_the_unit_asked() -> None:
    body = {
        "hourly": {"time": ["2024-07-01T08:00"], "temperature_2m": [20.0], "wind_speed_10m": [36.0]},
        "hourly_units": {"wind_speed_10m": "km/h"},
    }
    (hour,) = parse_archive(body, first=FIRST, last=FIRST)
    assert hour.wind_ms == pytest.approx(10.0) and hour.humidity_pct is None


def test_it_reads_retry_after_as_seconds_or_as_an_http_date() -> None:
    now = datetime(2024, 7, 1, 8, 0, tzinfo=UTC)
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("Mon, 01 Jul 2024 08:00:30 GMT", now=now) == 30.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None
