"""Step `clothing`: insulation from the profile, else by air temperature (science.md §10.3, §3.3 step 4)."""

from __future__ import annotations

from dataclasses import dataclass

from core.result import Clothing
from workers.physiology.clothing import clothing_for_temperature
from workers.physiology.report import assumption
from workers.physiology.steps.work import StepOut, Work

NEEDS = ("ambient",)


@dataclass
class ClothingOut(StepOut):
    clothing: Clothing

    @property
    def clo(self) -> float:
        assert self.clothing.clo is not None
        return self.clothing.clo


def run(w: Work) -> ClothingOut:
    own = w.given.athlete.clothing_clo
    if own is not None:
        return ClothingOut(clothing=Clothing(clo=float(own), source="profile"))
    ta = w.ambient.air.temp_c
    clo = clothing_for_temperature(ta)
    note = assumption(
        "clothing_clo",
        clo,
        "assumed",
        f"Clothing of {clo:g} clo assumed for {ta:.0f} °C (sweatsync's table for typical cycling and running "
        "kit: 0.3 clo from 22 °C, 0.45 from 15 °C, 0.6 from 8 °C, 0.8 below). Set your usual clothing in the "
        "profile.",
        "clothing_clo",
        ["fluid", "sodium"],
    )
    return ClothingOut(clothing=Clothing(clo=clo, source="temperature_table"), notes=[note])
