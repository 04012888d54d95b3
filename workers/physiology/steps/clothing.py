"""Step `clothing`: insulation from the profile, else by air temperature and, below 8 °C, by work rate
(science.md §10.3, §3.3 step 4; ISO 11079 in docs/science-implementation.md §15.3)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.result import Clothing
from workers.physiology import heat
from workers.physiology.ambient import CYCLING_SPORTS
from workers.physiology.clothing import (
    COLD_BELOW_C,
    clothing_for_temperature,
    clothing_for_work,
    iso_11079_walking_speed,
)
from workers.physiology.report import assumption
from workers.physiology.steps.work import StepOut, Work
from workers.physiology.timebase import STOP_SPEED_MS

NEEDS = ("time", "inputs", "energy", "ambient")
TABLE = "0.3 clo from 22 °C, 0.45 from 15 °C, 0.6 from 8 °C, 0.8 below"


@dataclass
class ClothingOut(StepOut):
    clothing: Clothing

    @property
    def clo(self) -> float:
        assert self.clothing.clo is not None
        return self.clothing.clo


def _moving_work_rate(w: Work) -> tuple[float, float, float] | None:
    """(M, W_ext in W/m², relative air speed m/s) averaged over moving time; None without an energy source."""
    en, tb = w.energy, w.time
    if en.m_rec is None or en.w_rec is None or not np.any(tb.moving):
        return None
    dt = np.where(tb.moving, tb.dt, 0.0)
    bsa = heat.dubois_bsa(w.inputs.mass, float(w.inputs.resolved.height_m.value))
    v = w.ambient.v_ep
    moving_v = v[v >= STOP_SPEED_MS]
    v_ms = float(moving_v.mean()) if moving_v.size else float(v.mean())
    m = float(np.sum(en.m_rec * dt) / dt.sum())
    return m / bsa, float(np.sum(en.w_rec * dt) / dt.sum()) / bsa, v_ms


def _note(clo: float, ta: float, work_rate: tuple[float, float, float] | None) -> str:
    base = (
        f"Clothing of {clo:g} clo assumed for {ta:.0f} °C "
        f"(sweatsync's table for typical cycling and running kit: {TABLE})."
    )
    if work_rate is not None and ta < COLD_BELOW_C and clo > clothing_for_temperature(ta):
        base = (
            f"Clothing of {clo:g} clo assumed for {ta:.0f} °C at your work rate "
            f"({work_rate[0]:.0f} W/m² while moving): the insulation that keeps you neither cold nor hot "
            "(ISO 11079 IREQ neutral), at least the 0.8 clo of sweatsync's table below 8 °C, at most 2 clo."
        )
    return base + " Set your usual clothing in the profile."


def run(w: Work) -> ClothingOut:
    own = w.given.athlete.clothing_clo
    if own is not None:
        return ClothingOut(clothing=Clothing(clo=float(own), source="profile"))
    air = w.ambient.air
    ta = air.temp_c
    work_rate = _moving_work_rate(w)
    clo, source = clothing_for_temperature(ta), "temperature_table"
    if work_rate is not None:
        ma, wa, v = work_rate
        walk = 0.0 if w.time.sport in CYCLING_SPORTS else iso_11079_walking_speed(ma)
        clo = clothing_for_work(ta, air.humidity_pct, ma, wa, v, walk)
        source = "work_rate" if clo > clothing_for_temperature(ta) else source
    note = assumption(
        "clothing_clo", clo, "assumed", _note(clo, ta, work_rate), "clothing_clo", ["fluid", "sodium"]
    )
    return ClothingOut(clothing=Clothing(clo=clo, source=source), notes=[note])
