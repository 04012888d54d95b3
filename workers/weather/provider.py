"""The weather provider interface: hourly observations for one rounded place and a range of hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class HourlyObservation:
    """What a provider observed at one place for one hour (UTC, on the hour). A value the provider does not
    have for that hour is None."""

    hour: datetime
    temp_c: float | None
    humidity_pct: float | None
    wind_ms: float | None = None  # 10 m wind speed
    cloud_cover_pct: float | None = None
    shortwave_w_m2: float | None = None  # global horizontal irradiance, mean of the preceding hour


class WeatherUnavailable(Exception):
    """The provider could not answer. `reason` is a sentence for the athlete's result ("the weather service
    did not answer within 5 s"), never a traceback."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WeatherProvider(Protocol):
    name: str  # the cache key's provider part and the result's `provider`

    def fetch_hourly(
        self, lat: float, lon: float, first: datetime, last: datetime
    ) -> list[HourlyObservation]:
        """Every hour from `first` to `last` (UTC, inclusive) at the place; raises WeatherUnavailable."""
        ...
