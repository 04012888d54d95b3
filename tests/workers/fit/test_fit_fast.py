"""The numpy fast path against fitparse, the reference: every sample file and synthesized edge cases decode
to the same activities, value by value (everything the pipeline reads from a FIT file is in them)."""

from __future__ import annotations

import logging
from dataclasses import fields
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from fitgen import CORE_APP_ID, DEFAULT_START, STRYD_APP_ID, DevField, build_fit, hr_messages, steady_records
from workers.activity import Activity, FitRejected, ParseResult
from workers.fit import parse_fit
from workers.fit.parse import parse_fit_headers

SAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "fit-samples"
SAMPLE_NAMES = sorted(p.name for p in SAMPLES.glob("*.fit")) if SAMPLES.is_dir() else []
# Sample files the fast path hands to the reference path, and why.
DECLINED = {
    "bike_coros-pace2_misaligned-fields_3h32.fit": "a field size that is not a multiple of its type",
    "bike_lezyne_bad-endian_92min.fit": "a compressed-timestamp header on a message that is not a record",
}


def both(data: bytes) -> tuple[ParseResult | FitRejected, ParseResult | FitRejected]:
    out: list[ParseResult | FitRejected] = []
    for fast in (True, False):
        try:
            out.append(parse_fit(data, fast=fast))
        except FitRejected as rejected:
            out.append(rejected)
    return out[0], out[1]


def assert_same_activity(fast: Activity, ref: Activity) -> None:
    # Timestamps exact; every channel and array exact too (the same float64 operations as fitparse's).
    for f in fields(Activity):
        if f.name in ("channels", "decoder"):
            continue
        mine, theirs = getattr(fast, f.name), getattr(ref, f.name)
        if isinstance(theirs, np.ndarray) or isinstance(mine, np.ndarray):
            np.testing.assert_array_equal(mine, theirs, err_msg=f.name)
        else:
            assert mine == theirs, f.name
    assert fast.channels.keys() == ref.channels.keys()
    for name, ref_values in ref.channels.items():
        values = fast.channels[name]
        assert (values is None) == (ref_values is None), name
        if values is not None and ref_values is not None:
            np.testing.assert_array_equal(values, ref_values, err_msg=name)


def assert_same(data: bytes) -> ParseResult | FitRejected:
    """Both paths agree; returns the fast path's result."""
    fast, ref = both(data)
    if isinstance(ref, FitRejected):
        assert isinstance(fast, FitRejected) and fast.reason == ref.reason
        return fast
    assert isinstance(fast, ParseResult)
    assert fast.warnings == ref.warnings and fast.file_type == ref.file_type
    assert len(fast.activities) == len(ref.activities)
    for a, b in zip(fast.activities, ref.activities, strict=True):
        assert_same_activity(a, b)
    return fast


def fast_only(data: bytes) -> ParseResult:
    result = assert_same(data)
    assert isinstance(result, ParseResult)
    assert result.decoder == "numpy", "the fast path declined the file"
    return result


# -- real files --------------------------------------------------------------------------------------


@pytest.mark.skipif(not SAMPLE_NAMES, reason=f"no sample files in {SAMPLES}")
@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_the_fast_path_decodes_each_sample_file_as_fitparse_does(name: str) -> None:
    result = assert_same((SAMPLES / name).read_bytes())
    if isinstance(result, ParseResult):
        decoders = set(result.decoder.split("+"))
        if name in DECLINED:
            assert "numpy" not in decoders, f"{name} is now decoded by the fast path: update DECLINED"
        else:
            assert decoders == {"numpy"}, f"{name} was declined"


# -- synthesized edge cases --------------------------------------------------------------------------


def test_it_decodes_compressed_timestamp_headers_as_fitparse_does() -> None:
    records = steady_records(3, hr=150, speed_ms=3.2, every_s=7)
    records += [{"t": 200 + 31 * i, "heart_rate": 151} for i in range(1, 12)]  # wraps of the 5-bit offset
    result = fast_only(build_fit(records, compressed_timestamps=True, pauses=[(100, 140)]))
    assert result.activities[0].t[-1] == 200 + 31 * 11


def test_it_decodes_big_endian_definitions() -> None:
    records = steady_records(4, hr=140, speed_ms=4.5, power=250, temp_c=-3, altitude_m=2100.4)
    for record in records:
        record["grade"] = -1.5
        record["position_lat"] = -12_345_678
    activity = fast_only(build_fit(records, big_endian=True)).activities[0]
    assert activity.channels["temperature"][0] == -3 and activity.channels["power"][0] == 250


def test_it_turns_invalid_values_into_missing_ones() -> None:
    records = steady_records(2, hr=140, speed_ms=3.0, power=200, temp_c=20, cadence=80, altitude_m=10.0)
    for record in records[::3]:
        record.update(heart_rate=None, enhanced_speed=None, power=None, temperature=None, cadence=None)
        record["enhanced_altitude"] = None
    records[5]["timestamp"] = None  # an untimed record is left out, as the reference path does
    records[5].pop("t")
    fast_only(build_fit(records))


def test_it_falls_back_from_an_enhanced_field_to_the_plain_one_per_record() -> None:
    records = [
        {"t": i, "speed": 2.0 + i / 100, "enhanced_speed": None if i % 2 else 3.0, "altitude": 100.0 + i}
        for i in range(60)
    ]
    activity = fast_only(build_fit(records)).activities[0]
    assert activity.channels["speed"][1] == pytest.approx(2.01) and activity.channels["speed"][2] == 3.0


