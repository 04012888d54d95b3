"""Step `quality`: data that cannot be right (science.md §10.6) — spikes dropped (counted by `time`), a stale
FTP, a heart rate flat for over an hour, a recording over 24 h. Figures stay; alerts give no volumes for an
implausible recording and no risk points from a stale-FTP or flat-heart-rate intensity."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.result import DataQuality
from workers.physiology import quality as q
from workers.physiology.steps.work import StepOut, Work

NEEDS = ("time", "power")


@dataclass
class QualityOut(StepOut):
    data_quality: DataQuality = field(default_factory=DataQuality)


def _flat_hr_s(w: Work) -> float:
    hr, ep = w.time.ch["heart_rate"], w.time.epochs
    if hr is None or ep is None or ep.n == 0:
        return 0.0
    finite = np.isfinite(hr) & (w.time.dt > 0)
    lo = np.full(ep.n, np.inf)
    hi = np.full(ep.n, -np.inf)
    np.minimum.at(lo, ep.index[finite], hr[finite])
    np.maximum.at(hi, ep.index[finite], hr[finite])
    lo[~np.isfinite(lo)] = np.nan
    hi[~np.isfinite(hi)] = np.nan
    return q.longest_flat_hr_s(lo, hi, ep.lengths_s)


def run(w: Work) -> QualityOut:
    tb, power = w.time, w.power.power
    dq = DataQuality(power_spikes_dropped=tb.power_spikes)
    out = QualityOut(data_quality=dq)
    if tb.power_spikes:
        dq.reasons.append(
            f"{tb.power_spikes} power sample(s) above 2,000 W or 3× the session's 99th percentile were "
            "dropped "
            "as sensor spikes."
        )
    if q.ftp_looks_stale(power.if_, tb.moving_time_s):
        dq.ftp_stale = True
        dq.reasons.append(
            f"The intensity factor is {power.if_:.2f} over {tb.moving_time_s / 3600:.1f} h of riding; above "
            "1.15 for over an hour usually means the FTP in your profile is out of date."
        )
    flat_s = _flat_hr_s(w)
    if flat_s > q.FLAT_HR_MIN_S:
        dq.implausible = dq.hr_flat = True
        dq.reasons.append(
            f"The heart rate stays within ±2 bpm for {flat_s / 3600:.1f} h: the sensor was probably not "
            "reading a heart."
        )
    if tb.duration_s > q.MAX_SESSION_S:
        dq.implausible = True
        dq.reasons.append(
            f"The recording lasts {tb.duration_s / 3600:.1f} h, over 24 h: it probably joins several "
            "activities or was never stopped."
        )
    return out
