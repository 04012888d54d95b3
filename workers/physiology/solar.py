"""Solar load outdoors (science.md §10.2): sun elevation, irradiance, and the body's absorbed short-wave load.

- Sun position: astral (`astral.sun.elevation`, NOAA's solar equations with its refraction correction) at the
  first GPS fix; it agrees with pvlib's SPA apparent elevation within 0.02° above the horizon.
- Clear-sky irradiance: pvlib's simplified Solis model (Ineichen 2008, Solar Energy 82:758), mirrored from
  pvlib 0.16 `clearsky.simplified_solis` on its documented defaults: aerosol optical depth 0.1, 1 cm
  precipitable water, sea-level pressure (Ineichen needs a Linke-turbidity table file).
- Clouds: without an observation a cloud factor of 0.5 is assumed (labelled). With a cloud cover the factor is
  Kasten & Czeplak 1980's `1 − 0.75·(N)^3.4`; with a measured global irradiance it is the measured ÷ clear-sky
  ratio. The factor scales the direct beam SolarCal takes (its diffuse part is 0.2 × the beam).
- Absorbed load: SolarCal (ASHRAE 55 Appendix C) mirrored from pythermalcomfort 4.8 `models/solar_gain.py`
  (same projected-area-factor tables, bilinear interpolation, f_eff 0.725 standing / 0.696 sitting), giving
  the effective radiant field ERF (W/m² of body surface). It is averaged over the sun's horizontal angle to
  the athlete (the heading changes along a route), with ground albedo 0.2 instead of the indoor floor's 0.6.
  ΔMRT is ERF / hr with this model's linearised hr = 4.7 W/m²K, so that the flux added to the heat balance
  equals SolarCal's ERF (pythermalcomfort divides by 6.012·0.725 = 4.36 for its own ΔMRT).

Why mirrored, not called: pvlib imports pandas (~+100 MB RSS, ~3 s) and `pythermalcomfort.models` loads
numba-jitted models (~+170 MB, ~11 s); issue 14 wants worker peak < 150 MB. The mirrors are a few formulas,
cross-checked against both packages in tests/workers/physiology/test_physiology_solar.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from astral import Observer
from astral.sun import elevation as astral_elevation

from workers.physiology.heat import H_RAD

ASSUMED_CLOUD_FACTOR = 0.5  # §10.2: no weather observation
GROUND_ALBEDO = 0.2  # grass/asphalt 0.1–0.25; SolarCal's default 0.6 is an indoor floor
SHORTWAVE_ABSORPTIVITY = 0.7  # SolarCal default (skin and clothing 0.57–0.84, Blum 1945)
SHARP_ANGLES = (0.0, 45.0, 90.0, 135.0, 180.0)  # sun's horizontal angle to the athlete, averaged
SHARP_WEIGHTS = (1.0, 2.0, 2.0, 2.0, 1.0)  # uniform headings: both sides of the body count for 45–135°
MAX_SOLCAL_ELEVATION = 90.0

# Simplified Solis defaults (pvlib `simplified_solis`): dni_extra 1364 W/m², aod700 0.1, 1 cm water, 101325 Pa
SOLIS_DNI_EXTRA = 1364.0
SOLIS_AOD700 = 0.1
SOLIS_WATER_CM = 1.0
SOLIS_PRESSURE_PA = 101325.0

# SolarCal projected-area factor fp (ASHRAE 55 Appendix C; pythermalcomfort `_FP_TABLE_*`):
# rows = sun's horizontal angle to the body (SHARP, 0–180° by 15°), columns = elevation (0–90° by 15°).
_ALT_GRID = np.arange(0.0, 90.1, 15.0)
_SHARP_GRID = np.arange(0.0, 180.1, 15.0)
_FP_STANDING = np.array(
    [
        [0.35, 0.35, 0.314, 0.258, 0.206, 0.144, 0.082],
        [0.342, 0.342, 0.31, 0.252, 0.2, 0.14, 0.082],
        [0.33, 0.33, 0.3, 0.244, 0.19, 0.132, 0.082],
        [0.31, 0.31, 0.275, 0.228, 0.175, 0.124, 0.082],
        [0.283, 0.283, 0.251, 0.208, 0.16, 0.114, 0.082],
        [0.252, 0.252, 0.228, 0.188, 0.15, 0.108, 0.082],
        [0.23, 0.23, 0.214, 0.18, 0.148, 0.108, 0.082],
        [0.242, 0.242, 0.222, 0.18, 0.153, 0.112, 0.082],
        [0.274, 0.274, 0.245, 0.203, 0.165, 0.116, 0.082],
        [0.304, 0.304, 0.27, 0.22, 0.174, 0.121, 0.082],
        [0.328, 0.328, 0.29, 0.234, 0.183, 0.125, 0.082],
        [0.344, 0.344, 0.304, 0.244, 0.19, 0.128, 0.082],
        [0.347, 0.347, 0.308, 0.246, 0.191, 0.128, 0.082],
    ]
)
_FP_SITTING = np.array(
    [
        [0.29, 0.324, 0.305, 0.303, 0.262, 0.224, 0.177],
        [0.292, 0.328, 0.294, 0.288, 0.268, 0.227, 0.177],
        [0.288, 0.332, 0.298, 0.29, 0.264, 0.222, 0.177],
        [0.274, 0.326, 0.294, 0.289, 0.252, 0.214, 0.177],
        [0.254, 0.308, 0.28, 0.276, 0.241, 0.202, 0.177],
        [0.23, 0.282, 0.262, 0.26, 0.233, 0.193, 0.177],
        [0.216, 0.26, 0.248, 0.244, 0.22, 0.186, 0.177],
        [0.234, 0.258, 0.236, 0.227, 0.208, 0.18, 0.177],
        [0.262, 0.26, 0.224, 0.208, 0.196, 0.176, 0.177],
        [0.28, 0.26, 0.21, 0.192, 0.184, 0.17, 0.177],
        [0.298, 0.256, 0.194, 0.174, 0.168, 0.168, 0.177],
        [0.306, 0.25, 0.18, 0.156, 0.156, 0.166, 0.177],
        [0.3, 0.24, 0.168, 0.152, 0.152, 0.164, 0.177],
    ]
)
_FP_TABLES = {"standing": _FP_STANDING, "sitting": _FP_SITTING}
_F_EFF = {"standing": 0.725, "sitting": 0.696}  # body surface exposed to radiation (SolarCal)
_LW_ABSORPTIVITY = 0.95


def sun_elevation_deg(times_utc: list[datetime], lat: float, lon: float) -> np.ndarray:
    """Apparent sun elevation (degrees above the horizon, refraction included) at each time, astral."""
    observer = Observer(latitude=lat, longitude=lon)
    aware = (t if t.tzinfo else t.replace(tzinfo=UTC) for t in times_utc)
    return np.array([astral_elevation(observer, t.astimezone(UTC)) for t in aware], dtype=float)


def _solis_coefficients() -> tuple[float, float, float, float, float]:
    """(i0p, taub, b, taug, g) of the simplified Solis model, as pvlib's `_calc_*` helpers compute them."""
    w, aod, lp = max(SOLIS_WATER_CM, 0.2), SOLIS_AOD700, float(np.log(SOLIS_PRESSURE_PA / 101325.0))
    lw = float(np.log(w))
    i0p = SOLIS_DNI_EXTRA * (0.12 * w**0.56 * aod**2 + 0.97 * w**0.032 * aod + 1.08 * w**0.0051 + 0.071 * lp)
    taub = (1.82 + 0.056 * lw + 0.0071 * lw**2) * aod + 0.33 + 0.045 * lw + 0.0096 * lw**2
    taub += (0.0089 * w + 0.13) * lp
    b = (0.00925 * aod**2 + 0.0148 * aod - 0.0172) * lw - 0.7565 * aod**2 + 0.5057 * aod + 0.4557
    taug = (1.24 + 0.047 * lw + 0.0061 * lw**2) * aod + 0.27 + 0.043 * lw + 0.0090 * lw**2
    taug += (0.0079 * w + 0.1) * lp
    g = -0.0147 * lw - 0.3079 * aod**2 + 0.2846 * aod + 0.3798
    return i0p, taub, b, taug, g


