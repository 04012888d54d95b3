"""Plan a session: expected sweat and sodium loss for a planned effort, and a drinking plan within the
limits of science.md §10.7. The estimate is the physiology models' own (workers.physiology.analyze) run on
a steady synthetic recording of the planned effort, with the athlete's profile, dated weight and personal
calibration from weigh-ins, so a plan and a later session agree.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field, model_validator
from sqlalchemy.orm import Session

from core.models import Profile
from core.result import Assumption
from workers import repository as repo
from workers.activity import Activity
from workers.analysis import athlete_from_profile
from workers.physiology import analyze, calibration_factor
from workers.physiology.inputs import Conditions
from workers.physiology.profile import REFERENCE_MASS_KG

MAX_DRINK_L_PER_H = 1.0  # §10.7: never more than 1.0 L in any hour
MAX_NAMED_L = 3.0  # §10.7: no advice names more than 3 L
SODIUM_MG_PER_H = (300.0, 600.0)  # §10.7: during sessions 300–600 mg/h
MAX_SODIUM_MG_PER_H = 900.0  # ... never above 900 mg/h (McCubbin & Costa 2018)


# The fastest anyone has run for a given time (hours, km/h): 3000 m 7:20.67, 10,000 m 26:11.00, the hour
# 21.330 km, marathon 2:00:35, 100 km 6:05:35, 24 h 319.614 km (World Athletics and IAU records). Walking and
# hiking are held to the same table: no one walks faster than the running record.
RUN_RECORDS_KMH = ((0.122, 24.5), (0.436, 22.9), (1.0, 21.33), (2.01, 21.0), (6.09, 16.4), (24.0, 13.3))
# Cycling power per kg held for a given time: world-class men in Coggan's power profile (5 min 7.6, the hour
# 6.4 W/kg); beyond the hour it falls as the running records do (24 h: 0.62 of the hour). A ceiling only.
RIDE_RECORDS_W_PER_KG = ((0.083, 7.6), (1.0, 6.4), (2.01, 6.3), (6.09, 4.9), (24.0, 4.0))
PACED_SPORTS = ("running", "walking", "hiking")


class PlanIn(BaseModel):
    sport: Literal["cycling", "running", "rowing", "walking", "hiking", "training"] = "cycling"
    duration_min: float = Field(ge=10, le=24 * 60)
    power_w: float | None = Field(default=None, ge=20, le=1500)
    pace_min_per_km: float | None = Field(default=None, ge=2.0, le=30.0)
    heart_rate_bpm: float | None = Field(default=None, ge=60, le=230)
    temp_c: float = Field(ge=-30, le=50)
    humidity_pct: float = Field(default=50, ge=0, le=100)
    indoor: bool = False

    @model_validator(mode="after")
    def _one_intensity(self) -> PlanIn:
        if self.power_w is None and self.pace_min_per_km is None and self.heart_rate_bpm is None:
            raise ValueError("give the intensity as power (W), pace (min/km) or heart rate (bpm)")
        return self


class PlanHour(BaseModel):
    hour: int
    minutes: float
    drink_l: float
    sodium_mg_low: float
    sodium_mg_high: float


class PlanOut(BaseModel):
    sweat_l: float | None
    sweat_l_low: float | None
    sweat_l_high: float | None
    rate_l_per_h: float | None
    sodium_mg: float | None
    sodium_mg_low: float | None
    sodium_mg_high: float | None
    drink_total_l: float
    hours: list[PlanHour]
    calibration: str = Field(description="Whether your weigh-ins calibrated this estimate, and how")
    plausible: bool = Field(
        default=True, description="False when no one on record has held this pace or power for this long"
    )
    notes: list[str]
    assumptions: list[dict[str, Any]]


def _synthetic_activity(plan: PlanIn, start: datetime) -> Activity:
    seconds = int(plan.duration_min * 60)
    t = np.arange(0, seconds + 1, 5, dtype=float)  # 5 s steps: the models resample to epochs anyway
    n = t.size
    channels: dict[str, np.ndarray | None] = {}
    if plan.power_w is not None:
        channels["power"] = np.full(n, plan.power_w)
    if plan.pace_min_per_km is not None:
        speed = 1000.0 / (plan.pace_min_per_km * 60.0)
        channels["speed"] = np.full(n, speed)
        channels["distance"] = t * speed
    if plan.heart_rate_bpm is not None:
        channels["heart_rate"] = np.full(n, plan.heart_rate_bpm)
    channels["temperature"] = np.full(n, plan.temp_c)
    return Activity(
        t=t, start_time=start, sport=plan.sport, indoor=plan.indoor, channels=channels, decoder="plan"
    )


def _record_for(table: tuple[tuple[float, float], ...], hours: float) -> float:
    durations, values = zip(*table, strict=True)
    return float(np.interp(math.log(hours), np.log(durations), values))


def _pace(km_h: float) -> str:
    seconds = round(3600 / km_h)
    return f"{seconds // 60}:{seconds % 60:02d} min/km"


def beyond_records(plan: PlanIn, mass_kg: float | None) -> str | None:
    """A sentence when the planned effort is faster or harder than anyone has held for that long (science.md
    §10.6: data that cannot be right is named, not believed); None when it is humanly possible."""
    hours = plan.duration_min / 60
    span = _duration(plan.duration_min)
    if plan.pace_min_per_km is not None and plan.sport in PACED_SPORTS:
        record, speed = _record_for(RUN_RECORDS_KMH, hours), 60 / plan.pace_min_per_km
        if speed > record:
            return (
                f"No one has run {_pace(speed)} for {span}: the fastest on record for that long is about "
                f"{_pace(record)}. Check the pace; the figures below assume you hold it."
            )
    if plan.power_w is not None and plan.sport == "cycling":
        mass = mass_kg or REFERENCE_MASS_KG  # the model's own default when the profile has none
        record = _record_for(RIDE_RECORDS_W_PER_KG, hours)
        if (per_kg := plan.power_w / mass) > record:
            return (
                f"{plan.power_w:.0f} W for {span} is {per_kg:.1f} W/kg at {mass:.0f} kg: beyond what the "
                f"best riders hold for that long (about {record:.1f} W/kg). Check the power; the figures "
                "below assume you hold it."
            )
    return None


def _duration(minutes: float) -> str:
    if minutes < 120:
        return f"{minutes:.0f} minutes"
    return f"{minutes / 60:.1f} hours".replace(".0 hours", " hours")


def _r(x: Any, digits: int) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else round(float(x), digits)


def drinking_plan(sweat_l: float, duration_min: float) -> list[PlanHour]:
    """Per hour: replace at most the loss, at most 1.0 L/h, at most 3 L in all; sodium 300–600 mg/h."""
    hours = max(1, math.ceil(duration_min / 60))
    rate = sweat_l / (duration_min / 60) if duration_min > 0 else 0.0
    left = min(sweat_l, MAX_NAMED_L)
    out = []
    for h in range(hours):
        minutes = min(60.0, duration_min - h * 60)
        drink = min(rate * minutes / 60, MAX_DRINK_L_PER_H * minutes / 60, left)
        left -= drink
        share = minutes / 60
        out.append(
            PlanHour(
                hour=h + 1,
                minutes=round(minutes, 1),
                drink_l=round(max(drink, 0.0), 2),
                sodium_mg_low=round(SODIUM_MG_PER_H[0] * share),
                sodium_mg_high=round(min(SODIUM_MG_PER_H[1], MAX_SODIUM_MG_PER_H) * share),
            )
        )
    return out


def _about_the_athlete(assumption: Assumption) -> bool:
    # The plan states the conditions itself; what is left to personalise is the profile.
    return not (assumption.personalize_with or "").startswith("conditions.")


def plan_session(db: Session, *, user_id: uuid.UUID, plan: PlanIn) -> PlanOut:
    now = datetime.now(UTC)
    profile = db.get(Profile, user_id)
    pairs = repo.calibration_pairs(db, user_id=user_id, before=None)
    athlete = athlete_from_profile(
        profile,
        when=now,
        mass_kg=repo.mass_in_force(db, user_id=user_id, when=now),
        calibration=calibration_factor(pairs) if pairs else None,
    )
    conditions = Conditions(temp_c=plan.temp_c, humidity_pct=plan.humidity_pct, indoor=plan.indoor)
    result = analyze(_synthetic_activity(plan, now), athlete, conditions)
    fluid, sodium = result.fluid, result.sodium
    sweat = fluid.sweat_l
    hours = drinking_plan(float(sweat or 0.0), plan.duration_min)
    total = round(sum(h.drink_l for h in hours), 2)
    notes = [
        "Drink to this plan at most: never more than 1.0 L in any hour, never more than you sweat.",
        "Sodium 300–600 mg per hour, with food or a sports drink; never above 900 mg per hour.",
    ]
    unlikely = beyond_records(plan, athlete.mass_kg)
    if unlikely:
        notes.insert(0, unlikely)
    if sweat is not None and sweat > MAX_NAMED_L:
        notes.append(
            "You may sweat more than 3 L: beyond the 3 L named here, drink to thirst with salty food, "
            "weigh yourself before and after, and seek advice if you feel unwell."
        )
    factor, n = calibration_factor(pairs) if pairs else (None, 0)
    calibration = (
        f"Calibrated with {n} weigh-in(s) of yours: the model's sweat estimate is multiplied by {factor:.2f}."
        if factor is not None and n
        else "Not calibrated yet: weigh yourself before and after a session to make this estimate personal."
    )
    return PlanOut(
        sweat_l=_r(sweat, 2),
        sweat_l_low=_r(fluid.sweat_l_low, 2),
        sweat_l_high=_r(fluid.sweat_l_high, 2),
        rate_l_per_h=_r(fluid.rate_l_per_h, 2),
        sodium_mg=_r(sodium.mg, 0),
        sodium_mg_low=_r(sodium.mg_low, 0),
        sodium_mg_high=_r(sodium.mg_high, 0),
        drink_total_l=total,
        hours=hours,
        calibration=calibration,
        plausible=unlikely is None,
        notes=notes,
        assumptions=[a.model_dump() for a in result.assumptions if _about_the_athlete(a)],
    )
