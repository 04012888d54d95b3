"""workers.fit on synthesized files (tests/fitgen.py): channels, summaries, hints, faults, hostile input."""

from __future__ import annotations

import gzip
import io
import random
import struct
from datetime import UTC, timedelta

import fitparse.records
import numpy as np
import pytest

from fitgen import (
    CORE_APP_ID,
    DEFAULT_START,
    STRYD_APP_ID,
    DevField,
    build_fit,
    crc16,
    fit_file,
    hr_messages,
    steady_records,
)
from workers.activity import FitRejected
from workers.fit import decompress_gzip_capped, parse_fit, sniff_fit_header
from workers.fit.crc import crc16 as fast_crc16
from workers.fit.crc import crc16_simple


def only(data: bytes):
    result = parse_fit(data)
    assert len(result.activities) == 1
    return result.activities[0]


def rejected(data: bytes) -> str:
    with pytest.raises(FitRejected) as info:
        parse_fit(data)
    return info.value.reason


def cut(data: bytes, size: int) -> bytes:
    return data[:size]


# -- channels and summaries ------------------------------------------------------------------------


def test_it_reads_every_channel_back_in_profile_units() -> None:
    records = steady_records(5, hr=152, speed_ms=4.125, power=240, temp_c=-4, cadence=91, altitude_m=1234.6)
    for i, record in enumerate(records):
        record["grade"] = -2.5
        record["core_temperature"] = 38.0 + i / 1000
        record["position_lat"] = 545_000_000
    activity = only(build_fit(records, sport="running", sub_sport="trail"))
    ch = activity.channels
    assert ch["heart_rate"][0] == 152
    assert ch["speed"][0] == pytest.approx(4.125)
    assert ch["power"][0] == 240
    assert ch["temperature"][0] == -4
    assert ch["cadence"][0] == 91
    assert ch["altitude"][0] == pytest.approx(1234.6)
    assert ch["grade"][0] == pytest.approx(-2.5)
    assert ch["core_temperature"][100] == pytest.approx(38.1)
    assert ch["distance"][-1] == pytest.approx(4.125 * 300)
    assert ch["skin_temperature"] is None
    assert all(arr is None or arr.dtype == np.float64 for arr in ch.values())
    assert activity.t[0] == 0 and activity.t[-1] == 300 and np.all(np.diff(activity.t) >= 0)
    assert activity.start_time == DEFAULT_START and activity.start_time.tzinfo is UTC
    assert (activity.sport, activity.sub_sport, activity.indoor) == ("running", "trail", False)
    assert activity.decoder == "numpy" and not activity.partial


def test_it_falls_back_to_the_legacy_speed_and_altitude_fields() -> None:
    records = [{"t": t, "speed": 2.5, "altitude": 100.0 + t / 10, "heart_rate": 120} for t in range(120)]
    ch = only(build_fit(records)).channels
    assert ch["speed"][5] == pytest.approx(2.5)
    assert ch["altitude"][50] == pytest.approx(105.0)


def test_it_marks_missing_samples_nan_and_uncarried_channels_none() -> None:
    records = steady_records(3, hr=140, speed_ms=3.0, power=None)
    for record in records[10:20]:
        del record["heart_rate"]
    ch = only(build_fit(records)).channels
    assert np.isnan(ch["heart_rate"][10:20]).all() and ch["heart_rate"][9] == 140
    assert ch["power"] is None and ch["temperature"] is None


def test_it_takes_the_first_value_of_a_field_written_as_an_array() -> None:
    records = steady_records(3)
    for record in records:
        record["heart_rate"] = (150, 151)
    hr = only(build_fit(records)).channels["heart_rate"]
    assert hr.shape == (181,) and hr[0] == 150


