"""Ambient temperature, humidity and relative air speed (science.md §3.3 step 3 and §3.4).

Priority for temperature and humidity, each resolved on its own:
1. the athlete's per-session override (user overrides always win);
2. a weather observation for the GPS start point and time (`WeatherObservation`, fetched by workers.weather);
3. the FIT `weather_conditions` message (phone forecast);
4. temperature only: a non-wrist head unit's sensor, median over moving time, low confidence;
5. defaults: outdoor 20 °C / 50 %, indoor 21 °C / 50 % — "assumed".
A wrist device's temperature is never ambient (body heat); it is only reported as an upper bound.
(No external sensor channel exists in the normalized activity yet.) science.md §3.4.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workers.physiology.inputs import WeatherObservation
from workers.physiology.report import assumption

OUTDOOR_DEFAULT = (20.0, 50.0)
INDOOR_DEFAULT = (21.0, 50.0)
INDOOR_AIR_SPEED_MS = 1.0  # fan
UNKNOWN_AIR_SPEED_MS = 1.0  # outdoors without a speed channel
CYCLING_SPORTS = frozenset({"cycling", "e_biking"})
HEAD_UNIT_TOKENS = (
    "edge",
    "karoo",
    "hammerhead",
    "wahoo",
    "elemnt",
    "bryton",
    "sigma",
    "rox",
    "lezyne",
    "srm",
    "stages",
)
WRIST_TOKENS = (
    "forerunner",
    "fenix",
    "fēnix",
    "epix",
    "enduro",
    "instinct",
    "venu",
    "vivoactive",
    "vivosmart",
    "rival",
    "watch",
    "coros",
    "suunto",
    "polar",
    "apple",
    "quatix",
    "descent",
    "marq",
    "tactix",
    "approach",
    "amazfit",
    "huami",
    "fitbit",
    "pace",
    "vertix",
    "apex",
)
INDOOR_SUB_SPORTS = frozenset(
    {
        "treadmill",
        "indoor_cycling",
        "virtual_activity",
        "indoor_running",
        "spin",
        "indoor_rowing",
        "indoor_walking",
    }
)


def device_text(device: dict[str, Any] | None) -> str:
    if not device:
        return ""
    keys = ("manufacturer", "product", "product_name", "garmin_product", "name")
    return " ".join(str(device[k]) for k in keys if device.get(k) is not None).lower()


def is_head_unit(sport: str | None, device: dict[str, Any] | None) -> bool:
    """A bike computer on the handlebar: cycling sport and an Edge/Karoo/Wahoo/Bryton/Sigma/Lezyne/SRM/Stages
    recording device that is not a watch. Anything else (watches, phones, unknown or numeric-only products)
    counts as body-worn, whose temperature is never ambient."""
    if (sport or "").lower() not in CYCLING_SPORTS:
        return False
    text = device_text(device)
    if any(tok in text for tok in WRIST_TOKENS):
        return False
    return any(tok in text for tok in HEAD_UNIT_TOKENS)


def resolve_indoor(conditions_indoor: bool | None, activity_indoor: bool | None, sub_sport: str | None):
    """(indoor, source): override → the file's sport/sub_sport → outdoor assumed."""
    if conditions_indoor is not None:
        return bool(conditions_indoor), "override"
    if activity_indoor is not None:
        return bool(activity_indoor), "session"
    if (sub_sport or "").lower() in INDOOR_SUB_SPORTS:
        return True, "session"
    return False, "assumed"


@dataclass
class Ambient:
    temp_c: float
    humidity_pct: float
    source: str  # of the temperature: override | weather | weather_message | head_unit | default
    humidity_source: str  # override | weather | weather_message | default
    confidence: str  # high (override/weather) | low (head unit) | assumed (default)
    device_temp_c: float | None = None  # median device-sensor reading over moving time, if any
    device_temp_is_ambient: bool = False
    notes: list[dict[str, Any]] = field(default_factory=list)


def _valid(x: Any, lo: float, hi: float) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) and lo <= v <= hi else None


