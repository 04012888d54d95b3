"""Ambient temperature/humidity priority and the wrist-vs-head-unit rule (science.md §3.4)."""

import numpy as np
import pytest

from workers.physiology.ambient import is_head_unit, resolve_ambient, resolve_indoor

MOVING = np.ones(600, dtype=bool)


def resolve(**kw):
    base = {
        "override_temp_c": None,
        "override_rh_pct": None,
        "weather": None,
        "temperature": None,
        "moving": MOVING,
        "indoor": False,
        "head_unit": False,
    }
    return resolve_ambient(**{**base, **kw})


@pytest.mark.parametrize(
    "device",
    [
        {"manufacturer": "garmin", "product": "edge_530"},
        {"manufacturer": "hammerhead", "product": "karoo2"},
        {"manufacturer": "wahoo_fitness", "product": "elemnt_bolt"},
        {"manufacturer": "bryton", "product": "rider_420"},
        {"manufacturer": "sigmasport", "product": "rox_11"},
        {"manufacturer": "lezyne"},
        {"manufacturer": "srm", "product": "pc8"},
        {"manufacturer": "stages_cycling", "product": "dash"},
    ],
)
def test_it_recognises_bike_computers_as_head_units_when_cycling(device):
    assert is_head_unit("cycling", device)


@pytest.mark.parametrize(
    ("sport", "device"),
    [
        ("cycling", {"manufacturer": "garmin", "product": "fenix5x"}),
        ("cycling", {"manufacturer": "garmin", "product": "forerunner_955"}),
        ("cycling", {"manufacturer": "wahoo_fitness", "product": "elemnt_rival"}),
        ("cycling", {"manufacturer": "coros", "product": "pace2"}),
        ("cycling", {"manufacturer": "garmin", "product": 3113}),  # numeric id: unknown → not ambient
        ("running", {"manufacturer": "garmin", "product": "edge_530"}),
        ("cycling", {}),
    ],
)
def test_it_treats_watches_and_unknown_devices_as_body_worn(sport, device):
    assert not is_head_unit(sport, device)


def test_it_prefers_the_override_then_the_weather_message():
    weather = {"temperature_c": 28.0, "relative_humidity_pct": 65.0}
    a = resolve(override_temp_c=31.0, weather=weather, temperature=np.full(600, 35.0), head_unit=True)
    assert (a.temp_c, a.source) == (31.0, "override")
    assert (a.humidity_pct, a.humidity_source) == (65.0, "weather_message")
    b = resolve(weather=weather, temperature=np.full(600, 35.0), head_unit=True)
    assert (b.temp_c, b.source, b.confidence) == (28.0, "weather_message", "high")


def test_it_uses_the_head_unit_median_over_moving_time_with_low_confidence():
    temp = np.r_[np.full(300, 24.0), np.full(300, 40.0)]
    moving = np.r_[np.ones(400, dtype=bool), np.zeros(200, dtype=bool)]  # sun-heated while stopped
    a = resolve(temperature=temp, moving=moving, head_unit=True)
    assert (a.temp_c, a.source, a.confidence) == (24.0, "head_unit", "low")
    assert a.humidity_pct == 50.0 and a.humidity_source == "default"
    assert any(n["source"] == "head_unit" for n in a.notes)


def test_it_never_uses_a_wrist_temperature_as_ambient():
    a = resolve(temperature=np.full(600, 31.0), head_unit=False)
    assert (a.temp_c, a.source, a.confidence) == (20.0, "default", "assumed")
    bound = [n for n in a.notes if n["field"] == "ambient.device_temp_c"]
    assert bound and "upper bound" in bound[0]["message"] and bound[0]["value"] == 31.0


def test_it_uses_outdoor_and_indoor_defaults_marked_assumed():
    out = resolve()
    ind = resolve(indoor=True)
    assert (out.temp_c, out.humidity_pct) == (20.0, 50.0)
    assert (ind.temp_c, ind.humidity_pct) == (21.0, 50.0)
    assert {n["source"] for n in out.notes} == {"assumed"}


def test_it_ignores_implausible_values():
    a = resolve(override_temp_c=99.0, weather={"temperature_c": None, "relative_humidity_pct": 140})
    assert a.source == "default" and a.humidity_source == "default"


def test_it_resolves_indoor_from_override_then_file_then_outdoor_assumed():
    assert resolve_indoor(True, False, None) == (True, "override")
    assert resolve_indoor(None, True, None) == (True, "session")
    assert resolve_indoor(None, None, "treadmill") == (True, "session")
    assert resolve_indoor(None, None, None) == (False, "assumed")
