"""Cross-check of the §3.3 heat-balance components against pythermalcomfort's ISO 7933 (PHS) implementation.

What is comparable:
- respiratory evaporation Eres: the same ISO formula, exactly (recovered from PHS after one minute as the
  accumulated evaporative load minus the predicted sweat rate, both W/m²);
- the conversion of evaporative load to grams (PHS: ×2.67·AD/1.8/60 per W·min/m²; ours: ×60·AD/2426);
- the steady-state required sweat rate in compensable conditions, *approximately*.

What is not: PHS predicts skin temperature (we fix 35 °C; for the comparison we feed it PHS's own final Tsk),
computes radiation with Stefan–Boltzmann through a clothing-surface temperature (we use hr = 4.7), applies
its dynamic insulation to the whole clothing ensemble and subtracts heat storage, and caps sweat at a worker
SWmax. So the steady-state rates agree only within ~15 %, and only where w < 1 and PHS's limits hold
(ISO 7933:2023: 15–50 °C, 0–3 m/s, Pa 0.5–4.5 kPa, 56–250 W/m², 0.1–1 clo).
"""

import numpy as np
import pytest

from workers.physiology import heat

phs_module = pytest.importorskip("pythermalcomfort.models")
utilities = pytest.importorskip("pythermalcomfort.utilities")
MET = utilities.met_to_w_m2  # 58.15 W/m² per met


@pytest.mark.parametrize(("tdb", "rh", "met"), [(25.0, 50.0, 3.0), (35.0, 40.0, 4.0), (30.0, 60.0, 2.0)])
def test_it_computes_respiratory_evaporation_exactly_like_iso_7933(tdb, rh, met):
    r = phs_module.phs(
        tdb=tdb,
        tr=tdb,
        v=1.0,
        rh=rh,
        met=met,
        clo=0.5,
        posture="standing",
        duration=1,
        round_output=False,
        walk_sp=1e-9,
    )
    eres_iso = float(r.evap_load_wm2_min - r.sweat_rate_watt)
    pa = rh / 100 * heat.psat_kpa(tdb)
    _, eres = heat.respiratory_heat(np.array([met * MET]), tdb, pa)
    assert eres[0] == pytest.approx(eres_iso, rel=1e-9)


def test_it_converts_evaporative_load_to_grams_like_iso_7933():
    r = phs_module.phs(
        tdb=30.0,
        tr=30.0,
        v=1.0,
        rh=50.0,
        met=3.0,
        clo=0.5,
        posture="standing",
        duration=1,
        round_output=False,
        walk_sp=1e-9,
    )
    bsa = heat.dubois_bsa(75.0, 1.8)  # PHS defaults: 75 kg, 1.8 m
    ours = heat.water_grams(np.array([float(r.evap_load_wm2_min)]), np.array([60.0]), bsa)[0]
    assert ours == pytest.approx(float(r.sweat_loss_g), rel=0.001)


@pytest.mark.parametrize(
    ("tdb", "rh", "v", "met", "clo"),
    [
        (30.0, 50.0, 1.0, 3.5, 0.5),
        (35.0, 40.0, 1.5, 3.0, 0.4),
        (28.0, 60.0, 2.0, 4.0, 0.5),
        (25.0, 50.0, 1.0, 4.0, 0.3),
    ],
)
def test_it_agrees_with_iso_7933_steady_state_sweat_within_15_percent(tdb, rh, v, met, clo):
    r = phs_module.phs(
        tdb=tdb,
        tr=tdb,
        v=v,
        rh=rh,
        met=met,
        clo=clo,
        posture="standing",
        duration=180,
        round_output=False,
        walk_sp=1e-9,
    )
    iso_sw = float(r.sweat_rate_watt)  # lagged predicted sweat rate after 3 h ≈ steady state, W/m²
    assert np.isfinite(iso_sw), "inputs must be inside ISO 7933's applicability limits"
    bsa = heat.dubois_bsa(75.0, 1.8)
    hb = heat.required_sweat(met * MET * bsa, 0.0, tdb, rh, v, bsa, clo=clo, tsk_c=float(r.t_sk))
    assert hb.w[0] < 1.0
    assert hb.swreq[0] == pytest.approx(iso_sw, rel=0.15)