def test_it_summarises_the_session_including_garmin_sweat_and_fluid_fields() -> None:
    session = {
        "total_calories": 910,
        "avg_heart_rate": 148,
        "max_heart_rate": 171,
        "avg_power": 205,
        "normalized_power": 221,
        "training_stress_score": 88.4,
        "avg_temperature": 27,
        "max_temperature": 33,
        "min_temperature": 21,
        "sweat_loss": 1454,
        "fluid_consumed": 1350,
        "avg_core_temperature": 38.21,
    }
    activity = only(build_fit(steady_records(30, power=200), sport="cycling", session=session))
    s = activity.summary
    assert s["sweat_loss_ml"] == 1454 and s["fluid_consumed_ml"] == 1350
    assert s["total_elapsed_time"] == pytest.approx(1800) and s["total_timer_time"] == pytest.approx(1800)
    assert s["total_distance"] == pytest.approx(5400)
    assert (s["avg_temperature"], s["max_temperature"], s["min_temperature"]) == (27, 33, 21)
    assert s["training_stress_score"] == pytest.approx(88.4)
    assert s["avg_core_temperature"] == pytest.approx(38.21)
    assert s["start_time"] == DEFAULT_START
    assert (s["avg_heart_rate"], s["max_heart_rate"], s["avg_power"], s["normalized_power"]) == (
        148,
        171,
        205,
        221,
    )


def test_it_treats_a_zero_timer_time_as_missing_and_keeps_the_records() -> None:
    activity = only(build_fit(steady_records(10), session={"total_timer_time": 0}))
    assert "total_timer_time" not in activity.summary
    assert activity.duration_s == pytest.approx(600)


def test_it_reads_the_device_from_file_id() -> None:
    activity = only(
        build_fit(steady_records(5), manufacturer="garmin", product=3121, serial_number=3301972258)
    )
    assert activity.device["manufacturer"] == "garmin"
    assert activity.device["product"] == "edge_530"  # named from the newer profile table
    assert activity.device["serial_number"] == 3301972258


@pytest.mark.parametrize(
    ("sport", "sub_sport", "gps", "indoor"),
    [
        ("cycling", "indoor_cycling", False, True),
        ("cycling", "virtual_activity", True, True),
        ("running", "treadmill", False, True),
        ("running", "indoor_running", False, True),
        ("rowing", "indoor_rowing", False, True),
        ("walking", "indoor_walking", False, True),
        ("cycling", "spin", False, True),
        ("cycling", "road", True, False),
        ("running", "generic", False, None),
    ],
)
def test_it_tells_indoor_from_outdoor_by_sub_sport_and_gps(
    sport: str, sub_sport: str, gps: bool, indoor
) -> None:
    records = steady_records(2)
    if gps:
        for record in records:
            record["position_lat"], record["position_long"] = 545_000_000, -12_000_000
    assert only(build_fit(records, sport=sport, sub_sport=sub_sport)).indoor is indoor


# -- developer fields ------------------------------------------------------------------------------


def with_dev(records: list[dict], **values: float) -> list[dict]:
    for record in records:
        record["dev"] = dict(values)
    return records


def test_it_reads_core_and_skin_temperature_from_the_core_developer_fields() -> None:
    core = [
        DevField("core_temperature", units="°C", native_field=139, app_id=CORE_APP_ID),
        DevField("skin_temperature", units="°C", app_id=CORE_APP_ID),
    ]
    records = with_dev(steady_records(5, core_c=None), core_temperature=38.4, skin_temperature=34.25)
    ch = only(build_fit(records, developer_fields=core)).channels
    assert ch["core_temperature"][0] == pytest.approx(38.4)
    assert ch["skin_temperature"][0] == pytest.approx(34.25)


def test_it_prefers_the_native_core_temperature_over_the_developer_field() -> None:
    core = [DevField("core_temperature", native_field=139, app_id=CORE_APP_ID)]
    records = with_dev(steady_records(5, core_c=37.9), core_temperature=39.5)
    assert only(build_fit(records, developer_fields=core)).channels["core_temperature"][0] == pytest.approx(
        37.9
    )


def test_it_applies_a_developer_fields_declared_scale() -> None:
    skin = [DevField("skin_temperature", base="uint16", units="C", scale=100)]
    records = with_dev(steady_records(5), skin_temperature=33.17)
    assert only(build_fit(records, developer_fields=skin)).channels["skin_temperature"][3] == pytest.approx(
        33.17
    )


def test_it_uses_stryd_developer_power_only_when_there_is_no_native_power() -> None:
    stryd = [DevField("Power", base="uint16", units="Watts", native_field=7, app_id=STRYD_APP_ID)]
    without = with_dev(steady_records(5, power=None), Power=287)
    assert only(build_fit(without, developer_fields=stryd)).channels["power"][0] == 287
    both = with_dev(steady_records(5, power=250), Power=287)
    assert only(build_fit(both, developer_fields=stryd)).channels["power"][0] == 250


