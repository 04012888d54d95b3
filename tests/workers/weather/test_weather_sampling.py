"""Where and when the weather is sampled along a session, and how the samples become one observation."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from fitgen import build_fit, steady_records
from support.gps import BERLIN, gps_run_fit
from workers.activity import Activity
from workers.formats.detect import parse_any
from workers.weather.provider import HourlyObservation
from workers.weather.sampling import SamplePoint, average, nearest_hour, round_place, sample_points

START = datetime(2024, 7, 1, 8, 10, tzinfo=UTC)


def track(hours: float, *, lat0: float = 52.52, lon0: float = 13.38, dlon_per_h: float = 0.3) -> Activity:
    t = np.arange(0.0, hours * 3600 + 1, 60.0)
    return Activity(
        t=t, start_time=START, sport="cycling", lat=np.full(t.size, lat0), lon=lon0 + dlon_per_h * t / 3600
    )


def test_it_reads_the_gps_track_of_a_fit_file_in_degrees() -> None:
    (activity,) = parse_any(gps_run_fit(10), "fit", max_decompressed=10**8).activities
    assert activity.lat is not None and activity.lon is not None
    assert activity.lat[0] == pytest.approx(BERLIN[0], abs=1e-6)
    assert activity.lon[0] == pytest.approx(BERLIN[1], abs=1e-6)
    assert activity.lon[-1] > activity.lon[0]


def test_a_file_without_positions_has_no_track_and_no_samples() -> None:
    (activity,) = parse_any(
        build_fit(steady_records(10), sport="running"), "fit", max_decompressed=10**8
    ).activities
    assert activity.lat is None and sample_points(activity, 0.1) == []


def test_a_short_session_is_sampled_at_start_middle_and_end_on_the_nearest_hours() -> None:
    points = sample_points(track(1.5), 0.1)
    # 08:10 -> 08:00, 08:55 -> 09:00, 09:40 -> 10:00; the place moves east by 0.45° over the ride.
    assert [p.hour.hour for p in points] == [8, 9, 10]
    assert [(p.lat, p.lon) for p in points] == [(52.5, 13.4), (52.5, 13.6), (52.5, 13.8)]


def test_a_long_session_is_sampled_every_hour_along_the_track() -> None:
    points = sample_points(track(5.0), 0.1)
    assert len(points) == 6  # t = 0, 1, 2, 3, 4 h and the end
    assert [p.hour.hour for p in points] == [8, 9, 10, 11, 12, 13]


def test_samples_at_one_place_and_hour_are_asked_once() -> None:
    assert len(sample_points(track(0.3, dlon_per_h=0.0), 0.1)) == 1


def test_the_place_is_rounded_to_the_grid_that_may_leave_the_server() -> None:
    assert round_place(52.5163, 13.3777, 0.1) == (525000, 134000)
    assert round_place(-33.8688, 151.2093, 0.5) == (-340000, 1510000)
    assert nearest_hour(datetime(2024, 7, 1, 8, 30, tzinfo=UTC)).hour == 9


def test_the_observation_averages_the_samples_that_have_temperature_and_humidity() -> None:
    hour = datetime(2024, 7, 1, 8, tzinfo=UTC)
    p1, p2, p3 = (SamplePoint(525000, 134000 + i, hour) for i in range(3))
    obs = average(
        [
            (p1, HourlyObservation(hour, 20.0, 60.0, 2.0, 10.0, 500.0)),
            (p2, HourlyObservation(hour, 24.0, 40.0, None, 30.0, 700.0)),
            (p3, HourlyObservation(hour, None, None)),
        ],
        "open-meteo",
    )
    assert obs is not None
    assert (obs.temp_c, obs.humidity_pct, obs.wind_ms, obs.cloud_cover_pct, obs.shortwave_w_m2) == (
        22.0,
        50.0,
        2.0,
        20.0,
        600.0,
    )
    assert (obs.samples, obs.lat, obs.lon, obs.provider) == (2, 52.5, 13.4, "open-meteo")
    assert average([(p3, HourlyObservation(hour, None, None))], "open-meteo") is None


def test_a_gpx_track_carries_its_positions_too() -> None:
    points = "".join(
        f'<trkpt lat="{48.137 + i * 0.0001}" lon="11.575"><time>2024-07-01T08:{i // 60:02d}:{i % 60:02d}Z'
        "</time></trkpt>"
        for i in range(0, 600, 5)
    )
    gpx = (
        '<?xml version="1.0"?><gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><type>running</type><trkseg>{points}</trkseg></trk></gpx>"
    ).encode()
    (activity,) = parse_any(gpx, "gpx", max_decompressed=10**8).activities
    assert activity.lat is not None and activity.lon is not None
    assert activity.lat[-1] == pytest.approx(48.1965) and activity.lon[0] == pytest.approx(11.575)
    assert [(p.lat, p.lon, p.hour.hour) for p in sample_points(activity, 0.1)] == [
        (48.1, 11.6, 8),
        (48.2, 11.6, 8),
    ]
