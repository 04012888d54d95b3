"""tests/fitgen.py writes FIT files that both fitparse and fitdecode read back exactly."""

from __future__ import annotations

import io
import struct
from datetime import timedelta

import fitdecode
import fitparse
import pytest

from fitgen import (
    CORE_APP_ID,
    DEFAULT_START,
    STRYD_APP_ID,
    DevField,
    build_fit,
    crc16,
    hr_messages,
    steady_records,
)


def fitparse_messages(data: bytes, name: str) -> list[dict]:
    return [m.get_values() for m in fitparse.FitFile(data, check_crc=True).get_messages(name)]


def fitdecode_messages(data: bytes, name: str) -> list[dict]:
    out = []
    with fitdecode.FitReader(io.BytesIO(data), check_crc=fitdecode.CrcCheck.RAISE) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage) and frame.name == name:
                out.append({f.name: f.value for f in frame.fields})
    return out


@pytest.fixture(scope="module")
def ride() -> bytes:
    return build_fit(
        steady_records(
            2, hr=151, speed_ms=8.25, power=230, temp_c=-3, cadence=88, altitude_m=312.4, core_c=38.12
        ),
        sport="cycling",
        sub_sport="road",
        user_profile={
            "gender": "female",
            "age": 41,
            "weight": 58.5,
            "height": 1.66,
            "resting_heart_rate": 47,
        },
        weather={"temperature": 31, "relative_humidity": 65, "wind_speed": 4.5},
        session={"sweat_loss": 850, "fluid_consumed": 500, "avg_temperature": 29},
    )


def test_it_writes_a_header_and_a_file_crc_that_check_out(ride: bytes) -> None:
    header_size, _proto, _profile, data_size, magic, header_crc = struct.unpack_from("<BBHI4sH", ride)
    assert (header_size, magic) == (14, b".FIT")
    assert header_crc == crc16(ride[:12])
    assert data_size == len(ride) - 16
    assert struct.unpack_from("<H", ride, len(ride) - 2)[0] == crc16(ride[:-2])


def test_fitparse_reads_every_record_value_back_with_its_scale(ride: bytes) -> None:
    records = fitparse_messages(ride, "record")
    assert len(records) == 121
    first = records[10]
    assert first["heart_rate"] == 151
    assert first["enhanced_speed"] == pytest.approx(8.25)
    assert first["enhanced_altitude"] == pytest.approx(312.4)
    assert first["power"] == 230
    assert first["temperature"] == -3
    assert first["cadence"] == 88
    assert first["distance"] == pytest.approx(82.5)
    assert first["unknown_139"] == 3812  # fitparse 1.2.0 does not know record.core_temperature
    assert first["timestamp"] == (DEFAULT_START + timedelta(seconds=10)).replace(tzinfo=None)


def test_fitdecode_reads_the_same_records_including_core_temperature(ride: bytes) -> None:
    records = fitdecode_messages(ride, "record")
    assert len(records) == 121
    assert records[10]["core_temperature"] == pytest.approx(38.12)
    assert records[10]["enhanced_speed"] == pytest.approx(8.25)
    assert records[10]["timestamp"] == DEFAULT_START + timedelta(seconds=10)


def test_both_decoders_read_the_session_weather_and_user_profile(ride: bytes) -> None:
    for read in (fitparse_messages, fitdecode_messages):
        [session] = read(ride, "session")
        assert session["sport"] == "cycling"
        assert session["sub_sport"] == "road"
        assert session["total_elapsed_time"] == pytest.approx(120.0)
        assert session["avg_temperature"] == 29
        [weather] = read(ride, "weather_conditions")
        assert (weather["temperature"], weather["relative_humidity"]) == (31, 65)
        assert weather["wind_speed"] == pytest.approx(4.5)
        [profile] = read(ride, "user_profile")
        assert (profile["gender"], profile["age"], profile["weight"]) == ("female", 41, 58.5)
        assert profile["height"] == pytest.approx(1.66)


def test_it_writes_developer_fields_that_both_decoders_name() -> None:
    records = steady_records(1, hr=120, speed_ms=3.0)
    for record in records:
        record["dev"] = {"Power": 260, "skin_temperature": 33.5}
    data = build_fit(
        records,
        developer_fields=[
            DevField("Power", base="uint16", units="W", native_field=7, app_id=STRYD_APP_ID),
            DevField("skin_temperature", units="C", app_id=CORE_APP_ID),
        ],
    )
    parsed = fitparse_messages(data, "record")
    assert parsed[0]["Power"] == 260
    assert parsed[0]["skin_temperature"] == pytest.approx(33.5)
    decoded = fitdecode_messages(data, "record")
    assert decoded[0]["Power"] == 260
    assert decoded[0]["skin_temperature"] == pytest.approx(33.5)


def test_it_writes_swim_hr_messages_with_packed_event_times() -> None:
    beats = [(i * 0.75, 100 + i % 7) for i in range(40)]
    data = build_fit(
        steady_records(1, hr=None, speed_ms=1.0), extra_messages=hr_messages(DEFAULT_START, beats)
    )
    messages = fitdecode_messages(data, "hr")
    assert len(messages) == 1 + 39 // 8 + 1
    assert messages[0]["filtered_bpm"] == 100
    assert messages[1]["filtered_bpm"] == tuple(100 + i % 7 for i in range(1, 9))
    assert len(fitparse_messages(data, "hr")) == len(messages)


def test_steady_records_cover_the_minutes_at_the_given_interval() -> None:
    records = steady_records(10, hr=130, speed_ms=2.5, every_s=5)
    assert len(records) == 121
    assert records[-1]["t"] == 600
    assert records[-1]["distance"] == pytest.approx(1500.0)
    assert {"heart_rate", "enhanced_speed", "distance"} <= set(records[0])
    assert "power" not in records[0]


def test_a_file_without_records_is_just_its_file_id() -> None:
    data = build_fit([], file_type="settings")
    [file_id] = fitparse_messages(data, "file_id")
    assert file_id["type"] == "settings"
    assert fitparse_messages(data, "record") == []
