"""TCX and GPX readers on files synthesized here (no real exports are copied), and hostile XML."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree

import numpy as np
import pytest

from workers.activity import FileRejected
from workers.formats.gpx import parse_gpx
from workers.formats.tcx import parse_tcx

START = datetime(2024, 7, 1, 8, 0, tzinfo=UTC)
TCX_NS = (
    'xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2" '
    'xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)
GPX_NS = (
    'xmlns="http://www.topografix.com/GPX/1/1" '
    'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1" '
    'xmlns:pwr="http://www.garmin.com/xmlschemas/PowerExtension/v1"'
)


def iso(t: float, start: datetime = START) -> str:
    return (start + timedelta(seconds=t)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


# -- TCX synthesis ----------------------------------------------------------------------------------


def tcx_point(t: float, start: datetime = START, **v: Any) -> str:
    """A Trackpoint: v may hold lat, lon, alt, dist, hr, cad, speed, watts, temp, time (raw text)."""
    parts = [f"<Time>{v.get('time', iso(t, start))}</Time>"]
    if "lat" in v:
        parts.append(
            f"<Position><LatitudeDegrees>{v['lat']}</LatitudeDegrees>"
            f"<LongitudeDegrees>{v['lon']}</LongitudeDegrees></Position>"
        )
    if "alt" in v:
        parts.append(f"<AltitudeMeters>{v['alt']}</AltitudeMeters>")
    if "dist" in v:
        parts.append(f"<DistanceMeters>{v['dist']}</DistanceMeters>")
    if "hr" in v:
        parts.append(f"<HeartRateBpm><Value>{v['hr']}</Value></HeartRateBpm>")
    if "cad" in v:
        parts.append(f"<Cadence>{v['cad']}</Cadence>")
    ext = ""
    if "speed" in v:
        ext += f"<ns3:Speed>{v['speed']}</ns3:Speed>"
    if "watts" in v:
        ext += f"<ns3:Watts>{v['watts']}</ns3:Watts>"
    if ext or "temp" in v:
        temp = f"<ns3:Temperature>{v['temp']}</ns3:Temperature>" if "temp" in v else ""
        parts.append(f"<Extensions><ns3:TPX>{ext}{temp}</ns3:TPX></Extensions>")
    return "<Trackpoint>" + "".join(parts) + "</Trackpoint>"


def tcx_lap(tracks: list[list[str]], start: datetime = START, **totals: Any) -> str:
    meta = ""
    if "time" in totals:
        meta += f"<TotalTimeSeconds>{totals['time']}</TotalTimeSeconds>"
    if "dist" in totals:
        meta += f"<DistanceMeters>{totals['dist']}</DistanceMeters>"
    if "calories" in totals:
        meta += f"<Calories>{totals['calories']}</Calories>"
    if "avg_hr" in totals:
        meta += f"<AverageHeartRateBpm><Value>{totals['avg_hr']}</Value></AverageHeartRateBpm>"
    if "max_hr" in totals:
        meta += f"<MaximumHeartRateBpm><Value>{totals['max_hr']}</Value></MaximumHeartRateBpm>"
    body = "".join("<Track>" + "".join(points) + "</Track>" for points in tracks)
    lx = ""
    if "avg_watts" in totals:
        lx = f"<Extensions><ns3:LX><ns3:AvgWatts>{totals['avg_watts']}</ns3:AvgWatts></ns3:LX></Extensions>"
    return f'<Lap StartTime="{iso(0, start)}">{meta}{body}{lx}</Lap>'


CREATOR = (
    '<Creator xsi:type="Device_t"><Name>Forerunner 965</Name><UnitId>3456789012</UnitId>'
    "<ProductID>4315</ProductID><Version><VersionMajor>19</VersionMajor><VersionMinor>18</VersionMinor>"
    "</Version></Creator>"
)


def tcx_activity(
    laps: list[str], sport: str = "Running", creator: str = CREATOR, start: datetime = START
) -> str:
    return f'<Activity Sport="{sport}"><Id>{iso(0, start)}</Id>{"".join(laps)}{creator}</Activity>'


def tcx_file(*activities: str, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>\n') -> bytes:
    return (
        f"{prolog}<TrainingCenterDatabase {TCX_NS}><Activities>{''.join(activities)}</Activities>"
        "</TrainingCenterDatabase>"
    ).encode()


def run_points(n: int, start: datetime = START, *, t0: float = 0, **fixed: Any) -> list[str]:
    """n points, 1 s apart, moving north 3 m/s from 45N 7E, with the given fixed values."""
    out = []
    for i in range(n):
        t = t0 + i
        values = {"lat": f"{45 + 3 * t / 111_195:.7f}", "lon": "7.0", "alt": 100 + i % 5, "dist": 3.0 * t}
        values.update(fixed)
        out.append(tcx_point(t, start, **values))
    return out


def only_tcx(data: bytes):
    result = parse_tcx(data)
    assert len(result.activities) == 1
    return result.activities[0]


def reason_of(parse, data: bytes, **kwargs: Any) -> str:
    with pytest.raises(FileRejected) as info:
        parse(data, **kwargs)
    return info.value.reason


# -- TCX --------------------------------------------------------------------------------------------


def test_a_tcx_run_with_garmin_extensions_gives_every_channel_it_carries() -> None:
    points = run_points(120, hr=151, cad=88, speed=3.25, watts=312, temp=27.5)
    activity = only_tcx(tcx_file(tcx_activity([tcx_lap([points], time=119, dist=357, calories=30)])))
    ch = activity.channels
    assert activity.t[0] == 0 and activity.t[-1] == 119 and activity.t.size == 120
    assert activity.start_time == START and activity.start_time.tzinfo is not None
    assert np.all(ch["heart_rate"] == 151) and np.all(ch["power"] == 312)
    assert np.all(ch["speed"] == pytest.approx(3.25)) and np.all(ch["cadence"] == 88)
    assert np.all(ch["temperature"] == 27.5)
    assert ch["distance"][-1] == pytest.approx(357) and ch["altitude"][3] == 103
    assert ch["core_temperature"] is None and ch["grade"] is None
    assert activity.sport == "running" and activity.indoor is False
    assert activity.device == {
        "product_name": "Forerunner 965",
        "product": 4315,
        "serial_number": 3456789012,
        "software_version": "19.18",
    }
    assert activity.summary["total_timer_time"] == 119 and activity.summary["total_calories"] == 30
    assert activity.summary["start_time"] == START
    assert activity.decoder == "tcx:defusedxml" and activity.warnings == []


def test_each_tcx_activity_becomes_its_own_activity_in_file_order() -> None:
    ride_start = START + timedelta(hours=3)
    run = tcx_activity([tcx_lap([run_points(60, hr=150)])], "Running")
    ride = tcx_activity(
        [tcx_lap([run_points(90, ride_start, watts=220)], ride_start)], "Biking", start=ride_start
    )
    result = parse_tcx(tcx_file(run, ride))
    assert [(a.sport, a.leg_index) for a in result.activities] == [("running", 0), ("cycling", 1)]
    first, second = result.activities
    assert second.start_time == ride_start and second.t.size == 90
    assert first.channels["power"] is None and np.all(second.channels["power"] == 220)


def test_the_laps_of_one_activity_are_joined_and_their_totals_added_up() -> None:
    lap1 = tcx_lap(
        [run_points(60, hr=140)], time=60, dist=180, calories=10, avg_hr=140, max_hr=150, avg_watts=200
    )
    lap2 = tcx_lap(
        [run_points(120, t0=60, hr=160)],
        time=120,
        dist=360,
        calories=25,
        avg_hr=160,
        max_hr=175,
        avg_watts=260,
    )
    activity = only_tcx(tcx_file(tcx_activity([lap1, lap2])))
    assert activity.t.size == 180 and activity.pauses == []
    s = activity.summary
    assert s["total_timer_time"] == 180 and s["total_distance"] == 540 and s["total_calories"] == 35
    assert s["avg_heart_rate"] == pytest.approx((140 * 60 + 160 * 120) / 180) and s["max_heart_rate"] == 175
    assert s["avg_power"] == pytest.approx(240)


def test_a_timer_stop_between_two_tracks_becomes_a_pause() -> None:
    lap = tcx_lap([run_points(60, hr=140), run_points(60, t0=300, hr=140)])
    activity = only_tcx(tcx_file(tcx_activity([lap])))
    assert activity.pauses == [(59.0, 300.0)]


def test_an_indoor_tcx_without_positions_keeps_heart_rate_and_power() -> None:
    points = [tcx_point(t, hr=130, watts=180, cad=90) for t in range(0, 600, 2)]
    activity = only_tcx(tcx_file(tcx_activity([tcx_lap([points])], "Biking", creator="")))
    assert activity.t.size == 300 and activity.indoor is None and activity.device == {}
    assert np.all(activity.channels["power"] == 180) and activity.channels["distance"] is None
    assert activity.channels["speed"] is None


def test_distance_and_speed_come_from_positions_when_the_tcx_has_neither() -> None:
    points = [tcx_point(t, lat=f"{45 + 4 * t / 111_195:.7f}", lon="7.0", hr=150) for t in range(100)]
    activity = only_tcx(tcx_file(tcx_activity([tcx_lap([points])])))
    assert activity.channels["distance"][-1] == pytest.approx(396, rel=2e-3)
    assert np.nanmedian(activity.channels["speed"]) == pytest.approx(4.0, rel=2e-3)
    assert activity.summary["derived_channels"] == ["distance", "speed"]


def test_times_with_an_offset_are_converted_to_utc() -> None:
    local = [
        tcx_point(t, time=(START + timedelta(seconds=t)).strftime("%Y-%m-%dT%H:%M:%S+02:00"), hr=140)
        for t in range(30)
    ]
    activity = only_tcx(tcx_file(tcx_activity([tcx_lap([local])])))
    assert activity.start_time == START - timedelta(hours=2)


def test_times_without_a_zone_are_read_as_utc_with_a_warning() -> None:
    naive = [tcx_point(t, time=iso(t).removesuffix("Z"), hr=140) for t in range(30)]
    activity = only_tcx(tcx_file(tcx_activity([tcx_lap([naive])])))
    assert activity.start_time == START
    assert "the TCX file's times carry no time zone; they were read as UTC" in activity.warnings


def test_points_whose_time_goes_backwards_are_dropped_with_a_warning() -> None:
    points = run_points(40, hr=140)
    points.insert(20, tcx_point(5, hr=99))
    activity = only_tcx(tcx_file(tcx_activity([tcx_lap([points])])))
    assert activity.t.size == 40 and not np.any(activity.channels["heart_rate"] == 99)
    assert any("goes backwards" in w for w in activity.warnings)


def test_a_multisport_tcx_gives_one_activity_per_leg_and_skips_the_transition() -> None:
    bike_start = START + timedelta(minutes=20)
    swim = tcx_activity([tcx_lap([run_points(60, hr=120)])], "Other")
    transition = f"<Transition>{tcx_lap([run_points(30, START + timedelta(minutes=5), hr=130)])}</Transition>"
    bike = tcx_activity(
        [tcx_lap([run_points(90, bike_start, watts=200)], bike_start)], "Biking", start=bike_start
    )
    session = (
        f"<MultiSportSession><Id>{iso(0)}</Id><FirstSport>{swim}</FirstSport>"
        f"<NextSport>{transition}{bike}</NextSport></MultiSportSession>"
    )
    result = parse_tcx(tcx_file(session))
    assert [(a.sport, a.leg_index, a.t.size) for a in result.activities] == [
        ("generic", 0, 60),
        ("cycling", 1, 90),
    ]
    assert any("transitions" in w for w in result.activities[0].warnings)


def test_a_tcx_cut_off_part_way_keeps_the_points_before_the_break() -> None:
    data = tcx_file(tcx_activity([tcx_lap([run_points(200, hr=140)])]))
    activity = only_tcx(data[: len(data) * 2 // 3])
    assert activity.partial and 100 < activity.t.size < 200
    assert any("cut off or damaged" in w for w in activity.warnings)


def test_a_tcx_course_is_refused_as_a_planned_route() -> None:
    course = (
        f"<TrainingCenterDatabase {TCX_NS}><Courses><Course><Name>Loop</Name><Track>"
        + "".join(run_points(50))
        + "</Track></Course></Courses></TrainingCenterDatabase>"
    ).encode()
    assert "course (a planned route)" in reason_of(parse_tcx, course)


def test_a_tcx_without_track_points_is_refused() -> None:
    assert reason_of(parse_tcx, tcx_file(tcx_activity([tcx_lap([])]))) == "no track points in this TCX file"


def test_a_tcx_with_a_handful_of_points_is_too_little_data() -> None:
    reason = reason_of(parse_tcx, tcx_file(tcx_activity([tcx_lap([run_points(5)])])))
    assert reason == "too little data to be an activity (5 track points)"


def test_an_xml_file_of_another_kind_is_not_taken_for_a_tcx() -> None:
    assert "not a TCX file: its main element is <kml>" in reason_of(parse_tcx, b"<kml><Document/></kml>")


# -- GPX synthesis ----------------------------------------------------------------------------------


def gpx_point(t: float, lat: float, lon: float = 7.0, start: datetime = START, **v: Any) -> str:
    ext = ""
    tpx = "".join(f"<gpxtpx:{k}>{v[k]}</gpxtpx:{k}>" for k in ("atemp", "hr", "cad") if k in v)
    if tpx:
        ext += f"<gpxtpx:TrackPointExtension>{tpx}</gpxtpx:TrackPointExtension>"
    if "power" in v:
        ext += f"<power>{v['power']}</power>"
    ele = f"<ele>{v['ele']}</ele>" if "ele" in v else ""
    time = "" if v.get("untimed") else f"<time>{v.get('time', iso(t, start))}</time>"
    extensions = f"<extensions>{ext}</extensions>" if ext else ""
    return f'<trkpt lat="{lat:.7f}" lon="{lon:.7f}">{ele}{time}{extensions}</trkpt>'


def gpx_file(*tracks: str, creator: str = "Garmin Connect", encoding: str = "UTF-8") -> bytes:
    body = "".join(tracks)
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        f'<gpx version="1.1" creator="{creator}" {GPX_NS}>'
        f"<metadata><time>{iso(0)}</time></metadata>{body}</gpx>"
    ).encode(encoding)


def gpx_track(*segments: list[str], kind: str | None = "running", name: str = "Morning Run") -> str:
    type_ = f"<type>{kind}</type>" if kind else ""
    body = "".join("<trkseg>" + "".join(points) + "</trkseg>" for points in segments)
    return f"<trk><name>{name}</name>{type_}{body}</trk>"


def northward(n: int, *, t0: int = 0, every_s: int = 1, speed: float = 3.0, **v: Any) -> list[str]:
    return [gpx_point(t, 45 + speed * t / 111_195, **v) for t in range(t0, t0 + n * every_s, every_s)]


def only_gpx(data: bytes):
    result = parse_gpx(data)
    assert len(result.activities) == 1
    return result.activities[0]


# -- GPX --------------------------------------------------------------------------------------------


def test_a_gpx_with_garmin_extensions_gives_heart_rate_cadence_temperature_and_power() -> None:
    activity = only_gpx(gpx_file(gpx_track(northward(300, hr=148, cad=86, atemp=31, power=255, ele=250.5))))
    ch = activity.channels
    assert activity.t.size == 300 and activity.start_time == START
    assert np.all(ch["heart_rate"] == 148) and np.all(ch["cadence"] == 86)
    assert np.all(ch["temperature"] == 31) and np.all(ch["power"] == 255)
    assert np.all(ch["altitude"] == 250.5)
    assert activity.sport == "running" and activity.indoor is False
    assert activity.decoder == "gpx:gpxpy" and activity.device == {"creator": "Garmin Connect"}
    assert activity.summary["name"] == "Morning Run" and activity.warnings == []


def test_gpx_distance_is_the_haversine_path_and_speed_is_derived_from_it() -> None:
    activity = only_gpx(gpx_file(gpx_track(northward(101, speed=3.0))))
    distance = activity.channels["distance"]
    assert distance[0] == 0 and distance[-1] == pytest.approx(300.0, rel=1e-4)
    assert np.all(np.diff(distance) > 0)
    assert math.isnan(activity.channels["speed"][0])
    assert activity.channels["speed"][1:] == pytest.approx(np.full(100, 3.0), rel=5e-3)  # 7-decimal degrees


def test_a_break_between_gpx_segments_is_a_pause_and_adds_no_distance() -> None:
    first = northward(60)
    second = [gpx_point(t, 46.0) for t in range(400, 460)]  # 100 km away: moved with the timer off
    activity = only_gpx(gpx_file(gpx_track(first, second)))
    assert activity.pauses == [(59.0, 400.0)]
    assert activity.channels["distance"][-1] == pytest.approx(59 * 3.0, rel=1e-3)


def test_each_gpx_track_becomes_its_own_activity() -> None:
    later = START + timedelta(hours=5)
    ride = [gpx_point(t, 45.5 + t / 20_000, start=later) for t in range(50)]
    result = parse_gpx(gpx_file(gpx_track(northward(40)), gpx_track(ride, kind="road_biking", name="Ride")))
    assert [(a.sport, a.sub_sport, a.leg_index) for a in result.activities] == [
        ("running", None, 0),
        ("cycling", "road", 1),
    ]
    assert result.activities[1].start_time == later


def test_a_gpx_without_a_type_has_no_sport() -> None:
    assert only_gpx(gpx_file(gpx_track(northward(30), kind=None))).sport is None


def test_a_gpx_in_latin_1_is_read_with_its_declared_encoding() -> None:
    activity = only_gpx(gpx_file(gpx_track(northward(30), name="Côte à côte"), encoding="ISO-8859-1"))
    assert activity.summary["name"] == "Côte à côte"


def test_a_gpx_without_track_points_is_refused() -> None:
    assert reason_of(parse_gpx, gpx_file()) == "no track points in this GPX file"
    waypoint_only = gpx_file('<wpt lat="45" lon="7"><name>Hut</name></wpt>')
    assert reason_of(parse_gpx, waypoint_only) == "no track points in this GPX file"


def test_a_gpx_route_is_refused_as_a_planned_course() -> None:
    route = gpx_file("<rte>" + "".join(f'<rtept lat="45.{i}" lon="7"/>' for i in range(20)) + "</rte>")
    assert "it holds a route (a planned course)" in reason_of(parse_gpx, route)


def test_a_gpx_track_without_times_is_refused_as_a_planned_route() -> None:
    reason = reason_of(parse_gpx, gpx_file(gpx_track(northward(30, untimed=True))))
    assert "have no times" in reason


def test_a_gpx_with_an_unreadable_time_is_refused_with_the_reason() -> None:
    reason = reason_of(parse_gpx, gpx_file(gpx_track(northward(20, time="yesterday"))))
    assert (
        reason == "the times of the track points in this GPX file could not be read (for example 'yesterday')"
    )


# -- hostile XML ------------------------------------------------------------------------------------

LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE {root} [\n<!ENTITY lol "lol">\n'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10)
    )
    + "]>\n"
)


def test_a_billion_laughs_tcx_is_refused_at_its_doctype() -> None:
    data = (
        LAUGHS.format(root="TrainingCenterDatabase") + f"<TrainingCenterDatabase {TCX_NS}>"
        "<Activities><Activity Sport='Running'><Id>&lol9;</Id></Activity></Activities>"
        "</TrainingCenterDatabase>"
    ).encode()
    assert "declares an XML document type (DOCTYPE)" in reason_of(parse_tcx, data)


def test_a_billion_laughs_gpx_is_refused_at_its_doctype() -> None:
    data = (
        LAUGHS.format(root="gpx") + f'<gpx version="1.1" {GPX_NS}><trk><name>&lol9;</name></trk></gpx>'
    ).encode()
    assert "declares an XML document type (DOCTYPE)" in reason_of(parse_gpx, data)


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE gpx [<!ENTITY secret SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE gpx SYSTEM "http://127.0.0.1:9/gpx.dtd">',
        '<!DOCTYPE gpx [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd"> %remote;]>',
    ],
    ids=["external-entity", "external-dtd", "parameter-entity"],
)
def test_external_entities_and_dtds_are_refused_without_being_fetched(doctype: str) -> None:
    data = (
        f'<?xml version="1.0"?>{doctype}<gpx {GPX_NS}><trk><name>&secret;</name>'
        + gpx_track(northward(20))
        + "</trk></gpx>"
    ).encode()
    assert "declares an XML document type (DOCTYPE)" in reason_of(parse_gpx, data)
    tcx = data.replace(b"<!DOCTYPE gpx", b"<!DOCTYPE TrainingCenterDatabase")
    tcx = tcx.replace(b"<gpx ", b"<TrainingCenterDatabase ").replace(b"</gpx>", b"</TrainingCenterDatabase>")
    assert "declares an XML document type (DOCTYPE)" in reason_of(parse_tcx, tcx)


def test_files_over_the_point_cap_are_refused_and_files_at_it_are_read() -> None:
    tcx = tcx_file(tcx_activity([tcx_lap([run_points(50, hr=140)])]))
    assert only_tcx(tcx).t.size == 50
    assert parse_tcx(tcx, max_points=50).activities[0].t.size == 50
    assert "more than 49 track points" in reason_of(parse_tcx, tcx, max_points=49)
    gpx = gpx_file(gpx_track(northward(50)))
    assert parse_gpx(gpx, max_points=50).activities[0].t.size == 50
    assert "more than 49 track points" in reason_of(parse_gpx, gpx, max_points=49)


def test_a_gpx_that_would_stall_gpxpys_namespace_scan_is_refused() -> None:
    trap = gpx_file(gpx_track(northward(20), name=" xmlns" * 50_000))
    assert "cannot process safely" in reason_of(parse_gpx, trap)


def test_a_gpx_declaring_hundreds_of_namespaces_is_refused() -> None:
    declarations = " ".join(f'xmlns:p{i}="urn:x:{i}"' for i in range(200))
    data = gpx_file(gpx_track(northward(20))).replace(b"<gpx ", f"<gpx {declarations} ".encode())
    assert "declares 202 XML namespaces" in reason_of(parse_gpx, data)  # 200 + gpxtpx and pwr


def test_reading_a_gpx_leaves_elementtrees_namespace_registry_as_it_was() -> None:
    before = dict(ElementTree._namespace_map)
    declarations = " ".join(f'xmlns:vendor{i}="urn:sweatsync-test:{i}"' for i in range(10))
    parse_gpx(gpx_file(gpx_track(northward(20))).replace(b"<gpx ", f"<gpx {declarations} ".encode()))
    assert ElementTree._namespace_map == before


def test_broken_xml_is_refused_as_not_well_formed() -> None:
    assert "not well-formed XML" in reason_of(parse_gpx, gpx_file(gpx_track(northward(20)))[:-40])
    assert "not readable XML" in reason_of(parse_tcx, b"<Training")


def test_a_file_of_millions_of_empty_elements_is_refused_by_the_element_cap() -> None:
    padding = "<Notes>" + "<x/>" * 20_000 + "</Notes>"
    data = tcx_file(tcx_activity([tcx_lap([run_points(10)]), padding]))
    assert "more than 10,400 XML elements" in reason_of(parse_tcx, data, max_points=10)
    assert only_tcx(data).t.size == 10
    gpx = gpx_file(gpx_track(northward(10)), "<wpt lat='1' lon='2'>" + "<x/>" * 20_000 + "</wpt>")
    assert "more than 10,400 XML elements" in reason_of(parse_gpx, gpx, max_points=10)


def test_utf16_files_with_a_byte_order_mark_are_read() -> None:
    tcx = tcx_file(
        tcx_activity([tcx_lap([run_points(30, hr=140)])]), prolog='<?xml version="1.0" encoding="UTF-16"?>'
    )
    assert only_tcx(tcx.decode().encode("utf-16")).t.size == 30
    gpx = gpx_file(gpx_track(northward(30, hr=150)), encoding="UTF-16")
    assert np.all(only_gpx(gpx).channels["heart_rate"] == 150)
