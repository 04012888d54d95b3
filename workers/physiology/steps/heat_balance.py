"""Step `heat`: the per-minute heat balance and required sweat rate (science.md §3.3 steps 1–11), with
version 2's skin and core temperature (§10.1), radiant temperature from the sun (§10.2), clothing (§10.3) and
the air-speed cap (§10.4). Formulas in physiology/heat.py."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.result import HeatBalance
from workers.physiology import fluid as fl
from workers.physiology import heat
from workers.physiology.ambient import CYCLING_SPORTS
from workers.physiology.energy import resting_power_w
from workers.physiology.report import assumption, missing, rnd
from workers.physiology.steps.energy import WATER_SPORTS
from workers.physiology.steps.work import StepOut, Work
from workers.physiology.timebase import Epochs

NEEDS = ("time", "inputs", "energy", "ambient", "clothing", "solar")
AIR_SPEED_NOTE = (
    "Air speed above 4 m/s is counted as 4 m/s in the heat balance: the ISO convection formula is validated "
    "to about 3 m/s and no citable whole-body coefficient for riders or runners at race speed was found."
)

COLD_SKIN_NOTE = (
    "Below 15 °C the skin temperature leans towards ISO 11079's neutral skin for your effort (fully at "
    "10 °C and below, except for efforts above 400 W/m²): ISO 7933's own equation is fitted to warm weather."
)


@dataclass
class HeatOut(StepOut):
    heat: HeatBalance | None = None
    sweat_ep_l: np.ndarray | None = None  # per-epoch sweat, calibrated, L
    model_raw_l: float | None = None  # uncalibrated model sweat (weigh-in calibration pairs use it)
    model_l: float | None = None
    respiratory_l: float | None = None
    uncompensable: bool | None = None
    uncompensable_minutes: float | None = None
    calibration: float | None = None
    air_speed_capped: bool = False


def _epoch_means(w: Work, ep: Epochs) -> tuple[np.ndarray, np.ndarray]:
    en, tb = w.energy, w.time
    assert en.m_rec is not None and en.w_rec is not None
    m_ep, _ = ep.mean(en.m_rec, tb.dt)
    w_ep, _ = ep.mean(en.w_rec, tb.dt)
    m_ep = np.where(np.isfinite(m_ep), m_ep, resting_power_w(w.inputs.mass))  # paused minutes: at rest
    return m_ep, np.where(np.isfinite(w_ep), w_ep, 0.0)


def _calibration(w: Work, out: HeatOut) -> float:
    a = w.given.athlete
    if a.calibration_factor is None or not np.isfinite(a.calibration_factor):
        return 1.0
    factor = float(np.clip(a.calibration_factor, *fl.CALIBRATION_BOUNDS))
    out.calibration = factor
    plural = "s" if a.calibration_n != 1 else ""
    out.notes.append(
        assumption(
            "fluid.calibration_factor",
            round(factor, 3),
            "profile",
            f"Sweat model scaled by your personal calibration ×{factor:.2f} "
            f"(from {a.calibration_n} weigh-in{plural}).",
            None,
            ["fluid", "sodium"],
        )
    )
    return factor


def _skin_equilibrium(
    w: Work, ta: np.ndarray, tr: np.ndarray, pa: np.ndarray, va: np.ndarray, ma: np.ndarray, tre: np.ndarray
) -> np.ndarray:
    """Equilibrium skin temperature per epoch: ISO 7933's, or in the cold ISO 11079's neutral one (the
    criterion the clothing step dresses the athlete by under 8 °C), each in its own domain (heat.py)."""
    cold = heat.cold_weight(w.ambient.air.temp_c, ma)
    warm = heat.skin_temperature_equilibrium(ta, tr, pa, va, ma, tre, w.clothing.clo)
    return np.asarray(cold * heat.cold_skin_temperature_equilibrium(ma) + (1.0 - cold) * warm)


def _balance(w: Work, ep: Epochs, bsa: float) -> tuple[heat.HeatBalance, np.ndarray, np.ndarray, np.ndarray]:
    """(heat balance, skin temperature, core temperature, radiant temperature) per epoch."""
    m_ep, w_ep = _epoch_means(w, ep)
    air, clo = w.ambient.air, w.clothing.clo
    ta = np.full(ep.n, air.temp_c)
    tr = ta + w.solar.dmrt_ep
    pa = air.humidity_pct / 100.0 * heat.psat_kpa(ta)
    va = heat.model_air_speed(w.ambient.v_ep)
    ma = m_ep / bsa
    tre = heat.core_temperature_course(ma)
    tsk = heat.skin_temperature_course(_skin_equilibrium(w, ta, tr, pa, va, ma, tre))
    # ISO's walking term pumps air through clothing; a pedalling rider's trunk does not walk (§10.3 deviation)
    walk = 0.0 if w.time.sport in CYCLING_SPORTS else None
    hb = heat.required_sweat(
        m_ep,
        w_ep,
        ta,
        air.humidity_pct,
        va,
        bsa,
        clo=clo,
        tsk_c=tsk,
        tr_c=tr,
        dynamic_clothing=True,
        walk_ms=walk,
    )
    return hb, tsk, tre, tr


def _why_not(w: Work) -> str | None:
    if w.time.sport in WATER_SPORTS:
        return "the sweat model is a heat balance in air; it does not apply to swimming"
    if w.energy.m_rec is None:
        return "no energy source for the heat balance"
    if w.time.epochs is None or w.time.epochs.n == 0:
        return "the activity is too short"
    return None


def run(w: Work) -> HeatOut:
    out = HeatOut()
    why = _why_not(w)
    if why is not None:
        out.gaps.append(missing("fluid.model", why))
        return out
    ep = w.time.epochs
    assert ep is not None
    inp = w.inputs.resolved
    bsa = heat.dubois_bsa(w.inputs.mass, float(inp.height_m.value))
    hb, tsk, tre, tr = _balance(w, ep, bsa)
    raw_ep_l = heat.water_grams(heat.onset_lag(hb.swreq), ep.lengths_s, bsa) / 1000.0
    out.respiratory_l = float(np.sum(heat.water_grams(hb.eres, ep.lengths_s, bsa)) / 1000.0)
    out.model_raw_l = float(raw_ep_l.sum())
    out.sweat_ep_l = raw_ep_l * _calibration(w, out)
    out.model_l = float(out.sweat_ep_l.sum())
    out.uncompensable = bool(hb.uncompensable.any())
    out.uncompensable_minutes = float(np.sum(ep.lengths_s[hb.uncompensable]) / 60.0)
    weights = ep.lengths_s / ep.lengths_s.sum()
    out.heat = HeatBalance(
        skin_temp_c=rnd(float(tsk @ weights), 1),
        core_temp_c_end=rnd(float(tre[-1]), 2),
        radiant_temp_c=rnd(float(tr @ weights), 1),
        air_speed_model_ms=rnd(float(heat.model_air_speed(w.ambient.v_ep) @ weights), 2),
        ereq_w_m2=rnd(float(np.maximum(hb.ereq, 0.0) @ weights), 0),
        emax_w_m2=rnd(float(hb.emax @ weights), 0),
    )
    if w.ambient.air.temp_c < heat.ISO_7933_MIN_TA_C:
        out.notes.append(assumption("heat.skin_temp_c", out.heat.skin_temp_c, "model", COLD_SKIN_NOTE))
    if (w.ambient.v_ep > heat.AIR_SPEED_CAP_MS).any():
        out.air_speed_capped = True
        out.notes.append(assumption("ambient.air_speed_ms", heat.AIR_SPEED_CAP_MS, "model", AIR_SPEED_NOTE))
    return out
