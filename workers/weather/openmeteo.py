"""Open-Meteo's historical weather archive (no key): hourly observations at a point.

Request and response as documented at https://open-meteo.com/en/docs/historical-weather-api ("API
Documentation"): GET /v1/archive with latitude, longitude, start_date and end_date (yyyy-mm-dd), hourly=
a comma-separated list of variables, wind_speed_unit=ms and timezone=GMT (the default; times are then UTC).
On success the JSON object carries `hourly.time` (ISO 8601 hours, "2022-07-01T00:00") and one array per
variable, plus `hourly_units`; on a bad request it answers HTTP 400 with {"error": true, "reason": "..."}.
The archive may hold null for the most recent days (it lags by a few days); the page points to the
forecast API for those ("If you want information for the most recent days, you can use the forecast API"),
whose /v1/forecast takes the same start_date/end_date, hourly, wind_speed_unit and timezone parameters and
answers in the same format (https://open-meteo.com/en/docs). Hours the archive has not filled are asked
there when `recent_url` is set.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import stamina

from workers.weather.provider import HourlyObservation, WeatherUnavailable

HOURLY_VARIABLES = (
    "temperature_2m",
    "relative_humidity_2m",
    "wind_speed_10m",
    "cloud_cover",
    "shortwave_radiation",
)


class RetryableAnswer(Exception):
    """HTTP 429 or 5xx: worth another try, after Retry-After when the server gave one."""

    def __init__(self, status: int, retry_after_s: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after_s = retry_after_s


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _place(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")


class OpenMeteoArchive:
    """The real client. `transport` is for tests that need one; they normally point base_url at loopback."""

    name = "open-meteo"

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 5.0,
        attempts: int = 3,
        retry_budget_s: float = 15.0,
        recent_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url
        self.recent_url = recent_url
        self.timeout_s = timeout_s
        self.attempts = max(1, attempts)
        self.retry_budget_s = retry_budget_s
        self._transport = transport

    def fetch_hourly(
        self, lat: float, lon: float, first: datetime, last: datetime
    ) -> list[HourlyObservation]:
        params = {
            "latitude": _place(lat),
            "longitude": _place(lon),
            "start_date": first.astimezone(UTC).date().isoformat(),
            "end_date": last.astimezone(UTC).date().isoformat(),
            "hourly": ",".join(HOURLY_VARIABLES),
            "wind_speed_unit": "ms",
            "timezone": "GMT",
        }
        hours = self._ask(self.base_url, params, first, last)
        if self.recent_url and any(h.temp_c is None or h.humidity_pct is None for h in hours):
            try:
                recent = {h.hour: h for h in self._ask(self.recent_url, params, first, last)}
            except WeatherUnavailable:
                return hours  # the archive's answer stands: no data yet, a later recompute asks again
            hours = [h if h.temp_c is not None and h.humidity_pct is not None else recent.get(h.hour, h)
                     for h in hours]  # fmt: skip
        return hours

    def _ask(
        self, url: str, params: Mapping[str, str], first: datetime, last: datetime
    ) -> list[HourlyObservation]:
        try:
            response = self._get(url, params)
        except RetryableAnswer as answer:
            raise WeatherUnavailable(
                "the weather service is rate-limiting requests"
                if answer.status == 429
                else f"the weather service failed (HTTP {answer.status})"
            ) from answer
        except httpx.TimeoutException as exc:
            raise WeatherUnavailable(
                f"the weather service did not answer within {self.timeout_s:g} s"
            ) from exc
        except httpx.TransportError as exc:
            raise WeatherUnavailable("the weather service could not be reached") from exc
        return parse_archive(_json(response), first=first, last=last)

    def _get(self, url: str, params: Mapping[str, str]) -> httpx.Response:
        started = time.monotonic()

        def backoff(exc: Exception) -> bool | float:
            if isinstance(exc, httpx.TransportError):
                return True  # connect errors and timeouts: exponential backoff with jitter
            if isinstance(exc, RetryableAnswer):
                if exc.retry_after_s is None:
                    return True
                left = self.retry_budget_s - (time.monotonic() - started)
                # Waiting past the budget would only delay the analysis: give up and use the next source.
                return exc.retry_after_s if exc.retry_after_s <= left else False
            return False

        with httpx.Client(timeout=self.timeout_s, transport=self._transport) as client:
            for attempt in stamina.retry_context(
                on=backoff,
                attempts=self.attempts,
                timeout=self.retry_budget_s,
                wait_initial=0.2,
                wait_max=2.0,
                wait_jitter=0.2,
            ):
                with attempt:
                    response = client.get(url, params=params)
                    if response.status_code == 429 or response.status_code >= 500:
                        raise RetryableAnswer(
                            response.status_code, retry_after_seconds(response.headers.get("retry-after"))
                        )
                    return response
        raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200:
        reason = body.get("reason") if isinstance(body, dict) and body.get("error") else None
        if reason:
            raise WeatherUnavailable(f"the weather service refused the request: {str(reason)[:200]}")
        raise WeatherUnavailable(f"the weather service answered HTTP {response.status_code}")
    if not isinstance(body, dict):
        raise WeatherUnavailable("the weather service answered in an unexpected format")
    return body


def _number(values: Any, i: int, scale: float = 1.0) -> float | None:
    if not isinstance(values, list) or i >= len(values):
        return None
    v = values[i]
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        return None
    return float(v) * scale


def parse_archive(body: Mapping[str, Any], *, first: datetime, last: datetime) -> list[HourlyObservation]:
    """The documented JSON object → observations for the hours in [first, last]; null values stay None."""
    hourly = body.get("hourly")
    if not isinstance(hourly, dict) or not isinstance(hourly.get("time"), list):
        raise WeatherUnavailable("the weather service answered in an unexpected format")
    times: list[Any] = hourly["time"]
    units = body.get("hourly_units")
    units = units if isinstance(units, dict) else {}
    # We ask for m/s; convert if a server ignores wind_speed_unit and answers its km/h default.
    wind_scale = 1 / 3.6 if str(units.get("wind_speed_10m", "m/s")).replace(" ", "") == "km/h" else 1.0
    lo = first.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    hi = last.astimezone(UTC)
    out: list[HourlyObservation] = []
    for i, stamp in enumerate(times):
        try:
            hour = datetime.fromisoformat(str(stamp)).replace(tzinfo=UTC)
        except ValueError:
            continue
        if not lo <= hour <= hi:
            continue
        out.append(
            HourlyObservation(
                hour=hour,
                temp_c=_number(hourly.get("temperature_2m"), i),
                humidity_pct=_number(hourly.get("relative_humidity_2m"), i),
                wind_ms=_number(hourly.get("wind_speed_10m"), i, wind_scale),
                cloud_cover_pct=_number(hourly.get("cloud_cover"), i),
                shortwave_w_m2=_number(hourly.get("shortwave_radiation"), i),
            )
        )
    return out
