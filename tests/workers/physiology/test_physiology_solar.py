"""The solar mirrors (science.md §10.2) agree with the libraries they mirror: astral's sun elevation with
pvlib's SPA, the simplified Solis formulas with pvlib's, and the SolarCal ERF with pythermalcomfort's
`solar_gain`. pvlib is imported here only, never by the worker; solar.py does not import pythermalcomfort."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from workers.physiology import solar

pvlib = pytest.importorskip("pvlib")
pd = pytest.importorskip("pandas")


def _random_places_and_times(n: int) -> list[tuple[float, float, datetime]]:
    rng = np.random.default_rng(14)
    start = datetime(2015, 1, 1, tzinfo=UTC)
    return [
        (
            float(rng.uniform(-65, 65)),
            float(rng.uniform(-180, 180)),
            start + timedelta(seconds=float(rng.uniform(0, 12 * 365 * 86400))),
        )
        for _ in range(n)
    ]


def test_it_matches_pvlibs_apparent_sun_elevation_within_a_tenth_of_a_degree_in_daylight():
    worst = 0.0
    for lat, lon, t in _random_places_and_times(400):
        ours = float(solar.sun_elevation_deg([t], lat, lon)[0])
        spa = pvlib.solarposition.get_solarposition(pd.DatetimeIndex([t]), lat, lon)
        theirs = float(spa["apparent_elevation"].iloc[0])
        if theirs > 0:
            worst = max(worst, abs(ours - theirs))
    assert worst < 0.1


def test_it_matches_pvlibs_simplified_solis_clear_sky_irradiance():
    elevation = np.array([-10.0, 0.0, 0.5, 3.0, 10.0, 25.0, 45.0, 62.0, 90.0])
    ghi, dni = solar.clear_sky_irradiance(elevation)
    sky = pvlib.clearsky.simplified_solis(np.maximum(elevation, 0.0))
    up = elevation > 0
    assert ghi[up] == pytest.approx(np.asarray(sky["ghi"])[up], rel=1e-9)
    assert dni[up] == pytest.approx(np.asarray(sky["dni"])[up], rel=1e-9)
    assert (ghi[~up] == 0).all() and (dni[~up] == 0).all()


@pytest.mark.parametrize("posture", ["standing", "sitting"])
def test_it_matches_pythermalcomforts_solarcal_erf_over_elevations_angles_and_beams(posture):
    from pythermalcomfort.models import solar_gain

    elevation = np.array([0.0, 1.0, 7.5, 15.0, 22.0, 37.0, 45.0, 58.0, 75.0, 83.0, 90.0])
    for sharp in (0.0, 10.0, 45.0, 90.0, 112.5, 135.0, 165.0, 180.0):
        for dni, albedo in ((150.0, 0.2), (600.0, 0.2), (932.0, 0.6)):
            ours = solar.solarcal_erf(elevation, sharp, np.full_like(elevation, dni), posture, albedo)
            theirs = solar_gain(
                sol_altitude=elevation,
                sharp=np.full_like(elevation, sharp),
                sol_radiation_dir=dni,
                sol_transmittance=1.0,
                f_svv=1.0,
                f_bes=1.0,
                asw=solar.SHORTWAVE_ABSORPTIVITY,
                posture=posture,
                floor_reflectance=albedo,
                round_output=False,
            ).erf
            assert ours == pytest.approx(np.asarray(theirs), rel=1e-9)


def test_the_worker_imports_neither_pandas_pvlib_nor_numba():
    # numba comes with pythermalcomfort.models, which clothing.py imports only for a session below 8 °C
    code = (
        "import sys, workers.pipeline, workers.physiology.solar; "
        "print(sorted(m for m in ('pandas', 'pvlib', 'numba') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
