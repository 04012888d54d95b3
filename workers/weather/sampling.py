"""Where and when to ask for the weather along a session, and how the answers become one observation.

Pure computation. Short sessions are sampled at their start, middle and end; sessions longer than
HOURLY_AFTER_S every hour along the GPS track (and at the end). Each sample takes the GPS fix nearest in
time, rounded to the settings' grid (the only place that leaves the server), and the nearest whole hour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from workers.activity import Activity
from workers.physiology.inputs import WeatherObservation
from workers.weather.provider import HourlyObservation

HOURLY_AFTER_S = 3 * 3600
MAX_SAMPLES = 48  # a two-day track at most; longer recordings are implausible for the models anyway


@dataclass(frozen=True)
class SamplePoint:
    lat_e4: int  # rounded place in 1e-4 degree units (the cache key; never compare floats)
    lon_e4: int
    hour: datetime  # UTC, on the hour

    @property
    def lat(self) -> float:
        return self.lat_e4 / 10_000

    @property
    def lon(self) -> float:
        return self.lon_e4 / 10_000


def round_place(lat: float, lon: float, step_deg: float) -> tuple[int, int]:
    """The place on a `step_deg` grid, in 1e-4 degree units."""
    return int(round(round(lat / step_deg) * step_deg * 10_000)), int(
        round(round(lon / step_deg) * step_deg * 10_000)
    )


def nearest_hour(when: datetime) -> datetime:
    when = when.astimezone(UTC)
    floor = when.replace(minute=0, second=0, microsecond=0)
    return floor + timedelta(hours=1) if when - floor >= timedelta(minutes=30) else floor


def sample_times(duration_s: float) -> list[float]:
    if duration_s <= HOURLY_AFTER_S:
        return [0.0, duration_s / 2, duration_s]
    hourly = list(np.arange(0.0, duration_s, 3600.0)[: MAX_SAMPLES - 1])
    return [float(x) for x in hourly] + [duration_s]


def sample_points(activity: Activity, step_deg: float) -> list[SamplePoint]:
    """Distinct (rounded place, hour) samples; empty when the session has no start time or no GPS fix."""
    if activity.start_time is None or activity.lat is None or activity.lon is None or activity.t.size == 0:
        return []
    lat, lon, t = activity.lat, activity.lon, activity.t
    fix = np.isfinite(lat) & np.isfinite(lon)
    if not fix.any():
        return []
    fix_t, fix_lat, fix_lon = t[fix], lat[fix], lon[fix]
    points: list[SamplePoint] = []
    for at in sample_times(activity.duration_s):
        i = int(np.clip(np.searchsorted(fix_t, at), 0, fix_t.size - 1))
        if i > 0 and abs(fix_t[i - 1] - at) < abs(fix_t[i] - at):
            i -= 1
        lat_e4, lon_e4 = round_place(float(fix_lat[i]), float(fix_lon[i]), step_deg)
        point = SamplePoint(lat_e4, lon_e4, nearest_hour(activity.start_time + timedelta(seconds=float(at))))
        if point not in points:
            points.append(point)
    return points


def _mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(sum(known) / len(known), 2) if known else None


def average(
    samples: Sequence[tuple[SamplePoint, HourlyObservation]], provider: str
) -> WeatherObservation | None:
    """One observation from the samples that have both temperature and humidity, or None."""
    usable = [(p, o) for p, o in samples if o.temp_c is not None and o.humidity_pct is not None]
    if not usable:
        return None
    obs = [o for _, o in usable]
    temp, rh = _mean([o.temp_c for o in obs]), _mean([o.humidity_pct for o in obs])
    assert temp is not None and rh is not None
    first = usable[0][0]
    return WeatherObservation(
        temp_c=temp,
        humidity_pct=rh,
        wind_ms=_mean([o.wind_ms for o in obs]),
        cloud_cover_pct=_mean([o.cloud_cover_pct for o in obs]),
        shortwave_w_m2=_mean([o.shortwave_w_m2 for o in obs]),
        provider=provider,
        samples=len(usable),
        lat=first.lat,
        lon=first.lon,
    )