def test_it_reads_developer_fields_namespaced_scaled_and_in_file_order() -> None:
    dev = [
        DevField("core_temperature", units="°C", native_field=139, app_id=CORE_APP_ID),
        DevField("skin_temperature", base="uint16", scale=100, units="°C", app_id=CORE_APP_ID),
        DevField("Power", base="uint16", native_field=7, app_id=STRYD_APP_ID),
        DevField("Form Power", base="uint16", app_id=STRYD_APP_ID),
    ]
    records = steady_records(5, hr=150, core_c=None)
    for i, record in enumerate(records):
        record["dev"] = {
            "core_temperature": 38.0 + i / 100 if i % 4 else None,
            "skin_temperature": 34.25,
            "Power": 260 + i % 7,
            "Form Power": 60,
        }
    activity = fast_only(build_fit(records, developer_fields=dev)).activities[0]
    assert activity.channels["skin_temperature"][0] == pytest.approx(34.25)
    assert activity.channels["power"][3] == 263


def test_a_native_core_temperature_wins_over_the_developer_one() -> None:
    dev = [DevField("core_temperature", native_field=139, app_id=CORE_APP_ID)]
    records = steady_records(3, core_c=37.9)
    for record in records:
        record["dev"] = {"core_temperature": 39.5}
    activity = fast_only(build_fit(records, developer_fields=dev)).activities[0]
    assert activity.channels["core_temperature"][0] == pytest.approx(37.9)


def test_it_reads_chained_files_and_swim_heart_rate_segments() -> None:
    ride = build_fit(steady_records(10, hr=140, power=220), sport="cycling")
    run = build_fit(steady_records(5, hr=160, speed_ms=3.5), start=DEFAULT_START + timedelta(hours=1))
    beats = [(i * 0.9, 120 + i % 9) for i in range(300)]
    swim_start = DEFAULT_START + timedelta(hours=2)
    swim = build_fit(
        steady_records(4, hr=None, speed_ms=1.1),
        sport="swimming",
        start=swim_start,
        extra_messages=hr_messages(swim_start, beats),
    )
    result = fast_only(ride + run + swim)
    assert len(result.activities) == 3


def test_it_reads_array_values_as_the_pipeline_reads_them() -> None:
    records = [{"t": i, "heart_rate": (None, 130 + i % 3) if i % 2 else (140, 141)} for i in range(40)]
    activity = fast_only(build_fit(records)).activities[0]
    assert activity.channels["heart_rate"][:2].tolist() == [140, 131]


def test_it_accumulates_compressed_speed_and_distance_as_fitparse_does() -> None:
    records = []
    distance16 = 0
    for i in range(300):
        distance16 += 53  # 3.3 m per second in 1/16 m; the 12-bit field wraps every ~77 s
        speed100 = 330 + i % 5
        packed = (speed100 | (distance16 & 0xFFF) << 12).to_bytes(3, "little")
        records.append({"t": i, 8: ("byte", packed), "heart_rate": 150})
    records[10][8] = ("byte", b"\xff\xff\xff")  # invalid: the running distance is kept
    activity = fast_only(build_fit(records)).activities[0]
    assert activity.channels["distance"][-1] == pytest.approx(300 * 53 / 16)


def test_interleaved_layouts_keep_the_record_order() -> None:
    records = []
    for i in range(120):
        record: dict = {"t": i, "heart_rate": 120 + i % 40}
        if i % 3 == 0:
            record["power"] = 200 + i
        if i % 5 == 0:
            record["temperature"] = 18
        records.append(record)
    activity = fast_only(build_fit(records, pauses=[(30, 45)])).activities[0]
    np.testing.assert_array_equal(activity.channels["heart_rate"], [120 + i % 40 for i in range(120)])


def test_a_declined_segment_is_logged_with_its_reason_and_decoded_by_fitparse(
    caplog: pytest.LogCaptureFixture,
) -> None:
    records = steady_records(2, hr=140)
    records[4][3] = ("string", "hi")  # heart_rate written as a string: not something the columns hold
    with caplog.at_level(logging.INFO, logger="workers.fit.parse"):
        result = assert_same(build_fit(records))
    assert isinstance(result, ParseResult) and result.decoder == "fitparse"
    assert any("declined" in r.getMessage() and "string" in r.getMessage() for r in caplog.records)


# -- the header decode for the duplicate check -------------------------------------------------------


@pytest.mark.skipif(not SAMPLE_NAMES, reason=f"no sample files in {SAMPLES}")
@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_the_header_decode_places_each_sample_as_the_full_decode_does(name: str) -> None:
    data = (SAMPLES / name).read_bytes()
    headers = parse_fit_headers(data)
    full = assert_same(data)  # the full decode reuses the header decode's framing, and still agrees
    if headers is None:  # declined or refused: the full decode decides
        assert isinstance(full, FitRejected) or name in DECLINED
        return
    assert isinstance(full, ParseResult) and headers.warnings == full.warnings
    assert len(headers.activities) == len(full.activities)
    for a, b in zip(headers.activities, full.activities, strict=True):
        assert (a.start_time, a.duration_s, a.sport, a.sub_sport, a.device, a.leg_index) == (
            b.start_time,
            b.duration_s,
            b.sport,
            b.sub_sport,
            b.device,
            b.leg_index,
        )
