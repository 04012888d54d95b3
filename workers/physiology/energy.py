"""Energy expenditure and metabolic heat production (science.md §2.6).

Source order: power ÷ gross efficiency → running/walking speed + grade (ACSM; Minetti for steep or downhill)
→ Keytel heart-rate equations → device calories. Every function returns watts (J/s) per record unless
stated; kcal = J / 4184.
"""

from __future__ import annotations

import numpy as np

from workers.physiology.timebase import interp_nan

GROSS_EFFICIENCY = 0.20  # Moseley & Jeukendrup 2001: GE 19.8 ± 0.6 %
ROWING_GROSS_EFFICIENCY = 0.175  # Fukunaga et al. 1986 Eur J Appl Physiol 55:471: GE ≈ 17.5 % (124–182 W)
KJ_PER_KCAL = 4.184
KJ_PER_LITRE_O2 = 20.92  # ≈ 5 kcal per litre O2 (ACSM)
RESTING_VO2_ML_KG_MIN = 3.5  # 1 MET
MINETTI_RESTING_W_KG = 1.2  # added to Minetti's net cost [M]
ACSM_RUN_MIN_M_MIN = 80.0  # running equation used from 80 m/min when the sport is running
ACSM_RUN_ALWAYS_M_MIN = 134.0  # ... and above 134 m/min whatever the sport
MINETTI_UPHILL = 0.10  # above +10 % grade: Minetti (ACSM is for treadmill-like grades)
RUN_DOWNHILL_DEADBAND = -0.02  # running: below −2 % use Minetti (ACSM is not for downhill); see docs
WALK_DOWNHILL_LIMIT = -0.10  # walking: ACSM (grade floored at 0) down to −10 %, Minetti below
MINETTI_RANGE = 0.45
GRADE_HALF_WINDOW_S = 10.0  # altitude smoothed over a centred 20-s window (science.md: 10–30 s)
GRADE_MIN_DISTANCE_M = 5.0
KEYTEL_MIN_HR_FRACTION = 0.6  # Keytel not applied below 0.6·HRmax


# --- general -------------------------------------------------------------------------------------------


def resting_power_w(mass_kg: float) -> float:
    """1 MET: 3.5 ml O2/kg/min × 20.92 J/ml ÷ 60 ≈ 1.22 W/kg."""
    return RESTING_VO2_ML_KG_MIN * mass_kg * KJ_PER_LITRE_O2 / 60.0


def vo2_to_watts(vo2_ml_kg_min: np.ndarray | float, mass_kg: float) -> np.ndarray:
    """M[W] = VO2·kg/1000 [L/min] × 20.92 kJ/L ÷ 60 × 1000."""
    return np.asarray(vo2_ml_kg_min, dtype=float) * mass_kg / 1000.0 * KJ_PER_LITRE_O2 / 60.0 * 1000.0


def kcal_from_joules(joules: float) -> float:
    return joules / (KJ_PER_KCAL * 1000.0)


# --- cycling (power) -----------------------------------------------------------------------------------


def cycling_metabolic_power_w(power_w: np.ndarray, ge: float = GROSS_EFFICIENCY) -> np.ndarray:
    """M = P/GE (gross); the heat left in the body is M − P = P·(1/GE − 1)."""
    return np.asarray(power_w, dtype=float) / ge


def cycling_kcal(work_kj: float, ge: float = GROSS_EFFICIENCY) -> float:
    """EE_kcal = Work_kJ/(4.184·GE). (The kJ≈kcal rule implies GE≈0.24 and underestimates by ~17 %.)"""
    return work_kj / (KJ_PER_KCAL * ge)


# --- running / walking (speed + grade) -----------------------------------------------------------------


def acsm_running_vo2(speed_m_min: np.ndarray | float, grade: np.ndarray | float) -> np.ndarray:
    """ACSM running: 0.2·S + 0.9·S·G + 3.5 ml/kg/min (S m/min, G fraction)."""
    s = np.asarray(speed_m_min, dtype=float)
    return 0.2 * s + 0.9 * s * np.asarray(grade, dtype=float) + 3.5


def acsm_walking_vo2(speed_m_min: np.ndarray | float, grade: np.ndarray | float) -> np.ndarray:
    """ACSM walking: 0.1·S + 1.8·S·G + 3.5 ml/kg/min."""
    s = np.asarray(speed_m_min, dtype=float)
    return 0.1 * s + 1.8 * s * np.asarray(grade, dtype=float) + 3.5


def acsm_leg_ergometry_vo2(work_rate_kgm_min: float, mass_kg: float) -> float:
    """ACSM leg ergometry: 1.8·WR/kg + 7 ml/kg/min (WR in kgm/min; 1 W ≈ 6.12 kgm/min)."""
    return 1.8 * work_rate_kgm_min / mass_kg + 7.0


def minetti_cr(grade: np.ndarray | float) -> np.ndarray:
    """Minetti 2002 cost of running, J/kg/m; grade clipped to its measured range ±0.45."""
    i = np.clip(np.asarray(grade, dtype=float), -MINETTI_RANGE, MINETTI_RANGE)
    return 155.4 * i**5 - 30.4 * i**4 - 43.3 * i**3 + 46.3 * i**2 + 19.5 * i + 3.6


def minetti_power_w(speed_ms: np.ndarray | float, grade: np.ndarray | float, mass_kg: float) -> np.ndarray:
    """Cr·v·kg (net) + 1.2 W/kg resting metabolism."""
    v = np.asarray(speed_ms, dtype=float)
    return minetti_cr(grade) * v * mass_kg + MINETTI_RESTING_W_KG * mass_kg


