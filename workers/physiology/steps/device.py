"""Step `device`: the device's own figures side by side (science.md §1 session fields; field 178 per leg,
§10.6, is split in the decoder with physiology/device.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.result import Device
from workers.physiology.report import num, rnd
from workers.physiology.steps.work import StepOut, Work
from workers.physiology.timebase import time_weighted_mean

NEEDS = ("time",)


@dataclass
class DeviceOut(StepOut):
    device: Device


def _litres(ml: float | None) -> float | None:
    return rnd(ml / 1000.0, 3) if ml is not None else None


def run(w: Work) -> DeviceOut:
    s, tb = w.summary, w.time
    core_avg, core_max = num(s.get("avg_core_temperature")), num(s.get("max_core_temperature"))
    core = tb.ch["core_temperature"]
    if core is not None:
        core_avg = core_avg if core_avg is not None else time_weighted_mean(core, tb.dt)
        core_max = core_max if core_max is not None else float(np.nanmax(core))
    device = Device(
        np_w=rnd(num(s.get("normalized_power")), 0),
        tss=rnd(num(s.get("training_stress_score")), 1),
        kcal=rnd(num(s.get("total_calories")), 0),
        avg_temperature_c=rnd(num(s.get("avg_temperature")), 1),
        max_temperature_c=rnd(num(s.get("max_temperature")), 1),
        core_temp_avg_c=rnd(core_avg, 2),
        core_temp_max_c=rnd(core_max, 2),
        sweat_loss_l=_litres(num(s.get("sweat_loss_ml"))),
        fluid_consumed_l=_litres(num(s.get("fluid_consumed_ml"))),
    )
    device.if_ = rnd(num(s.get("intensity_factor")), 3)
    return DeviceOut(device=device)
