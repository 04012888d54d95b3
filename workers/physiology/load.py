"""Heart-rate training load: Banister, Edwards and Lucia TRIMP, HRSS and HR intensity (science.md §2.1–2.4).

Inputs are per-record arrays: heart rate (bpm, NaN = missing) and the recorded seconds each record covers
(`timebase.interval_durations`). Every sum is per record, never on an averaged heart rate, because the
Banister weighting is convex (averaging first underestimates variable sessions).
"""

from __future__ import annotations

import numpy as np

# Banister constants (Morton, Fitz-Clarke & Banister 1990): weighting y = a·exp(b·x)
BANISTER_CONSTANTS: dict[str, tuple[float, float]] = {"m": (0.64, 1.92), "f": (0.86, 1.67)}
LTHR_DEFAULT_FRACTION = 0.85  # default LTHR = HRrest + 0.85·(HRmax − HRrest) [Elevate]
LUCIA_VT1_FRACTION = 0.9  # VT1 ≈ 0.9·LTHR, VT2 ≈ LTHR: heuristic when no lab thresholds exist
MIN_VALID_HR = 30.0  # bpm; lower values are strap drop-outs, treated as missing


def clean_hr(hr: np.ndarray) -> np.ndarray:
    """Heart rate with drop-outs (≤ 30 bpm, non-finite) as NaN."""
    hr = np.asarray(hr, dtype=float).copy()
    hr[~(hr > MIN_VALID_HR)] = np.nan
    return hr


def hr_reserve_fraction(hr: np.ndarray | float, hr_rest: float, hr_max: float) -> np.ndarray:
    """x = (HR − HRrest)/(HRmax − HRrest), clamped to [0, 1]."""
    return np.clip((np.asarray(hr, dtype=float) - hr_rest) / (hr_max - hr_rest), 0.0, 1.0)


def banister_weighting(x: np.ndarray | float, sex: str | None) -> np.ndarray:
    """a·exp(b·x) for 'm' or 'f'; for unknown sex the mean of the two curves (documented choice)."""
    x = np.asarray(x, dtype=float)
    if sex in BANISTER_CONSTANTS:
        a, b = BANISTER_CONSTANTS[sex]
        return a * np.exp(b * x)
    (am, bm), (af, bf) = BANISTER_CONSTANTS["m"], BANISTER_CONSTANTS["f"]
    return 0.5 * (am * np.exp(bm * x) + af * np.exp(bf * x))


def banister_trimp(
    hr: np.ndarray, dt_s: np.ndarray, hr_rest: float, hr_max: float, sex: str | None
) -> float | None:
    """Σ Δt[min]·x·a·exp(b·x) over records with a heart rate; None when there is none."""
    hr = np.asarray(hr, dtype=float)
    ok = np.isfinite(hr) & (dt_s > 0)
    if not ok.any() or hr_max <= hr_rest:
        return None
    x = hr_reserve_fraction(hr[ok], hr_rest, hr_max)
    return float(np.sum(dt_s[ok] / 60.0 * x * banister_weighting(x, sex)))


def banister_trimp_hour_at(hr_bpm: float, hr_rest: float, hr_max: float, sex: str | None) -> float:
    """TRIMP of 60 minutes at a constant heart rate."""
    x = float(hr_reserve_fraction(hr_bpm, hr_rest, hr_max))
    return float(60.0 * x * banister_weighting(x, sex))


def default_lthr(hr_rest: float, hr_max: float) -> float:
    """Assumed LTHR = HRrest + 0.85·(HRmax − HRrest) [S: Elevate maintainer]."""
    return hr_rest + LTHR_DEFAULT_FRACTION * (hr_max - hr_rest)


def hrss(trimp: float | None, lthr: float, hr_rest: float, hr_max: float, sex: str | None) -> float | None:
    """HRSS = 100·TRIMP / TRIMP(60 min at LTHR): one hour at LTHR scores 100."""
    if trimp is None:
        return None
    ref = banister_trimp_hour_at(lthr, hr_rest, hr_max, sex)
    if ref <= 0:
        return None
    return 100.0 * trimp / ref


def edwards_zone(hr: np.ndarray, hr_max: float) -> np.ndarray:
    """Edwards zone 0–5: 50–60 %HRmax → 1 … ≥90 % → 5, lower bounds inclusive, below 50 % → 0.

    Computed as Σ_k [10·HR ≥ (4+k)·HRmax], which is exact for integer bpm (no float rounding at 60 %).
    """
    hr10 = 10.0 * np.asarray(hr, dtype=float)
    bounds = np.arange(5, 10, dtype=float) * hr_max  # 50 %, 60 %, ... 90 % (times 10)
    return np.sum(hr10[..., None] >= bounds, axis=-1)


def edwards_trimp(hr: np.ndarray, dt_s: np.ndarray, hr_max: float) -> float | None:
    """Σ minutes_in_zone_k · k (Edwards 1993). Weights are arbitrary (no physiological validation)."""
    hr = np.asarray(hr, dtype=float)
    ok = np.isfinite(hr) & (dt_s > 0)
    if not ok.any() or hr_max <= 0:
        return None
    return float(np.sum(dt_s[ok] / 60.0 * edwards_zone(hr[ok], hr_max)))


def lucia_zone(hr: np.ndarray, lthr: float) -> np.ndarray:
    """1 below VT1 (≈0.9·LTHR), 2 from VT1 to below VT2 (≈LTHR), 3 at or above VT2 (heuristic thresholds)."""
    hr = np.asarray(hr, dtype=float)
    return 1 + (hr >= LUCIA_VT1_FRACTION * lthr).astype(int) + (hr >= lthr).astype(int)


def lucia_trimp(hr: np.ndarray, dt_s: np.ndarray, lthr: float | None) -> float | None:
    """Σ minutes_in_zone · (1|2|3) (Lucia 2003); None without an LTHR the athlete or device supplied."""
    if lthr is None or lthr <= 0:
        return None
    hr = np.asarray(hr, dtype=float)
    ok = np.isfinite(hr) & (dt_s > 0)
    if not ok.any():
        return None
    return float(np.sum(dt_s[ok] / 60.0 * lucia_zone(hr[ok], lthr)))


def hr_intensity(avg_hr: float | None, hr_rest: float, lthr: float) -> float | None:
    """HRR_avg / HRR_LTHR = (HRavg − HRrest)/(LTHR − HRrest), HRR_avg clamped at 0 (science.md §4.2)."""
    if avg_hr is None or lthr <= hr_rest:
        return None
    return max(0.0, avg_hr - hr_rest) / (lthr - hr_rest)
