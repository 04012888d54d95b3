"""From collected segment data to normalized `Activity` objects (one per session message / multisport leg)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from fitdecode.profile import FIELD_TYPES as FITDECODE_FIELD_TYPES

from workers.activity import Activity
from workers.fit.collect import TIMESTAMP, SegmentData
from workers.physiology.device import per_leg_from_running_totals

FIT_EPOCH_S = 631065600  # 1989-12-31T00:00:00Z in Unix seconds
MIN_ABSOLUTE_TIMESTAMP = 0x10000000  # FIT: smaller date_time values are seconds since device power-on

INDOOR_SUB_SPORTS = frozenset(
    {
        "indoor_cycling",
        "virtual_activity",
        "treadmill",
        "indoor_running",
        "indoor_rowing",
        "indoor_walking",
        "spin",
    }
)
# Products are named through the garmin_product table for these manufacturers (FIT profile subfield rule).
GARMIN_PRODUCT_MANUFACTURERS = frozenset({"garmin", "dynastream", "dynastream_oem", "tacx"})
FILE_KIND_WORDS = {
    "device": "device description",
    "settings": "settings",
    "sport": "sport settings",
    "workout": "workout",
    "course": "course",
    "schedules": "schedule",
    "weight": "weight scale",
    "totals": "totals",
    "goals": "goals",
    "blood_pressure": "blood pressure",
    "monitoring_a": "monitoring",
    "monitoring_b": "monitoring",
    "monitoring_daily": "monitoring",
    "activity_summary": "activity summary",
    "segment": "segment",
    "segment_list": "segment list",
    "exd_configuration": "data screen configuration",
}
EVENT_TIMER = (0, "timer")
EVENT_TYPE_NAMES = {0: "start", 1: "stop", 4: "stop_all", 8: "stop_disable", 9: "stop_disable_all"}
TIMER_STOPS = frozenset({"stop", "stop_all", "stop_disable", "stop_disable_all"})
GENDER = {0: "f", 1: "m", "female": "f", "male": "m"}

# session field number -> summary key. Values are already scaled by the decoder adapter.
SESSION_SUMMARY: dict[int, str] = {
    7: "total_elapsed_time",
    8: "total_timer_time",
    9: "total_distance",
    11: "total_calories",
    16: "avg_heart_rate",
    17: "max_heart_rate",
    18: "avg_cadence",
    20: "avg_power",
    21: "max_power",
    22: "total_ascent",
    23: "total_descent",
    34: "normalized_power",
    35: "training_stress_score",
    36: "intensity_factor",
    45: "threshold_power",
    48: "total_work",
    57: "avg_temperature",
    58: "max_temperature",
    150: "min_temperature",
    178: "sweat_loss_ml",  # Garmin "estimated sweat loss", ml (not in fitparse/fitdecode profiles)
    179: "fluid_consumed_ml",  # Garmin "fluid consumed", ml
    208: "avg_core_temperature",
    209: "min_core_temperature",
    210: "max_core_temperature",
}
SESSION_SPEED = ((124, 14), "avg_speed"), ((125, 15), "max_speed")
DEV_SESSION_SUMMARY = {
    "avg_core_temperature": "avg_core_temperature",
    "min_core_temperature": "min_core_temperature",
    "max_core_temperature": "max_core_temperature",
}
ZERO_MEANS_MISSING = frozenset({"total_elapsed_time", "total_timer_time"})

# Plausible ranges for athlete data; values outside are device placeholders or junk.
HINT_RANGES = {
    "weight_kg": (20.0, 300.0),
    "height_m": (1.0, 2.5),
    "age": (5, 98),  # 99 is a placeholder some apps write (TrainingPeaks Virtual)
    "hr_rest": (25, 120),
    "hr_max": (100, 240),
    "lthr": (80, 230),
    "ftp_w": (20, 1000),
}


@dataclass
class SegmentResult:
    """A decoded segment, as the orchestrator hands it to the builder."""

    index: int
    offset: int
    data: SegmentData
    decoder: str
    partial: bool
    warnings: list[str] = field(default_factory=list)
    fault: str | None = None


def fit_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= MIN_ABSOLUTE_TIMESTAMP:
        return datetime.fromtimestamp(FIT_EPOCH_S + float(value), tz=UTC)
    return None


def _scalar(value: Any) -> float:
    if value is None or isinstance(value, bool):
        return math.nan
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, tuple | list):
        for item in value:
            if isinstance(item, int | float) and not isinstance(item, bool):
                return float(item)
    return math.nan


def float_column(values: list[Any]) -> np.ndarray:
    """Python values to float64 with NaN for missing; arrays and strings (odd devices) handled slowly."""
    try:
        column = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        column = None
    if column is None or column.ndim != 1:  # arrays (a tuple per record) would give a 2-D result
        column = np.array([_scalar(v) for v in values], dtype=np.float64)
    return column


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, tuple | list):
        value = next((v for v in value if v is not None), None)
        if value is None:
            return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    return None


def _profile_enum(type_name: str) -> dict[int, str]:
    field_type = FITDECODE_FIELD_TYPES.get(type_name)
    return dict(getattr(field_type, "enum", None) or {})


# fitdecode's profile (21.x) is newer than fitparse's: it names values fitparse leaves as ints (COROS,
# MyWhoosh, Edge 530, FR955, ...), whichever decoder read the file.
ENUMS = {
    name: _profile_enum(name) for name in ("sport", "sub_sport", "file", "manufacturer", "garmin_product")
}


def enum_name(value: Any, type_name: str) -> str | None:
    """The profile name of an enum value (decoders give names, or ints for values their profile lacks)."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return ENUMS[type_name].get(value, str(value))
    return str(value)