def test_developer_fields_named_like_native_ones_never_overwrite_them() -> None:
    clashing = [
        DevField("heart_rate", base="uint8", app_id=STRYD_APP_ID),
        DevField("Heart Rate", base="uint8", native_field=3, app_id=CORE_APP_ID),
        DevField("speed", base="uint16", app_id=STRYD_APP_ID),
    ]
    records = with_dev(
        steady_records(5, hr=133, speed_ms=3.5), **{"heart_rate": 77, "Heart Rate": 66, "speed": 9}
    )
    ch = only(build_fit(records, developer_fields=clashing)).channels
    assert ch["heart_rate"][0] == 133
    assert ch["speed"][0] == pytest.approx(3.5)


def test_it_leaves_fitparses_global_developer_registry_empty() -> None:
    stryd = [DevField("Power", base="uint16", native_field=7, app_id=STRYD_APP_ID)]
    parse_fit(build_fit(with_dev(steady_records(2), Power=200), developer_fields=stryd))
    assert fitparse.records.DEV_TYPES == {}


# -- athlete hints, weather, pauses ----------------------------------------------------------------


def test_it_takes_athlete_hints_from_the_user_profile() -> None:
    profile = {
        "gender": "male",
        "age": 42,
        "weight": 84.0,
        "height": 1.82,
        "resting_heart_rate": 55,
        "default_max_heart_rate": 185,
    }
    hints = only(build_fit(steady_records(5), user_profile=profile)).athlete_hints
    assert hints == {
        "weight_kg": 84.0,
        "sex": "m",
        "age": 42,
        "height_m": pytest.approx(1.82),
        "hr_rest": 55,
        "hr_max": 185,
    }


def test_it_ignores_placeholder_gender_and_age() -> None:
    hints = only(
        build_fit(steady_records(5), user_profile={"gender": 2, "age": 99, "weight": 93.5})
    ).athlete_hints
    assert hints == {"weight_kg": 93.5}


def test_thresholds_come_from_zones_target_then_time_in_zone_then_user_profile() -> None:
    tiz = (
        "time_in_zone",
        {
            "timestamp": DEFAULT_START,
            "reference_mesg": "session",
            "reference_index": 0,
            "max_heart_rate": 183,
            "resting_heart_rate": 51,
            "threshold_heart_rate": 166,
            "functional_threshold_power": 290,
        },
    )
    data = build_fit(
        steady_records(5),
        user_profile={"resting_heart_rate": 60, "default_max_heart_rate": 190},
        zones_target={"max_heart_rate": 186, "functional_threshold_power": 284},
        extra_messages=[tiz],
    )
    hints = only(data).athlete_hints
    assert hints["hr_max"] == 186  # zones_target
    assert hints["ftp_w"] == 284  # zones_target
    assert hints["lthr"] == 166  # time_in_zone (fitparse: unknown_216, decoded here)
    assert hints["hr_rest"] == 51  # time_in_zone before user_profile


def test_it_reads_the_weather_message() -> None:
    weather = only(
        build_fit(steady_records(5), weather={"temperature": 31, "relative_humidity": 62, "wind_speed": 3.4})
    )
    assert weather.weather["temperature_c"] == 31
    assert weather.weather["relative_humidity_pct"] == 62
    assert weather.weather["wind_speed_ms"] == pytest.approx(3.4)
    assert only(build_fit(steady_records(5))).weather is None


def test_it_turns_timer_stop_and_start_events_into_pauses() -> None:
    records = [r for r in steady_records(20) if not (300 < r["t"] < 420 or 900 < r["t"] < 960)]
    activity = only(build_fit(records, pauses=[(300, 420), (900, 960)]))
    assert activity.pauses == [(300.0, 420.0), (900.0, 960.0)]
    assert activity.summary["total_timer_time"] == pytest.approx(1200 - 180)


# -- multisport, chains, hr messages ---------------------------------------------------------------


