"""Synthesized GPS sessions for the weather tests (FIT positions are semicircles)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fitgen import DEFAULT_START, build_fit, steady_records

BERLIN = (52.5163, 13.3777)


def semicircles(deg: float) -> int:
    return int(round(deg * 2**31 / 180))


def gps_records(
    minutes: float, *, start_at: tuple[float, float] = BERLIN, every_s: int = 10
) -> list[dict[str, Any]]:
    """A steady run heading east at ~3 m/s (about 0.00004° of longitude a second at Berlin's latitude)."""
    records = steady_records(minutes, hr=150, speed_ms=3.0, every_s=every_s)
    for r in records:
        r["position_lat"] = semicircles(start_at[0])
        r["position_long"] = semicircles(start_at[1] + 0.0000444 * r["t"])
    return records


def gps_run_fit(minutes: float = 60, *, start: datetime = DEFAULT_START, **kw: Any) -> bytes:
    return build_fit(gps_records(minutes, **kw), sport="running", start=start)
