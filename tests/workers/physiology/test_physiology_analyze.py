"""analyze(): the session JSON from a normalized Activity (built with numpy; no FIT files, no I/O)."""

import json
import math
import time
from typing import Any

import numpy as np
import pytest

from workers.physiology import ALGORITHM_VERSION, Athlete, Conditions, WeighIn, heat
from workers.physiology import analyze as analyze_result


def analyze(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """The result as stored and served (its JSON), which these tests read."""
    return analyze_result(*args, **kwargs).to_json()

RUNNER = Athlete(mass_kg=70.0, height_m=1.75, sex="m", age=35, hr_max=190, hr_rest=60, lthr=170, ftp_w=250)
WARM = Conditions(temp_c=25.0, humidity_pct=50.0)

CONTRACT = {
    "sport",
    "sub_sport",
    "indoor",
    "start_time",
    "duration_s",
    "moving_time_s",
    "distance_m",
    "partial",
    "decoder",
    "warnings",
    "heart_rate",
    "power",
    "load",
    "energy",
    "ambient",
    "fluid",
    "sodium",
    "inputs",
    "series",
    "assumptions",
    "missing",
    "algorithm_version",
}
SUBKEYS = {
    "heart_rate": {"avg_bpm", "max_bpm"},
    "power": {"avg_w", "np_w", "if", "tss", "work_kj"},
    "load": {"trimp_banister", "trimp_edwards", "trimp_lucia", "hrss", "hr_intensity"},
    "energy": {"kcal", "source"},
    "ambient": {"temp_c", "humidity_pct", "air_speed_ms", "source"},
    "fluid": {
        "sweat_l",
        "sweat_l_low",
        "sweat_l_high",
        "rate_l_per_h",
        "respiratory_l",
        "intake_l",
        "deficit_l",
        "body_mass_pct",
        "uncompensable_heat",
        "source",
        "device_estimate_l",
        "model_sweat_l",
        "measured_sweat_l",
    },
    "sodium": {"mg", "mg_low", "mg_high", "concentration_mmol_l", "concentration_source"},
    "inputs": {"mass_kg", "height_m", "sex", "age", "hr_max", "hr_rest", "lthr", "ftp_w"},
    "series": {"t_min", "heart_rate", "power", "fluid_l", "fluid_l_low", "fluid_l_high"},
}


def all_floats(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from all_floats(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from all_floats(v)
    elif isinstance(obj, float):
        yield obj


def test_it_returns_every_contract_key_and_is_json_serializable(make_activity):
    act = make_activity(3600, speed=12 / 3.6, heart_rate=150.0, power=250.0, altitude=100.0)
    out = analyze(act, RUNNER, WARM)
    assert CONTRACT <= set(out)
    assert out["risk"] is None and out["recommendations"] is None  # the alert step fills them
    for key, sub in SUBKEYS.items():
        assert sub <= set(out[key]), key
    assert out["algorithm_version"] == ALGORITHM_VERSION == "2026.12.4"
    assert out["start_time"] == "2026-07-01T08:00:00Z"
    json.dumps(out, allow_nan=False)
    assert all(math.isfinite(x) for x in all_floats(out))


def test_it_reaches_the_steady_state_runner_rate_after_the_onset_lag(make_activity):
    # science.md §3.3: 70 kg runner, 12 km/h, 25 °C, 50 % → 1.38 L/h at steady state with Tsk fixed at 35 °C;
    # v2 (§10.1 ISO skin temperature, §10.3 clothing with ISO's dynamic insulation) gives 1.21 L/h, −12 %,
    # inside §10.5's ±25 %.
    act = make_activity(7200, speed=12 / 3.6, heart_rate=150.0)
    out = analyze(act, RUNNER, WARM)
    fluid = np.array(out["series"]["fluid_l"])
    late_rate = (fluid[-1] - fluid[-31]) * 2  # L over the last 30 min → L/h
    assert late_rate == pytest.approx(1.21, abs=0.02)
    assert 0.75 * 1.38 <= late_rate <= 1.25 * 1.38
    # over the whole session the lag (time constant 10 min) costs ≈ 10 min of sweat
    assert out["fluid"]["rate_l_per_h"] == pytest.approx(1.21 * (120 - 10) / 120, abs=0.04)
    assert out["energy"]["source"] == "speed_grade"
    assert out["fluid"]["uncompensable_heat"] is False


def test_it_ends_the_cumulative_series_at_the_headline_sweat_inside_its_band(make_activity):
    out = analyze(make_activity(3000, speed=3.0, heart_rate=150.0), RUNNER, WARM)
    s, f = out["series"], out["fluid"]
    assert s["fluid_l"][-1] == pytest.approx(f["sweat_l"], abs=0.002)
    assert all(
        lo <= x <= hi for lo, x, hi in zip(s["fluid_l_low"], s["fluid_l"], s["fluid_l_high"], strict=True)
    )
    assert len(s["t_min"]) == 50 and s["t_min"][-1] == 50.0
    assert f["sweat_l_low"] <= f["sweat_l"] <= f["sweat_l_high"]


def test_it_computes_power_metrics_and_energy_from_power_for_cycling(make_activity):
    # 1 h at 200 W, FTP 250: NP 200, IF 0.8, TSS 64; EE = 720 kJ/(4.184·0.2) = 860 kcal
    act = make_activity(3600, sport="cycling", speed=8.0, power=200.0, heart_rate=140.0)
    out = analyze(act, RUNNER, WARM)
    expected = {"avg_w": 200.0, "np_w": 200.0, "if": 0.8, "tss": 64.0, "work_kj": 720.0}
    assert {k: out["power"][k] for k in expected} == expected
    assert out["energy"] == {"kcal": 860.0, "source": "power"}


def test_it_uses_speed_and_grade_for_running_even_with_a_running_power_meter(make_activity):
    act = make_activity(1800, speed=3.0, power=260.0, heart_rate=150.0)
    assert analyze(act, RUNNER, WARM)["energy"]["source"] == "speed_grade"


def test_it_falls_back_to_heart_rate_then_device_calories(make_activity):
    hr_only = make_activity(1800, sport="cycling", heart_rate=150.0)
    out = analyze(hr_only, RUNNER, WARM)
    # Keytel male, 150 bpm, 70 kg, 35 y: 60.5136 kJ/min · 30 min / 4.184 = 433.9 kcal
    assert out["energy"] == {"kcal": 434.0, "source": "heart_rate"}
    device_only = make_activity(1800, sport="training", summary={"total_calories": 300})
    assert analyze(device_only, RUNNER, WARM)["energy"] == {"kcal": 300.0, "source": "device"}
    nothing = make_activity(1800, sport="training")
    out = analyze(nothing, RUNNER, WARM)
    assert out["energy"] == {"kcal": None, "source": None}
    assert out["fluid"]["sweat_l"] is None
    assert {m["figure"] for m in out["missing"]} >= {"energy", "fluid.model", "heart_rate", "power"}


def test_it_ignores_an_all_zero_power_channel_and_takes_energy_from_heart_rate(make_activity):
    # found in the sample sweep: a Sigma head unit wrote 0 W for 4 h 39 with no meter paired → "0 kcal"
    act = make_activity(1800, sport="cycling", speed=8.0, power=0.0, heart_rate=150.0)
    out = analyze(act, RUNNER, WARM)
    assert out["energy"] == {"kcal": 434.0, "source": "heart_rate"}
    assert set(out["power"].values()) == {None}
    assert "all zeros" in {m["figure"]: m["reason"] for m in out["missing"]}["power"]
    assert any("power channel was ignored" in w for w in out["warnings"])
    assert out["fluid"]["sweat_l"] > 0


def test_it_keeps_a_power_channel_with_coasting_zeros(make_activity):
    power = np.where(np.arange(3601) % 10 == 0, 300.0, 0.0)  # pedalling 10 % of the time
    act = make_activity(3600, sport="cycling", speed=8.0, power=power, heart_rate=150.0)
    out = analyze(act, RUNNER, WARM)
    assert out["energy"]["source"] == "power" and out["power"]["avg_w"] == 30.0


def test_it_reports_missing_figures_as_null_with_a_reason_never_zero(make_activity):
    out = analyze(make_activity(1800, speed=3.0), RUNNER, WARM)
    assert set(out["load"].values()) == {None}
    assert out["heart_rate"] == {"avg_bpm": None, "max_bpm": None}
    assert set(out["power"].values()) == {None}
    figures = {m["figure"]: m["reason"] for m in out["missing"]}
    assert "heart rate" in figures["load"] and "power" in figures["power"]
    assert out["series"]["heart_rate"] is None and out["series"]["power"] is None


def test_it_needs_ftp_for_if_and_tss(make_activity):
    athlete = Athlete(mass_kg=70.0, height_m=1.75)
    out = analyze(make_activity(1800, sport="cycling", power=200.0, speed=8.0), athlete, WARM)
    assert out["power"]["np_w"] == 200.0 and out["power"]["if"] is None and out["power"]["tss"] is None
    assert {"power.if", "power.tss"} <= {m["figure"] for m in out["missing"]}


def test_it_labels_reference_values_when_the_profile_is_empty(make_activity):
    hr = np.linspace(120, 176, 3601)
    out = analyze(make_activity(3600, speed=3.0, heart_rate=hr), Athlete(), WARM)
    inputs = out["inputs"]
    assert inputs["mass_kg"] == {"value": 70.0, "source": "assumed"}
    assert inputs["height_m"] == {"value": 1.75, "source": "assumed"}
    assert inputs["hr_rest"] == {"value": 60.0, "source": "assumed"}
    assert inputs["hr_max"] == {"value": 176.0, "source": "session"}
    assert inputs["sex"] == {"value": None, "source": "assumed"}
    assert inputs["lthr"]["source"] == "assumed"  # 60 + 0.85·(176 − 60) = 158.6
    assert inputs["lthr"]["value"] == pytest.approx(159.0)
    assumed = {a["field"]: a for a in out["assumptions"]}
    for field in ("mass_kg", "height_m", "hr_rest", "hr_max", "sex", "lthr", "age"):
        assert assumed[field]["personalize_with"] == field
    assert out["load"]["trimp_lucia"] is None  # no real LTHR → Lucia skipped
    assert "load.trimp_lucia" in {m["figure"] for m in out["missing"]}


def test_it_uses_device_profile_values_before_reference_values_labelled_device(make_activity):
    hints = {"weight_kg": 82.0, "height_m": 1.83, "sex": "female", "hr_max": 185, "hr_rest": 48, "lthr": 168}
    out = analyze(make_activity(1800, speed=3.0, heart_rate=150.0, hints=hints), Athlete(), WARM)
    assert out["inputs"]["mass_kg"] == {"value": 82.0, "source": "device"}
    assert out["inputs"]["sex"] == {"value": "f", "source": "device"}
    assert out["inputs"]["lthr"] == {"value": 168.0, "source": "device"}
    assert out["load"]["trimp_lucia"] is not None
    assert any(a["field"] == "load.trimp_lucia" and a["source"] == "heuristic" for a in out["assumptions"])


def test_it_ignores_placeholder_device_values(make_activity):
    # TrainingPeaks Virtual writes age 99 and gender 2
    out = analyze(make_activity(600, speed=3.0, hints={"age": 99, "sex": 2}), Athlete(), WARM)
    assert out["inputs"]["age"]["source"] == "assumed" and out["inputs"]["sex"]["value"] is None


def test_it_excludes_pauses_and_stops_from_moving_time(make_activity):
    speed = np.full(3601, 3.0)
    speed[1000:1300] = 0.0  # 5 min stopped at a light, timer running
    act = make_activity(3600, speed=speed, pauses=[(2000.0, 2600.0)])  # 10-min timer pause
    out = analyze(act, RUNNER, WARM)
    assert out["duration_s"] == 3600.0
    assert out["moving_time_s"] == pytest.approx(3600 - 300 - 600, abs=2)


def test_it_ignores_short_slow_spells_when_computing_moving_time(make_activity):
    speed = np.full(3601, 3.0)
    speed[100:103] = 0.2  # 3 s: shorter than the 5-s stop rule
    assert analyze(make_activity(3600, speed=speed), RUNNER, WARM)["moving_time_s"] == 3600.0


def test_it_lets_a_weigh_in_override_the_model_and_keeps_both(make_activity):
    act = make_activity(3600, speed=12 / 3.6, heart_rate=150.0)
    w = WeighIn(pre_kg=70.0, post_kg=68.8, fluid_l=0.75, urine_l=0.2)
    out = analyze(act, RUNNER, WARM, weigh_in=w)
    f = out["fluid"]
    assert f["source"] == "measured"
    assert f["measured_sweat_l"] == f["sweat_l"] == 1.75
    assert f["model_sweat_l"] == pytest.approx(1.04, abs=0.03)  # v2 (v1: 1.16)
    assert f["body_mass_pct"] == pytest.approx(1.71, abs=0.01)
    assert f["deficit_l"] == pytest.approx(1.2)
    assert f["intake_l"] == 0.75
    assert (f["sweat_l_low"], f["sweat_l_high"]) == (1.55, 1.95)
    assert out["series"]["fluid_l"][-1] == pytest.approx(1.75, abs=0.002)
    assert out["sodium"]["mg"] == pytest.approx(1.75 * 40 * 22.99, abs=1)


def test_it_applies_a_personal_calibration_to_the_model_and_labels_it(make_activity):
    act = make_activity(3600, speed=12 / 3.6)
    base = analyze(act, RUNNER, WARM)["fluid"]
    cal = Athlete(**{**RUNNER.__dict__, "calibration_factor": 1.2, "calibration_n": 4})
    out = analyze(act, cal, WARM)
    assert out["fluid"]["sweat_l"] == pytest.approx(base["sweat_l"] * 1.2, abs=0.002)
    # model_sweat_l stays uncalibrated: it is the figure to pair with future weigh-ins
    assert out["fluid"]["model_sweat_l"] == base["model_sweat_l"]
    note = [a for a in out["assumptions"] if a["field"] == "fluid.calibration_factor"]
    assert note and "4 weigh-ins" in note[0]["message"]


def test_it_subtracts_logged_intake_from_the_deficit(make_activity):
    act = make_activity(3600, speed=12 / 3.6)
    dry = analyze(act, RUNNER, WARM)
    wet = analyze(act, RUNNER, Conditions(temp_c=25.0, humidity_pct=50.0, fluid_intake_l=0.5))
    assert wet["fluid"]["deficit_l"] == pytest.approx(dry["fluid"]["deficit_l"] - 0.5, abs=0.002)
    assert dry["fluid"]["deficit_l"] == pytest.approx(
        dry["fluid"]["sweat_l"] + dry["fluid"]["respiratory_l"], abs=0.002
    )
    assert any(a["field"] == "fluid.intake_l" for a in dry["assumptions"])
    assert not any(a["field"] == "fluid.intake_l" for a in wet["assumptions"])


def test_it_shows_device_estimates_side_by_side(make_activity):
    summary = {
        "sweat_loss_ml": 1100,
        "normalized_power": 205,
        "training_stress_score": 66.1,
        "total_calories": 850,
        "avg_core_temperature": 38.1,
        "fluid_consumed_ml": 500,
    }
    act = make_activity(3600, sport="cycling", speed=8.0, power=200.0, summary=summary)
    out = analyze(act, RUNNER, WARM)
    assert out["fluid"]["device_estimate_l"] == 1.1
    assert out["device"]["np_w"] == 205.0 and out["device"]["tss"] == 66.1 and out["device"]["kcal"] == 850.0
    assert out["device"]["core_temp_avg_c"] == 38.1
    assert out["fluid"]["intake_l"] == 0.5 and out["fluid"]["intake_source"] == "device"


def test_it_takes_core_temperature_from_the_channel_when_the_summary_lacks_it(make_activity):
    core = np.linspace(37.0, 38.5, 1801)
    out = analyze(make_activity(1800, speed=3.0, core_temperature=core), RUNNER, WARM)
    assert out["device"]["core_temp_max_c"] == 38.5
    assert out["device"]["core_temp_avg_c"] == pytest.approx(37.75, abs=0.01)


def test_it_uses_a_fan_default_indoors(make_activity):
    act = make_activity(
        1800, sport="cycling", sub_sport="indoor_cycling", indoor=True, power=200.0, speed=9.0
    )
    out = analyze(act, RUNNER)
    assert out["ambient"]["temp_c"] == 21.0 and out["ambient"]["source"] == "default"
    assert out["ambient"]["air_speed_ms"] == 1.0 and out["ambient"]["air_speed_source"] == "default"


def test_it_uses_ground_speed_as_air_speed_outdoors_and_an_override_when_given(make_activity):
    act = make_activity(1800, sport="cycling", power=200.0, speed=9.0)
    assert analyze(act, RUNNER, WARM)["ambient"]["air_speed_ms"] == 9.0
    fan = Conditions(temp_c=25.0, humidity_pct=50.0, air_speed_ms=4.0)
    assert analyze(act, RUNNER, fan)["ambient"]["air_speed_ms"] == 4.0


def test_it_uses_a_head_unit_temperature_but_not_a_watch_temperature(make_activity):
    edge = {"manufacturer": "garmin", "product": "edge_530"}
    watch = {"manufacturer": "garmin", "product": "fenix7"}
    bike = make_activity(1800, sport="cycling", power=200.0, speed=9.0, temperature=27.0, device=edge)
    run = make_activity(1800, speed=3.0, temperature=27.0, device=watch)
    assert analyze(bike, RUNNER)["ambient"]["source"] == "head_unit"
    out = analyze(run, RUNNER)
    assert out["ambient"]["temp_c"] == 20.0 and out["ambient"]["source"] == "default"


def test_it_flags_uncompensable_heat_in_a_hot_humid_hard_session(make_activity):
    act = make_activity(3600, sport="cycling", power=300.0, speed=4.0)
    out = analyze(act, RUNNER, Conditions(temp_c=36.0, humidity_pct=70.0))
    assert out["fluid"]["uncompensable_heat"] is True
    assert out["fluid"]["uncompensable_minutes"] > 30


def test_it_does_not_model_sweat_for_swimming(make_activity):
    out = analyze(make_activity(1800, sport="swimming", heart_rate=140.0), RUNNER)
    assert out["fluid"]["sweat_l"] is None and out["sodium"]["mg"] is None
    assert any(m["figure"] == "fluid.model" and "swimming" in m["reason"] for m in out["missing"])


def test_it_never_uses_gonzalez(make_activity, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("Gonzalez must not be used for athletes")

    monkeypatch.setattr(heat, "gonzalez_pw", forbidden)
    monkeypatch.setattr(heat, "gonzalez_pw_cool", forbidden)
    analyze(make_activity(1800, speed=1.2, heart_rate=120.0, sport="hiking"), RUNNER, Conditions(temp_c=18.0))


def test_it_never_reports_negative_sweat_or_sodium_for_random_sessions(make_activity):
    rng = np.random.default_rng(7)
    for _ in range(25):
        n = int(rng.integers(2, 4000))
        act = make_activity(
            n - 1,
            sport=str(rng.choice(["running", "cycling", "walking", "training"])),
            speed=rng.uniform(0, 15, n),
            power=np.where(rng.random(n) < 0.1, np.nan, rng.uniform(0, 600, n)),
            heart_rate=rng.uniform(40, 200, n),
            altitude=np.cumsum(rng.normal(0, 2, n)),
        )
        cond = Conditions(temp_c=float(rng.uniform(-15, 45)), humidity_pct=float(rng.uniform(0, 100)))
        out = analyze(act, Athlete(), cond)
        f = out["fluid"]
        if f["sweat_l"] is not None:
            assert 0 <= f["sweat_l_low"] <= f["sweat_l"] <= f["sweat_l_high"]
            assert f["rate_l_per_h"] <= 2.5 + 1e-6
            assert out["sodium"]["mg_low"] >= 0
        json.dumps(out, allow_nan=False)


def test_it_survives_empty_and_single_sample_activities(make_activity):
    from workers.activity import Activity

    for act in (Activity(t=np.zeros(0)), Activity(t=np.zeros(1), channels={"heart_rate": np.array([120.0])})):
        out = analyze(act, Athlete())
        assert out["duration_s"] == 0.0 and out["fluid"]["sweat_l"] is None
        json.dumps(out, allow_nan=False)


def test_it_ignores_a_channel_whose_length_does_not_match_the_timestamps(make_activity):
    act = make_activity(600, speed=3.0)
    act.channels["heart_rate"] = np.full(10, 150.0)
    out = analyze(act, RUNNER, WARM)
    assert out["heart_rate"]["avg_bpm"] is None and any("heart_rate" in w for w in out["warnings"])


def test_it_analyses_a_14_hour_1hz_activity_in_well_under_a_second(make_activity):
    rng = np.random.default_rng(3)
    n = 14 * 3600 + 1
    act = make_activity(
        n - 1,
        sport="cycling",
        device={"manufacturer": "garmin", "product": "edge_1040"},
        speed=rng.uniform(0, 14, n),
        power=rng.uniform(0, 400, n),
        heart_rate=rng.uniform(90, 180, n),
        altitude=np.cumsum(rng.normal(0, 0.2, n)),
        distance=np.cumsum(rng.uniform(0, 14, n)),
        temperature=rng.uniform(18, 30, n),
        cadence=rng.uniform(0, 100, n),
    )
    analyze(act, RUNNER)  # warm-up (imports, caches)
    start = time.perf_counter()
    out = analyze(act, RUNNER)
    elapsed = time.perf_counter() - start
    assert elapsed < 0.5, f"{elapsed:.3f} s"
    assert len(out["series"]["t_min"]) == 840
