"""Step `time`: channels, record intervals, pauses, stops and moving time (science.md §1, §2.5 pauses), and
the power spikes dropped before any model runs (§10.6)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workers.activity import Activity
from workers.physiology import load as ld
from workers.physiology.quality import power_spikes
from workers.physiology.report import num
from workers.physiology.steps.work import StepOut, Work
from workers.physiology.timebase import Epochs, interval_durations, stopped_mask

NEEDS: tuple[str, ...] = ()
MIN_PEDALLING_SHARE = 0.05  # power above 0 W in less of its sampled time: a meter sending nothing
CHANNEL_NAMES = (
    "heart_rate",
    "power",
    "speed",
    "altitude",
    "distance",
    "grade",
    "temperature",
    "core_temperature",
)


@dataclass
class TimeOut(StepOut):
    t: np.ndarray
    dt: np.ndarray
    moving: np.ndarray
    recorded_s: float
    moving_time_s: float
    duration_s: float
    epochs: Epochs | None
    ch: dict[str, np.ndarray | None]
    sport: str | None
    sub_sport: str | None
    distance_m: float | None
    power_spikes: int = 0
    power_gap: str = "no power data in this file"

    @property
    def hours(self) -> float:
        return self.duration_s / 3600.0

    @property
    def moving_hours(self) -> float:
        """Hours a rate is expressed over: moving time (the whole recording if nothing moved)."""
        return (self.moving_time_s if self.moving_time_s > 0 else self.duration_s) / 3600.0


def _channels(activity: Activity, n: int, warnings: list[str]) -> dict[str, np.ndarray | None]:
    out: dict[str, np.ndarray | None] = {}
    for name in CHANNEL_NAMES:
        arr = activity.channel(name)
        if arr is not None and np.asarray(arr).size != n:
            warnings.append(
                f"channel {name} has {np.asarray(arr).size} samples for {n} timestamps and was ignored"
            )
            arr = None
        out[name] = None if arr is None else np.asarray(arr, dtype=float)
    hr = out["heart_rate"]
    if hr is not None:
        hr = ld.clean_hr(hr)
        out["heart_rate"] = hr if np.isfinite(hr).any() else None
    for name in ("power", "speed"):
        x = out[name]
        if x is not None:
            out[name] = np.where(x >= 0, x, np.nan)
    return out


def _drop_spikes(ch: dict[str, np.ndarray | None], dt: np.ndarray, warnings: list[str]) -> tuple[int, str]:
    power = ch["power"]
    if power is None:
        return 0, "no power data in this file"
    spikes = power_spikes(power)
    count = int(spikes.sum())
    power = np.where(spikes, np.nan, power)
    sampled_s = float(dt[np.isfinite(power)].sum())
    pedalling_s = float(dt[np.nan_to_num(power, nan=0.0) > 0].sum())
    ch["power"] = power
    if sampled_s > 0 and pedalling_s < MIN_PEDALLING_SHARE * sampled_s:
        # e.g. a head unit writing 0 W all ride long without a paired meter: not a 0-kcal ride
        ch["power"] = None
        warnings.append("the power channel was ignored because it is (almost) all zeros")
        return count, "the power channel is (almost) all zeros: no power meter was sending data"
    return count, "no power data in this file"


def run(w: Work) -> TimeOut:
    activity = w.given.activity
    warnings: list[str] = list(activity.warnings)
    t = np.asarray(activity.t, dtype=float)
    ch = _channels(activity, t.size, warnings)
    dt = interval_durations(t, activity.pauses)
    moving = (dt > 0) & ~stopped_mask(t, dt, ch["speed"])
    spikes, power_gap = _drop_spikes(ch, dt, warnings)
    distance_m = num(w.summary.get("total_distance"))
    if distance_m is None and ch["distance"] is not None:
        distance_m = float(np.nanmax(ch["distance"]) - np.nanmin(ch["distance"]))
    if distance_m is None and ch["speed"] is not None:
        distance_m = float(np.nansum(ch["speed"] * dt))
    return TimeOut(
        t=t,
        dt=dt,
        moving=moving,
        recorded_s=float(dt.sum()),
        moving_time_s=float(dt[moving].sum()),
        duration_s=activity.duration_s,
        epochs=Epochs(t) if t.size > 1 else None,
        ch=ch,
        sport=(activity.sport or "").lower() or None,
        sub_sport=(activity.sub_sport or "").lower() or None,
        distance_m=distance_m,
        power_spikes=spikes,
        power_gap=power_gap,
        warnings=warnings,
    )
