"""A planned effort no one has held for that long is named as such (science.md §10.6), not believed."""

from __future__ import annotations

import pytest

from ingest.plan import PlanIn, beyond_records


def plan(**fields: object) -> PlanIn:
    return PlanIn(**{"temp_c": 20, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("sport", "minutes", "pace"),
    [
        ("running", 24 * 60, 3.0),  # 480 km in a day; the record is 319.6 km
        ("running", 120, 2.7),  # faster than the marathon record, for longer
        ("running", 60, 2.5),  # 24 km in the hour; the record is 21.33 km
        ("walking", 6 * 60, 3.5),
    ],
)
def test_a_pace_faster_than_the_record_for_its_time_is_named(sport: str, minutes: int, pace: float) -> None:
    sentence = beyond_records(plan(sport=sport, duration_min=minutes, pace_min_per_km=pace), None)
    assert sentence is not None and sentence.startswith("No one has run") and "Check the pace" in sentence


@pytest.mark.parametrize(
    ("minutes", "pace"),
    [(24 * 60, 6.0), (24 * 60, 4.6), (180, 4.0), (60, 3.0), (30, 2.9), (10 * 60, 5.5)],
)
def test_a_pace_someone_has_held_passes(minutes: float, pace: float) -> None:
    assert beyond_records(plan(sport="running", duration_min=minutes, pace_min_per_km=pace), None) is None


def test_power_is_judged_per_kilogram_of_the_rider() -> None:
    ride = plan(sport="cycling", duration_min=24 * 60, power_w=400)
    sentence = beyond_records(ride, 70)
    assert sentence is not None and "5.7 W/kg at 70 kg" in sentence and "24 hours" in sentence
    assert beyond_records(plan(sport="cycling", duration_min=60, power_w=400), 70) is None  # 5.7 W/kg for 1 h
    assert beyond_records(plan(sport="cycling", duration_min=60, power_w=500), 70) is not None
    assert beyond_records(plan(sport="cycling", duration_min=60, power_w=500), 90) is None  # 5.6 W/kg


def test_an_ordinary_long_ride_passes_and_a_missing_weight_means_the_models_70_kg() -> None:
    assert beyond_records(plan(sport="cycling", duration_min=5 * 60, power_w=200), None) is None
    day_at_300_w = plan(sport="cycling", duration_min=24 * 60, power_w=300)  # 4.3 W/kg at 70 kg
    assert beyond_records(day_at_300_w, None) is not None


def test_power_in_other_sports_and_heart_rate_are_not_judged() -> None:
    assert beyond_records(plan(sport="rowing", duration_min=60, power_w=600), 95) is None
    assert beyond_records(plan(sport="running", duration_min=24 * 60, heart_rate_bpm=150), None) is None