def foot_metabolic_power_w(
    speed_ms: np.ndarray, grade: np.ndarray, mass_kg: float, walking_sport: bool
) -> np.ndarray:
    """Per-record M (W) for running/walking from speed and grade.

    - equation: running above 134 m/min, walking below 80 m/min, in between by the sport;
    - running: ACSM for −2 % ≤ G ≤ +10 % (small downhill counted as level), Minetti otherwise;
    - walking: ACSM for −10 % ≤ G ≤ +10 % (downhill counted as level), Minetti beyond;
    - stopped (< 0.5 m/s) or unknown speed: resting metabolism.
    """
    v = np.asarray(speed_ms, dtype=float)
    g = np.nan_to_num(np.asarray(grade, dtype=float), nan=0.0)
    s = v * 60.0
    running_eq = (s > ACSM_RUN_ALWAYS_M_MIN) | ((s >= ACSM_RUN_MIN_M_MIN) & (not walking_sport))
    g_level = np.maximum(g, 0.0)
    vo2 = np.where(running_eq, acsm_running_vo2(s, g_level), acsm_walking_vo2(s, g_level))
    p_acsm = vo2_to_watts(vo2, mass_kg)
    downhill_limit = np.where(running_eq, RUN_DOWNHILL_DEADBAND, WALK_DOWNHILL_LIMIT)
    use_minetti = (g > MINETTI_UPHILL) | (g < downhill_limit)
    p = np.where(use_minetti, minetti_power_w(v, g, mass_kg), p_acsm)
    rest = resting_power_w(mass_kg)
    moving = np.isfinite(v) & (v >= 0.5)
    return np.where(moving, np.maximum(p, rest), rest)


def smoothed_grade(
    t: np.ndarray,
    altitude: np.ndarray,
    distance: np.ndarray,
    half_window_s: float = GRADE_HALF_WINDOW_S,
) -> np.ndarray:
    """Grade (fraction) from altitude smoothed by a centred time window, over the same window's distance.

    Works on irregular sampling through cumulative integrals. Grade is 0 where less than 5 m were covered
    and is clipped to ±0.45 (Minetti's measured range).
    """
    t = np.asarray(t, dtype=float)
    if t.size < 2:
        return np.zeros(t.size)
    alt = interp_nan(altitude, t)
    dist = interp_nan(distance, t)
    if not np.isfinite(alt).all() or not np.isfinite(dist).all():
        return np.zeros(t.size)
    area = np.r_[0.0, np.cumsum(0.5 * (alt[1:] + alt[:-1]) * np.diff(t))]
    lo = np.clip(t - half_window_s, t[0], t[-1])
    hi = np.clip(t + half_window_s, t[0], t[-1])
    width = hi - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        alt_s = np.where(width > 0, (np.interp(hi, t, area) - np.interp(lo, t, area)) / width, alt)
        dz = np.interp(hi, t, alt_s) - np.interp(lo, t, alt_s)
        dd = np.interp(hi, t, dist) - np.interp(lo, t, dist)
        grade = np.where(dd > GRADE_MIN_DISTANCE_M, dz / np.where(dd > 0, dd, 1.0), 0.0)
    return np.clip(grade, -MINETTI_RANGE, MINETTI_RANGE)


# --- heart rate (Keytel 2005) --------------------------------------------------------------------------


def _sex_g(sex: str | None) -> float:
    """g = 1 male, 0 female; 0.5 (mean of both equations) when unknown — a documented choice."""
    return {"m": 1.0, "f": 0.0}.get(sex or "", 0.5)


def keytel_kj_per_min(
    hr: np.ndarray | float,
    mass_kg: float,
    age: float,
    sex: str | None,
    vo2max: float | None = None,
) -> np.ndarray:
    """Keytel et al. 2005 EE in kJ/min (raw equation, no floor). Women's weight term is negative."""
    hr = np.asarray(hr, dtype=float)
    g = _sex_g(sex)
    if vo2max is None:
        male = -55.0969 + 0.6309 * hr + 0.1988 * mass_kg + 0.2017 * age
        female = -20.4022 + 0.4472 * hr - 0.1263 * mass_kg + 0.0740 * age
        return g * male + (1 - g) * female
    male = -36.3781 + 0.271 * age + 0.394 * mass_kg + 0.404 * vo2max + 0.634 * hr
    female = 0.274 * age + 0.103 * mass_kg + 0.380 * vo2max + 0.450 * hr
    return -59.3954 + g * male + (1 - g) * female


def keytel_power_w(
    hr: np.ndarray,
    mass_kg: float,
    age: float,
    sex: str | None,
    hr_max: float,
    hr_rest: float,
    vo2max: float | None = None,
) -> np.ndarray:
    """Per-record M (W) from heart rate.

    Keytel from 0.6·HRmax up, floored at resting EE; below 0.6·HRmax a linear blend in HR from resting EE at
    HRrest to the Keytel value at 0.6·HRmax (no discontinuity); missing HR → resting EE.
    """
    hr = np.asarray(hr, dtype=float)
    rest = resting_power_w(mass_kg)
    to_w = 1000.0 / 60.0
    k = keytel_kj_per_min(hr, mass_kg, age, sex, vo2max) * to_w
    h60 = KEYTEL_MIN_HR_FRACTION * hr_max
    k60 = max(float(keytel_kj_per_min(h60, mass_kg, age, sex, vo2max)) * to_w, rest)
    span = h60 - hr_rest
    frac = np.clip((hr - hr_rest) / span, 0.0, 1.0) if span > 0 else np.zeros_like(hr)
    blended = rest + (k60 - rest) * frac
    out = np.where(hr >= h60, np.maximum(k, rest), blended)
    return np.where(np.isfinite(hr), out, rest)