def triathlon() -> bytes:
    swim = [{"t": t, "heart_rate": 130, "enhanced_speed": 1.1} for t in range(0, 600, 2)]
    t1 = [{"t": t, "heart_rate": 140} for t in range(600, 690)]
    bike = [{"t": t, "heart_rate": 145, "power": 210, "enhanced_speed": 9.0} for t in range(690, 2490)]
    run = [{"t": t, "heart_rate": 155, "enhanced_speed": 3.4} for t in range(2490, 3690)]
    legs = [("swimming", "open_water", 0, 600), ("transition", "generic", 600, 90)]
    legs += [("cycling", "road", 690, 1800), ("running", "generic", 2490, 1200)]
    sessions = [
        {
            "start_time": DEFAULT_START + timedelta(seconds=start),
            "total_elapsed_time": length,
            "sport": sport,
            "sub_sport": sub,
        }
        for sport, sub, start, length in legs
    ]
    return build_fit(swim + t1 + bike + run, sport="generic", sessions=sessions)


def test_it_splits_a_triathlon_into_its_legs_and_drops_the_transition() -> None:
    result = parse_fit(triathlon())
    legs = result.activities
    assert [(a.sport, a.leg_index) for a in legs] == [("swimming", 0), ("cycling", 1), ("running", 2)]
    swim, bike, run = legs
    assert swim.t.size == 300 and bike.t.size == 1800 and run.t.size == 1200
    assert bike.start_time == DEFAULT_START + timedelta(seconds=690)
    assert bike.channels["power"] is not None and run.channels["power"] is None
    assert np.all(bike.channels["heart_rate"] == 145)
    assert run.summary["total_elapsed_time"] == pytest.approx(1200)


def test_it_reads_every_activity_of_a_chained_file() -> None:
    ride = build_fit(steady_records(20, power=200), sport="cycling")
    run = build_fit(steady_records(10, hr=160), sport="running", start=DEFAULT_START + timedelta(hours=2))
    result = parse_fit(ride + run)
    assert [a.sport for a in result.activities] == ["cycling", "running"]
    assert [a.leg_index for a in result.activities] == [0, 1]
    assert result.warnings == []


def test_it_keeps_at_most_100_activities_from_a_chained_upload_and_says_so() -> None:
    one = build_fit(steady_records(0.2))
    result = parse_fit(one * 101)
    assert len(result.activities) == 100
    assert any("more than 100 activities" in w for w in result.warnings)


