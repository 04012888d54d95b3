"""Data that cannot be right (science.md §10.6): power spikes, a stale FTP, a flat heart rate, endless files.

Pure functions over numpy arrays; the data-quality step (steps/quality.py) turns them into the result's
`data_quality` section. Figures are still shown; alerts give no volumes for an implausible recording and no
risk points from an intensity computed with a stale FTP.
"""

from __future__ import annotations

import numpy as np

MAX_POWER_W = 2000.0  # no human sustains a recorded sample above this on a bike, run or rower
SPIKE_P99_FACTOR = 3.0  # ... nor 3× the session's own 99th percentile
STALE_IF = 1.15  # IF above this for over an hour: the FTP is out of date (an hour at FTP is IF 1.0)
STALE_MIN_S = 3600.0
FLAT_HR_BAND_BPM = 2.0  # ±2 bpm
FLAT_HR_MIN_S = 3600.0
MAX_SESSION_S = 24 * 3600.0


def power_spikes(power: np.ndarray) -> np.ndarray:
    """Mask of samples above 2000 W or above 3× the 99th percentile of the session's positive samples."""
    p = np.asarray(power, dtype=float)
    finite = np.isfinite(p)
    positive = p[finite & (p > 0)]
    limit = MAX_POWER_W
    if positive.size:
        limit = min(limit, SPIKE_P99_FACTOR * float(np.percentile(positive, 99)))
    return finite & (p > limit)


def ftp_looks_stale(intensity_factor: float | None, duration_s: float) -> bool:
    """IF > 1.15 sustained over more than an hour (§10.6)."""
    return intensity_factor is not None and intensity_factor > STALE_IF and duration_s > STALE_MIN_S


def longest_flat_hr_s(hr_min: np.ndarray, hr_max: np.ndarray, seconds: np.ndarray) -> float:
    """Longest run of consecutive epochs whose heart rate stays within ±2 bpm of one value (seconds).

    Takes per-epoch minimum and maximum heart rate (NaN for an epoch without data, which ends a run)."""
    best = run = 0.0
    lo, hi = np.inf, -np.inf
    for a, b, s in zip(hr_min.tolist(), hr_max.tolist(), seconds.tolist(), strict=True):
        if not (np.isfinite(a) and np.isfinite(b)):
            lo, hi, run = np.inf, -np.inf, 0.0
            continue
        lo, hi = min(lo, a), max(hi, b)
        if hi - lo > 2 * FLAT_HR_BAND_BPM:
            lo, hi, run = a, b, 0.0
            if hi - lo > 2 * FLAT_HR_BAND_BPM:
                lo, hi = np.inf, -np.inf
                continue
        run += s
        best = max(best, run)
    return best
