"""Clothing for the work rate in the cold (science.md §10.3, §10.5; ISO 11079 IREQ via pythermalcomfort)."""

from __future__ import annotations

import pytest
from pythermalcomfort.models import ireq

from workers.physiology import Athlete, Conditions, analyze
from workers.physiology.clothing import (
    clothing_for_work,
    iso_11079_walking_speed,
    neutral_insulation_clo,
)

RIDER = Athlete(mass_kg=70.0, height_m=1.75, sex="m", age=35, hr_max=190, hr_rest=60, lthr=170, ftp_w=250)


def test_pythermalcomfort_reproduces_iso_11079s_own_example():
    # ISO 11079 / pythermalcomfort docstring: −15 °C, 2 m/s, 175 W/m², 2.8 clo, p 50, walking 1.1 m/s
    res = ireq(tdb=-15.0, tr=-15.0, vr=2.0, rh=55.0, met=175.0 / 58.15, clo=2.8, p=50.0, walk_sp=1.1)
    assert res.ireq_min == 1.6


def test_a_steady_rider_at_2_c_needs_about_1_2_clo_to_stay_neutral():
    # the 2 °C Wahoo ride: M 300 W/m², 57.5 W/m² at the pedals, 5.8 m/s moving air speed, legs not walking
    assert neutral_insulation_clo(2.0, 50.0, 300.0, 57.5, 5.8, 0.0) == pytest.approx(1.19, abs=0.01)
    assert clothing_for_work(2.0, 50.0, 300.0, 57.5, 5.8, 0.0) == 1.19


def test_a_hard_run_in_the_cold_keeps_the_tables_0_8_clo_as_its_floor():
    # 480 W/m² at 4 m/s: ISO 11079 would have the runner in 0.18 clo; the table's tights and jacket stay
    assert neutral_insulation_clo(2.0, 50.0, 480.0, 0.0, 4.0, 1.2) == pytest.approx(0.18, abs=0.01)
    assert clothing_for_work(2.0, 50.0, 480.0, 0.0, 4.0, 1.2) == 0.8


def test_a_slow_walk_at_minus_10_c_is_capped_at_2_clo():
    assert neutral_insulation_clo(-10.0, 50.0, 120.0, 0.0, 1.0, 0.32) == pytest.approx(2.89, abs=0.01)
    assert clothing_for_work(-10.0, 50.0, 120.0, 0.0, 1.0, 0.32) == 2.0


@pytest.mark.parametrize(("ta", "clo"), [(8.0, 0.6), (12.0, 0.6), (20.0, 0.45), (25.0, 0.3)])
def test_from_8_c_up_the_work_rate_does_not_change_the_table(ta, clo):
    assert clothing_for_work(ta, 50.0, 120.0, 0.0, 1.0, 0.32) == clo


def test_iso_11079s_walking_speed_grows_with_the_metabolic_rate_up_to_1_2_m_s():
    assert iso_11079_walking_speed(58.0) == 0.0
    assert iso_11079_walking_speed(120.0) == pytest.approx(0.3224)
    assert iso_11079_walking_speed(400.0) == 1.2


def test_an_easy_cold_ride_is_dressed_for_its_work_rate_and_says_so(make_activity):
    act = make_activity(3600, sport="cycling", speed=6.0, power=100.0, cadence=85.0)
    res = analyze(act, RIDER, Conditions(temp_c=2.0, humidity_pct=50.0))
    clothing = res.ambient.clothing
    assert clothing.source == "work_rate" and 0.8 < clothing.clo <= 2.0
    note = next(a for a in res.assumptions if a.field == "clothing_clo")
    assert "ISO 11079" in note.message and note.value == clothing.clo
