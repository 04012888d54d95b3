"""The weather cache: hourly observations by (provider, rounded place, hour), in the database.

Only complete hours (temperature and humidity known) are kept: the archive lags a few days, and an hour it
could not answer yet must be asked again by a later recompute. Writers only flush; the caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.db import is_postgres
from core.models import WeatherCache, utcnow
from workers.weather.provider import HourlyObservation


def cached_hours(
    db: Session, *, provider: str, lat_e4: int, lon_e4: int, hours: Iterable[datetime]
) -> dict[datetime, HourlyObservation]:
    wanted = sorted(set(hours))
    if not wanted:
        return {}
    rows = db.scalars(
        select(WeatherCache).where(
            WeatherCache.provider == provider,
            WeatherCache.lat_e4 == lat_e4,
            WeatherCache.lon_e4 == lon_e4,
            WeatherCache.hour.in_(wanted),
        )
    )
    return {
        row.hour: HourlyObservation(
            hour=row.hour,
            temp_c=row.temp_c,
            humidity_pct=row.humidity_pct,
            wind_ms=row.wind_ms,
            cloud_cover_pct=row.cloud_cover_pct,
            shortwave_w_m2=row.shortwave_w_m2,
        )
        for row in rows
    }


def store_hours(
    db: Session, *, provider: str, lat_e4: int, lon_e4: int, observations: Iterable[HourlyObservation]
) -> int:
    """Insert the complete hours; an hour another worker stored meanwhile is left as it is."""
    now = utcnow()
    values = [
        {
            "provider": provider,
            "lat_e4": lat_e4,
            "lon_e4": lon_e4,
            "hour": o.hour,
            "temp_c": o.temp_c,
            "humidity_pct": o.humidity_pct,
            "wind_ms": o.wind_ms,
            "cloud_cover_pct": o.cloud_cover_pct,
            "shortwave_w_m2": o.shortwave_w_m2,
            "fetched_at": now,
        }
        for o in observations
        if o.temp_c is not None and o.humidity_pct is not None
    ]
    if not values:
        return 0
    insert = postgresql.insert if is_postgres(db) else sqlite.insert
    stmt = insert(WeatherCache).values(values)
    db.execute(stmt.on_conflict_do_nothing(index_elements=["provider", "lat_e4", "lon_e4", "hour"]))
    db.flush()
    return len(values)
