"""GPX to `Activity` objects, through gpxpy.

Parser choice: gpxpy (1.6.x, Apache-2.0), the GPX library most Python projects use (FitTrackee among them):
it knows GPX 1.0 and 1.1, their time formats and `<extensions>`. gpxpy itself parses with the unprotected
`xml.etree` (or lxml when that is installed) and runs regular expressions over the whole text, so it only
ever sees a file that passed these checks first:

* a streaming defusedxml pass (`_screen`, through `workers.formats.iter_xml`): any DOCTYPE refused (entity
  bombs, external entities), well-formedness checked, the root must be `<gpx>`, elements capped, and track
  points counted: over `max_points` the file is refused before gpxpy builds anything;
* gpxpy's namespace scan (`\\sxmlns:?[^=]*="[^"]+"` over the whole text) is quadratic when the text holds
  many "xmlns" words with no "=" after them: a file with an "xmlns" not followed by "=" within
  XMLNS_REACH characters is refused (`_check_for_gpxpy`);
* every prefixed declaration gpxpy finds is registered in ElementTree's process-wide namespace map (each
  registration scans that map): more than MAX_NAMESPACES distinct prefixes refuse the file, and the map is
  restored after each parse, so uploads cannot grow it over a worker's life.

Cost measured here (points with Garmin extensions): 100,000 points (26 MB) in about 4 s and 280 MB of
memory (gpxpy holds the whole tree and an object per point); 500,000 (MAX_POINTS, 134 MB) in about 24 s
and 1.3 GB. The upload caps keep real inputs well below that (25 MB raw, 100 MB unpacked).

What is read: one Activity per `<trk>` with timed points (`leg_index` in file order); its `<trkseg>`s are
concatenated, with a timer pause at a break clearly longer than the sampling step (see `workers.formats`).
Per point: time, position, `<ele>`, GPX 1.0 `<speed>`, and in `<extensions>` (any namespace) Garmin
TrackPointExtension `hr`, `cad`, `atemp` (v1 and v2, v2 `speed`), and `power` / `PowerInWatts` / `watts`.
Distance is the haversine path over the points (segment breaks excluded); speed, when the file has none,
is derived from it. Sport from the track's `<type>` ("running", "road_biking", ...), device = the GPX
`creator` attribute (software, never a serial: GPX files are never matched by device). Routes and waypoints
are not activities: a file without track points is refused with "no track points in this GPX file" (with
a word on routes when it holds one), and one whose points carry no time as a planned route.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree
from xml.etree.ElementTree import Element, ParseError

import gpxpy
import gpxpy.gpx

from workers.activity import Activity, FileRejected, ParseResult
from workers.formats import (
    MAX_POINTS,
    MIN_POINTS,
    TrackBuilder,
    broken_xml_reason,
    decode_xml_text,
    element_cap,
    finish_activities,
    iter_xml,
    local_name,
    number,
    points_over_cap,
    sport_from_label,
    utc_seconds,
)

DECODER = "gpx:gpxpy"
MAX_NAMESPACES = 64  # distinct prefixed namespace declarations; real files have fewer than 15
XMLNS_REACH = 512  # characters within which an "xmlns" must be followed by "="

_EXTENSION_FIELDS = {
    "hr": "heart_rate",
    "heartrate": "heart_rate",
    "heart_rate": "heart_rate",
    "cad": "cadence",
    "cadence": "cadence",
    "runcadence": "cadence",
    "atemp": "temperature",
    "temp": "temperature",
    "temperature": "temperature",
    "power": "power",
    "powerinwatts": "power",
    "watts": "power",
    "speed": "speed",
}


@dataclass
class _Screened:
    track_points: int = 0
    route_points: int = 0
    timed_points: int = 0  # track points with a non-empty <time>
    time_sample: str | None = None  # the first such time, for reasons


def _screen(data: bytes, max_points: int) -> _Screened:
    """Counts of a GPX file's points, read by defusedxml; FileRejected for hostile files."""
    seen = _Screened()
    stack: list[Element] = []
    try:
        for event, elem in iter_xml(data, "GPX", "gpx", element_cap(max_points)):
            if event == "start":
                stack.append(elem)
                continue
            stack.pop()
            name = local_name(elem.tag)
            if name == "trkpt":
                seen.track_points += 1
                if seen.track_points > max_points:
                    raise points_over_cap("GPX", max_points)
                time = next((c.text for c in elem if local_name(c.tag) == "time"), None)
                if time and time.strip():
                    seen.timed_points += 1
                    seen.time_sample = seen.time_sample or time.strip()[:40]
            elif name == "rtept":
                seen.route_points += 1
            if stack and name in ("trkpt", "rtept", "wpt"):
                stack[-1].remove(elem)  # the screening pass keeps nothing; the parent holds only this point
    except ParseError as exc:
        raise FileRejected(broken_xml_reason("GPX", exc)) from exc
    return seen


_XMLNS = re.compile(r"\sxmlns")
_DECLARATION = re.compile(r'\sxmlns:([^=\s]{1,100})\s*=\s*"[^"]{0,2000}"')


