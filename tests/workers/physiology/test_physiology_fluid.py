"""Measured sweat (§3.1), uncertainty ranges, sodium (§3.5) and personal calibration."""

import math

import pytest

from workers.physiology import calibration_factor
from workers.physiology import fluid as fl
from workers.physiology.inputs import WeighIn


def test_it_computes_measured_sweat_from_a_weigh_in():
    # Baker 2017: (70.0 − 68.8) + 0.75 − 0.2 = 1.75 L; %BML = 1.2/70·100 = 1.714 %
    w = WeighIn(pre_kg=70.0, post_kg=68.8, fluid_l=0.75, urine_l=0.2)
    assert fl.measured_sweat_l(w) == pytest.approx(1.75)
    assert fl.body_mass_change_pct(70.0, 68.8) == pytest.approx(1.7143, abs=1e-4)


def test_it_never_reports_negative_measured_sweat():
    assert fl.measured_sweat_l(WeighIn(pre_kg=70.0, post_kg=71.0, fluid_l=0.2)) == 0.0


def test_it_reports_a_mass_gain_as_a_negative_percentage():
    assert fl.body_mass_change_pct(70.0, 70.7) == pytest.approx(-1.0)


def test_it_gives_the_model_a_band_of_025_l_per_h_or_30_percent():
    # 1.38 L in 1 h: ±max(0.25, 0.414) = ±0.414 → 0.966–1.794
    assert fl.model_sweat_range_l(1.38, 1.0) == pytest.approx((0.966, 1.794))
    # 0.3 L in 2 h: ±max(0.5, 0.09) = ±0.5 → never below 0
    assert fl.model_sweat_range_l(0.3, 2.0) == pytest.approx((0.0, 0.8))


def test_it_gives_a_weigh_in_a_band_of_02_l():
    assert fl.measured_sweat_range_l(1.75) == pytest.approx((1.55, 1.95))
    assert fl.measured_sweat_range_l(0.1) == pytest.approx((0.0, 0.3))


def test_it_computes_sodium_with_the_default_40_mmol_per_l():
    # 1 L · 40 mmol/L · 22.99 mg/mmol = 919.6 mg
    assert fl.sodium_mg(1.0, fl.SODIUM_DEFAULT_MMOL_L) == pytest.approx(919.6)


def test_it_widens_the_sodium_range_by_50_percent_for_the_default_concentration():
    # sweat band 0.966–1.794 L × [Na] 20–60 mmol/L
    lo, hi = fl.sodium_range_mg(0.966, 1.794, 40.0, measured_concentration=False)
    assert lo == pytest.approx(0.966 * 20 * 22.99) and hi == pytest.approx(1.794 * 60 * 22.99)


def test_it_uses_only_the_sweat_band_for_a_measured_concentration():
    lo, hi = fl.sodium_range_mg(1.0, 2.0, 55.0, measured_concentration=True)
    assert lo == pytest.approx(55 * 22.99) and hi == pytest.approx(110 * 22.99)


def test_it_returns_factor_1_without_weigh_ins():
    assert calibration_factor([]) == (1.0, 0)


def test_it_shrinks_a_single_weigh_in_toward_1():
    # one pair measured/model = 2: exp(ln 2/(1 + 3)) = 2^¼ = 1.189
    factor, n = calibration_factor([(1.0, 2.0)])
    assert n == 1 and factor == pytest.approx(2**0.25)


def test_it_approaches_the_observed_ratio_with_many_weigh_ins():
    # nine pairs with ratio 1.5: exp(9·ln 1.5/12) = 1.5^0.75 = 1.355; thirty pairs: 1.5^(30/33) = 1.446
    assert calibration_factor([(1.0, 1.5)] * 9)[0] == pytest.approx(1.5**0.75)
    assert calibration_factor([(1.0, 1.5)] * 30)[0] == pytest.approx(1.5 ** (30 / 33))


def test_it_clips_the_calibration_factor_to_half_and_double():
    assert calibration_factor([(1.0, 100.0)] * 50)[0] == 2.0
    assert calibration_factor([(1.0, 0.01)] * 50)[0] == 0.5


def test_it_ignores_unusable_calibration_pairs():
    factor, n = calibration_factor([(0.0, 1.0), (1.0, -1.0), (math.nan, 1.0), (1.0, 1.0)])
    assert (factor, n) == (1.0, 1)
