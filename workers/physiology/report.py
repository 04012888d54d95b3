"""Small builders for the session JSON: assumption and missing entries, rounding."""

from __future__ import annotations

import math
from typing import Any


def assumption(
    field: str,
    value: Any,
    source: str,
    message: str,
    personalize_with: str | None = None,
    affects: list[str] | None = None,
) -> dict[str, Any]:
    """One `assumptions[]` entry: what was assumed, from where, what it affects, how to make it personal."""
    return {
        "field": field,
        "value": value,
        "source": source,
        "message": message,
        "personalize_with": personalize_with,
        "affects": list(affects or []),
    }


def missing(figure: str, reason: str) -> dict[str, str]:
    """One `missing[]` entry: a figure that is null, and why."""
    return {"figure": figure, "reason": reason}


def rnd(x: Any, digits: int = 1) -> float | None:
    """A JSON-safe rounded float; None for None/NaN/inf."""
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        return None
    r = round(x, digits)
    return 0.0 if r == 0 else r  # no "-0.0"


def num(x: Any) -> float | None:
    """A finite float, or None."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None
