"""What the session page shows, built from the stored session result: figures with their explanation,
inputs and assumptions (each linking to the field that makes it personal), charts, and risk factors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from core.models import WorkoutSession
from core.result import Missing, Recommendations, Risk, SessionResult, stored_result
from ingest.web.charts import line_chart

# Where each personal value is set: a profile field, or this session's conditions form.
_PROFILE_FIELD = {"age": "birth_year"}


def personalize_href(target: str | None) -> str | None:
    if not target:
        return None
    if target.startswith("conditions."):
        return f"#cond-{target.split('.', 1)[1]}"
    return f"/profile#f-{_PROFILE_FIELD.get(target, target)}"


@dataclass
class Figure:
    key: str
    label: str
    value: str
    explanation: str
    inputs: list[str] = field(default_factory=list)
    assumptions: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SessionView:
    result: SessionResult
    figures: list[Figure]
    charts: list[tuple[str, Markup, str]]
    partial: bool
    missing: list[Missing]
    warnings: list[str]
    risk: Risk
    recommendations: Recommendations


def _num(v: Any, digits: int = 1, unit: str = "") -> str:
    if v is None:
        return "not computed"
    return f"{float(v):.{digits}f}{unit}"


def _assumptions_for(r: SessionResult, key: str) -> list[dict[str, Any]]:
    return [
        {"message": a.message, "href": personalize_href(a.personalize_with)}
        for a in r.assumptions
        if any(x == key or x.startswith(f"{key}.") for x in a.affects)
    ]


def _inputs(r: SessionResult) -> list[str]:
    amb, mass = r.ambient, r.inputs.mass_kg
    return [
        f"air {_num(amb.temp_c, 1, ' °C')} ({amb.source or 'unknown source'}), "
        f"humidity {_num(amb.humidity_pct, 0, ' %')} "
        f"({amb.humidity_source or 'unknown source'})",
        f"body mass {_num(mass.value, 1, ' kg')} ({mass.source or 'unknown'})",
        f"duration {_num((r.duration_s or 0) / 60, 0, ' min')}",
    ]


def _fluid_figure(r: SessionResult) -> Figure:
    fluid = r.fluid
    sweat_range = f" (range {_num(fluid.sweat_l_low, 2)}–{_num(fluid.sweat_l_high, 2, ' L')})"
    source = {"measured": "your weigh-in", "model": "the heat-balance model"}.get(
        fluid.source or "", fluid.source or "the model"
    )
    calib = fluid.calibration_factor
    drunk = _num(fluid.intake_l, 2, " L") if fluid.intake_l is not None else "not logged"
    return Figure(
        "fluid",
        "Sweat loss",
        _num(fluid.sweat_l, 2, " L") + sweat_range,
        f"Water lost as sweat, from {source}"
        + (f", calibrated by your weigh-ins (×{calib:.2f})" if calib else "")
        + f"; {_num(fluid.rate_l_per_h, 2, ' L/h')} on average, "
        f"{_num(fluid.body_mass_pct, 1, ' %')} of body mass if nothing was drunk.",
        [*_inputs(r), f"fluid drunk: {drunk}"],
        _assumptions_for(r, "fluid"),
    )


def _figures(r: SessionResult) -> list[Figure]:
    sodium, energy, load = r.sodium, r.energy, r.load
    return [
        _fluid_figure(r),
        Figure(
            "sodium",
            "Sodium loss",
            f"{_num(sodium.mg, 0, ' mg')} (range {_num(sodium.mg_low, 0)}–{_num(sodium.mg_high, 0, ' mg')})",
            "Sweat loss × sweat sodium concentration "
            f"({_num(sodium.concentration_mmol_l, 0, ' mmol/L')}, "
            f"{sodium.concentration_source or 'default'}).",
            [f"sweat loss {_num(r.fluid.sweat_l, 2, ' L')}"],
            _assumptions_for(r, "sodium"),
        ),
        Figure(
            "energy",
            "Energy",
            _num(energy.kcal, 0, " kcal"),
            f"Energy spent, from {energy.source or 'not available'}; it drives the heat the body must shed.",
            [],
            _assumptions_for(r, "energy"),
        ),
        Figure(
            "load",
            "Training load",
            f"TRIMP {_num(load.trimp_banister, 0)}, HRSS {_num(load.hrss, 0)}",
            "Heart-rate training load: how hard and how long, relative to your heart-rate range.",
            [],
            _assumptions_for(r, "load"),
        ),
    ]


_CHARTS = [
    ("heart_rate", "Heart rate", "bpm", "#a4161a"),
    ("power", "Power", "W", "#5b2a86"),
    ("speed_kmh", "Speed", "km/h", "#1d6b2f"),
    ("temperature_c", "Temperature", "°C", "#8a5300"),
]


def _charts(r: SessionResult) -> list[tuple[str, Markup, str]]:
    s, t = r.series, r.series.t_min
    out: list[tuple[str, Markup, str]] = []
    for key, title, unit, color in _CHARTS:
        values = getattr(s, key) or []
        svg = line_chart(title=title, unit=unit, t_min=t, values=values, color=color, chart_id=f"chart-{key}")
        if svg is None:
            out.append((title, Markup(""), f"No {title.lower()} in this recording."))
        else:
            out.append((title, svg, f"{title} per minute."))
    sweat = line_chart(
        title="Cumulative sweat loss",
        unit="L",
        t_min=t,
        values=s.fluid_l or [],
        low=s.fluid_l_low,
        high=s.fluid_l_high,
        chart_id="chart-sweat",
    )
    caption = "Cumulative sweat loss; the shaded band is its range." if sweat else "No sweat series."
    out.append(("Cumulative sweat loss", sweat or Markup(""), caption))
    return out


def session_view(ws: WorkoutSession) -> SessionView:
    r = stored_result(ws)  # read once through the typed contract (core.result)
    return SessionView(
        result=r,
        figures=_figures(r),
        charts=_charts(r),
        partial=r.partial,
        missing=list(r.missing),
        warnings=[str(w) for w in r.warnings],
        risk=r.risk or Risk(),
        recommendations=r.recommendations or Recommendations(),
    )
