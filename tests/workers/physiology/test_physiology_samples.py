"""The physiology models over every real sample activity: `parse_fit` → `analyze(activity, Athlete())`.

Reads ../shared/fit-samples in place (never copied) and skips when the folder is missing. Every activity
of at least 20 minutes in every file that parses must get a plausible, self-consistent, JSON-safe result
with an empty profile. Files the parser refuses (`FitRejected`: empty, non-activity, 3-record files) are
not physiology's business and are left out; any other parser exception fails. Each file is parsed and
analysed once per module (fitparse takes seconds on the multi-hour files).
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from workers.activity import Activity, FitRejected
from workers.fit import parse_fit
from workers.physiology import Athlete
from workers.physiology import analyze as analyze_result


def analyze(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """The result as stored and served (its JSON), which these tests read."""
    return analyze_result(*args, **kwargs).to_json()

SAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "fit-samples"
FILES = sorted(p.name for p in SAMPLES.glob("*.fit")) if SAMPLES.is_dir() else []
MIN_DURATION_S = 20 * 60
MAX_RATE_L_PER_H = 2.5  # science.md §3.3 engineering cap
NA_MG_PER_MMOL = 22.99
ENERGY_SOURCES = {"power", "speed_grade", "heart_rate", "device"}
# Files recorded on a body-worn device (watch, phone, pod; MANIFEST.md device column): their temperature
# sensor is warmed by the body and must never become the air temperature (science.md §3.4).
BODY_WORN_PREFIXES = ("run_", "swim_", "walk_", "multi_")
BODY_WORN_BIKE_FILES = {"bike_apple-watch-via-strava_5min.fit", "bike_coros-pace2_misaligned-fields_3h32.fit"}
BODY_WORN_FILES = [n for n in FILES if n.startswith(BODY_WORN_PREFIXES) or n in BODY_WORN_BIKE_FILES]

pytestmark = pytest.mark.skipif(not FILES, reason="../shared/fit-samples is not there")


@functools.cache
def analysed(name: str) -> tuple[tuple[Activity, dict[str, Any]], ...]:
    """(activity, session JSON) for every activity of the file; empty when the parser refuses the file."""
    try:
        parsed = parse_fit((SAMPLES / name).read_bytes())
    except FitRejected:
        return ()
    return tuple((a, analyze(a, Athlete())) for a in parsed.activities)


def long_activities(name: str) -> list[tuple[Activity, dict[str, Any]]]:
    return [(a, s) for a, s in analysed(name) if a.duration_s >= MIN_DURATION_S]


def label(name: str, activity: Activity) -> str:
    return f"{name} leg {activity.leg_index} ({activity.sport}/{activity.sub_sport})"


def is_swim(activity: Activity) -> bool:
    return (activity.sport or "").lower() == "swimming"


def walk_numbers(value: Any, path: str = "") -> list[tuple[str, float]]:
    """Every float in a JSON-like tree, with its path."""
    if isinstance(value, dict):
        return [x for k, v in value.items() for x in walk_numbers(v, f"{path}.{k}")]
    if isinstance(value, list | tuple):
        return [x for i, v in enumerate(value) for x in walk_numbers(v, f"{path}[{i}]")]
    if isinstance(value, float | np.floating):
        return [(path, float(value))]
    return []


files = pytest.mark.parametrize("name", FILES or ["(none)"])


def test_the_sample_corpus_yields_long_activities_of_every_kind():
    kinds = {(a.sport or "").lower() for name in FILES for a, _ in long_activities(name)}
    assert {"running", "cycling", "swimming"} <= kinds
    assert sum(len(long_activities(name)) for name in FILES) >= 30


@files
def test_every_long_activity_gets_a_sweat_rate_from_0_to_2_5_l_per_h_or_a_reason_for_swims(name):
    for activity, s in long_activities(name):
        fluid, where = s["fluid"], label(name, activity)
        if is_swim(activity):
            assert fluid["rate_l_per_h"] is None and fluid["sweat_l"] is None, where
            reasons = {m["figure"]: m["reason"] for m in s["missing"]}
            assert "swimming" in reasons.get("fluid.model", ""), where
            continue
        assert fluid["source"] == "model", where
        assert fluid["rate_l_per_h"] is not None and 0.0 <= fluid["rate_l_per_h"] <= MAX_RATE_L_PER_H, (
            where,
            fluid["rate_l_per_h"],
        )
        hours = (s["moving_time_s"] or s["duration_s"]) / 3600  # the rate is per moving hour
        assert fluid["sweat_l"] == pytest.approx(fluid["rate_l_per_h"] * hours, abs=0.01)


@files
def test_every_long_activity_gets_a_sodium_figure_matching_its_sweat_or_a_reason(name):
    for activity, s in long_activities(name):
        na, where = s["sodium"], label(name, activity)
        if s["fluid"]["sweat_l"] is None:
            assert na["mg"] is None, where
            assert any(m["figure"] == "sodium" for m in s["missing"]), where
            continue
        assert na["mg"] is not None and na["mg"] >= 0, where
        expected = s["fluid"]["sweat_l"] * na["concentration_mmol_l"] * NA_MG_PER_MMOL
        assert na["mg"] == pytest.approx(expected, abs=1.0), where


@files
def test_every_result_is_strict_json_without_nan_or_infinity(name):
    for activity, s in analysed(name):
        where = label(name, activity)
        json.dumps(s, allow_nan=False)  # raises on NaN/inf and on any non-JSON type
        bad = [(p, v) for p, v in walk_numbers(s) if not math.isfinite(v)]
        assert not bad, (where, bad[:5])


@files
def test_every_range_brackets_its_value_and_the_series_ends_at_the_headline(name):
    for activity, s in long_activities(name):
        fluid, na, where = s["fluid"], s["sodium"], label(name, activity)
        if fluid["sweat_l"] is None:
            continue
        assert 0 <= fluid["sweat_l_low"] <= fluid["sweat_l"] <= fluid["sweat_l_high"], where
        assert 0 <= na["mg_low"] <= na["mg"] <= na["mg_high"], where
        series = s["series"]
        assert series["fluid_l"][-1] == pytest.approx(fluid["sweat_l"], abs=0.002), where
        for lo, mid, hi in zip(series["fluid_l_low"], series["fluid_l"], series["fluid_l_high"], strict=True):
            assert 0 <= lo <= mid <= hi, where
        assert np.all(np.diff(series["fluid_l"]) >= 0), where


@files
def test_every_long_activity_records_where_its_energy_came_from(name):
    for activity, s in long_activities(name):
        energy, where = s["energy"], label(name, activity)
        assert energy["source"] in ENERGY_SOURCES, where
        assert energy["kcal"] is not None and energy["kcal"] > 0, where
        # a recorded sport is above the 1.5-MET sedentary threshold (Ainsworth Compendium) over its timer
        # time, and below 20 kcal/min (≈1.4 kW metabolic) over its elapsed time
        timer_min = (activity.summary.get("total_timer_time") or s["duration_s"]) / 60
        one_met_kcal_per_min = 3.5 * s["inputs"]["mass_kg"]["value"] / 1000 * 5
        assert energy["kcal"] >= 1.5 * one_met_kcal_per_min * timer_min, (where, energy, timer_min)
        assert energy["kcal"] <= 20 * s["duration_s"] / 60, (where, energy)
        if energy["source"] == "power":
            assert s["power"]["work_kj"] > 0, where


@pytest.mark.parametrize("name", BODY_WORN_FILES or ["(none)"])
def test_no_body_worn_sensor_temperature_is_used_as_the_air_temperature(name):
    for activity, s in analysed(name):
        amb, where = s["ambient"], label(name, activity)
        assert amb["source"] in {"default", "weather_message"}, (where, amb)
        if activity.channel("temperature") is not None and amb["source"] == "default":
            # the sensor reading is reported as an upper bound only
            assert any(a["field"] == "ambient.device_temp_c" for a in s["assumptions"]), where
            assert amb["temp_c"] in (20.0, 21.0), where
