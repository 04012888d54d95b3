"""Clothing insulation by air temperature (science.md §10.3; §3.3 step 4 for how it enters the heat balance).

A design choice for typical cycling and running kit, labelled as such in `assumptions`; the profile's usual
clothing always wins.
"""

from __future__ import annotations

# (lowest air temperature °C, clo), checked from the warmest band down
CLOTHING_BY_TEMPERATURE: tuple[tuple[float, float], ...] = (
    (22.0, 0.3),  # shorts and a T-shirt/jersey
    (15.0, 0.45),  # plus a base layer or arm warmers
    (8.0, 0.6),  # long sleeves, knee or leg warmers
    (float("-inf"), 0.8),  # tights, jacket, gloves
)


def clothing_for_temperature(ta_c: float) -> float:
    """Default Icl (clo): ≥ 22 °C 0.3; 15–22 °C 0.45; 8–15 °C 0.6; < 8 °C 0.8."""
    for lowest, clo in CLOTHING_BY_TEMPERATURE:
        if ta_c >= lowest:
            return clo
    return CLOTHING_BY_TEMPERATURE[-1][1]
