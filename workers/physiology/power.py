"""Power metrics: normalized power, intensity factor, training stress score, work (science.md §2.5).

"NP", "IF" and "TSS" are Peaksware trademarks; the UI shows neutral names. The JSON keys stay np/if/tss.
"""

from __future__ import annotations

import numpy as np

NP_WINDOW_S = 30


def normalized_power(power_1hz: np.ndarray) -> float | None:
    """4th root of the mean 4th power of the trailing 30-s mean (first 29 samples dropped).

    `power_1hz` is the 1 Hz series over recorded time (timebase.resample_1hz): auto-pause gaps are squeezed
    out, zeros while the timer runs are kept. None when shorter than one 30-s window.
    """
    p = np.asarray(power_1hz, dtype=float)
    if p.size < NP_WINDOW_S:
        return None
    c = np.r_[0.0, np.cumsum(p)]
    rolling = (c[NP_WINDOW_S:] - c[:-NP_WINDOW_S]) / NP_WINDOW_S  # trailing means ending at samples 29..n-1
    rolling = np.clip(rolling, 0.0, None)  # guard tiny negative round-off
    return float(np.mean(rolling**4) ** 0.25)


def intensity_factor(np_w: float | None, ftp_w: float | None) -> float | None:
    """IF = NP/FTP."""
    if np_w is None or not ftp_w:
        return None
    return np_w / ftp_w


def training_stress_score(duration_s: float, np_w: float | None, ftp_w: float | None) -> float | None:
    """TSS = t[s]·NP·IF/(FTP·3600)·100 = hours·IF²·100."""
    if_ = intensity_factor(np_w, ftp_w)
    if if_ is None or np_w is None or ftp_w is None:
        return None
    return duration_s * np_w * if_ / (ftp_w * 3600.0) * 100.0


def work_kj(power: np.ndarray, dt_s: np.ndarray) -> float:
    """Σ P·Δt / 1000 over recorded time (NaN samples contribute nothing)."""
    p = np.asarray(power, dtype=float)
    return float(np.sum(np.where(np.isfinite(p), p, 0.0) * dt_s) / 1000.0)
