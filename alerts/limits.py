"""The hard advice limits of science.md §10.7, on plain numbers. Pure: no I/O, no clock, no session JSON.

Every figure an alert tells the athlete to drink or eat passes through one of these functions, and each one
is property-tested over thousands of generated inputs (tests/alerts/test_alerts_limits.py):
- fluid: never more than the deficit, never more than 1.0 L in any hour, over a window that grows with the
  volume (2 h to 6 h), never more than 3 L in one email; unknown intake means no volume at all;
- sodium after a session: at most the estimated loss and at most 3,000 mg;
- sodium during future sessions: within 300–600 mg/h, never above 900 mg/h;
- heat-illness guidance only on measured evidence.
The kidneys clear well under 1 L/h, and large volumes advised from an estimate are how EAH happens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

FLUID_MAX_PER_HOUR_L = 1.0
FLUID_PACE_L_PER_H = 0.5  # the pace the window is sized for: half the hourly ceiling
FLUID_WINDOW_MIN_H = 2
FLUID_WINDOW_MAX_H = 6
FLUID_MAX_PER_EMAIL_L = 3.0

SODIUM_AFTER_MAX_MG = 3000
SODIUM_STEP_MG = 50
SODIUM_DURING_LOW_MG_H = 300
SODIUM_DURING_HIGH_MG_H = 600
SODIUM_DURING_CEILING_MG_H = 900  # McCubbin & Costa 2018: trials used up to about 900 mg/h

HEAT_TEMP_C = 30.0
HEAT_UNCOMPENSABLE_MIN = 10.0

# How the fluid advice is phrased (alerts.recommend words each one).
REPLACE = "replace"  # intake known or weighed: drink up to `volume_l` over `window_h`
REPLACE_REST = "replace_rest"  # intake unknown: here is the sweat loss, subtract what you drank
TOO_LARGE = "too_large"  # above the per-email ceiling: drink to thirst with salty food, weigh, seek advice
COVERED = "covered"  # nothing left to replace
UNKNOWN = "unknown"  # no estimate
WITHHELD = "withheld"  # implausible recording: figures only, no volume


def floor_to(value: float, step: Decimal) -> float:
    """`value` rounded DOWN to a multiple of `step`, and never a float a hair above `value`."""
    if value <= 0:
        return 0.0
    # repr() is the shortest decimal that reads back as this float: 0.6 floors to 0.6, not 0.5.
    stepped = (Decimal(repr(value)) / step).to_integral_value(rounding=ROUND_FLOOR) * step
    out = float(stepped)
    if out > value:  # the float nearest to n/10 can sit just above the value
        out = float(stepped - step)
    return max(0.0, out)


def cap_fluid(deficit_l: float) -> float:
    """The deficit rounded DOWN to 0.1 L, never above the deficit itself and never below 0."""
    return floor_to(deficit_l, Decimal("0.1"))


def fluid_window_h(volume_l: float) -> int:
    """Hours to spread `volume_l` over: at 0.5 L/h, at least 2 h and at most 6 h (3 L is the most we name)."""
    hours = math.ceil(max(volume_l, 0.0) / FLUID_PACE_L_PER_H - 1e-9)
    return max(FLUID_WINDOW_MIN_H, min(FLUID_WINDOW_MAX_H, hours))


@dataclass(frozen=True)
class FluidPlan:
    mode: str
    volume_l: float | None = None  # only for REPLACE (and 0.0 for COVERED)
    window_h: int | None = None  # only for REPLACE


def fluid_plan(*, deficit_l: float | None, intake_known: bool, implausible: bool = False) -> FluidPlan:
    """The one fluid figure an alert may name, from the deficit and whether it is real.

    `intake_known` is true when the athlete logged what they drank or weighed themselves: only then is
    `deficit_l` a deficit. Without it the deficit is the sweat loss as if nothing was drunk, and naming it as
    a volume to drink is how a 27-h recording produced "drink up to 16.9 L".
    """
    if implausible:
        return FluidPlan(WITHHELD)
    if deficit_l is None or not math.isfinite(deficit_l):
        return FluidPlan(UNKNOWN)
    if not intake_known:  # `deficit_l` is then the loss itself: the athlete subtracts what they drank
        return FluidPlan(TOO_LARGE if deficit_l > FLUID_MAX_PER_EMAIL_L else REPLACE_REST)
    volume = cap_fluid(deficit_l)
    if volume <= 0:
        return FluidPlan(COVERED, 0.0)
    if volume > FLUID_MAX_PER_EMAIL_L:
        return FluidPlan(TOO_LARGE)
    return FluidPlan(REPLACE, volume, fluid_window_h(volume))


def sodium_after_mg(loss_mg: float | None, *, implausible: bool = False) -> int | None:
    """Sodium to aim for after a session: the loss rounded down to 50 mg, at most 3,000 mg; or None."""
    if implausible or loss_mg is None or not math.isfinite(loss_mg) or loss_mg < 0:
        return None
    return int(min(floor_to(loss_mg, Decimal(SODIUM_STEP_MG)), SODIUM_AFTER_MAX_MG))


def sodium_during_mg_per_h(loss_mg: float | None, hours: float | None) -> int:
    """Sodium per hour for future long sessions: the hourly loss held within 300–600 mg/h (max 900)."""
    per_hour = SODIUM_DURING_LOW_MG_H
    if loss_mg is not None and hours and hours > 0 and math.isfinite(loss_mg / hours):
        per_hour = int(floor_to(loss_mg / hours, Decimal(SODIUM_STEP_MG)))
    return max(SODIUM_DURING_LOW_MG_H, min(SODIUM_DURING_HIGH_MG_H, SODIUM_DURING_CEILING_MG_H, per_hour))


def heat_evidence(
    *, temp_c: float | None, temp_measured: bool, uncompensable_minutes: float | None
) -> tuple[bool, bool]:
    """(hot, uncompensable): the measured evidence that justifies heat-illness guidance (§10.7).

    An assumed temperature never counts: 2 uncompensable minutes at a default 20 °C said "Cool down now".
    """
    if not temp_measured or temp_c is None:
        return False, False
    hot = temp_c >= HEAT_TEMP_C
    sustained = uncompensable_minutes is not None and uncompensable_minutes >= HEAT_UNCOMPENSABLE_MIN
    return hot, sustained
