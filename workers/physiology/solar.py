"""Solar load outdoors (science.md §10.2): sun elevation, irradiance, and the body's absorbed short-wave load.

- Sun position: pvlib's SPA (`get_solarposition`, apparent elevation) at the first GPS fix.
- Clear-sky irradiance: pvlib's simplified Solis model (Ineichen needs a Linke-turbidity table file; Solis
  runs on its documented defaults, aerosol optical depth 0.1 and 1 cm precipitable water).
- Clouds: without an observation a cloud factor of 0.5 is assumed (labelled). With a cloud cover the factor is
  Kasten & Czeplak 1980's `1 − 0.75·(N)^3.4`; with a measured global irradiance it is the measured ÷ clear-sky
  ratio. The factor scales the direct beam SolarCal takes (its diffuse part is 0.2 × the beam).
- Absorbed load: SolarCal (ASHRAE 55 Appendix C) as coded in pythermalcomfort `solar_gain`, giving the
  effective radiant field ERF (W/m² of body surface). It is averaged over the sun's horizontal angle to the
  athlete (the heading changes along a route), with ground albedo 0.2 instead of the indoor floor's 0.6.
  ΔMRT is ERF / hr with this model's linearised hr = 4.7 W/m²K, so that the flux added to the heat balance
  equals SolarCal's ERF (pythermalcomfort divides by 6.012·0.725 = 4.36 for its own ΔMRT).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from workers.physiology.heat import H_RAD

ASSUMED_CLOUD_FACTOR = 0.5  # §10.2: no weather observation
GROUND_ALBEDO = 0.2  # grass/asphalt 0.1–0.25; SolarCal's default 0.6 is an indoor floor
SHORTWAVE_ABSORPTIVITY = 0.7  # SolarCal default (skin and clothing 0.57–0.84, Blum 1945)
SHARP_ANGLES = (0.0, 45.0, 90.0, 135.0, 180.0)  # sun's horizontal angle to the athlete, averaged
SHARP_WEIGHTS = (1.0, 2.0, 2.0, 2.0, 1.0)  # uniform headings: both sides of the body count for 45–135°
MAX_SOLCAL_ELEVATION = 90.0


def sun_elevation_deg(times_utc: list[datetime], lat: float, lon: float) -> np.ndarray:
    """Apparent sun elevation (degrees above the horizon) at each time, pvlib SPA."""
    import pandas as pd
    import pvlib

    index = pd.DatetimeIndex([pd.Timestamp(t) for t in times_utc])
    index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    position = pvlib.solarposition.get_solarposition(index, lat, lon)
    return np.asarray(position["apparent_elevation"], dtype=float)


def clear_sky_irradiance(elevation_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(global horizontal, direct normal) clear-sky irradiance in W/m², 0 below the horizon (Solis)."""
    import pvlib

    elev = np.asarray(elevation_deg, dtype=float)
    sky = pvlib.clearsky.simplified_solis(np.maximum(elev, 0.0))
    up = elev > 0
    ghi = np.where(up, np.nan_to_num(np.asarray(sky["ghi"], dtype=float)), 0.0)
    dni = np.where(up, np.nan_to_num(np.asarray(sky["dni"], dtype=float)), 0.0)
    return ghi, dni


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


def effective_radiant_field(elevation_deg: np.ndarray, dni_w_m2: np.ndarray, posture: str) -> np.ndarray:
    """SolarCal ERF (W/m²) per time, averaged over the sun's horizontal angle; 0 with the sun down."""
    from pythermalcomfort.models import solar_gain

    elev = np.clip(np.asarray(elevation_deg, dtype=float), 0.0, MAX_SOLCAL_ELEVATION)
    dni = np.asarray(dni_w_m2, dtype=float)
    total = np.zeros_like(elev)
    for sharp, weight in zip(SHARP_ANGLES, SHARP_WEIGHTS, strict=True):
        gain = solar_gain(
            sol_altitude=elev,
            sharp=np.full_like(elev, sharp),
            sol_radiation_dir=dni,
            sol_transmittance=1.0,
            f_svv=1.0,
            f_bes=1.0,
            asw=SHORTWAVE_ABSORPTIVITY,
            posture=posture,
            floor_reflectance=GROUND_ALBEDO,
            round_output=False,
        )
        total += weight * np.nan_to_num(np.asarray(gain.erf, dtype=float))
    erf = total / sum(SHARP_WEIGHTS)
    return np.where((np.asarray(elevation_deg) > 0) & (dni > 0), erf, 0.0)


def delta_mrt_c(erf_w_m2: np.ndarray) -> np.ndarray:
    """ΔMRT = ERF / hr (this model's hr = 4.7 W/m²K): tr = ta + ΔMRT."""
    return np.asarray(erf_w_m2, dtype=float) / H_RAD
