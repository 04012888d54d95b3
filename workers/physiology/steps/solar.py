"""Step `solar`: the sun's radiant load outdoors as a mean-radiant-temperature rise per minute (science.md
§10.2; formulas in physiology/solar.py). No GPS → no solar term, labelled; night and indoor: none."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, timedelta

import numpy as np

from core.result import Solar
from workers.physiology import solar as sol
from workers.physiology.ambient import CYCLING_SPORTS
from workers.physiology.report import assumption, num, rnd
from workers.physiology.steps.work import StepOut, Work

NEEDS = ("time", "ambient")
NO_GPS = (
    "No GPS position in this file: the sun's heat is not counted (the sweat estimate may be low outdoors)."
)
ASSUMED_CLOUD = "No weather observation: half of the clear-sky sunshine assumed (cloud factor 0.5)."


@dataclass
class SolarOut(StepOut):
    solar: Solar
    dmrt_ep: np.ndarray  # ΔMRT per minute epoch, °C (0 = no solar term)


def _cloud_factor(w: Work, clear_ghi: np.ndarray) -> tuple[float, str]:
    obs = w.given.weather
    if obs is not None and obs.shortwave_w_m2 is not None:
        return sol.cloud_factor_from_shortwave(obs.shortwave_w_m2, clear_ghi), "weather_shortwave"
    if obs is not None and obs.cloud_cover_pct is not None:
        return sol.cloud_factor_from_cover(obs.cloud_cover_pct), "weather_cloud_cover"
    return sol.ASSUMED_CLOUD_FACTOR, "clear_sky_assumed_cloud"


def run(w: Work) -> SolarOut:
    tb, ep = w.time, w.time.epochs
    n = ep.n if ep is not None else 0
    none = np.zeros(n)
    if w.ambient.indoor:
        return SolarOut(solar=Solar(source="indoor"), dmrt_ep=none)
    lat, lon = num(w.summary.get("start_lat")), num(w.summary.get("start_lon"))
    start = w.given.activity.start_time
    if lat is None or lon is None or start is None or ep is None or n == 0:
        note = assumption("ambient.solar", None, "assumed", NO_GPS, None, ["fluid", "sodium"])
        return SolarOut(solar=Solar(source="no_gps"), dmrt_ep=none, notes=[note])
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    times = [start + timedelta(seconds=float(s)) for s in (ep.end_s - ep.lengths_s / 2.0)]
    elevation = sol.sun_elevation_deg(times, lat, lon)
    if not (elevation > 0).any():
        return SolarOut(
            solar=Solar(sun_elevation_deg=rnd(float(elevation.max()), 1), source="night"), dmrt_ep=none
        )
    clear_ghi, clear_dni = sol.clear_sky_irradiance(elevation)
    factor, source = _cloud_factor(w, clear_ghi)
    posture = "sitting" if tb.sport in CYCLING_SPORTS else "standing"
    dmrt = sol.delta_mrt_c(sol.effective_radiant_field(elevation, clear_dni * factor, posture))
    notes = []
    if source == "clear_sky_assumed_cloud":
        notes.append(
            assumption("ambient.solar.cloud_factor", factor, "assumed", ASSUMED_CLOUD, None, ["fluid"])
        )
    day = elevation > 0
    solar = Solar(
        sun_elevation_deg=rnd(float(elevation[day].mean()), 1),
        delta_mrt_c=rnd(float(dmrt.mean()), 1),
        cloud_factor=rnd(factor, 2),
        irradiance_w_m2=rnd(float((clear_ghi * factor).mean()), 0),
        source=source,
    )
    return SolarOut(solar=solar, dmrt_ep=dmrt, notes=notes)
