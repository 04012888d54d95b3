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

from sqlalchemy.exc import OperationalError

from core.db import UnitOfWork, unit_of_work
from core.result import Assumption, SessionResult
from core.result import WeatherLookup as WeatherLookupPart
from core.settings import Settings
from workers.activity import Activity
from workers.physiology.inputs import WeatherObservation
from workers.physiology.report import assumption
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
        recent_url=None if settings.weather_recent_url == "none" else settings.weather_recent_url,
    )


def fetch_weather(
    settings: Settings, activity: Activity, *, indoor_override: bool | None = None
) -> WeatherLookup:
    """The worker's entry point: never fails the analysis (a database outage still propagates, so the task
    retries as it would without weather)."""
    try:
        return lookup_weather(settings, activity, indoor_override=indoor_override)
    except OperationalError:
        raise
    except Exception:
        log.exception("sweatsync.weather.lookup_failed")
        return WeatherLookup(None, UNAVAILABLE, "the weather lookup failed unexpectedly")


def lookup_weather(
    settings: Settings,
    activity: Activity,
    *,
    indoor_override: bool | None = None,
    provider: WeatherProvider | None = None,
    uow: Callable[[], AbstractContextManager[UnitOfWork]] | None = unit_of_work,
) -> WeatherLookup:
    """The weather for the activity; `uow=None` asks the provider without the cache (the local CLI)."""
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
    uow: Callable[[], AbstractContextManager[UnitOfWork]] | None,
) -> tuple[dict[SamplePoint, HourlyObservation], int, str | None]:
    """Cache first, then one provider call per rounded place for the hours it lacks."""
    by_place: dict[tuple[int, int], list[SamplePoint]] = defaultdict(list)
    for p in points:
        by_place[(p.lat_e4, p.lon_e4)].append(p)
    found: dict[SamplePoint, HourlyObservation] = {}
    if uow is not None:
        with uow() as u:
            for (lat_e4, lon_e4), pts in by_place.items():
                hours = [p.hour for p in pts]
                hit = cache.cached_hours(
                    u.session, provider=provider.name, lat_e4=lat_e4, lon_e4=lon_e4, hours=hours
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
    if fetched and uow is not None:
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


def annotate(result: SessionResult, lookup: WeatherLookup) -> None:
    """Record the lookup in the session result (ambient.weather_lookup), and in `assumptions`, which the
    email and the CLI already show, say what the weather gave or why it was not used."""
    obs, amb = lookup.observation, result.ambient
    amb.weather_lookup = WeatherLookupPart(
        status=lookup.status,
        reason=lookup.reason,
        provider=obs.provider if obs else None,
        samples=lookup.samples,
    )
    if obs is not None and "weather" in (amb.source, amb.humidity_source):
        hours = f"{obs.samples} hour{'s' if obs.samples != 1 else ''}"
        value: Any = {"temp_c": obs.temp_c, "humidity_pct": obs.humidity_pct}
        source, message = (
            "weather",
            (
                f"Air temperature {obs.temp_c:.1f} °C and humidity {obs.humidity_pct:.0f} % are the observed "
                f"weather ({obs.provider}) near your route, averaged over {hours}."
            ),
        )
    elif lookup.status == UNAVAILABLE and amb.source != "override":
        fallback = FALLBACKS.get(str(amb.source), "the default")
        value, source, message = (
            None,
            "unavailable",
            (
                f"No weather observation was used ({lookup.reason}); the air temperature is from {fallback}. "
                "Recomputing the session later will use the weather."
            ),
        )
    else:
        return
    note = assumption("ambient.weather", value, source, message, "conditions.temp_c", ["fluid", "sodium"])
    result.assumptions.append(Assumption.model_validate(note))


FALLBACKS = {"weather_message": "your device's weather data", "head_unit": "your bike computer's sensor"}
