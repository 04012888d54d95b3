"""A tiny FIT encoder for tests: synthesizes valid FIT files so tests never need copies of real ones.

    data = build_fit(steady_records(30, hr=140, speed_ms=3.0), sport="running")

Field names and numbers, base types, scales and offsets follow the FIT profile for the handful of messages
the parser reads (file_id, record, session, event, user_profile, zones_target, time_in_zone,
weather_conditions, sport, hr, developer_data_id, field_description). Values are given in profile units
(m/s, m, degC, kg ...) and are scaled here; enum values may be given by name or number; datetimes become
FIT timestamps (seconds since 1989-12-31 UTC). A value of None is written as the type's invalid value.
The output has a 14-byte header with its CRC and a file CRC; definition messages are written whenever a
message layout changes.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

FIT_EPOCH = datetime(1989, 12, 31, tzinfo=UTC)
DEFAULT_START = datetime(2024, 7, 1, 8, 0, tzinfo=UTC)

# name -> (base type number, struct code, invalid value)
BASE_TYPES: dict[str, tuple[int, str, Any]] = {
    "enum": (0x00, "B", 0xFF),
    "sint8": (0x01, "b", 0x7F),
    "uint8": (0x02, "B", 0xFF),
    "sint16": (0x83, "h", 0x7FFF),
    "uint16": (0x84, "H", 0xFFFF),
    "sint32": (0x85, "i", 0x7FFFFFFF),
    "uint32": (0x86, "I", 0xFFFFFFFF),
    "string": (0x07, "s", None),
    "float32": (0x88, "f", math.nan),
    "uint8z": (0x0A, "B", 0),
    "uint16z": (0x8B, "H", 0),
    "uint32z": (0x8C, "I", 0),
    "byte": (0x0D, "B", 0xFF),
}


@dataclass(frozen=True)
class F:
    """One profile field: number, base type, scale, offset."""

    num: int
    base: str
    scale: float = 1
    offset: float = 0


TS = F(253, "uint32")
MESSAGES: dict[str, tuple[int, dict[str, F]]] = {
    "file_id": (
        0,
        {
            "type": F(0, "enum"),
            "manufacturer": F(1, "uint16"),
            "product": F(2, "uint16"),
            "serial_number": F(3, "uint32z"),
            "time_created": F(4, "uint32"),
            "product_name": F(8, "string"),
        },
    ),
    "user_profile": (
        3,
        {
            "gender": F(1, "enum"),
            "age": F(2, "uint8"),
            "height": F(3, "uint8", 100),
            "weight": F(4, "uint16", 10),
            "resting_heart_rate": F(8, "uint8"),
            "default_max_heart_rate": F(11, "uint8"),
        },
    ),
    "zones_target": (
        7,
        {
            "max_heart_rate": F(1, "uint8"),
            "threshold_heart_rate": F(2, "uint8"),
            "functional_threshold_power": F(3, "uint16"),
        },
    ),
    "sport": (12, {"sport": F(0, "enum"), "sub_sport": F(1, "enum"), "name": F(3, "string")}),
    "session": (
        18,
        {
            "timestamp": TS,
            "event": F(0, "enum"),
            "event_type": F(1, "enum"),
            "start_time": F(2, "uint32"),
            "sport": F(5, "enum"),
            "sub_sport": F(6, "enum"),
            "total_elapsed_time": F(7, "uint32", 1000),
            "total_timer_time": F(8, "uint32", 1000),
            "total_distance": F(9, "uint32", 100),
            "total_calories": F(11, "uint16"),
            "avg_heart_rate": F(16, "uint8"),
            "max_heart_rate": F(17, "uint8"),
            "avg_power": F(20, "uint16"),
            "normalized_power": F(34, "uint16"),
            "training_stress_score": F(35, "uint16", 10),
            "avg_temperature": F(57, "sint8"),
            "max_temperature": F(58, "sint8"),
            "min_temperature": F(150, "sint8"),
            "sweat_loss": F(178, "uint16"),  # Garmin est. sweat loss, ml (undocumented)
            "fluid_consumed": F(179, "uint16"),  # Garmin fluid consumed, ml (undocumented)
            "avg_core_temperature": F(208, "uint16", 100),
            "max_core_temperature": F(210, "uint16", 100),
            "message_index": F(254, "uint16"),
        },
    ),
    "record": (
        20,
        {
            "timestamp": TS,
            "position_lat": F(0, "sint32"),
            "position_long": F(1, "sint32"),
            "altitude": F(2, "uint16", 5, 500),
            "heart_rate": F(3, "uint8"),
            "cadence": F(4, "uint8"),
            "distance": F(5, "uint32", 100),
            "speed": F(6, "uint16", 1000),
            "power": F(7, "uint16"),
            "grade": F(9, "sint16", 100),
            "temperature": F(13, "sint8"),
            "enhanced_speed": F(73, "uint32", 1000),
            "enhanced_altitude": F(78, "uint32", 5, 500),
            "core_temperature": F(139, "uint16", 100),
        },
    ),
    "event": (
        21,
        {"timestamp": TS, "event": F(0, "enum"), "event_type": F(1, "enum"), "data": F(3, "uint32")},
    ),
    "weather_conditions": (
        128,
        {
            "timestamp": TS,
            "weather_report": F(0, "enum"),
            "temperature": F(1, "sint8"),
            "wind_speed": F(4, "uint16", 1000),
            "relative_humidity": F(7, "uint8"),
            "observed_at_time": F(9, "uint32"),
        },
    ),
    "hr": (
        132,
        {
            "timestamp": TS,
            "fractional_timestamp": F(0, "uint16", 32768),
            "filtered_bpm": F(6, "uint8"),
            "event_timestamp": F(9, "uint32", 1024),
            "event_timestamp_12": F(10, "byte"),
        },
    ),
    "field_description": (
        206,
        {
            "developer_data_index": F(0, "uint8"),
            "field_definition_number": F(1, "uint8"),
            "fit_base_type_id": F(2, "uint8"),
            "field_name": F(3, "string"),
            "scale": F(6, "uint8"),
            "units": F(8, "string"),
            "native_mesg_num": F(14, "uint16"),
            "native_field_num": F(15, "uint8"),
        },
    ),
    "developer_data_id": (
        207,
        {"application_id": F(1, "byte"), "developer_data_index": F(3, "uint8")},
    ),
    "time_in_zone": (
        216,
        {
            "timestamp": TS,
            "reference_mesg": F(0, "uint16"),
            "reference_index": F(1, "uint16"),
            "max_heart_rate": F(11, "uint8"),
            "resting_heart_rate": F(12, "uint8"),
            "threshold_heart_rate": F(13, "uint8"),
            "functional_threshold_power": F(15, "uint16"),
        },
    ),
}

ENUMS: dict[str, dict[str, int]] = {
    "type": {
        "device": 1,
        "settings": 2,
        "sport": 3,
        "activity": 4,
        "workout": 5,
        "course": 6,
        "weight": 9,
        "monitoring_a": 15,
        "monitoring_b": 32,
    },
    "manufacturer": {"garmin": 1, "dynastream": 15, "wahoo_fitness": 32, "stryd": 95, "development": 255},
    "sport": {
        "generic": 0,
        "running": 1,
        "cycling": 2,
        "transition": 3,
        "swimming": 5,
        "training": 10,
        "walking": 11,
        "rowing": 15,
    },
    "sub_sport": {
        "generic": 0,
        "treadmill": 1,
        "street": 2,
        "trail": 3,
        "track": 4,
        "spin": 5,
        "indoor_cycling": 6,
        "road": 7,
        "mountain": 8,
        "indoor_rowing": 14,
        "lap_swimming": 17,
        "open_water": 18,
        "indoor_walking": 27,
        "indoor_running": 45,
        "virtual_activity": 58,
    },
    "event": {"timer": 0},
    "event_type": {"start": 0, "stop": 1, "stop_all": 4},
    "gender": {"female": 0, "male": 1},
    "weather_report": {"current": 0, "forecast": 1, "hourly_forecast": 1, "daily_forecast": 2},
}
ENUMS["native_mesg_num"] = {"record": 20, "session": 18, "lap": 19}
ENUMS["reference_mesg"] = {"session": 18, "lap": 19}

CORE_APP_ID = bytes.fromhex("6957fe6883fe4ed68613413f70624bb5")
STRYD_APP_ID = bytes.fromhex("18fb2cf01a4b430dad66988c847421f4")


@dataclass(frozen=True)
class DevField:
    """A developer field declared by developer_data_id + field_description."""

    name: str
    base: str = "float32"
    units: str = ""
    native_field: int | None = None
    native_mesg: str = "record"
    scale: int | None = None
    app_id: bytes = bytes(16)
    number: int | None = None  # field_definition_number; assigned in order when None


def fit_seconds(when: datetime) -> int:
    if when.tzinfo is None:
        raise ValueError("FIT times must be timezone-aware")
    return int((when - FIT_EPOCH).total_seconds())


def crc16(data: bytes, crc: int = 0) -> int:
    for byte in data:
        for _ in range(8):
            mix = (crc ^ byte) & 1
            crc >>= 1
            if mix:
                crc ^= 0xA001
            byte >>= 1
    return crc


def _raw(field: F, value: Any, key: str) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime):
        return fit_seconds(value)
    if isinstance(value, str) and field.base != "string":
        return ENUMS[key][value]
    if isinstance(value, bytes | bytearray) or field.base in ("string",):
        return value
    if field.scale == 1 and field.offset == 0:
        return value
    return round((value + field.offset) * field.scale)


def _encode_value(base: str, raw: Any, endian: str = "<") -> tuple[bytes, int]:
    """(bytes, size) of one field value; tuples are arrays, bytes are byte arrays, strings NUL-terminated."""
    _num, code, invalid = BASE_TYPES[base]
    if base == "string":
        text = b"" if raw is None else (raw.encode() if isinstance(raw, str) else bytes(raw))
        data = text + b"\x00"
        return data, len(data)
    if isinstance(raw, bytes | bytearray):
        return bytes(raw), len(raw)
    values = raw if isinstance(raw, tuple | list) else (raw,)
    out = b"".join(struct.pack(endian + code, invalid if v is None else v) for v in values)
    return out, len(out)


class _Writer:
    def __init__(self, big_endian: bool = False) -> None:
        self.endian = ">" if big_endian else "<"
        self.body = bytearray()
        self._layouts: dict[int, tuple[Any, ...]] = {}
        self._locals: dict[tuple[Any, ...], int] = {}
        self._next_local = 0
        self.dev: dict[str, tuple[int, int, DevField]] = {}  # name -> (dev index, field number, spec)

    def _local_for(self, layout: tuple[Any, ...], fixed: int | None = None) -> tuple[int, bool]:
        local = self._locals.get(layout) if fixed is None else fixed
        if local is not None and self._layouts.get(local) == layout:
            return local, False
        if fixed is not None:
            local = fixed
        else:
            local = self._next_local
            self._next_local = (self._next_local + 1) % 16
        old = self._layouts.get(local)
        if old is not None:
            self._locals.pop(old, None)
        self._layouts[local] = layout
        self._locals[layout] = local
        return local, True

    def write(
        self,
        name: str | int,
        values: dict[str, Any],
        dev_values: dict[str, Any] | None = None,
        time_offset: int | None = None,
    ) -> None:
        """One data message (and its definition when the layout changes). `time_offset`: write a
        compressed-timestamp header with these 5 bits instead (the values then hold no timestamp); such
        messages use local type 3, as compressed headers only reach local types 0-3."""
        endian = self.endian
        if isinstance(name, int):
            mesg_num, spec = name, {}
        else:
            mesg_num, spec = MESSAGES[name]
        fields: list[tuple[int, int, int, bytes]] = []  # (num, size, base type number, data)
        for key, value in values.items():
            if isinstance(key, int):  # raw field number with an explicit (base, value) pair
                base, raw = value
                field = F(key, base)
            else:
                field = spec[key]
                raw = _raw(field, value, key)
            data, size = _encode_value(field.base, raw, endian)
            fields.append((field.num, size, BASE_TYPES[field.base][0], data))
        dev_fields: list[tuple[int, int, int, bytes]] = []
        for key, value in (dev_values or {}).items():
            index, number, dspec = self.dev[key]
            raw = value if value is None or dspec.scale is None else round(value * dspec.scale)
            data, size = _encode_value(dspec.base, raw, endian)
            dev_fields.append((number, size, index, data))
        layout = (
            mesg_num,
            tuple((n, s, b) for n, s, b, _ in fields),
            tuple((n, s, i) for n, s, i, _ in dev_fields),
        )
        local, new = self._local_for(layout, None if time_offset is None else 3)
        if new:
            header = 0x40 | local | (0x20 if dev_fields else 0)
            definition = bytearray([header, 0, 1 if endian == ">" else 0])
            definition += struct.pack(endian + "HB", mesg_num, len(fields))
            for num, size, base, _ in fields:
                definition += bytes([num, size, base])
            if dev_fields:
                definition.append(len(dev_fields))
                for num, size, index, _ in dev_fields:
                    definition += bytes([num, size, index])
            self.body += definition
        self.body.append(local if time_offset is None else 0x80 | local << 5 | (time_offset & 0x1F))
        for *_, data in fields:
            self.body += data
        for *_, data in dev_fields:
            self.body += data

    def declare_developer_fields(self, specs: Sequence[DevField]) -> None:
        apps: dict[bytes, int] = {}
        numbers: dict[int, int] = {}
        for spec in specs:
            if spec.app_id not in apps:
                index = apps[spec.app_id] = len(apps)
                self.write(
                    "developer_data_id", {"application_id": spec.app_id, "developer_data_index": index}
                )
            index = apps[spec.app_id]
            number = spec.number if spec.number is not None else numbers.get(index, 0)
            numbers[index] = number + 1
            description: dict[str, Any] = {
                "developer_data_index": index,
                "field_definition_number": number,
                "fit_base_type_id": BASE_TYPES[spec.base][0],
                "field_name": spec.name,
                "units": spec.units,
                "native_mesg_num": spec.native_mesg,
            }
            if spec.native_field is not None:
                description["native_field_num"] = spec.native_field
            if spec.scale is not None:
                description["scale"] = spec.scale
            self.write("field_description", description)
            self.dev[spec.name] = (index, number, spec)


def fit_file(body: bytes, *, header_crc: bool = True, data_size: int | None = None) -> bytes:
    """Wrap a message body in a 14-byte header and a file CRC."""
    size = len(body) if data_size is None else data_size
    header = bytearray(struct.pack("<BBHI4s", 14, 0x20, 2132, size, b".FIT"))
    header += struct.pack("<H", crc16(bytes(header)) if header_crc else 0)
    content = bytes(header) + bytes(body)
    return content + struct.pack("<H", crc16(content))


def _when(start: datetime, record: dict[str, Any]) -> datetime:
    if "timestamp" in record:
        return record["timestamp"]
    return start + timedelta(seconds=record.get("t", 0))


def build_fit(
    records: list[dict[str, Any]],
    *,
    sport: str | int = "running",
    sub_sport: str | int = "generic",
    start: datetime = DEFAULT_START,
    file_type: str | int | None = "activity",
    session: dict[str, Any] | None | bool = None,
    sessions: list[dict[str, Any]] | None = None,
    weather: dict[str, Any] | None = None,
    user_profile: dict[str, Any] | None = None,
    zones_target: dict[str, Any] | None = None,
    developer_fields: Sequence[DevField] = (),
    pauses: Iterable[tuple[float, float]] = (),
    extra_messages: Iterable[tuple[str | int, dict[str, Any]]] = (),
    manufacturer: str | int = "development",
    product: int = 1,
    serial_number: int | None = 12345,
    big_endian: bool = False,
    compressed_timestamps: bool = False,
) -> bytes:
    """A complete FIT file.

    records: dicts of record field names (profile units) plus "t" (seconds after `start`) or "timestamp",
      and optionally "dev": {developer field name: value}.
    session: None = a session summarising the records; a dict = that plus these fields; False = no session.
    sessions: several sessions instead (multisport); each needs its own start_time/total_elapsed_time/sport.
    pauses: (stop, start) offsets in seconds written as timer stop_all/start events.
    extra_messages: (message name or number, fields) written after the profile messages, before the records.
    big_endian: every definition big endian (architecture 1), and the values written so.
    compressed_timestamps: records less than 32 s after the last full timestamp get a compressed-timestamp
      header (5-bit offset) instead of a timestamp field, as FR70-era devices write them.
    """
    w = _Writer(big_endian)
    if file_type is not None:  # None: no file_id at all (like the hr-only files chained after a swim)
        file_id: dict[str, Any] = {
            "type": file_type,
            "manufacturer": manufacturer,
            "product": product,
            "serial_number": serial_number,
            "time_created": start,
        }
        w.write("file_id", file_id)
    if developer_fields:
        w.declare_developer_fields(developer_fields)
    if user_profile:
        w.write("user_profile", user_profile)
    if zones_target:
        w.write("zones_target", zones_target)
    for name, values in extra_messages:
        w.write(name, dict(values))
    if not records and session is None and sessions is None:
        return fit_file(bytes(w.body))
    w.write("event", {"timestamp": start, "event": "timer", "event_type": "start"})
    # Records are written in the order given (tests may put one out of time order); timer events go in
    # before the first record at or after their time.
    events = sorted(
        [(start + timedelta(seconds=stop), "stop_all") for stop, _ in pauses]
        + [(start + timedelta(seconds=resume), "start") for _, resume in pauses]
    )
    last_full: int | None = None  # what a decoder's compressed-timestamp accumulator holds
    for record in records:
        when = _when(start, record)
        while events and events[0][0] <= when:
            at, event_type = events.pop(0)
            w.write("event", {"timestamp": at, "event": "timer", "event_type": event_type})
            last_full = fit_seconds(at)
        values = {k: v for k, v in record.items() if k not in ("t", "dev", "timestamp")}
        seconds = None if when is None else fit_seconds(when)
        if compressed_timestamps and None not in (seconds, last_full) and 0 <= seconds - last_full < 32:  # type: ignore[operator]
            w.write("record", values, record.get("dev"), time_offset=seconds)
        else:
            w.write("record", {"timestamp": when, **values}, record.get("dev"))
        last_full = seconds if seconds is not None else last_full
    for at, event_type in events:
        w.write("event", {"timestamp": at, "event": "timer", "event_type": event_type})
    end = _when(start, records[-1]) if records else start
    if weather:
        w.write("weather_conditions", {"timestamp": start, "weather_report": "current", **weather})
    w.write("event", {"timestamp": end, "event": "timer", "event_type": "stop_all"})
    if sessions is not None:
        for index, values in enumerate(sessions):
            w.write("session", {"timestamp": end, "message_index": index, **values})
    elif session is not False:
        elapsed = (end - start).total_seconds()
        paused = sum(b - a for a, b in pauses)
        summary: dict[str, Any] = {
            "timestamp": end,
            "event": "timer",
            "event_type": "stop_all",
            "start_time": start,
            "sport": sport,
            "sub_sport": sub_sport,
            "total_elapsed_time": elapsed,
            "total_timer_time": elapsed - paused,
            "message_index": 0,
        }
        distances = [r["distance"] for r in records if r.get("distance") is not None]
        if distances:
            summary["total_distance"] = distances[-1]
        w.write("session", {**summary, **(session or {})})
    return fit_file(bytes(w.body))


def _swung(hr: int | None, swing: int, t: int) -> int | None:
    return hr if hr is None or not swing else hr + round(swing * math.sin(2 * math.pi * t / 600))


def steady_records(
    minutes: float,
    *,
    hr: int | None = 140,
    speed_ms: float | None = 3.0,
    power: int | None = None,
    temp_c: int | None = None,
    cadence: int | None = None,
    altitude_m: float | None = None,
    core_c: float | None = None,
    every_s: int = 1,
    hr_swing: int = 0,
) -> list[dict[str, Any]]:
    """Records at a steady effort for `minutes` (first at t=0, last at t=minutes*60). `hr_swing` bpm of slow
    rise and fall keeps a heart rate over an hour from reading as a flat sensor (science.md §10.6)."""
    out = []
    count = int(minutes * 60 // every_s) + 1
    for i in range(count):
        t = i * every_s
        record: dict[str, Any] = {"t": t}
        for key, value in (
            ("heart_rate", _swung(hr, hr_swing, t)),
            ("enhanced_speed", speed_ms),
            ("power", power),
            ("temperature", temp_c),
            ("cadence", cadence),
            ("enhanced_altitude", altitude_m),
            ("core_temperature", core_c),
        ):
            if value is not None:
                record[key] = value
        if speed_ms is not None:
            record["distance"] = round(speed_ms * t, 2)
        out.append(record)
    return out


def hr_messages(
    start: datetime, beats: Sequence[tuple[float, int]], per_message: int = 8
) -> list[tuple[str, dict]]:
    """HRM-Swim style `hr` messages for beats (seconds after start, bpm): one anchor message with timestamp
    and a full event_timestamp, then groups of `per_message` beats with 12-bit packed event_timestamp_12."""
    if not beats:
        return []
    anchor_s, anchor_bpm = beats[0]
    device_clock = 5000.0  # the HRM's own clock at the anchor beat (any value)
    whole = int(anchor_s)
    messages: list[tuple[str, dict]] = [
        (
            "hr",
            {
                "timestamp": start + timedelta(seconds=whole),
                "fractional_timestamp": anchor_s - whole,
                "event_timestamp": device_clock,
                "filtered_bpm": anchor_bpm,
            },
        )
    ]
    rest = list(beats[1:])
    for i in range(0, len(rest), per_message):
        group = rest[i : i + per_message]
        bits = 0
        for k, (offset_s, _bpm) in enumerate(group):
            raw = round((device_clock + offset_s - anchor_s) * 1024)
            bits |= (raw & 0xFFF) << (12 * k)
        packed = bits.to_bytes((12 * len(group) + 7) // 8, "little")
        messages.append(("hr", {"filtered_bpm": tuple(b for _, b in group), "event_timestamp_12": packed}))
    return messages
