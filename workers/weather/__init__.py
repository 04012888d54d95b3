"""Weather at the session's place and time (science.md §3.4, ambient source 1).

- provider.py: the provider interface (hourly observations at a rounded place for a range of hours);
- openmeteo.py: the real provider, Open-Meteo's historical archive, with timeouts and bounded retries;
- sampling.py: where and when to sample along the track, and the average the models read;
- cache.py: the database cache by (provider, rounded place, hour);
- lookup.py: the fetch step the worker runs before the analysis; it never fails the analysis.
"""

from workers.weather.lookup import (
    WeatherLookup,
    annotate,
    fetch_weather,
    lookup_weather,
    provider_from_settings,
)
from workers.weather.provider import HourlyObservation, WeatherProvider, WeatherUnavailable

__all__ = [
    "HourlyObservation",
    "WeatherLookup",
    "WeatherProvider",
    "WeatherUnavailable",
    "annotate",
    "fetch_weather",
    "lookup_weather",
    "provider_from_settings",
]
