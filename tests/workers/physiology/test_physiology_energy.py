"""Energy expenditure: ACSM, Minetti, Keytel, gross efficiency, grade (science.md §2.6)."""

import numpy as np
import pytest

from workers.physiology import energy as en


def test_it_computes_acsm_running_vo2_and_watts_for_12_kmh():
    # S = 200 m/min: VO2 = 0.2·200 + 3.5 = 43.5 ml/kg/min; M = 43.5·70/1000·20.92/60·1000 = 1061.69 W [ACSM]
    assert en.acsm_running_vo2(200.0, 0.0) == pytest.approx(43.5)
    assert en.vo2_to_watts(43.5, 70.0) == pytest.approx(1061.69, abs=0.01)


def test_it_computes_acsm_walking_vo2_on_a_slope():
    # 5 km/h = 83.33 m/min at 5 %: 0.1·83.33 + 1.8·83.33·0.05 + 3.5 = 19.33 ml/kg/min
    assert en.acsm_walking_vo2(5000 / 60, 0.05) == pytest.approx(19.333, abs=0.001)


def test_it_computes_acsm_leg_ergometry():
    # 150 W ≈ 918 kgm/min, 70 kg: 1.8·918/70 + 7 = 30.61 ml/kg/min
    assert en.acsm_leg_ergometry_vo2(918.0, 70.0) == pytest.approx(30.606, abs=0.001)


def test_it_reproduces_minetti_cost_of_running_polynomial():
    # Minetti 2002 polynomial: 3.6 J/kg/m level (measured 3.40), 19.43 at +0.45 (measured 18.93),
    # 1.80 at −0.20 (measured minimum 1.73)
    cr = en.minetti_cr(np.array([0.0, 0.45, -0.20]))
    assert cr == pytest.approx([3.6, 19.426, 1.800], abs=0.001)
    assert abs(cr[1] - 18.93) < 0.6 and abs(cr[2] - 1.73) < 0.1
    grid = np.linspace(-0.45, 0.45, 901)
    assert -0.25 <= grid[np.argmin(en.minetti_cr(grid))] <= -0.15


def test_it_clips_minetti_grades_to_the_measured_range():
    assert en.minetti_cr(0.6) == pytest.approx(en.minetti_cr(0.45))


def test_it_adds_resting_metabolism_to_minetti_net_cost():
    # 3.6 J/kg/m · 3 m/s · 70 kg + 1.2 W/kg · 70 kg = 756 + 84 = 840 W
    assert en.minetti_power_w(3.0, 0.0, 70.0) == pytest.approx(840.0)


def test_it_uses_acsm_on_the_level_and_minetti_downhill_or_steep():
    v = np.full(4, 200 / 60)
    g = np.array([0.0, 0.05, -0.08, 0.2])
    p = en.foot_metabolic_power_w(v, g, 70.0, walking_sport=False)
    assert p[0] == pytest.approx(1061.69, abs=0.01)  # ACSM level
    assert p[1] == pytest.approx(en.vo2_to_watts(en.acsm_running_vo2(200, 0.05), 70.0))  # ACSM uphill
    assert p[2] == pytest.approx(en.minetti_power_w(200 / 60, -0.08, 70.0))  # downhill → Minetti
    assert p[3] == pytest.approx(en.minetti_power_w(200 / 60, 0.2, 70.0))  # steep → Minetti


def test_it_counts_small_downhill_as_level_for_running():
    v = np.full(2, 200 / 60)
    p = en.foot_metabolic_power_w(v, np.array([0.0, -0.015]), 70.0, walking_sport=False)
    assert p[1] == pytest.approx(p[0])


def test_it_picks_walking_or_running_equation_by_speed_and_sport():
    # 6 km/h = 100 m/min: walking for a hike, running for a run; 9 km/h (150 m/min) is running for both
    slow, fast = np.array([100 / 60]), np.array([150 / 60])
    zero = np.zeros(1)
    assert en.foot_metabolic_power_w(slow, zero, 70.0, True)[0] == pytest.approx(en.vo2_to_watts(13.5, 70.0))
    assert en.foot_metabolic_power_w(slow, zero, 70.0, False)[0] == pytest.approx(en.vo2_to_watts(23.5, 70.0))
    assert en.foot_metabolic_power_w(fast, zero, 70.0, True)[0] == pytest.approx(en.vo2_to_watts(33.5, 70.0))