def file_type_name(seg: SegmentData) -> str | None:
    for fid in seg.file_ids:
        value = fid.get(0)
        if value is not None:
            return enum_name(value, "file")
    return None


# -- swim HR (hr messages) -------------------------------------------------------------------------


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, tuple | list):
        return tuple(value)
    return (value,)


def expand_hr_messages(messages: list[dict[int, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """HRM-Swim/Tri `hr` messages to (absolute FIT seconds, bpm), sorted by time.

    An anchor message carries timestamp (+ fractional_timestamp) and one event_timestamp; the others carry up
    to ten beats each, with event times either as event_timestamp (1/1024 s) or packed as 12-bit deltas in
    event_timestamp_12, accumulated from the previous event time. The 12-bit form is decoded here from the
    raw bytes because fitparse and fitdecode expand it differently."""
    times: list[float] = []
    bpms: list[float] = []
    anchor_time: float | None = None
    anchor_raw: int | None = None
    last_raw: int | None = None
    for msg in messages:
        bpm = _as_tuple(msg.get(6))
        events = [e for e in _as_tuple(msg.get(9)) if isinstance(e, int | float)]
        packed = msg.get(10)
        ts = msg.get(TIMESTAMP)
        if isinstance(ts, int) and events:
            frac = msg.get(0)
            anchor_time = ts + (float(frac) if isinstance(frac, int | float) else 0.0)
            anchor_raw = round(events[0] * 1024)
            last_raw = anchor_raw
        raws: list[int] = []
        if isinstance(packed, tuple | list | bytes) and packed and last_raw is not None:
            try:
                bits = int.from_bytes(bytes(int(b) & 0xFF for b in packed), "little")
            except (TypeError, ValueError):
                bits = None
            if bits is not None:
                for k in range(min(len(bpm), len(packed) * 8 // 12)):
                    low = (bits >> (12 * k)) & 0xFFF
                    last_raw = last_raw + ((low - last_raw) & 0xFFF)
                    raws.append(last_raw)
        elif events:
            raws = [round(e * 1024) for e in events]
            last_raw = raws[-1]
        if anchor_time is None or anchor_raw is None:
            continue
        for raw, beat in zip(raws, bpm, strict=False):
            if isinstance(beat, int | float) and 0 < beat < 255:
                times.append(anchor_time + (raw - anchor_raw) / 1024.0)
                bpms.append(float(beat))
    if not times:
        return np.empty(0), np.empty(0)
    t = np.asarray(times)
    b = np.asarray(bpms)
    order = np.argsort(t, kind="stable")
    return t[order], b[order]


def merge_hr(record_ts: np.ndarray, hr_t: np.ndarray, hr_bpm: np.ndarray, carry_s: float = 5.0) -> np.ndarray:
    """Per record: mean of the beats in (previous record, this record]; else the last beat within carry_s."""
    out = np.full(record_ts.size, np.nan)
    if record_ts.size == 0 or hr_t.size == 0:
        return out
    upto = np.searchsorted(hr_t, record_ts, side="right")
    first = np.searchsorted(hr_t, record_ts[0] - 1.0, side="right")
    since = np.concatenate(([first], upto[:-1]))
    since = np.minimum(since, upto)
    sums = np.concatenate(([0.0], np.cumsum(hr_bpm)))
    count = upto - since
    has = count > 0
    out[has] = np.floor((sums[upto[has]] - sums[since[has]]) / count[has] + 0.5)
    last = upto - 1
    carry = ~has & (last >= 0)
    idx = np.nonzero(carry)[0]
    near = record_ts[idx] - hr_t[last[idx]] <= carry_s
    out[idx[near]] = hr_bpm[last[idx[near]]]
    return out


# -- per-file context ------------------------------------------------------------------------------


@dataclass
class FileContext:
    """What every activity of the upload may draw on: all segments' profile, zones, weather and hr data."""

    segments: list[SegmentResult]
    file_warnings: list[str]
    hr_t: np.ndarray = field(default_factory=lambda: np.empty(0))
    hr_bpm: np.ndarray = field(default_factory=lambda: np.empty(0))

    _ordered: dict[tuple[int, str], list[dict[int, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        hr_messages = [m for s in self.segments for m in s.data.hr]
        if hr_messages:
            self.hr_t, self.hr_bpm = expand_hr_messages(hr_messages)

    def ordered(self, seg: SegmentResult, attr: str) -> list[dict[int, Any]]:
        """This segment's messages of one kind first, then the other segments'."""
        key = (seg.index, attr)
        if key not in self._ordered:
            own = list(getattr(seg.data, attr))
            self._ordered[key] = own + [
                m for s in self.segments if s is not seg for m in getattr(s.data, attr)
            ]
        return self._ordered[key]


def _first(messages: list[dict[int, Any]], num: int) -> Any:
    for msg in messages:
        value = _number(msg.get(num))
        if value is not None and value != 0:
            return value
    return None


def _in_range(key: str, value: Any) -> Any:
    if value is None:
        return None
    low, high = HINT_RANGES[key]
    return value if low <= value <= high else None


def athlete_hints(ctx: FileContext, seg: SegmentResult, session: dict[int, Any] | None) -> dict[str, Any]:
    zones = ctx.ordered(seg, "zones_targets")
    tiz_all = ctx.ordered(seg, "time_in_zones")
    profiles = ctx.ordered(seg, "user_profiles")
    session_index = session.get(254) if session else None

    def on_session(msg: dict[int, Any]) -> bool:
        return msg.get(0) in (18, "session")

    tiz = (
        [m for m in tiz_all if on_session(m) and session_index is not None and m.get(1) == session_index]
        + [m for m in tiz_all if on_session(m)]
        + tiz_all
    )
    hints: dict[str, Any] = {}

    def put(key: str, *candidates: Any) -> None:
        for value in candidates:
            value = _in_range(key, value)
            if value is not None:
                hints[key] = value
                return

    put("hr_max", _first(zones, 1), _first(tiz, 11), _first(profiles, 11))
    put("hr_rest", _first(tiz, 12), _first(profiles, 8))
    put("lthr", _first(zones, 2), _first(tiz, 13))
    put("ftp_w", _first(zones, 3), _first(tiz, 15))
    put("weight_kg", _first(profiles, 4))
    height = _first(profiles, 3)
    put("height_m", height)
    put("age", _first(profiles, 2))
    for msg in profiles:
        gender = msg.get(1)
        sex = GENDER.get(gender) if isinstance(gender, int | str) else None  # 2 and others: placeholders
        if sex:
            hints["sex"] = sex
            break
    ordered = ("weight_kg", "sex", "age", "height_m", "hr_rest", "hr_max", "lthr", "ftp_w")
    return {key: hints[key] for key in ordered if key in hints}


SEMICIRCLE_DEG = 180.0 / 2**31


def _degrees(semicircles: np.ndarray) -> np.ndarray:
    """FIT positions are semicircles; a value outside ±90/±180 degrees is no fix."""
    deg = semicircles * SEMICIRCLE_DEG
    deg[~(np.abs(deg) <= 180.0)] = np.nan
    return deg


def _weather(ctx: FileContext, seg: SegmentResult, start: float, end: float) -> dict[str, Any] | None:
    reports = ctx.ordered(seg, "weather")
    if not reports:
        return None
    current = [r for r in reports if r.get(0) in (None, 0, "current")] or reports
    middle = (start + end) / 2

    def distance(report: dict[int, Any]) -> float:
        when = report.get(TIMESTAMP)
        if not isinstance(when, int):
            when = report.get(9)
        return abs(when - middle) if isinstance(when, int) else math.inf

    report = min(current, key=distance)
    out: dict[str, Any] = {}
    for num, key in ((1, "temperature_c"), (7, "relative_humidity_pct"), (4, "wind_speed_ms")):
        value = _number(report.get(num))
        if value is not None:
            out[key] = value
    when = fit_datetime(report.get(9)) or fit_datetime(report.get(TIMESTAMP))
    if out and when is not None:
        out["observed_at"] = when
    return out or None


def timer_pauses(events: list[tuple[int, Any, Any]]) -> list[tuple[float, float]]:
    """(stop, start) pairs in absolute FIT seconds from timer events."""
    pauses: list[tuple[float, float]] = []
    stopped_at: float | None = None
    for ts, event, event_type in sorted(events, key=lambda e: e[0]):
        if event not in EVENT_TIMER:
            continue
        kind = EVENT_TYPE_NAMES.get(event_type, event_type) if isinstance(event_type, int) else event_type
        if kind in TIMER_STOPS:
            if stopped_at is None:
                stopped_at = float(ts)
        elif kind == "start" and stopped_at is not None:
            if ts > stopped_at:
                pauses.append((stopped_at, float(ts)))
            stopped_at = None
    return pauses


def summary_of(
    seg: SegmentData, fields: dict[int, Any], dev: dict[tuple[int, int], Any] | None
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    start = fit_datetime(fields.get(2))
    if start is not None:
        out["start_time"] = start
    for num, key in SESSION_SUMMARY.items():
        value = _number(fields.get(num))
        if value is None or (key in ZERO_MEANS_MISSING and value == 0):
            continue
        out[key] = value
    for num, key in ((3, "start_lat"), (4, "start_lon")):  # semicircles → degrees (first GPS fix)
        value = _number(fields.get(num))
        if value is not None and -(2**31) < value < 2**31 - 1 and value != 0:
            out[key] = value * 180.0 / 2**31
    for nums, key in SESSION_SPEED:
        for num in nums:
            value = _number(fields.get(num))
            if value is not None:
                out[key] = value
                break
    for (_app, name), value in seg.named_dev_values(dev).items():
        dev_key = DEV_SESSION_SUMMARY.get(name.strip().lower())
        value = _number(value)
        if dev_key and dev_key not in out and value is not None:
            out[dev_key] = value
    return out


def device_of(seg: SegmentData) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for fid in seg.file_ids:
        for num, key in ((1, "manufacturer"), (2, "product"), (3, "serial_number"), (8, "product_name")):
            value = fid.get(num)
            if value is not None and key not in out:
                out[key] = value.strip() if isinstance(value, str) else value
        created = fit_datetime(fid.get(4))
        if created is not None and "time_created" not in out:
            out["time_created"] = created
    if isinstance(out.get("manufacturer"), int):
        out["manufacturer"] = enum_name(out["manufacturer"], "manufacturer")
    if isinstance(out.get("product"), int) and out.get("manufacturer") in GARMIN_PRODUCT_MANUFACTURERS:
        out["product"] = ENUMS["garmin_product"].get(out["product"], out["product"])
    return out


# -- legs ------------------------------------------------------------------------------------------


@dataclass
class _Leg:
    fields: dict[int, Any] | None
    dev: dict[tuple[int, int], Any] | None
    start: float | None
    sport: str | None
    sub_sport: str | None


def _legs(seg: SegmentData) -> list[_Leg]:
    legs = []
    for fields, dev in seg.sessions:
        start = fields.get(2)
        if not isinstance(start, int):
            end, elapsed = fields.get(TIMESTAMP), _number(fields.get(7))
            start = end - elapsed if isinstance(end, int) and elapsed is not None else None
        legs.append(
            _Leg(
                fields,
                dev,
                float(start) if start is not None else None,
                enum_name(fields.get(5), "sport"),
                enum_name(fields.get(6), "sub_sport"),
            )
        )
    known = sorted((leg for leg in legs if leg.start is not None), key=lambda leg: leg.start or 0.0)
    unknown = [leg for leg in legs if leg.start is None]
    return known + unknown


def _sport_message(seg: SegmentData) -> tuple[str | None, str | None]:
    for msg in seg.sports:
        sport = enum_name(msg.get(0), "sport")
        if sport is not None:
            return sport, enum_name(msg.get(1), "sub_sport")
    return None, None


MAX_LEGS = 100  # sessions read per FIT segment; a real multisport file has a handful
MAX_ACTIVITIES = 100  # activities per upload (chained files included)
MAX_RECORD_GAP_S = 2 * 24 * 3600  # no single activity pauses this long between two records


def plausible_times(ts: np.ndarray) -> np.ndarray:
    """Mask of records to keep so that time never goes backwards and never jumps by days.

    An isolated timestamp that jumps ahead and comes back is dropped (rather than letting it swallow the
    records after it), then any record earlier than the latest kept one. If time then jumps by more than
    MAX_RECORD_GAP_S (a corrupt value, typically the last record before a break), the longest stretch
    without such a jump is kept."""
    keep = np.ones(ts.size, dtype=bool)
    if ts.size < 2:
        return keep
    steps = np.diff(ts)
    if np.any(steps < 0):
        spike = np.zeros(ts.size, dtype=bool)
        spike[1:-1] = (steps[:-1] > 0) & (steps[1:] < 0) & (ts[2:] >= ts[:-2])
        keep &= ~spike
        kept_at = np.nonzero(keep)[0]
        kept = ts[kept_at]
        keep[kept_at[kept < np.maximum.accumulate(kept)]] = False
    kept_at = np.nonzero(keep)[0]
    jumps = np.nonzero(np.diff(ts[kept_at]) > MAX_RECORD_GAP_S)[0]
    if jumps.size:
        edges = np.concatenate(([0], jumps + 1, [kept_at.size]))
        longest = int(np.argmax(np.diff(edges)))
        keep[:] = False
        keep[kept_at[edges[longest] : edges[longest + 1]]] = True
    return keep


def build_activities(ctx: FileContext) -> tuple[list[Activity], list[SegmentResult]]:
    """Activities of every activity segment, and the segments that produced none."""
    activities: list[Activity] = []
    unused: list[SegmentResult] = []
    for seg in ctx.segments:
        kind = file_type_name(seg.data)
        if (kind is not None and kind != "activity") or seg.data.records == 0:
            unused.append(seg)
            continue
        built = _segment_activities(ctx, seg)
        _leg_sweat_from_running_total(built)
        if not built:
            unused.append(seg)
        activities.extend(built)
        if len(activities) > MAX_ACTIVITIES:
            del activities[MAX_ACTIVITIES:]
            note = f"the upload holds more than {MAX_ACTIVITIES} activities; the rest were ignored"
            for activity in activities:
                activity.warnings.append(note)
            break
    for index, activity in enumerate(activities):
        activity.leg_index = index
    return activities, unused


def _leg_sweat_from_running_total(legs: list[Activity]) -> None:
    """Field 178 is a running total across the legs of one multisport file (science.md §10.6)."""
    totals = [leg.summary.get("sweat_loss_ml") for leg in legs]
    for leg, total, own in zip(legs, totals, per_leg_from_running_totals(totals), strict=True):
        if total is not None and own != total:
            leg.summary["sweat_loss_ml_running_total"] = total
            leg.summary["sweat_loss_ml"] = own


def _segment_activities(ctx: FileContext, seg: SegmentResult) -> list[Activity]:
    """The activities of one segment: its records cleaned up, then cut into one activity per leg."""
    data = seg.data
    warnings = list(seg.warnings)
    ts, columns = _plausible_records(data, warnings)
    if ctx.hr_t.size:
        # Beats stored by an HRM-Swim/Tri strap win over record.heart_rate (the wrist sensor under water): the
        # device's own lap and session averages come from them, and the FIT SDK merges them the same way.
        merged = merge_hr(ts, ctx.hr_t, ctx.hr_bpm)
        columns["heart_rate"] = np.where(np.isnan(merged), columns["heart_rate"], merged)
    pauses = timer_pauses(data.events)
    legs = _legs(data)
    if not legs:
        sport, sub_sport = _sport_message(data)
        act = _activity(ctx, seg, ts, columns, pauses, None, None, sport, sub_sport, warnings)
        act.partial = seg.partial
        act.warnings.append(
            "the file has no summary (session) message; the activity was built from its records"
        )
        return [act]
    if len(legs) > MAX_LEGS:
        warnings.append(f"the file holds {len(legs):,} sessions; only the first {MAX_LEGS} were read")
        legs = legs[:MAX_LEGS]
    out = _leg_activities(ctx, seg, ts, columns, pauses, legs, warnings)
    if seg.partial and out:
        out[-1].partial = True
    return out


def _plausible_records(data: SegmentData, warnings: list[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Timestamps and columns without the records whose time goes backwards or jumps by days."""
    ts = np.asarray(data.ts, dtype=np.float64)
    columns = {name: float_column(values) for name, values in data.columns.items()}
    keep = plausible_times(ts)
    dropped = int(ts.size - keep.sum())
    if dropped:
        ts = ts[keep]
        columns = {name: col[keep] for name, col in columns.items()}
        what = (
            "record with an out-of-order or impossible timestamp was"
            if dropped == 1
            else ("records with out-of-order or impossible timestamps were")
        )
        warnings.append(f"{dropped:,} {what} ignored")
    return ts, columns


def _leg_activities(
    ctx: FileContext,
    seg: SegmentResult,
    ts: np.ndarray,
    columns: dict[str, np.ndarray],
    pauses: list[tuple[float, float]],
    legs: list[_Leg],
    warnings: list[str],
) -> list[Activity]:
    """One activity per leg with at least two records; transitions and legs without a start are left out."""
    # Leg i takes the records in [start_i, start_i+1); the first leg also those before it. ts is sorted.
    starts = [leg.start if leg.start is not None else np.inf for leg in legs]
    bounds = np.searchsorted(ts, np.array(starts[1:] + [np.inf]), side="left")
    out: list[Activity] = []
    skipped: list[str] = []
    for i, leg in enumerate(legs):
        if len(legs) == 1:
            low, high = 0, ts.size
        elif leg.start is None:
            continue
        else:
            low = 0 if i == 0 else int(bounds[i - 1])
            high = int(bounds[i])
        if leg.sport == "transition":
            continue
        if high - low < 2:
            skipped.append(leg.sport or "unknown")
            continue
        idx = slice(low, high)
        leg_ts, leg_columns = ts[idx], {name: col[idx] for name, col in columns.items()}
        session, dev, sport, sub_sport = leg.fields, leg.dev, leg.sport, leg.sub_sport
        out.append(_activity(ctx, seg, leg_ts, leg_columns, pauses, session, dev, sport, sub_sport, warnings))
    if skipped and out:
        note = f"legs without recorded data were skipped ({', '.join(skipped)})"
        for act in out:
            act.warnings.append(note)
    return out


def _activity(
    ctx: FileContext,
    seg: SegmentResult,
    ts: np.ndarray,
    columns: dict[str, np.ndarray],
    pauses: list[tuple[float, float]],
    session: dict[int, Any] | None,
    dev: dict[tuple[int, int], Any] | None,
    sport: str | None,
    sub_sport: str | None,
    warnings: list[str],
) -> Activity:
    """One activity from the records of one leg, with times counted from its first record."""
    origin = float(ts[0])
    channels = _channels(columns)
    gps = bool(np.any(~np.isnan(columns["position_lat"])))
    lat, lon = _degrees(columns["position_lat"]), _degrees(columns["position_long"])
    end = float(ts[-1])
    summary = summary_of(seg.data, session, dev) if session is not None else {}
    act = Activity(
        t=ts - origin,
        start_time=fit_datetime(origin),
        sport=sport,
        sub_sport=sub_sport,
        indoor=_indoor(sub_sport, gps),
        device=device_of(seg.data),
        channels=channels,
        summary=summary,
        athlete_hints=athlete_hints(ctx, seg, session),
        weather=_weather(ctx, seg, origin, end),
        lat=lat if gps else None,
        lon=lon if gps else None,
        pauses=_leg_pauses(pauses, origin, end),
        partial=False,
        warnings=[*ctx.file_warnings, *warnings],
        decoder=seg.decoder,
    )
    return act


def _carried(arr: np.ndarray | None) -> np.ndarray | None:
    """The column, or None when it holds no value at all (the device did not record it)."""
    return arr if arr is not None and arr.size and not np.all(np.isnan(arr)) else None


def _channels(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray | None]:
    """The channels an activity carries, native values first and developer fields as fallbacks."""
    channels: dict[str, np.ndarray | None] = {}
    for name in ("heart_rate", "speed", "altitude", "temperature", "cadence", "distance", "grade"):
        channels[name] = _carried(columns[name])
    channels["power"] = _carried(columns["power"])
    if channels["power"] is None:
        # Stryd and other developer power, never over native
        channels["power"] = _carried(columns["dev_power"])
    core = columns["core_temperature"]
    dev_core = columns["dev_core_temperature"]
    channels["core_temperature"] = _carried(np.where(np.isnan(core), dev_core, core))
    channels["skin_temperature"] = _carried(columns["dev_skin_temperature"])
    return channels


def _indoor(sub_sport: str | None, gps: bool) -> bool | None:
    """Indoor by sub-sport, outdoor by GPS, else unknown."""
    if sub_sport in INDOOR_SUB_SPORTS:
        return True
    if gps:
        return False
    return None


def _leg_pauses(pauses: list[tuple[float, float]], origin: float, end: float) -> list[tuple[float, float]]:
    """The timer pauses that fall within [origin, end], clipped to it and counted from origin."""
    leg_pauses = [
        (max(a, origin) - origin, min(b, end) - origin) for a, b in pauses if b > origin and a < end and b > a
    ]
    return [p for p in leg_pauses if p[1] > p[0]]
