"""Measured sweat loss, uncertainty ranges, sodium loss and personal calibration (science.md §3.1, §3.5)."""

from __future__ import annotations

import math
from collections.abc import Iterable

from workers.physiology.inputs import WeighIn

MODEL_ERROR_L_PER_H = 0.25  # science.md §3.3: expected error ±0.25–0.5 L/h ...
MODEL_ERROR_FRACTION = 0.30  # ... so the band is max(±0.25 L/h × hours, ±30 %)
MEASURED_ERROR_L = 0.2  # two scale readings of ±0.1 kg each
SODIUM_DEFAULT_MMOL_L = 40.0  # science.md §3.5 default (920 mg/L)
SODIUM_DEFAULT_SPREAD = 0.5  # ±50 % when the concentration is the default
NA_MG_PER_MMOL = 22.99
CALIBRATION_PRIOR_N = 3.0  # empirical-Bayes shrinkage: worth three weigh-ins of "factor = 1"
CALIBRATION_BOUNDS = (0.5, 2.0)


def measured_sweat_l(weigh_in: WeighIn) -> float:
    """sweat_L = (BM_pre − BM_post) + intake_L − urine_L (Baker 2017; 1 kg ≈ 1 L). Never negative."""
    return max(0.0, (weigh_in.pre_kg - weigh_in.post_kg) + weigh_in.fluid_l - weigh_in.urine_l)


def body_mass_change_pct(pre_kg: float, post_kg: float) -> float:
    """%BML = (BM_pre − BM_post)/BM_pre·100 (negative = mass gained)."""
    return (pre_kg - post_kg) / pre_kg * 100.0


def model_sweat_range_l(sweat_l: float, hours: float) -> tuple[float, float]:
    """Model band: ± max(0.25 L/h × hours, 30 % of the estimate), the low end never below 0."""
    half = max(MODEL_ERROR_L_PER_H * max(hours, 0.0), MODEL_ERROR_FRACTION * sweat_l)
    return max(0.0, sweat_l - half), sweat_l + half


def measured_sweat_range_l(sweat_l: float) -> tuple[float, float]:
    """Weigh-in band: ±0.2 L (scale resolution of the two weighings), never below 0."""
    return max(0.0, sweat_l - MEASURED_ERROR_L), sweat_l + MEASURED_ERROR_L


def sodium_mg(sweat_l: float, na_mmol_l: float) -> float:
    """Na_mg = sweat_L·[Na]·22.99 (respiratory water carries no sodium)."""
    return sweat_l * na_mmol_l * NA_MG_PER_MMOL


def sodium_range_mg(
    sweat_low_l: float, sweat_high_l: float, na_mmol_l: float, measured_concentration: bool
) -> tuple[float, float]:
    """Sodium band: the sweat band × the concentration band (±50 % for the default, none for a sweat test)."""
    spread = 0.0 if measured_concentration else SODIUM_DEFAULT_SPREAD
    return (
        sodium_mg(sweat_low_l, na_mmol_l * (1.0 - spread)),
        sodium_mg(sweat_high_l, na_mmol_l * (1.0 + spread)),
    )


def calibration_factor(
    pairs: Iterable[tuple[float, float]], prior_n: float = CALIBRATION_PRIOR_N
) -> tuple[float, int]:
    """Personal sweat calibration from (model_l, measured_l) weigh-in pairs.

    factor = exp(Σ log(measured/model) / (n + k)), k = 3: the mean log ratio shrunk toward 0 (factor 1) with
    few weigh-ins, clipped to [0.5, 2]. Pairs with a non-positive or non-finite value are ignored. Use the
    *uncalibrated* model figure (`fluid.model_sweat_l`) for each pair.
    """
    logs = [
        math.log(measured / model)
        for model, measured in pairs
        if math.isfinite(model) and math.isfinite(measured) and model > 0 and measured > 0
    ]
    n = len(logs)
    if n == 0:
        return 1.0, 0
    factor = math.exp(sum(logs) / (n + prior_n))
    lo, hi = CALIBRATION_BOUNDS
    return min(hi, max(lo, factor)), n