def _check_for_gpxpy(text: str) -> None:
    for match in _XMLNS.finditer(text):
        if text.find("=", match.end(), match.end() + XMLNS_REACH) < 0:
            raise FileRejected(
                "this GPX file holds text that the GPX reader cannot process safely (an 'xmlns' word that is "
                "not a namespace declaration); it was refused"
            )
    prefixes = {m.group(1) for m in _DECLARATION.finditer(text)}
    if len(prefixes) > MAX_NAMESPACES:
        raise FileRejected(
            f"this GPX file declares {len(prefixes):,} XML namespaces, far more than any workout file; "
            "it was refused"
        )


def _finite(value: Any) -> float:
    try:
        result = float(value)
    except (TypeError, ValueError):
        return math.nan
    return result if math.isfinite(result) else math.nan


def _point(point: gpxpy.gpx.GPXTrackPoint) -> dict[str, float]:
    out: dict[str, float] = {
        "lat": _finite(point.latitude),
        "lon": _finite(point.longitude),
        "altitude": _finite(point.elevation),
        "speed": _finite(point.speed),  # GPX 1.0 only
    }
    for extension in point.extensions or ():
        for node in extension.iter():
            key = _EXTENSION_FIELDS.get(local_name(node.tag).lower())
            if key is not None and math.isnan(out.get(key, math.nan)):
                out[key] = number(node.text)
    return out


def _device(gpx: gpxpy.gpx.GPX) -> dict[str, Any]:
    creator = (gpx.creator or "").strip()
    return {"creator": creator[:100]} if creator else {}


def _read(text: str) -> gpxpy.gpx.GPX:
    """gpxpy's reading of the file, with ElementTree's namespace map as it was before."""
    # gpxpy registers the file's namespace prefixes in ElementTree's process-wide map; put it back after,
    # so that files cannot grow it (and the cost of every later registration) across a worker's life.
    registry = getattr(ElementTree, "_namespace_map", None)
    saved = dict(registry) if isinstance(registry, dict) else None
    try:
        return gpxpy.parse(text)
    except Exception as exc:  # gpxpy raises GPXException, ValueError, ... : any of them is about the file
        detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise FileRejected(f"this GPX file could not be read ({detail})") from exc
    finally:
        if saved is not None and isinstance(registry, dict):
            registry.clear()
            registry.update(saved)


def _track_points(track: gpxpy.gpx.GPXTrack) -> TrackBuilder:
    builder = TrackBuilder()
    for segment in track.segments:
        builder.new_segment()
        for point in segment.points:
            when = None if point.time is None else utc_seconds(point.time)
            builder.add(when, _point(point))
    return builder


def _build(track: gpxpy.gpx.GPXTrack, builder: TrackBuilder, device: dict[str, Any]) -> Activity:
    sport, sub_sport = sport_from_label(track.type)
    summary: dict[str, Any] = {}
    if track.type:
        summary["sport_label"] = track.type.strip()[:60]
    if track.name:
        summary["name"] = track.name.strip()[:200]
    return builder.build(
        what="GPX",
        sport=sport,
        sub_sport=sub_sport,
        device=dict(device),
        summary=summary,
        decoder=DECODER,
        warnings=[],
    )


def _no_activity(seen: _Screened, untimed_tracks: int) -> FileRejected:
    """Why a GPX file with track points has no usable activity."""
    if untimed_tracks and seen.timed_points:
        return FileRejected(
            f"the times of the track points in this GPX file could not be read (for example "
            f"{seen.time_sample!r})"
        )
    if untimed_tracks:
        return FileRejected(
            "the track points in this GPX file have no times: it looks like a planned route, not a "
            "recorded activity"
        )
    return FileRejected(f"too little data to be an activity ({seen.track_points} track points)")


def parse_gpx(data: bytes, *, max_points: int = MAX_POINTS) -> ParseResult:
    """Activities of a GPX file; FileRejected(reason) when it cannot become a session."""
    if not data.strip():
        raise FileRejected("the file is empty")
    seen = _screen(data, max_points)
    if seen.track_points == 0:
        if seen.route_points:
            raise FileRejected(
                "no track points in this GPX file: it holds a route (a planned course), not a recorded "
                "activity"
            )
        raise FileRejected("no track points in this GPX file")
    text = decode_xml_text(data, "GPX")
    _check_for_gpxpy(text)
    gpx = _read(text)
    device = _device(gpx)
    activities: list[Activity] = []
    notes: list[str] = []
    untimed_tracks = 0
    for track in gpx.tracks:
        builder = _track_points(track)
        if len(builder) == 0:
            untimed_tracks += 1 if builder.untimed else 0
        elif len(builder) < MIN_POINTS:
            notes.append(f"a track with only {len(builder)} timed points was ignored")
        else:
            activities.append(_build(track, builder, device))
    if not activities:
        raise _no_activity(seen, untimed_tracks)
    finish_activities(activities, notes)
    return ParseResult(activities=activities, warnings=list(notes), decoder=DECODER)