def test_it_uses_resting_metabolism_when_stopped_or_speed_is_unknown():
    p = en.foot_metabolic_power_w(np.array([0.2, np.nan]), np.zeros(2), 70.0, False)
    assert p == pytest.approx([en.resting_power_w(70.0)] * 2)
    # 1 MET = 3.5 ml/kg/min = 1.2204 W/kg
    assert en.resting_power_w(70.0) == pytest.approx(85.43, abs=0.01)


def test_it_computes_keytel_for_men():
    # Keytel 2005 male: −55.0969 + 0.6309·150 + 0.1988·70 + 0.2017·35 = 60.514 kJ/min (14.46 kcal/min)
    assert en.keytel_kj_per_min(150, 70, 35, "m") == pytest.approx(60.5136, abs=1e-4)


def test_it_uses_the_negative_weight_term_for_women():
    # female: −20.4022 + 0.4472·150 − 0.1263·70 + 0.0740·35 = 40.427 kJ/min
    assert en.keytel_kj_per_min(150, 70, 35, "f") == pytest.approx(40.4268, abs=1e-4)
    # heavier women: lower predicted EE (−0.1263 kJ/min per kg)
    diff = en.keytel_kj_per_min(150, 80, 35, "f") - en.keytel_kj_per_min(150, 70, 35, "f")
    assert diff == pytest.approx(-1.263, abs=1e-6)


def test_it_computes_keytel_with_vo2max():
    # male: −59.3954 + (−36.3781 + 0.271·35 + 0.394·70 + 0.404·50 + 0.634·150) = 56.5915 kJ/min
    assert en.keytel_kj_per_min(150, 70, 35, "m", vo2max=50) == pytest.approx(56.5915, abs=1e-4)
    # female: −59.3954 + 0.274·30 + 0.103·60 + 0.380·45 + 0.450·150 = 39.6046 kJ/min
    assert en.keytel_kj_per_min(150, 60, 30, "f", vo2max=45) == pytest.approx(39.6046, abs=1e-4)


def test_it_averages_keytel_equations_when_sex_is_unknown():
    assert en.keytel_kj_per_min(150, 70, 35, None) == pytest.approx((60.5136 + 40.4268) / 2, abs=1e-4)


def test_it_does_not_apply_keytel_below_60_percent_of_hrmax_and_floors_at_rest():
    rest = en.resting_power_w(70.0)
    hr = np.array([50.0, 60.0, 113.9, 114.0, 150.0])  # HRmax 190 → 0.6·HRmax = 114
    p = en.keytel_power_w(hr, 70.0, 35.0, "m", hr_max=190.0, hr_rest=60.0)
    assert p[0] == pytest.approx(rest) and p[1] == pytest.approx(rest)
    keytel_114 = en.keytel_kj_per_min(114.0, 70.0, 35.0, "m") * 1000 / 60
    assert p[3] == pytest.approx(keytel_114)
    assert p[2] == pytest.approx(keytel_114, rel=0.01)  # blend is continuous at 0.6·HRmax
    assert p[4] == pytest.approx(60.5136 * 1000 / 60)
    assert (p >= rest).all()


def test_it_floors_keytel_at_resting_ee_where_the_raw_equation_falls_below_it():
    # female, 120 kg, 20 y at 75 bpm (HRmax 120 → 0.6·HRmax = 72): raw Keytel
    # −20.4022 + 0.4472·75 − 0.1263·120 + 0.0740·20 = −0.5382 kJ/min (negative!) → resting EE
    assert en.keytel_kj_per_min(75.0, 120.0, 20.0, "f") == pytest.approx(-0.5382, abs=1e-4)
    p = en.keytel_power_w(np.array([75.0]), 120.0, 20.0, "f", hr_max=120.0, hr_rest=50.0)
    assert p[0] == pytest.approx(en.resting_power_w(120.0))


def test_it_computes_grade_from_smoothed_altitude():
    # 3 m/s up a steady 5 % slope with ±1 m altitude noise → ≈ 0.05
    rng = np.random.default_rng(1)
    t = np.arange(600.0)
    dist = 3.0 * t
    alt = 100 + 0.05 * dist + rng.normal(0, 1.0, t.size)
    g = en.smoothed_grade(t, alt, dist)
    assert np.median(g[30:-30]) == pytest.approx(0.05, abs=0.01)


def test_it_sets_grade_to_zero_when_not_moving():
    t = np.arange(100.0)
    g = en.smoothed_grade(t, np.linspace(0, 10, 100), np.zeros(100))
    assert (g == 0).all()
