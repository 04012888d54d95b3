"""Duplicate fingerprints on FIT files built with fitgen, and TCX/GPX copies of the same activity."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest

from fitgen import DEFAULT_START, build_fit, steady_records
from workers.activity import Activity
from workers.fit import parse_fit
from workers.formats.fingerprint import activity_fingerprints, is_same_activity
from workers.formats.gpx import parse_gpx
from workers.formats.tcx import parse_tcx

SERIAL = 3_456_789_012


def fit_activity(start=DEFAULT_START, *, minutes: float = 10, sport: str = "running", **device) -> Activity:
    device = {"manufacturer": "garmin", "product": 3113, "serial_number": SERIAL, **device}
    (activity,) = parse_fit(build_fit(steady_records(minutes), sport=sport, start=start, **device)).activities
    return activity


def fingerprint(start=DEFAULT_START, **kwargs) -> dict:
    return activity_fingerprints(fit_activity(start, **kwargs))


def stamp(when) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def tcx_copy(
    start=DEFAULT_START, *, sport: str = "Running", unit_id: int | None = SERIAL, n: int = 600
) -> Activity:
    creator = f"<Creator><Name>Forerunner</Name><UnitId>{unit_id}</UnitId></Creator>" if unit_id else ""
    points = "".join(
        f"<Trackpoint><Time>{stamp(start + timedelta(seconds=t))}</Time>"
        "<HeartRateBpm><Value>140</Value></HeartRateBpm></Trackpoint>"
        for t in range(n)
    )
    data = (
        '<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"><Activities>'
        f'<Activity Sport="{sport}"><Id>{stamp(start)}</Id><Lap><Track>{points}</Track></Lap>{creator}'
        "</Activity></Activities></TrainingCenterDatabase>"
    ).encode()
    (activity,) = parse_tcx(data).activities
    return activity


def gpx_copy(start=DEFAULT_START, *, kind: str | None = "running", n: int = 600) -> Activity:
    points = "".join(
        f'<trkpt lat="{45 + t * 3e-5:.6f}" lon="7.0">'
        f"<time>{stamp(start + timedelta(seconds=t))}</time></trkpt>"
        for t in range(n)
    )
    type_ = f"<type>{kind}</type>" if kind else ""
    data = (
        '<gpx version="1.1" creator="StravaGPX" xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk>{type_}<trkseg>{points}</trkseg></trk></gpx>"
    ).encode()
    (activity,) = parse_gpx(data).activities
    return activity


# -- fingerprints -----------------------------------------------------------------------------------


def test_a_fit_fingerprint_keys_the_device_serial_and_the_start_to_the_second() -> None:
    fp = fingerprint()
    assert fp["serial"] == str(SERIAL) and fp["manufacturer"] == "garmin"
    assert fp["start_time"] == "2024-07-01T08:00:00Z" and fp["sport"] == "running"
    assert fp["device_key"] == f"garmin/{fp['product']}/{SERIAL}/2024-07-01T08:00:00Z"
    assert fp["duration_s"] == 600 and fp["leg_index"] == 0
    assert json.loads(json.dumps(fp)) == fp


def test_a_file_without_a_serial_has_no_device_key() -> None:
    assert fingerprint(serial_number=None)["device_key"] is None
    assert activity_fingerprints(gpx_copy())["device_key"] is None


def test_the_start_time_is_rounded_to_the_nearest_second() -> None:
    activity = fit_activity()
    activity.start_time = DEFAULT_START + timedelta(milliseconds=600)
    assert activity_fingerprints(activity)["start_time"] == "2024-07-01T08:00:01Z"


# -- the duplicate rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(("offset_s", "same"), [(59, True), (60, True), (61, False)])
def test_same_sport_starts_within_60_seconds_are_the_same_activity(offset_s: int, same: bool) -> None:
    watch = fingerprint(serial_number=1111)
    bike_computer = fingerprint(DEFAULT_START + timedelta(seconds=offset_s), serial_number=2222)
    assert is_same_activity(watch, bike_computer) is same
    assert is_same_activity(bike_computer, watch) is same


@pytest.mark.parametrize(("offset_s", "same"), [(59, True), (60, True), (61, False)])
def test_a_gpx_export_matches_the_fit_within_60_seconds(offset_s: int, same: bool) -> None:
    gpx = activity_fingerprints(gpx_copy(DEFAULT_START + timedelta(seconds=offset_s)))
    assert is_same_activity(fingerprint(), gpx) is same


def test_the_window_can_be_narrowed() -> None:
    later = fingerprint(DEFAULT_START + timedelta(seconds=20), serial_number=2222)
    assert is_same_activity(fingerprint(), later, window_s=30)
    assert not is_same_activity(fingerprint(), later, window_s=10)


def test_the_same_recording_as_fit_and_tcx_matches_on_the_device_even_when_the_sports_disagree() -> None:
    fit = fingerprint(sport="training")
    tcx = activity_fingerprints(tcx_copy(sport="Biking"))
    assert tcx["serial"] == fit["serial"] and tcx["manufacturer"] is None
    assert fit["device_key"] != tcx["device_key"]  # the product is named differently by each format
    assert is_same_activity(fit, tcx)


def test_different_sports_starting_together_are_not_the_same_activity() -> None:
    run = fingerprint(serial_number=1111)
    ride = fingerprint(DEFAULT_START + timedelta(seconds=10), sport="cycling", serial_number=2222)
    assert not is_same_activity(run, ride)


def test_a_file_that_does_not_tell_its_sport_matches_any_sport() -> None:
    untyped = activity_fingerprints(gpx_copy(DEFAULT_START + timedelta(seconds=5), kind=None))
    assert untyped["sport"] is None
    assert is_same_activity(fingerprint(sport="cycling"), untyped)


def test_an_activity_without_a_start_time_is_never_a_duplicate() -> None:
    undated = Activity(t=np.arange(600.0), start_time=None, sport="running")
    fp = activity_fingerprints(undated)
    assert fp["start_time"] is None and fp["device_key"] is None
    assert not is_same_activity(fp, fp)
    assert not is_same_activity(fp, fingerprint())


def test_one_device_recording_twice_in_a_minute_gives_two_activities() -> None:
    false_start = fingerprint(minutes=0.3)  # saved after 18 s
    real = fingerprint(DEFAULT_START + timedelta(seconds=40))
    assert not is_same_activity(false_start, real)


def test_a_trimmed_export_of_the_same_recording_still_matches() -> None:
    trimmed = activity_fingerprints(tcx_copy(DEFAULT_START + timedelta(seconds=8), n=592))
    assert is_same_activity(fingerprint(), trimmed)


def test_the_legs_of_a_multisport_file_are_not_duplicates_of_each_other_but_match_a_re_export() -> None:
    swim = [{"t": t, "heart_rate": 130} for t in range(0, 40)]
    bike = [{"t": t, "heart_rate": 145, "power": 200} for t in range(45, 1845)]
    sessions = [
        {"start_time": DEFAULT_START, "total_elapsed_time": 40, "sport": "swimming"},
        {
            "start_time": DEFAULT_START + timedelta(seconds=45),
            "total_elapsed_time": 1800,
            "sport": "swimming",
        },
    ]
    data = build_fit(swim + bike, sessions=sessions, manufacturer="garmin", serial_number=SERIAL)
    first, second = (activity_fingerprints(a) for a in parse_fit(data).activities)
    assert (first["leg_index"], second["leg_index"]) == (0, 1)
    assert not is_same_activity(first, second)  # same device, same sport, 45 s apart, one after the other
    again = [activity_fingerprints(a) for a in parse_fit(data).activities]
    assert is_same_activity(first, again[0]) and is_same_activity(second, again[1])
