"""Step `series`: per-minute heart rate, power, speed, device temperature and cumulative sweat with its band,
for charts (§3.3 range)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.result import Series
from workers.physiology import fluid as fl
from workers.physiology.report import rnd
from workers.physiology.steps.work import StepOut, Work

NEEDS = ("time", "power", "heat", "fluid")


@dataclass
class SeriesOut(StepOut):
    series: Series = field(default_factory=Series)


def _values(values: np.ndarray, digits: int) -> list[float | None]:
    return [rnd(v, digits) for v in values.tolist()]


def _sweat_band(w: Work, end_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    f, sweat_ep = w.fluid, w.heat.sweat_ep_l
    if sweat_ep is None or f.sweat_l is None or f.low is None or f.high is None:
        return None
    cum = np.cumsum(sweat_ep)
    if f.fluid.source == "measured":
        # the model's time course, scaled so that it ends at the measured loss
        frac = end_s / end_s[-1]
        total = float(cum[-1])
        cum = cum * (f.sweat_l / total) if total > 0 else f.sweat_l * frac
        return cum, np.maximum(cum - (f.sweat_l - f.low) * frac, 0.0), cum + (f.high - f.sweat_l) * frac
    half = np.maximum(fl.MODEL_ERROR_L_PER_H * end_s / 3600.0, fl.MODEL_ERROR_FRACTION * cum)
    return cum, np.maximum(cum - half, 0.0), cum + half


def run(w: Work) -> SeriesOut:
    out = SeriesOut()
    tb, ep = w.time, w.time.epochs
    if ep is None or ep.n == 0:
        return out
    s = out.series
    s.t_min = _values(ep.end_s / 60.0, 2)
    if tb.ch["heart_rate"] is not None:
        s.heart_rate = _values(ep.mean(tb.ch["heart_rate"], tb.dt)[0], 0)
    if w.power.filled is not None:
        s.power = _values(ep.mean(np.where(tb.dt > 0, w.power.filled, np.nan), tb.dt)[0], 0)
    if tb.ch["speed"] is not None:  # m/s -> km/h, what athletes read
        s.speed_kmh = _values(ep.mean(tb.ch["speed"], tb.dt)[0] * 3.6, 1)
    if tb.ch["temperature"] is not None:  # the device's sensor, as recorded (not necessarily the air)
        s.temperature_c = _values(ep.mean(tb.ch["temperature"], tb.dt)[0], 1)
    band = _sweat_band(w, ep.end_s)
    if band is not None:
        s.fluid_l, s.fluid_l_low, s.fluid_l_high = (_values(x, 3) for x in band)
    return out
