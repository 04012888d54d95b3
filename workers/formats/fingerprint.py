"""Duplicate activities across different files.

    activity_fingerprints(activity) -> dict        # JSON-ready; store one per Activity (per leg)
    is_same_activity(a, b, *, window_s=60) -> bool  # the caller guarantees a and b are the same athlete's

The same bytes are the same upload (sha256, at the route). This module answers the other question from
issue 5: is this Activity, from another file, one the athlete already uploaded? The rule:

1. **Same device serial and start time**: both files name a device serial number, the serials (and the
   manufacturers, when both files name one) are equal, and the start times are equal to the second. This
   catches the same recording exported twice (the watch's FIT and Garmin Connect's TCX, whose `Creator
   UnitId` is the device serial) even when the two files disagree on the sport.
2. **Same athlete, sport and start within `window_s` (60 s, inclusive)**: catches the same workout in files
   that carry no serial (GPX, most TCX, apps) and the same workout recorded by two devices at once (a watch
   and a bike computer): a person does not start two workouts within a minute of each other. Sports are
   compared as FIT sport names (TCX "Biking" and GPX "road_biking" are both "cycling"); a sport the file
   does not tell (None, or FIT "generic") matches any sport, since a GPX without `<type>` is the usual
   second copy of a watch's FIT file.

Edge cases, by design:

* **No start_time -> never a duplicate.** A file whose start cannot be placed in time cannot be shown to
  repeat anything; analysing it twice is the lesser harm than hiding a workout.
* **One device, two recordings.** When both files name the same device serial but the start times differ,
  rule 2 applies only if the two recordings overlap in time (a trimmed export of the same recording starts
  a few seconds later). A device records one activity at a time, so back-to-back recordings from one
  device (a false start saved after 20 s, then the real workout 40 s later) are two activities.
* **Multisport legs.** Each leg is its own Activity with its own start time; all legs of a file share the
  device serial and follow each other without overlap, so no two legs of one recording are ever duplicates
  of each other. Legs of the same race uploaded twice match leg by leg. Callers compare an upload's legs
  with *other* uploads' activities, never with its own.
* **Time zones.** Start times are compared in UTC. TCX/GPX times without a zone are read as UTC (with a
  warning on the Activity), so such a file may sit hours away from its FIT twin and not be flagged.
* `device_key` (manufacturer / product / serial / start to the second; None without a serial) is an exact
  key for indexing FIT-to-FIT repeats. `is_same_activity` compares its parts instead, because formats name
  the product differently (FIT decoders give "fr965", TCX gives ProductID 4315, GPX gives nothing).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from workers.activity import Activity

WINDOW_S = 60
UNKNOWN_SPORTS = frozenset({"generic"})
_INVALID_SERIALS = frozenset({0, 0xFFFFFFFF})


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            return None
        value = int(value)
    text = str(value).strip().lower()
    return text[:100] or None


def _serial(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and (not math.isfinite(value) or int(value) in _INVALID_SERIALS):
        return None
    if isinstance(value, str) and value.strip().isdigit() and int(value) in _INVALID_SERIALS:
        return None
    return _text(value)


def _iso_second(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = round(when.timestamp())
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def activity_fingerprints(activity: Activity) -> dict[str, Any]:
    """What duplicate detection needs to remember about an Activity (JSON-serialisable).

    Keys: device_key, manufacturer, product, serial, start_time ("YYYY-MM-DDTHH:MM:SSZ", UTC, rounded to
    the second), duration_s, sport, leg_index."""
    device = activity.device or {}
    manufacturer = _text(device.get("manufacturer"))
    product = _text(
        device.get("product") if device.get("product") is not None else device.get("product_name")
    )
    serial = _serial(device.get("serial_number"))
    start = _iso_second(activity.start_time) if activity.start_time is not None else None
    device_key = None
    if serial is not None and start is not None:
        device_key = f"{manufacturer or '-'}/{product or '-'}/{serial}/{start}"
    sport = _text(activity.sport)
    return {
        "device_key": device_key,
        "manufacturer": manufacturer,
        "product": product,
        "serial": serial,
        "start_time": start,
        "duration_s": round(activity.duration_s, 1),
        "sport": sport,
        "leg_index": activity.leg_index,
    }


def _seconds(value: Any) -> float | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=value.tzinfo or UTC).timestamp()
    if isinstance(value, str) and value:
        try:
            return _seconds(datetime.fromisoformat(value))
        except ValueError:
            return None
    return None


def _sport_matches(a: Any, b: Any) -> bool:
    sa, sb = _text(a), _text(b)
    if sa is None or sb is None or sa in UNKNOWN_SPORTS or sb in UNKNOWN_SPORTS:
        return True
    return sa == sb


def _overlap(a: dict[str, Any], start_a: float, b: dict[str, Any], start_b: float) -> bool:
    da, db = a.get("duration_s"), b.get("duration_s")
    if not isinstance(da, int | float) or not isinstance(db, int | float):
        return True  # durations unknown: do not rule the pair out
    return start_a < start_b + db and start_b < start_a + da


def is_same_activity(a: dict[str, Any], b: dict[str, Any], *, window_s: float = WINDOW_S) -> bool:
    """True when fingerprints a and b (the same athlete's) are the same activity; see the module docstring."""
    start_a, start_b = _seconds(a.get("start_time")), _seconds(b.get("start_time"))
    if start_a is None or start_b is None:
        return False
    if a.get("device_key") is not None and a.get("device_key") == b.get("device_key"):
        return True
    serial_a, serial_b = a.get("serial"), b.get("serial")
    makers = (a.get("manufacturer"), b.get("manufacturer"))
    same_device = serial_a is not None and serial_a == serial_b and (None in makers or makers[0] == makers[1])
    if same_device:
        if round(start_a) == round(start_b):
            return True
        if not _overlap(a, start_a, b, start_b):
            return False
    return abs(start_a - start_b) <= window_s and _sport_matches(a.get("sport"), b.get("sport"))
