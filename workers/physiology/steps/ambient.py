"""Step `ambient`: indoor/outdoor, air temperature and humidity by source priority (science.md §3.4, formulas
in physiology/ambient.py), and the relative air speed per minute (§3.3 step 3, §10.4: wind unknown unless a
weather observation gives it)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workers.physiology import heat
from workers.physiology.ambient import (
    INDOOR_AIR_SPEED_MS,
    UNKNOWN_AIR_SPEED_MS,
    Ambient,
    is_head_unit,
    resolve_ambient,
    resolve_indoor,
)
from workers.physiology.report import assumption
from workers.physiology.steps.work import StepOut, Work
from workers.physiology.timebase import interp_nan

NEEDS = ("time",)
WIND_AT_BODY_HEIGHT = 0.67  # 10-m wind → ~1.5 m over open ground (log profile, z0 = 0.03 m)

INDOOR_NOTE = (
    "The file does not say whether this was indoors: outdoor assumed.",
    "Indoors: air speed of 1.0 m/s from a fan assumed. Enter the air speed for this session if you used no "
    "fan or a stronger one.",
    "No speed data: relative air speed of 1.0 m/s assumed.",
    "Wind is unknown: the relative air speed is your ground speed (no headwind or tailwind counted).",
)


@dataclass
class AmbientOut(StepOut):
    indoor: bool
    air: Ambient
    v_ep: np.ndarray  # relative air speed per minute epoch, m/s (not capped)
    v_source: str | None
    wind_source: str


def _note(field: str, value: object, message: str, personalize: str | None) -> dict[str, object]:
    return assumption(field, value, "assumed", message, personalize, ["fluid", "sodium"])


def _air_speed(w: Work, indoor: bool, out_notes: list) -> tuple[np.ndarray, str | None, str]:
    tb, ep, obs = w.time, w.time.epochs, w.given.weather
    n = ep.n if ep is not None else 0
    if w.given.conditions.air_speed_ms is not None:
        return (
            np.full(n, max(float(w.given.conditions.air_speed_ms), heat.MIN_AIR_SPEED_MS)),
            "override",
            "override",
        )
    if indoor:
        out_notes.append(
            _note("ambient.air_speed_ms", INDOOR_AIR_SPEED_MS, INDOOR_NOTE[1], "conditions.air_speed_ms")
        )
        return np.full(n, INDOOR_AIR_SPEED_MS), "default", "none"
    wind = obs.wind_ms * WIND_AT_BODY_HEIGHT if obs is not None and obs.wind_ms is not None else None
    if tb.ch["speed"] is not None and ep is not None:
        v, _ = ep.mean(interp_nan(tb.ch["speed"], tb.t), tb.dt)
        v = np.where(np.isfinite(v), v, 0.0)
        source = "ground_speed"
    else:
        out_notes.append(
            _note("ambient.air_speed_ms", UNKNOWN_AIR_SPEED_MS, INDOOR_NOTE[2], "conditions.air_speed_ms")
        )
        v, source = np.full(n, UNKNOWN_AIR_SPEED_MS), "default"
    if wind is None:
        out_notes.append(_note("ambient.wind_ms", None, INDOOR_NOTE[3], "conditions.air_speed_ms"))
        return np.maximum(v, heat.MIN_AIR_SPEED_MS), source, "unknown"
    # wind from an unknown direction relative to the route: the root-mean-square relative speed
    return np.maximum(np.sqrt(v**2 + wind**2), heat.MIN_AIR_SPEED_MS), source + "+wind", "weather"


def run(w: Work) -> AmbientOut:
    g, tb = w.given, w.time
    notes: list = []
    indoor, indoor_src = resolve_indoor(g.conditions.indoor, g.activity.indoor, tb.sub_sport)
    if indoor_src == "assumed":
        notes.append(assumption("indoor", False, "assumed", INDOOR_NOTE[0], "conditions.indoor", ["fluid"]))
    air = resolve_ambient(
        override_temp_c=g.conditions.temp_c,
        override_rh_pct=g.conditions.humidity_pct,
        weather=g.activity.weather,
        observation=g.weather,
        temperature=tb.ch["temperature"],
        moving=tb.moving,
        indoor=indoor,
        head_unit=is_head_unit(tb.sport, g.activity.device),
    )
    notes += air.notes
    v_ep, v_src, wind_src = _air_speed(w, indoor, notes)
    return AmbientOut(indoor=indoor, air=air, v_ep=v_ep, v_source=v_src, wind_source=wind_src, notes=notes)
