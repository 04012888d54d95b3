"""Number formatting shared by the risk reasons, the recommendations and the email (pure).

Every figure the athlete reads carries its unit. Imperial output keeps the metric figure after a slash
("74 fl oz / 2.2 L"), because the science (and the sports drink label) is metric.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

L_TO_FL_OZ = 33.814  # US fluid ounces per litre
KG_TO_LB = 2.20462

METRIC = "metric"
IMPERIAL = "imperial"


def check_units(units: str) -> str:
    if units not in (METRIC, IMPERIAL):
        raise ValueError(f"units must be 'metric' or 'imperial', got {units!r}")
    return units


def duration(seconds: float) -> str:
    """Whole minutes, rounded down, so 14,399 s reads "3 h 59 min" (and scores as under 4 h)."""
    minutes = int(math.floor(seconds / 60.0))
    hours, mins = divmod(minutes, 60)
    if hours == 0:
        return f"{mins} min"
    return f"{hours} h {mins:02d} min"


def number(value: float, decimals: int = 0) -> str:
    """Thousands separator, fixed decimals: 5300 -> "5,300"; 2.345, 1 -> "2.3"."""
    return f"{value:,.{decimals}f}"


def mg(value: float) -> str:
    return f"{number(round(value))} mg"


def mg_range(low: float, high: float) -> str:
    return f"{number(round(low))}–{number(round(high))} mg"


def litres(value: float, units: str = METRIC, decimals: int = 1) -> str:
    metric = f"{value:.{decimals}f} L"
    if check_units(units) == IMPERIAL:
        return f"{round(value * L_TO_FL_OZ)} fl oz / {metric}"
    return metric


def litres_range(low: float, high: float, units: str = METRIC) -> str:
    metric = f"{low:.1f}–{high:.1f} L"
    if check_units(units) == IMPERIAL:
        return f"{round(low * L_TO_FL_OZ)}–{round(high * L_TO_FL_OZ)} fl oz / {metric}"
    return metric


def temperature(celsius: float, units: str = METRIC) -> str:
    metric = f"{celsius:.0f} °C"
    if check_units(units) == IMPERIAL:
        return f"{celsius * 9 / 5 + 32:.0f} °F / {metric}"
    return metric


def percent(value: float, decimals: int = 1) -> str:
    return f"{value:.{decimals}f}%"


def as_number(value: Any) -> float | None:
    """A JSON number as float; None for null, booleans and anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def section(session: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """A block of the session JSON, or an empty one when it is missing or malformed."""
    block = session.get(name)
    return block if isinstance(block, Mapping) else {}
