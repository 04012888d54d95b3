"""Step `sodium`: sweat sodium concentration and loss with its range (science.md §3.5)."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.result import Sodium
from workers.physiology import fluid as fl
from workers.physiology.report import assumption, missing, num, rnd
from workers.physiology.steps.work import StepOut, Work

NEEDS = ("fluid",)
SODIUM_RANGE = (5.0, 150.0)  # mmol/L accepted from a sweat test
DEFAULT_NOTE = (
    "Sweat sodium of 40 mmol/L (920 mg/L) assumed, with a ±50 % range; a sweat test would make the sodium "
    "figure personal."
)


@dataclass
class SodiumOut(StepOut):
    sodium: Sodium = field(default_factory=Sodium)


def run(w: Work) -> SodiumOut:
    out = SodiumOut()
    na = num(w.given.athlete.sweat_sodium_mmol_l)
    measured = na is not None and SODIUM_RANGE[0] <= na <= SODIUM_RANGE[1]
    if na is None or not measured:
        na = fl.SODIUM_DEFAULT_MMOL_L
        out.notes.append(
            assumption("sweat_sodium_mmol_l", na, "assumed", DEFAULT_NOTE, "sweat_sodium_mmol_l", ["sodium"])
        )
    out.sodium = Sodium(
        concentration_mmol_l=rnd(na, 1), concentration_source="measured" if measured else "default"
    )
    f = w.fluid
    if f.sweat_l is None or f.low is None or f.high is None:
        out.gaps.append(missing("sodium", "needs a sweat figure"))
        return out
    mg_low, mg_high = fl.sodium_range_mg(f.low, f.high, na, measured)
    out.sodium.mg = rnd(fl.sodium_mg(f.sweat_l, na), 0)
    out.sodium.mg_low, out.sodium.mg_high = rnd(mg_low, 0), rnd(mg_high, 0)
    return out
