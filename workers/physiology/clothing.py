"""Clothing insulation (science.md §10.3; §3.3 step 4 for how it enters the heat balance).

By air temperature: a design choice for typical cycling and running kit, labelled as such in `assumptions`;
the profile's usual clothing always wins. Below 8 °C the table's 0.8 clo is a floor: the clothing is chosen
for the work rate, as athletes dress for the cold (ISO 11079 IREQ, docs/science-implementation.md §15.3).
"""

from __future__ import annotations

import math

# (lowest air temperature °C, clo), checked from the warmest band down
CLOTHING_BY_TEMPERATURE: tuple[tuple[float, float], ...] = (
    (22.0, 0.3),  # shorts and a T-shirt/jersey
    (15.0, 0.45),  # plus a base layer or arm warmers
    (8.0, 0.6),  # long sleeves, knee or leg warmers
    (float("-inf"), 0.8),  # tights, jacket, gloves
)
COLD_BELOW_C = 8.0  # the table's coldest band; inside ISO 11079's domain (ta ≤ 10 °C)
MAX_WORK_RATE_CLO = 2.0  # winter cycling or running kit; ISO 11079's answer above that is not worn for sport
AIR_PERMEABILITY_L_M2_S = 50.0  # ISO 11079 outer layer of medium air permeability (wind-resistant sports kit)
ISO_11079_MIN_AIR_SPEED_MS = 0.4
ISO_11079_MAX_WALK_MS = 1.2
MET_W_M2 = 58.15


def clothing_for_temperature(ta_c: float) -> float:
    """Default Icl (clo): ≥ 22 °C 0.3; 15–22 °C 0.45; 8–15 °C 0.6; < 8 °C 0.8."""
    for lowest, clo in CLOTHING_BY_TEMPERATURE:
        if ta_c >= lowest:
            return clo
    return CLOTHING_BY_TEMPERATURE[-1][1]


def iso_11079_walking_speed(ma_w_m2: float) -> float:
    """ISO 11079's walking speed from the metabolic rate: 0.0052·(M − 58) m/s, 0 to 1.2."""
    return min(max(0.0052 * (ma_w_m2 - 58.0), 0.0), ISO_11079_MAX_WALK_MS)


def neutral_insulation_clo(
    ta_c: float, rh_pct: float, ma_w_m2: float, wa_w_m2: float, v_ms: float, walk_ms: float
) -> float:
    """ISO 11079 ICL,neutral (clo): the basic clothing insulation that keeps the heat balance at neutral skin
    temperature (35.7 − 0.0285·M) and wettedness (0.001·M) at this work rate, via pythermalcomfort's `ireq`
    (tr = ta: no solar term; NaN when ISO's solver gives no physical answer)."""
    # Imported here, for cold sessions only: pythermalcomfort.models loads numba and scipy (~160 MB and
    # 1.5 s per worker process), which no session at 8 °C or above needs.
    from pythermalcomfort.models import ireq

    res = ireq(
        tdb=ta_c,
        tr=ta_c,
        vr=max(v_ms, ISO_11079_MIN_AIR_SPEED_MS),
        rh=rh_pct,
        met=ma_w_m2 / MET_W_M2,
        clo=CLOTHING_BY_TEMPERATURE[-1][1],  # only feeds ISO's exposure limit, which is not used
        p=AIR_PERMEABILITY_L_M2_S,
        walk_sp=walk_ms,
        wme=wa_w_m2 / MET_W_M2,
        limit_inputs=False,
        round_output=False,
    )
    return float(res.icl_neutral)


def clothing_for_work(
    ta_c: float, rh_pct: float, ma_w_m2: float, wa_w_m2: float, v_ms: float, walk_ms: float
) -> float:
    """Default Icl (clo) for the work rate: the temperature table, and below 8 °C ISO 11079's ICL,neutral
    bounded by the table's 0.8 clo (floor) and 2.0 clo (cap)."""
    floor = clothing_for_temperature(ta_c)
    if ta_c >= COLD_BELOW_C:
        return floor
    icl = neutral_insulation_clo(ta_c, rh_pct, ma_w_m2, wa_w_m2, v_ms, walk_ms)
    if not math.isfinite(icl):
        return floor
    return round(min(max(icl, floor), MAX_WORK_RATE_CLO), 2)
