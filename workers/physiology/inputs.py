"""Per-athlete and per-session inputs of the physiology models (all optional, all SI-ish units)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Athlete:
    """The athlete's profile at the time of the session.

    Every field is optional; a missing field is replaced by a labelled device value or reference value
    (science.md §9) and reported under `assumptions`. `mass_kg` should be the dated weight at the session
    time; set `mass_source="weight_history"` when it comes from the weight history.
    """

    mass_kg: float | None = None
    height_m: float | None = None
    sex: str | None = None  # 'm' | 'f' | None
    age: float | None = None  # years
    hr_max: float | None = None  # bpm
    hr_rest: float | None = None  # bpm
    lthr: float | None = None  # bpm, lactate-threshold heart rate
    ftp_w: float | None = None  # W, cycling
    running_ftp_w: float | None = None  # W, running FTP/critical power (running power is never ÷ cycling FTP)
    vo2max: float | None = None  # ml/kg/min
    sweat_sodium_mmol_l: float | None = None  # whole-body sweat [Na] from a sweat test
    clothing_clo: float | None = None  # usual clothing insulation (clo)
    calibration_factor: float | None = None  # personal sweat calibration (see calibration.py)
    calibration_n: int = 0  # weigh-ins behind calibration_factor
    mass_source: str | None = None  # 'profile' (default) | 'weight_history'


@dataclass(frozen=True)
class Conditions:
    """Per-session overrides entered by the athlete."""

    temp_c: float | None = None
    humidity_pct: float | None = None
    indoor: bool | None = None
    air_speed_ms: float | None = None  # fan or wind: replaces ground speed as relative air speed
    fluid_intake_l: float | None = None  # drunk during the session


@dataclass(frozen=True)
class WeighIn:
    """Nude body mass before and after the session (towelled dry), fluid drunk and urine passed in between."""

    pre_kg: float
    post_kg: float
    fluid_l: float
    urine_l: float = 0.0


@dataclass(frozen=True)
class WeatherObservation:
    """Observed weather at the session's place and time (science.md §3.4, source 1), averaged over the samples
    taken along the session. Filled by workers.weather; the physiology models never fetch it themselves."""

    temp_c: float
    humidity_pct: float
    wind_ms: float | None = None  # 10 m wind speed
    cloud_cover_pct: float | None = None
    shortwave_w_m2: float | None = None  # global horizontal irradiance, when the provider offers it
    provider: str = "open-meteo"
    samples: int = 1  # observations averaged (start/middle/end or hourly along the track)
    lat: float | None = None  # the rounded place that was asked for (what left the server)
    lon: float | None = None