def clear_sky_irradiance(elevation_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(global horizontal, direct normal) clear-sky irradiance in W/m², 0 below the horizon (Solis)."""
    elev = np.asarray(elevation_deg, dtype=float)
    i0p, taub, b, taug, g = _solis_coefficients()
    sin_elev = np.maximum(1e-30, np.sin(np.radians(np.maximum(elev, 0.0))))  # pvlib's night guard
    dni = i0p * np.exp(-taub / sin_elev**b)
    ghi = i0p * np.exp(-taug / sin_elev**g) * sin_elev
    up = elev > 0
    return np.where(up, ghi, 0.0), np.where(up, dni, 0.0)


def cloud_factor_from_cover(cloud_cover_pct: float) -> float:
    """Kasten & Czeplak 1980: global irradiance under N oktas/8 of cloud ≈ clear-sky·(1 − 0.75·N^3.4)."""
    n = min(max(cloud_cover_pct / 100.0, 0.0), 1.0)
    return 1.0 - 0.75 * n**3.4


def cloud_factor_from_shortwave(measured_ghi_w_m2: float, clear_ghi_w_m2: np.ndarray) -> float:
    """Measured ÷ clear-sky global irradiance over the daylight minutes, in [0, 1]."""
    day = np.asarray(clear_ghi_w_m2, dtype=float)
    day = day[day > 0]
    if day.size == 0:
        return 0.0
    return float(min(max(measured_ghi_w_m2 / float(day.mean()), 0.0), 1.0))


def projected_area_factor(elevation_deg: np.ndarray, sharp_deg: float, posture: str) -> np.ndarray:
    """SolarCal fp, bilinear in the posture's table (elevation 0–90°, SHARP 0–180°)."""
    table = _FP_TABLES[posture]
    alt = np.clip(np.asarray(elevation_deg, dtype=float), 0.0, 90.0)
    sharp = min(max(sharp_deg, 0.0), 180.0)
    i = np.clip(np.searchsorted(_ALT_GRID, alt) - 1, 0, _ALT_GRID.size - 2)
    j = int(np.clip(np.searchsorted(_SHARP_GRID, sharp) - 1, 0, _SHARP_GRID.size - 2))
    ta = (alt - _ALT_GRID[i]) / (_ALT_GRID[i + 1] - _ALT_GRID[i])
    ts = (sharp - _SHARP_GRID[j]) / (_SHARP_GRID[j + 1] - _SHARP_GRID[j])
    low = table[j, i] * (1 - ta) + table[j, i + 1] * ta
    high = table[j + 1, i] * (1 - ta) + table[j + 1, i + 1] * ta
    return np.asarray(low * (1 - ts) + high * ts, dtype=float)


def solarcal_erf(
    elevation_deg: np.ndarray, sharp_deg: float, dni_w_m2: np.ndarray, posture: str, albedo: float
) -> np.ndarray:
    """SolarCal ERF (W/m²) outdoors: full sky view and body exposure, no glazing (pythermalcomfort
    `solar_gain` with f_svv = f_bes = sol_transmittance = 1)."""
    alt = np.clip(np.asarray(elevation_deg, dtype=float), 0.0, 90.0)
    dni = np.asarray(dni_w_m2, dtype=float)
    f_eff = _F_EFF[posture]
    diffuse = 0.2 * dni
    e_diffuse = f_eff * 0.5 * diffuse
    e_direct = f_eff * projected_area_factor(alt, sharp_deg, posture) * dni
    e_reflected = f_eff * 0.5 * (dni * np.sin(np.radians(alt)) + diffuse) * albedo
    return np.asarray((e_diffuse + e_direct + e_reflected) * SHORTWAVE_ABSORPTIVITY / _LW_ABSORPTIVITY)


def effective_radiant_field(elevation_deg: np.ndarray, dni_w_m2: np.ndarray, posture: str) -> np.ndarray:
    """SolarCal ERF (W/m²) per time, averaged over the sun's horizontal angle; 0 with the sun down."""
    elev = np.clip(np.asarray(elevation_deg, dtype=float), 0.0, MAX_SOLCAL_ELEVATION)
    dni = np.asarray(dni_w_m2, dtype=float)
    total = np.zeros_like(elev)
    for sharp, weight in zip(SHARP_ANGLES, SHARP_WEIGHTS, strict=True):
        total += weight * solarcal_erf(elev, sharp, dni, posture, GROUND_ALBEDO)
    erf = total / sum(SHARP_WEIGHTS)
    return np.where((np.asarray(elevation_deg) > 0) & (dni > 0), erf, 0.0)


def delta_mrt_c(erf_w_m2: np.ndarray) -> np.ndarray:
    """ΔMRT = ERF / hr (this model's hr = 4.7 W/m²K): tr = ta + ΔMRT."""
    return np.asarray(erf_w_m2, dtype=float) / H_RAD
