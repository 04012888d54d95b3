"""Step `load`: heart rate and training load — Banister, Edwards and Lucia TRIMP, HRSS, HR intensity
(science.md §2.1–2.4; formulas in physiology/load.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.result import HeartRate, Load
from workers.physiology import load as ld
from workers.physiology.report import assumption, missing, rnd
from workers.physiology.steps.work import StepOut, Work
from workers.physiology.timebase import time_weighted_mean

NEEDS = ("time", "inputs")

LUCIA_NOTE = (
    "Lucia TRIMP uses heuristic thresholds (VT1 ≈ 90 % of threshold heart rate, VT2 ≈ threshold heart rate), "
    "not lab-measured ventilatory thresholds."
)


@dataclass
class LoadOut(StepOut):
    heart_rate: HeartRate = field(default_factory=HeartRate)
    load: Load = field(default_factory=Load)


def run(w: Work) -> LoadOut:
    hr, dt = w.time.ch["heart_rate"], w.time.dt
    inp = w.inputs.resolved
    out = LoadOut()
    if hr is None:
        out.gaps += [
            missing("heart_rate", "no heart-rate data in this file"),
            missing("load", "training load needs heart rate"),
        ]
        return out
    avg_hr = time_weighted_mean(hr, dt)
    out.heart_rate = HeartRate(avg_bpm=rnd(avg_hr, 0), max_bpm=rnd(float(np.nanmax(hr)), 0))
    hr_max, hr_rest, lthr, sex = inp.hr_max.value, float(inp.hr_rest.value), inp.lthr.value, inp.sex.value
    if hr_max is None:
        out.gaps.append(missing("load", "no usable maximum heart rate"))
        return out
    trimp = ld.banister_trimp(hr, dt, hr_rest, hr_max, sex)
    out.load = Load(
        trimp_banister=rnd(trimp, 1),
        trimp_edwards=rnd(ld.edwards_trimp(hr, dt, hr_max), 1),
        hrss=rnd(ld.hrss(trimp, lthr, hr_rest, hr_max, sex), 1),
        hr_intensity=rnd(ld.hr_intensity(avg_hr, hr_rest, lthr), 3),
    )
    if inp.lthr_known:
        out.load.trimp_lucia = rnd(ld.lucia_trimp(hr, dt, lthr), 1)
        out.notes.append(
            assumption("load.trimp_lucia", None, "heuristic", LUCIA_NOTE, None, ["load.trimp_lucia"])
        )
    else:
        out.gaps.append(
            missing("load.trimp_lucia", "needs your lactate-threshold heart rate (profile: lthr)")
        )
    return out
