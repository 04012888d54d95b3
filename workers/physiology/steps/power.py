"""Step `power`: normalized power, intensity factor, stress score, work (science.md §2.5), with the FTP that
fits the sport: running power is never divided by a cycling FTP (§10.6)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.result import Power
from workers.physiology import power as pw
from workers.physiology.report import missing, rnd
from workers.physiology.steps.work import StepOut, Work
from workers.physiology.timebase import ffill_limited, resample_1hz

NEEDS = ("time", "inputs")
POWER_HOLD_S = 5.0  # a power drop-out shorter than this holds the last value; longer ones count as 0 W
FOOT_SPORTS = frozenset({"running", "walking", "hiking", "trail_running"})
RUNNING_FTP_GAP = (
    "running power is not compared with a cycling FTP; add your running FTP or critical power "
    "(profile: running_ftp_w) — heart-rate intensity is used meanwhile"
)


@dataclass
class PowerOut(StepOut):
    power: Power = field(default_factory=Power)
    filled: np.ndarray | None = None  # W per record, short drop-outs held, the rest 0 W


def _ftp(w: Work) -> tuple[float | None, str | None, str]:
    """(FTP, its source, the reason when there is none)."""
    if w.time.sport in FOOT_SPORTS:
        ftp = w.given.athlete.running_ftp_w
        return (ftp, "profile_running", "") if ftp else (None, None, RUNNING_FTP_GAP)
    ftp = w.inputs.resolved.ftp_w.value
    return (ftp, "cycling", "") if ftp else (None, None, "needs your FTP (profile: ftp_w)")


def run(w: Work) -> PowerOut:
    tb = w.time
    power = tb.ch["power"]
    out = PowerOut()
    if power is None:
        out.gaps.append(missing("power", tb.power_gap))
        return out
    filled = np.nan_to_num(ffill_limited(power, tb.t, POWER_HOLD_S), nan=0.0)
    p1 = resample_1hz(filled, tb.dt)
    np_w = pw.normalized_power(p1)
    work = pw.work_kj(filled, tb.dt)
    out.filled = filled
    out.power = Power(
        avg_w=rnd(work * 1000.0 / tb.recorded_s, 0) if tb.recorded_s > 0 else None,
        work_kj=rnd(work, 1),
        np_w=rnd(np_w, 0),
    )
    ftp, source, why_not = _ftp(w)
    if np_w is None:
        out.gaps.append(missing("power.np_w", "less than 30 s of power data"))
    elif ftp is None:
        out.gaps += [missing("power.if", why_not), missing("power.tss", why_not)]
    else:
        out.power.if_ = rnd(pw.intensity_factor(np_w, ftp), 3)
        out.power.tss = rnd(pw.training_stress_score(float(p1.size), np_w, ftp), 1)
        out.power.ftp_source = source
    return out
