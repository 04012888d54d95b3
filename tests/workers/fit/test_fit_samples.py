"""workers.fit on the 53 real files in ../shared/fit-samples (read in place, never copied).

Every file gets the outcome MANIFEST.md's "Expected outcome per file" table asks for; a few files are then
checked in detail (durations, channels, fallback decoder, compressed timestamps, swim HR, core temperature,
Garmin sweat fields, athlete hints). Each file is parsed once per test session (`outcome` is cached).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from workers.activity import Activity, FitRejected, ParseResult
from workers.fit import parse_fit

SAMPLES = Path(__file__).resolve().parents[3] / ".." / "shared" / "fit-samples"
SAMPLE_NAMES = sorted(p.name for p in SAMPLES.glob("*.fit")) if SAMPLES.is_dir() else []

pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"no sample folder at {SAMPLES}")

CRC_WARNING = "the file's checksum does not match; the data was recovered but may be damaged"


@dataclass(frozen=True)
class Expect:
    outcome: str  # "session" (complete), "partial" or "refused"
    words: str = ""  # in the refusal reason, or in one of the warnings
    activities: int = 1
    decoder: str = "numpy"  # the fast path; "fitparse"/"fitdecode" where it declines (see test_fit_fast.py)


# MANIFEST.md, "Expected outcome per file"; files not listed get their prefix's default below.
EXPECTED: dict[str, Expect] = {
    "run_strava-android_undefined-local-msg.fit": Expect(
        "partial", "refers to a message definition that does not"
    ),
    # the session, with its zero-size developer field definitions skipped
    "bike_tpv_devfields_no-session.fit": Expect("session", "empty field definitions"),
    # "session, or refused naming the inconsistent field definition": a session from the records before it
    "bike_lezyne_bad-endian_92min.fit": Expect(
        "partial", "message definition at byte 22,225 is invalid", decoder="fitparse"
    ),
    "bike_coros-pace2_misaligned-fields_3h32.fit": Expect("session", decoder="fitdecode"),
    "chained_sdk_activity+poolswim.fit": Expect("session", activities=2),
    "corrupt_bad-file-crc.fit": Expect("session", CRC_WARNING),
    "corrupt_chained_bad-crc.fit": Expect("session", CRC_WARNING, activities=2),
    "corrupt_unexpected-eof.fit": Expect("partial", "ends in the middle of a message"),
    "corrupt_truncated_sdk.fit": Expect("session", "no summary (session) message"),
    "corrupt_chained_2nd-header-corrupt.fit": Expect("session", "starts with a damaged FIT header"),
    "corrupt_chained_2nd-file-nodata.fit": Expect(
        "session", "chained in the upload (at byte 771) could not be used"
    ),
    "corrupt_sigma_truncated_4h39.fit": Expect("partial", "ends in the middle of a message"),
    "corrupt_header-datasize-zero.fit": Expect("partial", "the device did not finish writing this file"),
    "corrupt_zero-bytes.fit": Expect("refused", "the file is empty"),
    "devdata_sdk_DeveloperData.fit": Expect("refused", "too little data to be an activity (3 records)"),
    "nonactivity_monitoring_vivofit.fit": Expect(
        "refused", "not an activity file: this is a monitoring file"
    ),
    "nonactivity_settings_edge510.fit": Expect("refused", "not an activity file: this is a settings file"),
    "nonactivity_workout_sdk.fit": Expect("refused", "not an activity file: this is a workout file"),
    "nonactivity_weightscale_sdk.fit": Expect("refused", "not an activity file: this is a weight scale file"),
    # multisport: one activity per leg, transitions dropped
    "multi_garmin-fr935_triathlon_9h32.fit": Expect("session", activities=3),
    "multi_garmin-fenix5x_14h05.fit": Expect("session", activities=3),
    "multi_garmin-fenix2_6h50.fit": Expect("session", activities=4),
    "multi_garmin-fr255_summary-first.fit": Expect("session", activities=3),
    "multi_sdk-fr945_tiny.fit": Expect("session", activities=2),
}
SESSION_PREFIXES = ("run_", "bike_", "swim_", "walk_", "sup_", "multi_")


def expectation(name: str) -> Expect:
    if name in EXPECTED:
        return EXPECTED[name]
    assert name.startswith(SESSION_PREFIXES), f"{name}: add its expected outcome from MANIFEST.md"
    return Expect("session")


@functools.cache
def outcome(name: str) -> ParseResult | FitRejected:
    data = (SAMPLES / name).read_bytes()
    try:
        return parse_fit(data)
    except FitRejected as rejected:
        return rejected


def parsed(name: str) -> ParseResult:
    result = outcome(name)
    assert isinstance(result, ParseResult), f"{name} was refused: {getattr(result, 'reason', result)}"
    return result


def single(name: str) -> Activity:
    [activity] = parsed(name).activities
    return activity


def hms(text: str) -> int:
    h, m, s = (int(x) for x in text.split(":"))
    return h * 3600 + m * 60 + s


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_each_sample_gets_the_outcome_the_manifest_expects(name: str) -> None:
    expect = expectation(name)
    result = outcome(name)
    if expect.outcome == "refused":
        assert isinstance(result, FitRejected), f"{name} was not refused"
        assert expect.words in result.reason
        return
    result = parsed(name)
    assert len(result.activities) == expect.activities
    assert result.decoder == expect.decoder
    assert any(a.partial for a in result.activities) is (expect.outcome == "partial")
    if expect.words:
        assert any(expect.words in w for w in result.warnings), result.warnings
    if expect.outcome == "session" and not expect.words:
        assert not [w for w in result.warnings if "damaged" in w or "cut off" in w], result.warnings
    for activity in result.activities:
        assert activity.t.size >= 2 and activity.t[0] == 0 and np.all(np.diff(activity.t) >= 0)
        assert all(v is None or v.shape == activity.t.shape for v in activity.channels.values())
        assert activity.start_time is None or activity.start_time.utcoffset().total_seconds() == 0
        assert activity.decoder == expect.decoder


# Record spans (MANIFEST "elapsed / timer / rec-span"): the activities' t covers them.
SPANS = {
    "run_garmin-fenix2_hr_temp_47min.fit": "0:47:13",
    "bike_wahoo-elemnt_power_temp_6h33.fit": "6:33:11",
    "bike_garmin-edge530_power_temp_2h50.fit": "2:48:54",
    "bike_coros-pace2_misaligned-fields_3h32.fit": "3:31:58",
    "bike_bryton_100k-records.fit": "27:46:37",  # the file's own timer says 0; the records are what we have
    "bike_apple-watch-via-strava_5min.fit": "0:05:36",
    "corrupt_sigma_truncated_4h39.fit": "4:38:43",
    "run_garmin-fr70_compressed-timestamps.fit": "1:04:43",  # no span in the MANIFEST: elapsed
    "walk_garmin-fr55_CORE-bodytemp_10min.fit": "0:09:47",
    "swim_pool_sdk-fenix3_hr-messages_58min.fit": "0:58:09",
    "multi_garmin-fenix5x_14h05.fit": "14:05:16",  # minus the transitions
    "multi_garmin-fr935_triathlon_9h32.fit": "9:31:45",
}
TIMERS = {
    "bike_wahoo-elemnt_power_temp_6h33.fit": "3:44:31",
    "bike_garmin-edge530_power_temp_2h50.fit": "2:26:29",
    "bike_coros-pace2_misaligned-fields_3h32.fit": "3:08:07",
    "run_garmin-fr70_compressed-timestamps.fit": "1:02:53",
}


@pytest.mark.parametrize("name", sorted(SPANS))
def test_durations_match_the_manifest(name: str) -> None:
    expected = hms(SPANS[name])
    total = sum(a.duration_s for a in parsed(name).activities)
    if name.startswith("multi_"):
        assert 0.95 * expected <= total <= expected
    else:
        assert total == pytest.approx(expected, abs=max(2.0, 0.001 * expected))
    if name in TIMERS:
        assert single(name).summary["total_timer_time"] == pytest.approx(hms(TIMERS[name]), abs=1)


FIELD_NAMES = {
    "HR": "heart_rate",
    "Pwr": "power",
    "Spd": "speed",
    "Temp": "temperature",
    "Cad": "cadence",
    "Alt": "altitude",
}
# MANIFEST "fields" column (GPS aside).
FIELDS = {
    "run_garmin-fenix2_hr_temp_47min.fit": "HR Spd Temp Cad Alt",
    "bike_garmin-edge810-vector_power_temp_78min.fit": "HR Pwr Spd Temp Cad Alt",
    "bike_coros-pace2_misaligned-fields_3h32.fit": "HR Spd Alt",
    "bike_stages_multiple-developer-index_76min.fit": "HR Pwr Spd Temp Cad",
    "run_garmin-fr70_compressed-timestamps.fit": "HR Spd Cad",
    "swim_pool_sdk-fenix3_hr-messages_58min.fit": "HR Spd Cad",  # HR from the hr messages
    "run_suunto_trail_power_temp_37min.fit": "HR Pwr Spd Temp Cad Alt",
    "bike_wahoo-bolt_devdata-no-app-id.fit": "Pwr Spd Temp Cad Alt",
}


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_the_channels_present_match_the_manifest(name: str) -> None:
    activity = single(name)
    carried = {short for short, channel in FIELD_NAMES.items() if activity.channel(channel) is not None}
    assert carried == set(FIELDS[name].split())


def test_the_coros_file_fitparse_cannot_read_is_read_by_the_fallback_decoder() -> None:
    activity = single("bike_coros-pace2_misaligned-fields_3h32.fit")
    assert activity.decoder == "fitdecode"
    assert activity.t.size == 11_272
    assert activity.device["manufacturer"] == "coros"
    assert activity.device["product_name"] == "COROS PACE 2"


def test_fr70_compressed_timestamps_are_expanded() -> None:
    activity = single("run_garmin-fr70_compressed-timestamps.fit")
    assert activity.t.size == 755
    steps = np.diff(activity.t)
    assert np.median(steps) == 5.0 and steps.min() > 0  # one record every 5 s, each timestamp compressed
    assert activity.start_time is None  # its timestamps count from device power-on, not a calendar date
    assert activity.summary["avg_heart_rate"] == 170
    assert np.nanmax(activity.channels["heart_rate"]) == pytest.approx(190, abs=2)
    assert activity.pauses == [(681.0, 791.0)]


def test_the_fenix3_pool_swim_gets_its_heart_rate_from_the_hr_messages() -> None:
    activity = single("swim_pool_sdk-fenix3_hr-messages_58min.fit")
    hr = activity.channels["heart_rate"]
    assert np.mean(~np.isnan(hr)) > 0.99
    assert np.nanmax(hr) == pytest.approx(activity.summary["max_heart_rate"], abs=2)


def test_the_fr935_pool_swim_gets_heart_rate_from_its_chained_hr_files() -> None:
    activity = single("swim_pool_garmin-fr935_chained4.fit")
    hr = activity.channels["heart_rate"]
    assert hr is not None and np.mean(~np.isnan(hr)) > 0.99
    assert np.nanmax(hr) == pytest.approx(activity.summary["max_heart_rate"], abs=2)


def test_strap_beats_win_over_the_wrist_heart_rate_in_the_open_water_swim() -> None:
    activity = single("swim_openwater_garmin-fr945_rr_chained6.fit")
    hr = activity.channels["heart_rate"]
    # the device's own summary was computed from the strap: 120 avg / 140 max (wrist data peaks at 157)
    assert np.nanmax(hr) == activity.summary["max_heart_rate"] == 140
    assert np.nanmean(hr) == pytest.approx(activity.summary["avg_heart_rate"], abs=1.5)


def test_core_temperature_comes_from_the_core_developer_field_on_the_fr55() -> None:
    activity = single("walk_garmin-fr55_CORE-bodytemp_10min.fit")
    core, skin = activity.channel("core_temperature"), activity.channel("skin_temperature")
    assert core is not None and 36.5 < np.nanmean(core) < 38.5
    assert skin is not None and 30.0 < np.nanmean(skin) < 37.0


def test_core_temperature_comes_from_the_native_field_on_the_karoo() -> None:
    activity = single("bike_hammerhead-karoo_power_temp_devfields_73min.fit")
    core, skin = activity.channel("core_temperature"), activity.channel("skin_temperature")
    assert core is not None and 37.0 <= np.nanmin(core) and np.nanmax(core) == pytest.approx(38.2, abs=0.01)
    assert activity.summary["avg_core_temperature"] == pytest.approx(37.83)
    assert skin is not None and 29.0 < np.nanmean(skin) < 35.0


def test_garmin_sweat_loss_and_fluid_consumed_reach_the_summary() -> None:
    edge = single("bike_garmin-edge530_power_temp_2h50.fit")
    assert (edge.summary["sweat_loss_ml"], edge.summary["fluid_consumed_ml"]) == (1454, 1350)
    assert single("run_garmin-fr955_stryd-devfields_52min.fit").summary["sweat_loss_ml"] == 761
    legs = parsed("multi_garmin-fr255_summary-first.fit").activities
    # field 178 is a running total across the legs (science.md §10.6): each leg gets its own share
    assert [a.summary.get("sweat_loss_ml") for a in legs] == [187, 380, 555]
    assert [a.summary.get("sweat_loss_ml_running_total") for a in legs] == [None, 567, 1122]


def test_stryd_developer_power_is_the_power_channel_when_the_watch_records_none() -> None:
    activity = single("run_garmin-fr955_stryd-devfields_52min.fit")
    power = activity.channel("power")
    assert power is not None and 150 < np.nanmean(power) < 450


@pytest.mark.parametrize(
    ("name", "hints"),
    [
        (
            "run_garmin-fr955_stryd-devfields_52min.fit",
            {"weight_kg": 82.6, "sex": "m", "hr_rest": 47, "ftp_w": 402, "hr_max": 189, "lthr": 162},
        ),
        (
            "bike_garmin-edge530_power_temp_2h50.fit",
            {
                "weight_kg": 84.0,
                "sex": "m",
                "age": 42,
                "hr_rest": 55,
                "hr_max": 186,
                "lthr": 165,
                "ftp_w": 284,
            },
        ),
        ("bike_tpv_devfields_no-session.fit", {"weight_kg": 93.5, "age": 38}),  # gender=2 is a placeholder
        (
            "swim_pool_garmin-fr935_chained4.fit",
            {"weight_kg": 66.7, "hr_max": 174, "lthr": 160, "hr_rest": 49},
        ),
        ("swim_pool_bingiwatch_devfields_85min.fit", {"hr_max": 184, "hr_rest": 47}),  # time_in_zone only
        ("bike_sigma-rox11_power_temp_2h01.fit", {"hr_max": 180, "ftp_w": 233}),
        ("bike_srm_power_temp_1h55.fit", {"weight_kg": 48.5, "age": 32, "ftp_w": 228}),
    ],
)
def test_athlete_hints_match_the_manifest(name: str, hints: dict) -> None:
    got = single(name).athlete_hints
    for key, value in hints.items():
        assert got[key] == pytest.approx(value), key
    if name == "bike_tpv_devfields_no-session.fit":
        assert "sex" not in got


def test_the_tpv_file_carries_its_weather_and_loses_only_the_empty_fields() -> None:
    activity = single("bike_tpv_devfields_no-session.fit")
    assert activity.weather["temperature_c"] == 20
    assert activity.weather["relative_humidity_pct"] == 75
    assert activity.weather["wind_speed_ms"] == pytest.approx(1.004)
    assert activity.indoor is True and activity.channel("power") is not None
    assert activity.duration_s > 45 * 60


def test_multisport_legs_come_out_in_order_without_transitions() -> None:
    tri = parsed("multi_garmin-fr935_triathlon_9h32.fit").activities
    assert [(a.sport, a.leg_index) for a in tri] == [("swimming", 0), ("cycling", 1), ("running", 2)]
    assert tri[1].channel("power") is not None
    fenix2 = parsed("multi_garmin-fenix2_6h50.fit").activities
    assert [a.sport for a in fenix2] == ["generic", "running", "running", "cycling"]
    summary_first = parsed("multi_garmin-fr255_summary-first.fit").activities
    assert [a.sport for a in summary_first] == ["swimming", "cycling", "running"]
    assert summary_first[1].t.size > 1000


def test_timer_pauses_add_up_to_the_gap_between_elapsed_and_timer_time() -> None:
    activity = single("bike_wahoo-elemnt_power_temp_6h33.fit")
    paused = sum(end - start for start, end in activity.pauses)
    gap = activity.summary["total_elapsed_time"] - activity.summary["total_timer_time"]
    assert paused == pytest.approx(gap, abs=30)


def test_indoor_and_outdoor_rides_are_told_apart() -> None:
    assert single("bike_onelap_indoor_12min.fit").indoor is True
    assert single("bike_zwift_virtual_non-utf8_61min.fit").indoor is True
    assert single("bike_mywhoosh_virtual_devfields_69min.fit").indoor is True
    assert single("bike_garmin-edge530_power_temp_2h50.fit").indoor is False


def test_the_device_is_named_from_file_id() -> None:
    device = single("bike_garmin-edge530_power_temp_2h50.fit").device
    assert (device["manufacturer"], device["product"], device["serial_number"]) == (
        "garmin",
        "edge_530",
        3301972258,
    )


def test_the_strava_file_keeps_only_the_records_before_the_undefined_message() -> None:
    activity = single("run_strava-android_undefined-local-msg.fit")
    assert activity.partial and 400 < activity.t.size < 473
    assert activity.duration_s < 3600  # the garbage timestamp read just before the break is dropped