def test_it_merges_swim_hr_messages_into_the_heart_rate_channel() -> None:
    beats = [(i * 0.5, 110 + (i // 7) % 10) for i in range(2 * 60 * 10)]  # 10 minutes, a beat every 0.5 s
    swim = build_fit(
        steady_records(10, hr=None, speed_ms=1.0),
        sport="swimming",
        sub_sport="lap_swimming",
        extra_messages=hr_messages(DEFAULT_START, beats),
    )
    hr = only(swim).channels["heart_rate"]
    assert hr is not None and not np.isnan(hr[1:-5]).any()
    # the record at t gets the mean of the beats in (t - 1, t], rounded half up
    for t in range(1, 590):
        window = [bpm for at, bpm in beats if t - 1 < at <= t]
        assert hr[t] == int(sum(window) / len(window) + 0.5)


def test_hr_messages_in_a_chained_segment_reach_the_activity() -> None:
    swim = build_fit(steady_records(5, hr=None, speed_ms=1.0), sport="swimming", sub_sport="open_water")
    beats = [(i * 1.0, 125) for i in range(300)]
    # FR935/FR945 swims append the strap's stored beats as extra FIT files with only hr messages.
    strap = build_fit([], file_type=None, extra_messages=hr_messages(DEFAULT_START, beats))
    result = parse_fit(swim + strap)
    assert len(result.activities) == 1
    assert np.nanmean(result.activities[0].channels["heart_rate"]) == pytest.approx(125)


def test_it_builds_one_activity_from_the_records_when_there_is_no_session() -> None:
    activity = only(build_fit(steady_records(15), session=False))
    assert activity.summary == {}
    assert activity.t.size == 901
    assert any("no summary" in w for w in activity.warnings)


# -- faults ----------------------------------------------------------------------------------------


def test_it_keeps_records_before_the_break_when_the_file_is_truncated() -> None:
    data = build_fit(steady_records(20))
    activity = only(cut(data, len(data) * 2 // 3))
    assert activity.partial
    assert 500 < activity.t.size < 1201
    assert any("cut off" in w for w in activity.warnings)
    assert not any("Error" in w for w in activity.warnings)


def test_it_keeps_the_data_with_a_warning_when_only_the_file_checksum_is_wrong() -> None:
    data = bytearray(build_fit(steady_records(10)))
    data[-1] ^= 0xFF
    activity = only(bytes(data))
    assert not activity.partial and activity.t.size == 601
    assert (
        "the file's checksum does not match; the data was recovered but may be damaged" in activity.warnings
    )


def test_it_recovers_the_records_of_a_file_the_device_never_finished() -> None:
    data = bytearray(build_fit(steady_records(10)))
    struct.pack_into("<I", data, 4, 0)  # data_size 0, as a device writes it before finalising
    struct.pack_into("<H", data, 12, crc16(bytes(data[:12])))
    activity = only(bytes(data))
    assert activity.partial and activity.t.size == 601
    assert any("did not finish writing" in w for w in activity.warnings)


def test_it_refuses_an_unfinished_file_with_nothing_recoverable() -> None:
    header = bytearray(struct.pack("<BBHI4s", 12, 0x10, 2000, 0, b".FIT"))
    reason = rejected(bytes(header) + b"\x55" * 200)
    assert "did not finish writing" in reason


def test_a_damaged_second_chained_file_leaves_the_first_with_a_warning() -> None:
    first = build_fit(steady_records(10))
    second = bytearray(build_fit(steady_records(10)))
    second[8:12] = b".GIT"
    result = parse_fit(first + bytes(second))
    assert len(result.activities) == 1 and not result.activities[0].partial
    assert any("ignored" in w for w in result.warnings)
    empty_second = first + build_fit([])[:14]
    assert len(parse_fit(empty_second).activities) == 1


def test_it_drops_records_whose_time_goes_backwards() -> None:
    records = steady_records(5)
    records[100]["t"] = 50
    activity = only(build_fit(records))
    assert activity.t.size == 300 and np.all(np.diff(activity.t) > 0)
    assert any("out-of-order" in w for w in activity.warnings)


def test_it_reads_a_file_fitparse_cannot_with_the_fallback_decoder() -> None:
    records = steady_records(5)
    for record in records:
        record[200] = ("uint16", b"\x01\x02\x03")  # field size 3 is not a multiple of uint16's 2
    result = parse_fit(build_fit(records))
    assert result.decoder == "fitdecode"
    assert result.activities[0].decoder == "fitdecode"
    assert result.activities[0].channels["heart_rate"][0] == 140


def test_it_skips_zero_size_field_definitions() -> None:
    records = steady_records(5)
    for record in records:
        record[201] = ("float32", b"")  # TrainingPeaks Virtual writes such empty fields
    activity = only(build_fit(records))
    assert activity.t.size == 301 and activity.decoder == "numpy"
    assert any("empty field definition" in w for w in activity.warnings)


def test_random_damage_never_escapes_as_anything_but_a_rejection() -> None:
    data = build_fit(
        steady_records(10, power=180, temp_c=20), developer_fields=[DevField("skin_temperature")]
    )
    rng = random.Random(20240701)
    for _ in range(60):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 40)):
            damaged[rng.randrange(14, len(damaged))] = rng.randrange(256)
        try:
            result = parse_fit(bytes(damaged))
        except FitRejected as exc:
            assert exc.reason
        else:
            for activity in result.activities:
                assert activity.t[0] == 0 and np.all(np.diff(activity.t) >= 0)
                assert all(v is None or v.shape == activity.t.shape for v in activity.channels.values())


# -- refusals --------------------------------------------------------------------------------------


def test_it_refuses_an_empty_file() -> None:
    assert rejected(b"") == "the file is empty"


@pytest.mark.parametrize(
    ("file_type", "kind"),
    [
        ("settings", "settings"),
        ("monitoring_a", "monitoring"),
        ("monitoring_b", "monitoring"),
        ("workout", "workout"),
        ("weight", "weight scale"),
        ("course", "course"),
    ],
)
def test_it_refuses_non_activity_files_and_says_which_kind(file_type: str, kind: str) -> None:
    assert rejected(build_fit([], file_type=file_type)) == f"not an activity file: this is a {kind} file"


def test_it_refuses_too_little_data_and_counts_the_records() -> None:
    assert rejected(build_fit(steady_records(5 / 60))) == "too little data to be an activity (6 records)"


def test_it_keeps_a_short_activity_with_a_warning() -> None:
    activity = only(build_fit(steady_records(0.5)))
    assert activity.t.size == 31
    assert any("very short" in w for w in activity.warnings)


def test_it_refuses_200000_chained_empty_headers_quickly_and_says_why() -> None:
    empty = fit_file(b"")
    assert len(empty) == 16
    reason = rejected(empty * 200_000)
    assert "more than 1,000 chained FIT files" in reason


def test_a_header_declaring_four_gigabytes_costs_nothing() -> None:
    data = bytearray(build_fit(steady_records(10)))
    struct.pack_into("<I", data, 4, 0xFFFFFFF0)
    activity = only(bytes(data))
    assert activity.partial and activity.t.size == 601


# -- sniffing and gzip -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "words"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "PNG image"),
        (b"PK\x03\x04" + bytes(100), "ZIP archive"),
        (b"%PDF-1.7\n" + bytes(100), "PDF document"),
        (b"hello, this is a text file\n" * 10, "text file, not a FIT file"),
        (b'<?xml version="1.0"?><gpx version="1.1">', "GPX file"),
        (gzip.compress(b"x" * 100), "gzip"),
        (b"", "the file is empty"),
        (bytes(range(200)), "not a FIT file"),
        (b"\x0e\x10\x00\x00", "shorter than a FIT header"),
    ],
)
def test_it_says_what_a_non_fit_file_looks_like(head: bytes, words: str) -> None:
    reason = sniff_fit_header(head)
    assert reason is not None and words in reason
    if head:
        with pytest.raises(FitRejected, match=words):
            parse_fit(head)


def test_it_accepts_fit_headers_of_12_and_14_bytes() -> None:
    assert sniff_fit_header(build_fit(steady_records(1))[:64]) is None
    assert sniff_fit_header(struct.pack("<BBHI4s", 12, 0x10, 2000, 100, b".FIT")) is None


def test_it_decompresses_gzip_under_the_cap() -> None:
    data = build_fit(steady_records(5))
    assert decompress_gzip_capped(gzip.compress(data), 1 << 20) == data
    assert decompress_gzip_capped(io.BytesIO(gzip.compress(data)), len(data)) == data


def test_it_refuses_gzip_that_decompresses_past_the_cap() -> None:
    bomb = gzip.compress(bytes(50 << 20))  # 50 MB of zeros in about 50 KB
    with pytest.raises(FitRejected, match=r"larger than 2 MB when decompressed"):
        decompress_gzip_capped(bomb, 2 << 20)


def test_it_reads_at_most_cap_plus_one_decompressed_bytes() -> None:
    class Counting(io.BytesIO):
        handed_out = 0

        def read(self, size: int | None = -1) -> bytes:
            chunk = super().read(size)
            Counting.handed_out += len(chunk)
            return chunk

    stream = Counting(gzip.compress(bytes(50 << 20), compresslevel=1))
    with pytest.raises(FitRejected):
        decompress_gzip_capped(stream, 1 << 20)
    assert Counting.handed_out < len(stream.getvalue())  # it stopped long before the end of the input


def test_it_refuses_damaged_gzip_in_plain_words() -> None:
    with pytest.raises(FitRejected, match="not gzip-compressed"):
        decompress_gzip_capped(b"definitely not gzip", 1 << 20)
    with pytest.raises(FitRejected, match="damaged or cut off"):
        decompress_gzip_capped(gzip.compress(bytes(10_000))[:-20], 1 << 20)


# -- crc -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 1000, 65_535, 65_536, 200_001, 1 << 20])
def test_the_fast_crc_matches_the_byte_at_a_time_crc(size: int) -> None:
    data = random.Random(size).randbytes(size)
    assert fast_crc16(data) == crc16_simple(data)
    if size <= 1000:
        assert fast_crc16(data) == crc16(data)  # the encoder's bitwise CRC
    assert fast_crc16(data, 0x1234) == crc16_simple(data, 0x1234)
