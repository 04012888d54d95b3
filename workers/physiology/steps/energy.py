"""Step `energy`: energy expenditure and metabolic power per record (science.md §2.6; §10.6 for rowing and
swimming). Source order: power ÷ gross efficiency (cycling 0.20; rowing 0.175), speed + grade on foot,
Keytel from heart rate, the device's calories. Swims without power use the device's calories (Keytel is not
validated in water)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.result import Energy
from workers.physiology import energy as en
from workers.physiology.ambient import CYCLING_SPORTS
from workers.physiology.report import assumption, missing, num, rnd
from workers.physiology.steps.work import StepOut, Work
from workers.physiology.timebase import interp_nan

NEEDS = ("time", "inputs", "power")
WALKING_SPORTS = frozenset({"walking", "hiking"})
FOOT_SPORTS = frozenset({"running", "trail_running"}) | WALKING_SPORTS
WATER_SPORTS = frozenset({"swimming"})
ROWING_SPORTS = frozenset({"rowing"})
MIN_COVERAGE = {"power": 0.8, "speed": 0.8, "heart_rate": 0.5}  # share of recorded time with samples


@dataclass
class EnergyOut(StepOut):
    energy: Energy = field(default_factory=Energy)
    m_rec: np.ndarray | None = None  # metabolic power per record, W
    w_rec: np.ndarray | None = None  # external work rate per record, W


def _coverage(w: Work, name: str) -> float:
    x, tb = w.time.ch[name], w.time
    if x is None or tb.recorded_s <= 0:
        return 0.0
    return float(tb.dt[np.isfinite(x)].sum() / tb.recorded_s)


def _from_power(w: Work, out: EnergyOut) -> None:
    filled = w.power.filled
    assert filled is not None
    rowing = w.time.sport in ROWING_SPORTS
    ge = en.ROWING_GROSS_EFFICIENCY if rowing else en.GROSS_EFFICIENCY
    out.m_rec = np.maximum(en.cycling_metabolic_power_w(filled, ge), en.resting_power_w(w.inputs.mass))
    out.w_rec = filled
    out.energy = Energy(
        kcal=rnd(en.cycling_kcal(float(np.sum(filled * w.time.dt)) / 1000.0, ge), 0), source="power"
    )
    why = "rowing, Fukunaga et al. 1986" if rowing else "cycling, Moseley & Jeukendrup 2001"
    out.notes.append(
        assumption(
            "energy.gross_efficiency",
            ge,
            "assumed",
            f"Energy from power assumes a gross efficiency of {ge * 100:g} % ({why}).",
            None,
            ["energy", "fluid"],
        )
    )


def _grade(w: Work, speed: np.ndarray, out: EnergyOut) -> np.ndarray:
    tb = w.time
    altitude, distance, grade = tb.ch["altitude"], tb.ch["distance"], tb.ch["grade"]
    if altitude is not None:
        dist = distance if distance is not None else np.r_[0.0, np.cumsum(speed[:-1] * np.diff(tb.t))]
        return en.smoothed_grade(tb.t, altitude, dist)
    if grade is not None:
        return np.clip(interp_nan(grade, tb.t) / 100.0, -en.MINETTI_RANGE, en.MINETTI_RANGE)
    out.notes.append(
        assumption(
            "energy.grade",
            0.0,
            "assumed",
            "No altitude or grade data: level ground assumed (a treadmill incline is not recorded).",
            None,
            ["energy", "fluid"],
        )
    )
    return np.zeros(tb.t.size)


def _from_speed(w: Work, out: EnergyOut) -> None:
    speed_ch = w.time.ch["speed"]
    assert speed_ch is not None
    speed = interp_nan(speed_ch, w.time.t)
    grade = _grade(w, speed, out)
    out.m_rec = en.foot_metabolic_power_w(
        speed, grade, w.inputs.mass, walking_sport=w.time.sport in WALKING_SPORTS
    )
    out.w_rec = np.zeros(w.time.t.size)
    out.energy = Energy(
        kcal=rnd(en.kcal_from_joules(float(np.sum(out.m_rec * w.time.dt))), 0), source="speed_grade"
    )


def _from_heart_rate(w: Work, out: EnergyOut) -> None:
    inp = w.inputs.resolved
    hr_ch = w.time.ch["heart_rate"]
    assert hr_ch is not None
    hr = interp_nan(hr_ch, w.time.t)
    out.m_rec = en.keytel_power_w(
        hr,
        w.inputs.mass,
        float(inp.age.value),
        inp.sex.value,
        inp.hr_max.value,
        float(inp.hr_rest.value),
        inp.vo2max.value,
    )
    out.w_rec = en.GROSS_EFFICIENCY * out.m_rec if w.time.sport in CYCLING_SPORTS else np.zeros(w.time.t.size)
    out.energy = Energy(
        kcal=rnd(en.kcal_from_joules(float(np.sum(out.m_rec * w.time.dt))), 0), source="heart_rate"
    )


def _from_device(w: Work, kcal: float, out: EnergyOut) -> None:
    tb = w.time
    n = tb.t.size
    out.m_rec = np.full(
        n, max(kcal * en.KJ_PER_KCAL * 1000.0 / tb.recorded_s, en.resting_power_w(w.inputs.mass))
    )
    out.w_rec = en.GROSS_EFFICIENCY * out.m_rec if tb.sport in CYCLING_SPORTS else np.zeros(n)
    out.energy = Energy(kcal=rnd(kcal, 0), source="device")
    swim = " (heart-rate equations are not validated in water)" if tb.sport in WATER_SPORTS else ""
    out.notes.append(
        assumption(
            "energy.kcal",
            round(kcal),
            "device",
            f"Energy is the device's own calorie figure, spread evenly over the session{swim}.",
            None,
            ["energy", "fluid"],
        )
    )


def run(w: Work) -> EnergyOut:
    out = EnergyOut()
    sport, tb = w.time.sport, w.time
    device_kcal = num(w.summary.get("total_calories"))
    if (
        w.power.filled is not None
        and sport not in FOOT_SPORTS
        and _coverage(w, "power") >= MIN_COVERAGE["power"]
    ):
        _from_power(w, out)
    elif sport in FOOT_SPORTS and _coverage(w, "speed") >= MIN_COVERAGE["speed"]:
        _from_speed(w, out)
    elif (
        sport not in WATER_SPORTS
        and w.inputs.resolved.hr_max.value is not None
        and _coverage(w, "heart_rate") >= MIN_COVERAGE["heart_rate"]
    ):
        _from_heart_rate(w, out)
    elif device_kcal and tb.recorded_s > 0:
        _from_device(w, device_kcal, out)
    else:
        why = (
            "swims use the device's calories, and this file has none"
            if sport in WATER_SPORTS
            else ("no power, speed, heart-rate or device calorie data")
        )
        out.gaps.append(missing("energy", why))
    return out
