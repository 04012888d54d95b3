"""Heart-rate load: Banister/Edwards/Lucia TRIMP, HRSS, HR intensity (science.md §2.1–2.4)."""

import math

import numpy as np
import pytest

from workers.physiology import load as ld

REST, MAX = 60.0, 190.0


def one_hour(hr: float, step: float = 1.0):
    n = int(3600 / step)
    return np.full(n, float(hr)), np.full(n, step)


def test_it_computes_banister_trimp_for_men_with_a_064_b_192():
    # x = (150-60)/(190-60) = 0.6923; per minute 0.6923·0.64·e^(1.92·0.6923) = 1.67400
    # [Morton, Fitz-Clarke & Banister 1990]; 60 min → 100.44
    hr, dt = one_hour(150)
    assert ld.banister_trimp(hr, dt, REST, MAX, "m") == pytest.approx(100.440, abs=0.01)


def test_it_uses_female_constants_for_women():
    # women a=0.86, b=1.67: 60·0.6923·0.86·e^(1.67·0.6923) = 113.517
    hr, dt = one_hour(150)
    assert ld.banister_trimp(hr, dt, REST, MAX, "f") == pytest.approx(113.517, abs=0.01)


def test_it_does_not_repeat_the_known_064_for_women_bug():
    # the bug: a=0.64 with b=1.67 gives 84.48 for the same hour; women must not get it
    hr, dt = one_hour(150)
    buggy = 60 * (90 / 130) * 0.64 * math.exp(1.67 * 90 / 130)
    assert buggy == pytest.approx(84.478, abs=0.01)
    assert ld.banister_trimp(hr, dt, REST, MAX, "f") != pytest.approx(buggy, rel=0.01)
    assert ld.BANISTER_CONSTANTS["f"] == (0.86, 1.67)


def test_it_averages_the_male_and_female_curves_when_sex_is_unknown():
    hr, dt = one_hour(150)
    assert ld.banister_trimp(hr, dt, REST, MAX, None) == pytest.approx((100.440 + 113.517) / 2, abs=0.01)


def test_it_clamps_heart_rate_reserve_to_zero_and_one():
    assert ld.hr_reserve_fraction([40, 60, 190, 220], REST, MAX).tolist() == [0.0, 0.0, 1.0, 1.0]
    hr, dt = one_hour(230)
    # x = 1: 60·1·0.64·e^1.92 = 262.08
    assert ld.banister_trimp(hr, dt, REST, MAX, "m") == pytest.approx(60 * 0.64 * math.exp(1.92), rel=1e-9)


def test_it_sums_per_record_so_variable_sessions_score_more_than_their_average():
    # half an hour at 120 and half at 180 bpm vs an hour at the 150 bpm average: exp() is convex
    hr = np.r_[np.full(1800, 120.0), np.full(1800, 180.0)]
    dt = np.ones(3600)
    avg_hr, dt1 = one_hour(150)
    assert ld.banister_trimp(hr, dt, REST, MAX, "m") > 1.05 * ld.banister_trimp(avg_hr, dt1, REST, MAX, "m")


def test_it_takes_time_steps_from_timestamps_not_record_counts():
    # smart recording (a record every 4 s) must give the same hour as 1 Hz
    hr1, dt1 = one_hour(150, 1.0)
    hr4, dt4 = one_hour(150, 4.0)
    assert ld.banister_trimp(hr4, dt4, REST, MAX, "m") == pytest.approx(
        ld.banister_trimp(hr1, dt1, REST, MAX, "m")
    )


def test_it_skips_missing_heart_rate_samples_instead_of_counting_zero():
    hr, dt = one_hour(150)
    hr[:1800] = np.nan
    assert ld.banister_trimp(hr, dt, REST, MAX, "m") == pytest.approx(100.440 / 2, abs=0.01)
    assert ld.banister_trimp(np.full(10, np.nan), np.ones(10), REST, MAX, "m") is None


def test_it_treats_strap_dropouts_below_30_bpm_as_missing():
    assert np.isnan(ld.clean_hr(np.array([0.0, 20.0, 140.0]))[:2]).all()


def test_it_scores_edwards_zones_lower_bound_inclusive():
    # 114/190 = exactly 60 % → zone 2 (not 1); 95 bpm = exactly 50 % → zone 1; 94 → 0; 171 = 90 % → 5
    hr = np.array([94.0, 95.0, 113.0, 114.0, 133.0, 152.0, 171.0, 200.0])
    assert ld.edwards_zone(hr, MAX).tolist() == [0, 1, 1, 2, 3, 4, 5, 5]


def test_it_computes_edwards_trimp_as_minutes_times_zone():
    # [Edwards 1993] 10 min in zone 2 + 20 min in zone 4 = 10·2 + 20·4 = 100
    hr = np.r_[np.full(600, 114.0), np.full(1200, 160.0)]
    assert ld.edwards_trimp(hr, np.ones(hr.size), MAX) == pytest.approx(100.0)


def test_it_computes_lucia_trimp_only_with_a_threshold_heart_rate():
    # LTHR 170 → VT1 ≈ 153 (0.9·LTHR), VT2 ≈ 170: 10 min at 140 (×1) + 10 at 160 (×2) + 10 at 175 (×3) = 60
    hr = np.r_[np.full(600, 140.0), np.full(600, 160.0), np.full(600, 175.0)]
    assert ld.lucia_trimp(hr, np.ones(hr.size), 170.0) == pytest.approx(60.0)
    assert ld.lucia_trimp(hr, np.ones(hr.size), None) is None
    assert ld.lucia_zone(np.array([152.9, 153.0, 169.9, 170.0]), 170.0).tolist() == [1, 2, 2, 3]


def test_it_defaults_lthr_to_85_percent_of_heart_rate_reserve():
    # [Elevate] 60 + 0.85·(190 − 60) = 170.5
    assert ld.default_lthr(REST, MAX) == pytest.approx(170.5)


def test_it_scores_one_hour_at_lthr_as_100_hrss():
    hr, dt = one_hour(170.5)
    for sex in ("m", "f", None):
        trimp = ld.banister_trimp(hr, dt, REST, MAX, sex)
        assert ld.hrss(trimp, 170.5, REST, MAX, sex) == pytest.approx(100.0)
    # the reference hour itself: 60·0.85·0.64·e^(1.92·0.85) = 166.92 for men
    assert ld.banister_trimp_hour_at(170.5, REST, MAX, "m") == pytest.approx(166.924, abs=0.01)


def test_it_computes_hrss_for_an_easier_hour():
    # 100.440 / 166.924 · 100 = 60.17
    hr, dt = one_hour(150)
    assert ld.hrss(ld.banister_trimp(hr, dt, REST, MAX, "m"), 170.5, REST, MAX, "m") == pytest.approx(
        60.17, abs=0.01
    )


def test_it_computes_hr_intensity_as_reserve_ratio_to_lthr():
    # (150 − 60)/(170 − 60) = 0.818
    assert ld.hr_intensity(150.0, REST, 170.0) == pytest.approx(0.8182, abs=1e-4)
    assert ld.hr_intensity(50.0, REST, 170.0) == 0.0
    assert ld.hr_intensity(None, REST, 170.0) is None
