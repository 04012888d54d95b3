"""TCX (Garmin Training Center XML) to `Activity` objects.

Parser choice: the standard library's ElementTree (expat), driven through **defusedxml** (`iter_xml`), read
as a stream. tcxreader (0.4.11) was considered and not used: it reads from a path with the unprotected
`xml.etree.ElementTree.parse`, merges every `<Activity>` of a file into one exercise (the last Sport wins),
drops points without GPS by default (indoor rides lose everything), and returns naive datetimes. TCX is a
small, fixed schema (Garmin's TrainingCenterDatabase v2 XSD), so reading it directly costs less than
correcting a library; the XML parser underneath is expat, which CPython maintains.

What is read:

* One Activity per `<Activity>` (also inside `<MultiSportSession>`, one per leg, `leg_index` in file
  order); multisport `<Transition>` laps are skipped, like FIT transition legs. All laps of an Activity
  are one Activity; lap totals feed `summary` (total_timer_time, total_distance, total_calories,
  avg_heart_rate / max_heart_rate time-weighted over laps, avg_power / max_power from the LX extension).
* Per Trackpoint: Time, Position, AltitudeMeters, DistanceMeters (cumulative), HeartRateBpm, Cadence,
  and the ActivityExtension TPX `Speed`, `Watts`, `RunCadence`; a `Temperature` / `atemp` element inside
  the point's Extensions (written by some tools; not in Garmin's schema) becomes the temperature channel.
* `Sport` attribute as FIT names (Running -> running, Biking -> cycling, Other -> generic), `Creator`
  (product_name, product = ProductID, serial_number = UnitId, software_version) as `device`.
* Courses (`<Courses>`, a planned route) are refused with that reason; their points are not activity data.
* A file cut off part-way keeps the points read before the break (`partial=True`, warning in plain words).

Limits: at most `max_points` track points (counted while reading; over the cap the file is refused without
reading further), any DOCTYPE refused (see `workers.formats`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from workers.activity import Activity, FileRejected, ParseResult
from workers.formats import (
    MAX_POINTS,
    MIN_POINTS,
    TrackBuilder,
    broken_xml_reason,
    element_cap,
    finish_activities,
    iter_xml,
    local_name,
    number,
    parse_time,
    points_over_cap,
    sport_from_label,
)

DECODER = "tcx:defusedxml"

# Trackpoint child (local name) -> point field; extension children are matched case-insensitively.
_POINT_FIELDS = {"AltitudeMeters": "altitude", "DistanceMeters": "distance", "Cadence": "cadence"}
_EXTENSION_FIELDS = {
    "speed": "speed",
    "watts": "power",
    "runcadence": "cadence",
    "temperature": "temperature",
    "atemp": "temperature",
}


@dataclass
class _Open:
    """The `<Activity>` being read."""

    sport_label: str | None
    track: TrackBuilder = field(default_factory=TrackBuilder)
    laps: list[dict[str, float]] = field(default_factory=list)


def _child_text(elem: Element, *path: str) -> str | None:
    """Text of the first descendant reached by local names `path` (namespace-agnostic)."""
    node: Element | None = elem
    for name in path:
        if node is None:
            return None
        node = next((c for c in node if local_name(c.tag) == name), None)
    return None if node is None else node.text


def _read_point(elem: Element) -> tuple[tuple[float, bool] | None, dict[str, float]]:
    point: dict[str, float] = {}
    when = None
    for child in elem:
        name = local_name(child.tag)
        if name == "Time":
            when = parse_time(child.text)
        elif name == "Position":
            point["lat"] = number(_child_text(child, "LatitudeDegrees"))
            point["lon"] = number(_child_text(child, "LongitudeDegrees"))
        elif name == "HeartRateBpm":
            point["heart_rate"] = number(_child_text(child, "Value"))
        elif name in _POINT_FIELDS:
            point[_POINT_FIELDS[name]] = number(child.text)
        elif name == "Extensions":
            for node in child.iter():
                key = _EXTENSION_FIELDS.get(local_name(node.tag).lower())
                if key is not None and not (key in point and not math.isnan(point[key])):
                    point[key] = number(node.text)
    return when, point


def _read_lap(elem: Element) -> dict[str, float]:
    lap = {
        "time": number(_child_text(elem, "TotalTimeSeconds")),
        "distance": number(_child_text(elem, "DistanceMeters")),
        "calories": number(_child_text(elem, "Calories")),
        "avg_hr": number(_child_text(elem, "AverageHeartRateBpm", "Value")),
        "max_hr": number(_child_text(elem, "MaximumHeartRateBpm", "Value")),
    }
    for node in elem.iter():
        name = local_name(node.tag)
        if name == "AvgWatts":
            lap["avg_power"] = number(node.text)
        elif name == "MaxWatts":
            lap["max_power"] = number(node.text)
    return lap


def _summary(laps: list[dict[str, float]]) -> dict[str, Any]:
    """File totals over laps (TCX lap fields are optional: a total is given only when every lap has it)."""
    out: dict[str, Any] = {}
    if not laps:
        return out

    def total(key: str) -> float | None:
        values = [lap.get(key, math.nan) for lap in laps]
        return None if any(math.isnan(v) for v in values) else float(sum(values))

    for key, name in (
        ("time", "total_timer_time"),
        ("distance", "total_distance"),
        ("calories", "total_calories"),
    ):
        value = total(key)
        if value is not None:
            out[name] = value
    for key, name in (("avg_hr", "avg_heart_rate"), ("avg_power", "avg_power")):
        pairs = [(lap.get(key, math.nan), lap["time"]) for lap in laps]
        if pairs and all(not math.isnan(v) and not math.isnan(w) for v, w in pairs):
            weight = sum(w for _, w in pairs)
            if weight > 0:
                out[name] = sum(v * w for v, w in pairs) / weight
    for key, name in (("max_hr", "max_heart_rate"), ("max_power", "max_power")):
        values = [lap[key] for lap in laps if key in lap and not math.isnan(lap[key])]
        if values:
            out[name] = max(values)
    return out


def _device(activity: Element) -> dict[str, Any]:
    creator = next((c for c in activity if local_name(c.tag) == "Creator"), None)
    if creator is None:
        return {}
    out: dict[str, Any] = {}
    name = _child_text(creator, "Name")
    if name and name.strip():
        out["product_name"] = name.strip()[:100]
    for tag, key in (("ProductID", "product"), ("UnitId", "serial_number")):
        value = number(_child_text(creator, tag))
        if not math.isnan(value) and value > 0 and value == int(value):
            out[key] = int(value)
    major = _child_text(creator, "Version", "VersionMajor")
    minor = _child_text(creator, "Version", "VersionMinor")
    if major and major.strip().isdigit():
        minor_digits = minor.strip() if minor and minor.strip().isdigit() else "0"
        out["software_version"] = f"{int(major)}.{int(minor_digits)}"
    return out


@dataclass
class _Scan:
    """What one pass over a TCX file found: its finished activities and the points it did not keep."""

    # (activity, device, extras)
    finished: list[tuple[_Open, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    points: int = 0
    course_points: int = 0
    skipped_points: int = 0  # multisport transitions and anything outside an Activity
    fault: str | None = None


def _scan(data: bytes, max_points: int) -> _Scan:
    """Stream the XML once; each point and lap is dropped from the tree once read, so memory stays flat."""
    scan = _Scan()
    stack: list[Element] = []
    names: list[str] = []
    current: _Open | None = None
    try:
        for event, elem in iter_xml(data, "TCX", "TrainingCenterDatabase", element_cap(max_points)):
            name = local_name(elem.tag)
            if event == "start":
                stack.append(elem)
                names.append(name)
                if name == "Activity" and "Activities" in names and current is None:
                    current = _Open(sport_label=elem.get("Sport"))
                elif name == "Track" and current is not None:
                    current.track.new_segment()
                continue
            stack.pop()
            names.pop()
            parent = stack[-1] if stack else None
            if name == "Trackpoint":
                scan.points += 1
                if scan.points > max_points:
                    raise points_over_cap("TCX", max_points)
                if current is not None and "Lap" in names:
                    current.track.add(*_read_point(elem))
                elif "Courses" in names:
                    scan.course_points += 1
                else:
                    scan.skipped_points += 1
            elif name == "Lap" and current is not None:
                current.laps.append(_read_lap(elem))
            elif name == "Activity" and current is not None and "Activities" in names:
                extras: dict[str, Any] = {}
                started = parse_time(_child_text(elem, "Id"))
                if started is not None:
                    extras["start_time_s"] = started[0]
                scan.finished.append((current, _device(elem), extras))
                current = None
            else:
                continue
            if parent is not None:
                parent.remove(elem)  # e.g. the parent Track holds only this point
    except ParseError as exc:
        scan.fault = broken_xml_reason("TCX", exc)
        if current is not None:
            scan.finished.append((current, {}, {"cut_off": True}))
    return scan


def _activity(
    opened: _Open, device: dict[str, Any], extras: dict[str, Any], fault: str | None, notes: list[str]
) -> Activity | None:
    """One finished `<Activity>` as an Activity; None (with a note) when it has too few timed points."""
    track = opened.track
    if len(track) < MIN_POINTS:
        if len(track):
            notes.append(
                f"a {opened.sport_label or 'TCX'} activity with only {len(track)} timed track points "
                "was ignored"
            )
        return None
    sport, sub_sport = sport_from_label(opened.sport_label)
    summary = _summary(opened.laps)
    if opened.sport_label:
        summary["sport_label"] = opened.sport_label[:60]
    if "start_time_s" in extras:
        summary["start_time"] = datetime.fromtimestamp(extras["start_time_s"], tz=UTC)
    cut_off = bool(extras.get("cut_off"))
    warnings = [f"{fault}; the track points before the damage were kept"] if cut_off else []
    activity = track.build(
        what="TCX",
        sport=sport,
        sub_sport=sub_sport,
        device=device,
        summary=summary,
        decoder=DECODER,
        warnings=warnings,
    )
    activity.partial = cut_off
    return activity


def _rejected(scan: _Scan) -> FileRejected:
    """Why a TCX file with no usable activity cannot become a session."""
    if scan.fault is not None and not scan.finished:
        return FileRejected(scan.fault)
    if scan.course_points and not scan.finished:
        return FileRejected(
            "this TCX file holds a course (a planned route), not a recorded activity: there is nothing "
            "to analyse"
        )
    timed = sum(len(o.track) for o, _, _ in scan.finished)
    if timed == 0:
        return FileRejected("no track points in this TCX file")
    return FileRejected(f"too little data to be an activity ({timed} track points)")


def parse_tcx(data: bytes, *, max_points: int = MAX_POINTS) -> ParseResult:
    """Activities of a TCX file; FileRejected(reason) when it cannot become a session."""
    if not data.strip():
        raise FileRejected("the file is empty")
    scan = _scan(data, max_points)
    notes: list[str] = []
    if scan.fault is not None and not any(extras.get("cut_off") for _, _, extras in scan.finished):
        notes.append(f"{scan.fault}; the activities before the damage were kept")
    built = (_activity(opened, device, extras, scan.fault, notes) for opened, device, extras in scan.finished)
    activities = [activity for activity in built if activity is not None]
    if not activities:
        raise _rejected(scan)
    finish_activities(activities, notes)
    if scan.skipped_points:
        for activity in activities:
            activity.warnings.append(
                f"{scan.skipped_points:,} track points outside any activity (multisport transitions) were "
                "left out"
            )
    return ParseResult(activities=activities, warnings=list(notes), decoder=DECODER)
