"""Entry point: one normalized Activity (+ athlete, session conditions, weigh-in, weather) → SessionResult.

The driver runs the named steps of workers/physiology/steps in their declared order and assembles the typed
result (core/result.py) in this one place. Produces every section of docs/session-json.md except `risk`,
`recommendations`, `id` and `upload_id`. Pure: no I/O, no clock. See docs/science-implementation.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.result import MEASURED_TEMP_SOURCES, Ambient, AmbientSources, SessionResult, WeatherUsed
from workers.activity import Activity
from workers.physiology import ALGORITHM_VERSION
from workers.physiology.inputs import Athlete, Conditions, WeatherObservation, WeighIn
from workers.physiology.report import rnd
from workers.physiology.steps import STEPS, run_steps
from workers.physiology.steps.work import Given, StepOut, Work


def _iso_utc(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _ambient(w: Work) -> Ambient:
    a, air, obs = w.ambient, w.ambient.air, w.given.weather
    ep = w.time.epochs
    v_mean = None
    if ep is not None and ep.n and a.v_ep.size:
        v_mean = float((a.v_ep * ep.lengths_s).sum() / ep.lengths_s.sum())
    used_weather = obs is not None and "weather" in (air.source, air.humidity_source)
    return Ambient(
        temp_c=rnd(air.temp_c, 1),
        humidity_pct=rnd(air.humidity_pct, 0),
        air_speed_ms=rnd(v_mean, 2),
        source=air.source,
        humidity_source=air.humidity_source,
        air_speed_source=a.v_source,
        confidence=air.confidence,
        temp_measured=air.source in MEASURED_TEMP_SOURCES,
        sources=AmbientSources(
            temp_c=air.source,
            humidity_pct=air.humidity_source,
            air_speed_ms=a.v_source,
            wind_ms=a.wind_source,
            solar=w.solar.solar.source,
        ),
        weather=WeatherUsed.model_validate(obs.__dict__) if used_weather and obs is not None else None,
        solar=w.solar.solar,
        clothing=w.clothing.clothing,
    )


def _inputs_json(w: Work) -> dict[str, Any]:
    out = w.inputs.resolved.as_json()
    out["vo2max"] = w.inputs.resolved.vo2max.as_json(1)
    out["clothing_clo"] = {"value": rnd(w.clothing.clo, 2), "source": w.clothing.clothing.source}
    return out


def _result(w: Work) -> SessionResult:
    outs: list[StepOut] = [getattr(w, step.name) for step in STEPS]
    act, tb = w.given.activity, w.time
    return SessionResult.model_validate(
        {
            "sport": act.sport,
            "sub_sport": act.sub_sport,
            "indoor": w.ambient.indoor,
            "start_time": _iso_utc(act.start_time),
            "duration_s": rnd(tb.duration_s, 0),
            "moving_time_s": rnd(tb.moving_time_s, 0),
            "distance_m": rnd(tb.distance_m, 0),
            "partial": bool(act.partial),
            "decoder": act.decoder,
            "warnings": [x for o in outs for x in o.warnings],
            "heart_rate": w.load.heart_rate,
            "power": w.power.power,
            "load": w.load.load,
            "energy": w.energy.energy,
            "ambient": _ambient(w),
            "heat": w.heat.heat,
            "fluid": w.fluid.fluid,
            "sodium": w.sodium.sodium,
            "data_quality": w.quality.data_quality,
            "inputs": _inputs_json(w),
            "series": w.series.series,
            "device": w.device.device,
            "assumptions": [x for o in outs for x in o.notes],
            "missing": [x for o in outs for x in o.gaps],
            "algorithm_version": ALGORITHM_VERSION,
        }
    )


def analyze(
    activity: Activity,
    athlete: Athlete,
    conditions: Conditions | None = None,
    weigh_in: WeighIn | None = None,
    weather: WeatherObservation | None = None,
) -> SessionResult:
    """Exertion, energy, ambient, heat balance, fluid and sodium for one activity.

    `weather` is the observation for the session's place and time (science.md §3.4 source 1); the athlete's
    `conditions` override it."""
    given = Given(activity, athlete, conditions or Conditions(), weigh_in, weather)
    return _result(run_steps(Work(given)))
