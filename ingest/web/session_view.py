"""What the session page shows, built from the stored session result: figures with their explanation,
inputs and assumptions (each linking to the field that makes it personal), charts, and risk factors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from core.models import WorkoutSession
from core.result import stored_result
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
    m: dict[str, Any]
    figures: list[Figure]
    charts: list[tuple[str, Markup, str]]
    partial: bool
    missing: list[dict[str, Any]]
    warnings: list[str]
    risk: dict[str, Any]
    recommendations: dict[str, Any]


def _num(v: Any, digits: int = 1, unit: str = "") -> str:
    if v is None:
        return "not computed"
    return f"{float(v):.{digits}f}{unit}"


def _assumptions_for(m: dict[str, Any], key: str) -> list[dict[str, Any]]:
    out = []
    for a in m.get("assumptions") or []:
        if any(x == key or x.startswith(f"{key}.") for x in a.get("affects") or []):
            out.append({**a, "href": personalize_href(a.get("personalize_with"))})
    return out


def _inputs(m: dict[str, Any]) -> list[str]:
    amb, inp = m.get("ambient") or {}, m.get("inputs") or {}
    mass = (inp.get("mass_kg") or {}).get("value")
    return [
        f"air {_num(amb.get('temp_c'), 1, ' °C')} ({amb.get('source') or 'unknown source'}), "
        f"humidity {_num(amb.get('humidity_pct'), 0, ' %')} "
        f"({amb.get('humidity_source') or 'unknown source'})",
        f"body mass {_num(mass, 1, ' kg')} ({(inp.get('mass_kg') or {}).get('source') or 'unknown'})",
        f"duration {_num((m.get('duration_s') or 0) / 60, 0, ' min')}",
    ]


def _figures(m: dict[str, Any]) -> list[Figure]:
    fluid, sodium = m.get("fluid") or {}, m.get("sodium") or {}
    energy, load = m.get("energy") or {}, m.get("load") or {}
    sweat_range = f" (range {_num(fluid.get('sweat_l_low'), 2)}–{_num(fluid.get('sweat_l_high'), 2, ' L')})"
    source = {"measured": "your weigh-in", "model": "the heat-balance model"}.get(
        fluid.get("source") or "", fluid.get("source") or "the model"
    )
    calib = fluid.get("calibration_factor")
    intake = fluid.get("intake_l")
    drunk = _num(intake, 2, " L") if intake is not None else "not logged"
    return [
        Figure(
            "fluid",
            "Sweat loss",
            _num(fluid.get("sweat_l"), 2, " L") + sweat_range,
            f"Water lost as sweat, from {source}"
            + (f", calibrated by your weigh-ins (×{calib:.2f})" if calib else "")
            + f"; {_num(fluid.get('rate_l_per_h'), 2, ' L/h')} on average, "
            f"{_num(fluid.get('body_mass_pct'), 1, ' %')} of body mass if nothing was drunk.",
            [*_inputs(m), f"fluid drunk: {drunk}"],
            _assumptions_for(m, "fluid"),
        ),
        Figure(
            "sodium",
            "Sodium loss",
            f"{_num(sodium.get('mg'), 0, ' mg')} "
            f"(range {_num(sodium.get('mg_low'), 0)}–{_num(sodium.get('mg_high'), 0, ' mg')})",
            "Sweat loss × sweat sodium concentration "
            f"({_num(sodium.get('concentration_mmol_l'), 0, ' mmol/L')}, "
            f"{sodium.get('concentration_source') or 'default'}).",
            [f"sweat loss {_num(fluid.get('sweat_l'), 2, ' L')}"],
            _assumptions_for(m, "sodium"),
        ),
        Figure(
            "energy",
            "Energy",
            _num(energy.get("kcal"), 0, " kcal"),
            f"Energy spent, from {energy.get('source') or 'not available'}; "
            "it drives the heat the body must shed.",
            [],
            _assumptions_for(m, "energy"),
        ),
        Figure(
            "load",
            "Training load",
            f"TRIMP {_num(load.get('trimp_banister'), 0)}, HRSS {_num(load.get('hrss'), 0)}",
            "Heart-rate training load: how hard and how long, relative to your heart-rate range.",
            [],
            _assumptions_for(m, "load"),
        ),
    ]


_CHARTS = [
    ("heart_rate", "Heart rate", "bpm", "#a4161a"),
    ("power", "Power", "W", "#5b2a86"),
    ("speed_kmh", "Speed", "km/h", "#1d6b2f"),
    ("temperature_c", "Temperature", "°C", "#8a5300"),
]


def _charts(m: dict[str, Any]) -> list[tuple[str, Markup, str]]:
    s = m.get("series") or {}
    t = s.get("t_min") or []
    out: list[tuple[str, Markup, str]] = []
    for key, title, unit, color in _CHARTS:
        values = s.get(key) or []
        svg = line_chart(title=title, unit=unit, t_min=t, values=values, color=color, chart_id=f"chart-{key}")
        if svg is None:
            out.append((title, Markup(""), f"No {title.lower()} in this recording."))
        else:
            out.append((title, svg, f"{title} per minute."))
    sweat = line_chart(
        title="Cumulative sweat loss",
        unit="L",
        t_min=t,
        values=s.get("fluid_l") or [],
        low=s.get("fluid_l_low"),
        high=s.get("fluid_l_high"),
        chart_id="chart-sweat",
    )
    caption = "Cumulative sweat loss; the shaded band is its range." if sweat else "No sweat series."
    out.append(("Cumulative sweat loss", sweat or Markup(""), caption))
    return out


def session_view(ws: WorkoutSession) -> SessionView:
    # Read through the typed contract (core.result), then as plain JSON for the templates.
    m = stored_result(ws).to_json()
    return SessionView(
        m=m,
        figures=_figures(m),
        charts=_charts(m),
        partial=bool(m.get("partial")),
        missing=list(m.get("missing") or []),
        warnings=[str(w) for w in m.get("warnings") or []],
        risk=m.get("risk") or {},
        recommendations=m.get("recommendations") or {},
    )
