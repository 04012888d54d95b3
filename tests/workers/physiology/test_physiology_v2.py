"""Model version 2 (science.md §10): worked numbers for each new piece, and the rules for impossible data."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from workers.physiology import Athlete, Conditions, heat, quality, solar
from workers.physiology import analyze as analyze_result
from workers.physiology.clothing import clothing_for_temperature
from workers.physiology.device import per_leg_from_running_totals
from workers.physiology.inputs import WeatherObservation
from workers.physiology.steps import STEPS, Step, check_order

RIDER = Athlete(mass_kg=70.0, height_m=1.75, sex="m", age=35, hr_max=190, hr_rest=60, lthr=170, ftp_w=250)
GREENWICH = {"start_lat": 51.4779, "start_lon": 0.0}


# --- §10.1 skin and core temperature ---------------------------------------------------------------------


def test_skin_temperature_at_equilibrium_follows_iso_7933s_nude_and_clothed_equations():
    # ta 20, tr 25, pa 1.17 kPa, va 1 m/s, M 200 W/m², tre 37 °C
    pa = 0.5 * float(heat.psat_kpa(20.0))
    nude = 7.191 + 0.064 * 20 + 0.061 * 25 + 0.198 * pa - 0.348 * 1 + 0.616 * 37
    clothed = (
        12.165 + 0.02017 * 20 + 0.04361 * 25 + 0.19354 * pa - 0.25315 * 1 + 0.005346 * 200 + 0.51274 * 37
    )
    assert heat.skin_temperature_equilibrium(20, 25, pa, 1.0, 200, 37.0, 0.1) == pytest.approx(nude)
    assert heat.skin_temperature_equilibrium(20, 25, pa, 1.0, 200, 37.0, 0.8) == pytest.approx(clothed)
    # 0.4 clo is halfway between the nude (0.2) and clothed (0.6) equations
    assert heat.skin_temperature_equilibrium(20, 25, pa, 1.0, 200, 37.0, 0.4) == pytest.approx(
        (nude + clothed) / 2
    )
    assert nude == pytest.approx(32.67, abs=0.01) and clothed == pytest.approx(33.67, abs=0.01)


def test_skin_temperature_agrees_with_pythermalcomforts_phs_on_its_first_minute_nude():
    from pythermalcomfort.models import phs

    # ISO 7933:2023 Annex E sets the skin at equilibrium on minute 1, with the rectal start of 36.8 °C
    r = phs(
        tdb=20,
        tr=25,
        v=1.0,
        rh=50,
        met=200,
        clo=0.1,
        posture="standing",
        duration=1,
        round_output=False,
        limit_inputs=False,
    )
    pa = 0.5 * float(heat.psat_kpa(20.0))
    assert float(heat.skin_temperature_equilibrium(20, 25, pa, 1.0, 200, 36.8, 0.1)) == pytest.approx(
        float(r.t_sk), abs=1e-6
    )


def test_core_temperature_approaches_0_0036_m_plus_36_6_with_a_10_minute_time_constant():
    ma = np.full(60, 500.0)  # W/m²: equilibrium 38.4 °C
    tre = heat.core_temperature_course(ma)
    assert tre[9] == pytest.approx(38.4 - (38.4 - 36.8) * math.exp(-1.0), abs=1e-9)  # after 10 minutes
    assert tre[-1] == pytest.approx(38.4, abs=0.01)


def test_skin_temperature_starts_at_equilibrium_and_follows_it_with_a_3_minute_time_constant():
    eq = np.r_[33.0, np.full(30, 35.0)]
    tsk = heat.skin_temperature_course(eq)
    assert tsk[0] == 33.0
    assert tsk[3] == pytest.approx(35.0 - 2.0 * math.exp(-3.0 / 3.0), abs=1e-9)


def test_in_the_cold_the_skin_is_iso_11079s_neutral_35_7_minus_0_0285_m():
    # a rider at 280 W/m²: 35.7 − 0.0285·280 = 27.72 °C; M is held to ISO 11079's 58–400 W/m²
    assert heat.cold_skin_temperature_equilibrium(280.0) == pytest.approx(27.72)
    assert heat.cold_skin_temperature_equilibrium([30.0, 574.0]) == pytest.approx([34.047, 24.3])


@pytest.mark.parametrize(
    ("ta", "ma", "weight"),
    [
        (2, 280, 1.0),
        (10, 280, 1.0),
        (12.5, 280, 0.5),
        (15, 280, 0.0),
        (25, 280, 0.0),
        (2, 425, 0.5),
        (5, 574, 0.0),
    ],
)
def test_iso_11079s_skin_weighs_1_in_its_domain_0_in_iso_7933s_and_linearly_between(ta, ma, weight):
    assert heat.cold_weight(ta, ma) == pytest.approx(weight)


def test_a_rider_at_2_c_gets_a_cooler_skin_and_more_sweat_than_iso_7933_alone_would_give(make_activity):
    cold = make_activity(5400, sport="cycling", speed=8.0, power=150.0, heart_rate=130.0)
    r = analyze_result(cold, RIDER, Conditions(temp_c=2.0, humidity_pct=60.0))
    assert r.heat.skin_temp_c is not None and r.heat.skin_temp_c < 30.0
    assert r.fluid.rate_l_per_h is not None and 0.15 <= r.fluid.rate_l_per_h <= 0.8


# --- §10.3 clothing and §10.4 air speed ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ta", "clo"),
    [(30, 0.3), (22, 0.3), (21.9, 0.45), (15, 0.45), (14.9, 0.6), (8, 0.6), (7.9, 0.8), (-10, 0.8)],
)
def test_clothing_follows_the_temperature_table(ta, clo):
    assert clothing_for_temperature(ta) == clo


def test_the_profiles_clothing_wins_over_the_table(make_activity):
    act = make_activity(3600, speed=3.0, heart_rate=150.0)
    cold = Conditions(temp_c=2.0, humidity_pct=50.0)
    assert analyze_result(act, RIDER, cold).ambient.clothing.model_dump() == {
        "clo": 0.8,
        "source": "temperature_table",
    }
    own = Athlete(mass_kg=70.0, height_m=1.75, clothing_clo=0.5)
    assert analyze_result(act, own, cold).ambient.clothing.model_dump() == {"clo": 0.5, "source": "profile"}


def test_the_heat_balance_holds_air_speed_between_0_3_and_4_m_s():
    assert heat.model_air_speed(np.array([0.0, 2.0, 4.0, 10.0])).tolist() == [0.3, 2.0, 4.0, 4.0]


def test_a_fast_ride_says_its_air_speed_was_held_at_4_m_s_and_that_wind_is_unknown(make_activity):
    act = make_activity(3600, sport="cycling", speed=9.0, power=200.0, heart_rate=140.0)
    r = analyze_result(act, RIDER, Conditions(temp_c=20.0, humidity_pct=50.0))
    assert r.ambient.air_speed_ms == 9.0 and r.heat is not None and r.heat.air_speed_model_ms == 4.0
    fields = {a.field for a in r.assumptions}
    assert {"ambient.air_speed_ms", "ambient.wind_ms"} <= fields
    assert r.ambient.sources is not None and r.ambient.sources.wind_ms == "unknown"


# --- §10.2 solar load -------------------------------------------------------------------------------------


def test_the_sun_stands_62_degrees_high_at_greenwich_at_noon_on_midsummer_day():
    # 90° − 51.48° latitude + 23.44° declination = 61.96°
    elevation = solar.sun_elevation_deg([datetime(2024, 6, 21, 12, 0, tzinfo=UTC)], 51.4779, 0.0)
    assert elevation[0] == pytest.approx(61.96, abs=0.1)
    ghi, dni = solar.clear_sky_irradiance(elevation)
    assert 850 <= ghi[0] <= 1050 and 800 <= dni[0] <= 1000


def test_solarcal_gives_a_rider_in_full_midsummer_sun_a_radiant_temperature_rise_of_43_k():
    elevation = np.array([61.96])
    erf = solar.effective_radiant_field(elevation, np.array([932.0]), "sitting")
    # SolarCal (ASHRAE 55 App. C) over the five headings; absorbed flux ÷ this model's hr of 4.7 W/m²K
    assert erf[0] == pytest.approx(201.1, abs=0.5)
    assert solar.delta_mrt_c(erf)[0] == pytest.approx(42.8, abs=0.1)  # = ERF / 4.7
    assert solar.effective_radiant_field(np.array([-5.0]), np.array([0.0]), "sitting")[0] == 0.0


def test_without_weather_half_the_clear_sky_sun_is_assumed_and_said(make_activity):
    act = make_activity(3600, sport="cycling", speed=8.0, power=200.0, summary=GREENWICH)
    act.start_time = datetime(2024, 6, 21, 11, 30, tzinfo=UTC)
    r = analyze_result(act, RIDER, Conditions(temp_c=20.0, humidity_pct=50.0))
    sun = r.ambient.solar
    assert sun is not None and sun.source == "clear_sky_assumed_cloud" and sun.cloud_factor == 0.5
    assert sun.delta_mrt_c is not None and 10 <= sun.delta_mrt_c <= 30
    assert any(a.field == "ambient.solar.cloud_factor" for a in r.assumptions)
    shade = analyze_result(act, RIDER, Conditions(temp_c=20.0, humidity_pct=50.0, indoor=True))
    assert shade.ambient.solar is not None and shade.ambient.solar.source == "indoor"


def test_no_gps_means_no_solar_term_and_says_so_and_night_means_none(make_activity):
    act = make_activity(3600, sport="cycling", speed=8.0, power=200.0)
    r = analyze_result(act, RIDER, Conditions(temp_c=20.0, humidity_pct=50.0))
    assert r.ambient.solar is not None and r.ambient.solar.source == "no_gps"
    assert any(a.field == "ambient.solar" and "GPS" in a.message for a in r.assumptions)
    night = make_activity(3600, sport="cycling", speed=8.0, power=200.0, summary=GREENWICH)
    night.start_time = datetime(2024, 12, 21, 0, 0, tzinfo=UTC)
    n = analyze_result(night, RIDER, Conditions(temp_c=5.0, humidity_pct=50.0))
    assert n.ambient.solar is not None and n.ambient.solar.source == "night"
    assert n.heat is not None and n.heat.radiant_temp_c == 5.0


def test_a_weather_observation_is_ambient_source_1_and_overrides_still_win(make_activity):
    act = make_activity(3600, sport="cycling", speed=8.0, power=200.0, summary=GREENWICH)
    act.start_time = datetime(2024, 6, 21, 11, 30, tzinfo=UTC)
    obs = WeatherObservation(temp_c=28.0, humidity_pct=70.0, wind_ms=3.0, cloud_cover_pct=100.0)
    r = analyze_result(act, RIDER, weather=obs)
    a = r.ambient
    assert (a.temp_c, a.humidity_pct, a.source, a.temp_measured) == (28.0, 70.0, "weather", True)
    assert a.weather is not None and a.weather.provider == "open-meteo"
    assert a.sources is not None and a.sources.wind_ms == "weather"
    assert a.solar is not None and a.solar.source == "weather_cloud_cover"
    assert a.solar.cloud_factor == pytest.approx(0.25)  # Kasten & Czeplak: 1 − 0.75·1^3.4
    mine = analyze_result(act, RIDER, Conditions(temp_c=18.0), weather=obs)
    assert (mine.ambient.temp_c, mine.ambient.source, mine.ambient.humidity_source) == (
        18.0,
        "override",
        "weather",
    )
    assumed = analyze_result(act, RIDER)
    assert assumed.ambient.temp_measured is False and assumed.ambient.weather is None


# --- §10.6 data that cannot be right ----------------------------------------------------------------------


def test_power_spikes_above_2000_w_or_3x_the_99th_percentile_are_dropped_and_counted(make_activity):
    power = np.full(3601, 200.0)
    power[100] = 47140.0  # the Stages spike
    power[2000:2003] = 1900.0  # under 2,000 W but far above 3 × p99 (600 W)
    assert quality.power_spikes(power).sum() == 4
    r = analyze_result(make_activity(3600, sport="cycling", speed=8.0, power=power), RIDER)
    assert r.data_quality.power_spikes_dropped == 4 and r.power.np_w == pytest.approx(200.0, abs=2.0)
    assert "spikes" in r.data_quality.reasons[0]


def test_an_if_above_1_15_for_over_an_hour_flags_the_ftp_as_stale_and_keeps_the_figure(make_activity):
    long = analyze_result(make_activity(5400, sport="cycling", speed=9.0, power=300.0), RIDER)
    assert long.power.if_ == 1.2 and long.data_quality.ftp_stale is True
    assert "1.20" in long.data_quality.reasons[0] and long.data_quality.implausible is False
    short = analyze_result(make_activity(1800, sport="cycling", speed=9.0, power=300.0), RIDER)
    assert short.power.if_ == 1.2 and short.data_quality.ftp_stale is False


def test_running_power_is_never_divided_by_the_cycling_ftp(make_activity):
    act = make_activity(3600, sport="running", speed=3.3, power=300.0, heart_rate=160.0)
    r = analyze_result(act, RIDER)
    assert r.power.np_w == 300.0 and r.power.if_ is None and r.power.tss is None
    assert any(m.figure == "power.if" and "running" in m.reason for m in r.missing)
    assert r.load.hr_intensity is not None  # heart-rate intensity stands in
    runner = Athlete(mass_kg=70.0, height_m=1.75, ftp_w=250, running_ftp_w=320)
    own = analyze_result(act, runner)
    assert own.power.if_ == pytest.approx(0.938, abs=0.001) and own.power.ftp_source == "profile_running"


def test_a_heart_rate_flat_within_2_bpm_for_over_an_hour_marks_the_recording_implausible(make_activity):
    flat = 120.0 + np.where(np.arange(4201) % 2 == 0, 1.5, -1.5)
    r = analyze_result(make_activity(4200, speed=3.0, heart_rate=flat), RIDER)
    assert r.data_quality.implausible is True and "±2 bpm" in r.data_quality.reasons[0]
    assert r.data_quality.hr_flat is True  # the risk score takes no intensity from it
    assert r.fluid.sweat_l is not None  # figures are still shown
    lively = 120.0 + 10.0 * np.sin(np.arange(4201) / 300.0)
    assert (
        analyze_result(make_activity(4200, speed=3.0, heart_rate=lively), RIDER).data_quality.implausible
        is False
    )


def test_a_recording_over_24_hours_is_implausible(make_activity):
    r = analyze_result(make_activity(25 * 3600, step=60.0, speed=3.0), RIDER)
    assert r.data_quality.implausible is True and any("over 24 h" in x for x in r.data_quality.reasons)
    assert r.data_quality.hr_flat is False


def test_device_sweat_field_178_running_totals_become_each_legs_own_figure():
    assert per_leg_from_running_totals([187.0, 567.0, 1122.0]) == [187.0, 380.0, 555.0]
    assert per_leg_from_running_totals([None, 567.0, None, 1122.0]) == [None, 567.0, None, 555.0]
    assert per_leg_from_running_totals([900.0, 500.0]) == [900.0, 500.0]  # not a running total
    assert per_leg_from_running_totals([700.0]) == [700.0]


def test_rowing_energy_uses_rowings_own_gross_efficiency_of_17_5_percent(make_activity):
    r = analyze_result(make_activity(3600, sport="rowing", speed=4.0, power=150.0), RIDER)
    assert r.energy.source == "power"
    assert r.energy.kcal == pytest.approx(540.0 / (4.184 * 0.175), abs=1.0)
    assert any(a.field == "energy.gross_efficiency" and "Fukunaga" in a.message for a in r.assumptions)


def test_a_swim_without_power_uses_the_devices_calories_labelled(make_activity):
    act = make_activity(3600, sport="swimming", heart_rate=140.0, summary={"total_calories": 600})
    r = analyze_result(act, RIDER)
    assert r.energy.model_dump() == {"kcal": 600.0, "source": "device"}
    assert any(a.field == "energy.kcal" and "water" in a.message for a in r.assumptions)


# --- the steps ---------------------------------------------------------------------------------------------


def test_every_step_needs_only_what_an_earlier_step_provides():
    check_order(STEPS)
    backwards = (STEPS[1], STEPS[0])
    with pytest.raises(RuntimeError):
        check_order(backwards)
    with pytest.raises(RuntimeError):
        check_order((*STEPS, Step("time", (), STEPS[0].run, "")))


def test_every_step_module_names_its_science_md_section():
    import importlib

    for step in STEPS:
        module = importlib.import_module(step.run.__module__)
        assert module.__doc__ and "§" in module.__doc__, step.name
        assert step.section.startswith("§"), step.name
