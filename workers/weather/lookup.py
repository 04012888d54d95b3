"""The fetch step: the weather for one activity, from the cache or the provider, never failing the analysis.

Runs in the worker, outside any open transaction (the cache is read and written in short units of work of
its own, the provider is asked in between). Whatever happens, the answer is a WeatherLookup: the averaged
observation when there is one, otherwise why not, so the model uses the next source of science.md §3.4 and
the result says which and why.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from core.db import UnitOfWork, unit_of_work
from core.settings import Settings
from workers.activity import Activity
from workers.physiology.inputs import WeatherObservation
from workers.weather import cache
from workers.weather.openmeteo import OpenMeteoArchive
from workers.weather.provider import HourlyObservation, WeatherProvider, WeatherUnavailable
from workers.weather.sampling import SamplePoint, average, sample_points

log = logging.getLogger(__name__)

USED, OFF, NOT_APPLICABLE, UNAVAILABLE = "used", "off", "not_applicable", "unavailable"


@dataclass
class WeatherLookup:
    observation: WeatherObservation | None
    status: str  # used | off | not_applicable | unavailable
    reason: str | None = None  # why no observation was used, for the athlete
    samples: list[dict[str, Any]] = field(default_factory=list)  # per (rounded place, hour) values
    from_cache: int = 0  # samples answered by the cache, not the provider

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "reason": self.reason, "samples": self.samples}


def provider_from_settings(settings: Settings) -> WeatherProvider | None:
    if not settings.weather_active:
        return None
    return OpenMeteoArchive(
        settings.weather_base_url,
        timeout_s=settings.weather_timeout_s,
        attempts=settings.weather_attempts,
        retry_budget_s=settings.weather_retry_budget_s,
    )


def lookup_weather(
    settings: Settings,
    activity: Activity,
    *,
    indoor_override: bool | None = None,
    provider: WeatherProvider | None = None,
    uow: Callable[[], AbstractContextManager[UnitOfWork]] = unit_of_work,
) -> WeatherLookup:
    if not settings.weather_active:
        return WeatherLookup(None, OFF, "weather lookups are turned off on this server")
    indoor = indoor_override if indoor_override is not None else activity.indoor
    if indoor:
        return WeatherLookup(None, NOT_APPLICABLE, "indoor session: outdoor weather does not apply")
    points = sample_points(activity, settings.weather_place_round_deg)
    if not points:
        return WeatherLookup(None, NOT_APPLICABLE, "the file has no GPS position (or no start time)")
    provider = provider or provider_from_settings(settings)
    assert provider is not None
    found, from_cache, failure = _gather(provider, points, uow)
    samples = [(p, found[p]) for p in points if p in found]
    observation = average(samples, provider.name)
    rows = [_sample_json(p, o) for p, o in samples]
    if observation is not None:
        return WeatherLookup(observation, USED, None, rows, from_cache)
    reason = failure or (
        "the weather archive has no observation for these hours yet (it lags a few days); "
        "recompute the session later to use it"
    )
    return WeatherLookup(None, UNAVAILABLE, reason, rows, from_cache)


def _gather(
    provider: WeatherProvider,
    points: list[SamplePoint],
    uow: Callable[[], AbstractContextManager[UnitOfWork]],
) -> tuple[dict[SamplePoint, HourlyObservation], int, str | None]:
    """Cache first, then one provider call per rounded place for the hours it lacks."""
    by_place: dict[tuple[int, int], list[SamplePoint]] = defaultdict(list)
    for p in points:
        by_place[(p.lat_e4, p.lon_e4)].append(p)
    found: dict[SamplePoint, HourlyObservation] = {}
    with uow() as u:
        for (lat_e4, lon_e4), pts in by_place.items():
            hit = cache.cached_hours(
                u.session, provider=provider.name, lat_e4=lat_e4, lon_e4=lon_e4, hours=[p.hour for p in pts]
            )
            found.update({p: hit[p.hour] for p in pts if p.hour in hit})
    from_cache = len(found)
    fetched: dict[tuple[int, int], list[HourlyObservation]] = {}
    failure: str | None = None
    for (lat_e4, lon_e4), pts in by_place.items():
        missing = [p for p in pts if p not in found]
        if not missing or failure is not None:
            continue  # after one failure, ask no more: the provider is down or limiting us
        first, last = min(p.hour for p in missing), max(p.hour for p in missing)
        try:
            answer = provider.fetch_hourly(lat_e4 / 10_000, lon_e4 / 10_000, first, last)
        except WeatherUnavailable as exc:
            log.warning("sweatsync.weather.unavailable provider=%s reason=%s", provider.name, exc.reason)
            failure = exc.reason
            continue
        fetched[(lat_e4, lon_e4)] = answer
        by_hour = {o.hour: o for o in answer}
        found.update({p: by_hour[p.hour] for p in missing if p.hour in by_hour})
    if fetched:
        with uow() as u:
            for (lat_e4, lon_e4), answer in fetched.items():
                cache.store_hours(
                    u.session, provider=provider.name, lat_e4=lat_e4, lon_e4=lon_e4, observations=answer
                )
    return found, from_cache, failure


def _sample_json(point: SamplePoint, obs: HourlyObservation) -> dict[str, Any]:
    return {
        "hour": point.hour.isoformat(),
        "lat": point.lat,
        "lon": point.lon,
        "temp_c": obs.temp_c,
        "humidity_pct": obs.humidity_pct,
        "wind_ms": obs.wind_ms,
        "cloud_cover_pct": obs.cloud_cover_pct,
        "shortwave_w_m2": obs.shortwave_w_m2,
    }