def _device_temperature(temperature: np.ndarray | None, moving: np.ndarray) -> float | None:
    """Median of the device's sensor while moving (all samples if it never moved)."""
    if temperature is None:
        return None
    temp = np.asarray(temperature, dtype=float)
    sel = temp[moving & np.isfinite(temp)] if moving.any() else temp[np.isfinite(temp)]
    if sel.size == 0:
        sel = temp[np.isfinite(temp)]
    return float(np.median(sel)) if sel.size else None


HEAD_UNIT_NOTE = (
    "Air temperature is the bike computer's sensor (median while moving); it reads high in sun or when "
    "stationary. Enter the temperature for this session to improve the sweat estimate."
)


def _default_temperature(default_t: float, indoor: bool, device_t: float | None, head_unit: bool) -> list:
    where = "indoor" if indoor else "outdoor"
    notes = [
        assumption(
            "ambient.temp_c",
            default_t,
            "assumed",
            f"No air temperature available: {default_t:g} °C ({where} default) assumed. Enter the "
            "temperature for this session to improve the sweat estimate.",
            "conditions.temp_c",
            ["fluid", "sodium"],
        )
    ]
    if device_t is not None and not head_unit:
        notes.append(
            assumption(
                "ambient.device_temp_c",
                round(device_t, 1),
                "device",
                f"Your device's sensor read {device_t:.0f} °C (median). A body-worn sensor is warmed by the "
                "body, so this is only an upper bound on the air temperature and was not used as ambient.",
                "conditions.temp_c",
            )
        )
    return notes


def _temperature(
    override: float | None,
    observation: WeatherObservation | None,
    weather: dict[str, Any],
    device_t: float | None,
    head_unit: bool,
) -> tuple[float | None, str, str, list]:
    """(°C or None, source, confidence, notes) by the priority in the module docstring, defaults excluded."""
    candidates = (
        (override, "override"),
        (observation.temp_c if observation is not None else None, "weather"),
        (weather.get("temperature_c"), "weather_message"),
    )
    for value, source in candidates:
        t_c = _valid(value, -40, 60)
        if t_c is not None:
            return t_c, source, "high", []
    if head_unit and device_t is not None:
        note = assumption(
            "ambient.temp_c",
            round(device_t, 1),
            "head_unit",
            HEAD_UNIT_NOTE,
            "conditions.temp_c",
            ["fluid", "sodium"],
        )
        return device_t, "head_unit", "low", [note]
    return None, "default", "assumed", []


def _humidity(
    override: float | None, observation: WeatherObservation | None, weather: dict[str, Any], default_rh: float
) -> tuple[float, str, list]:
    candidates = (
        (override, "override"),
        (observation.humidity_pct if observation is not None else None, "weather"),
        (weather.get("relative_humidity_pct"), "weather_message"),
    )
    for value, source in candidates:
        rh = _valid(value, 0, 100)
        if rh is not None:
            return rh, source, []
    note = assumption(
        "ambient.humidity_pct",
        default_rh,
        "assumed",
        f"FIT files carry no humidity: {default_rh:g} % assumed. Enter the humidity for this session to "
        "improve the sweat estimate.",
        "conditions.humidity_pct",
        ["fluid", "sodium"],
    )
    return default_rh, "default", [note]


def resolve_ambient(
    *,
    override_temp_c: float | None,
    override_rh_pct: float | None,
    weather: dict[str, Any] | None,
    observation: WeatherObservation | None = None,
    temperature: np.ndarray | None,
    moving: np.ndarray,
    indoor: bool,
    head_unit: bool,
) -> Ambient:
    """Pick temperature and humidity by the priority above; `notes` become assumption entries."""
    weather = weather or {}
    default_t, default_rh = INDOOR_DEFAULT if indoor else OUTDOOR_DEFAULT
    device_t = _device_temperature(temperature, moving)
    t_c, t_src, conf, notes = _temperature(override_temp_c, observation, weather, device_t, head_unit)
    if t_c is None:
        t_c = default_t
        notes = _default_temperature(default_t, indoor, device_t, head_unit)
    rh, rh_src, rh_notes = _humidity(override_rh_pct, observation, weather, default_rh)
    return Ambient(
        temp_c=float(t_c),
        humidity_pct=float(rh),
        source=t_src,
        humidity_source=rh_src,
        confidence=conf,
        device_temp_c=device_t,
        device_temp_is_ambient=(t_src == "head_unit"),
        notes=notes + rh_notes,
    )
