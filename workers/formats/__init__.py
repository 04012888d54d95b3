"""Workout files other than a bare FIT: detection, TCX, GPX, .gz, .zip, and duplicate fingerprints.

Public API (import from the modules; everything is pure: bytes in, no I/O)::

    detect.sniff_kind(head, name) -> "fit" | "fit.gz" | "tcx" | "tcx.gz" | "gpx" | "gpx.gz" | "zip"
    detect.parse_any(data, kind, *, max_decompressed) -> ParseResult      # FIT, TCX or GPX, gzip first
    tcx.parse_tcx(data, *, max_points=MAX_POINTS) -> ParseResult
    gpx.parse_gpx(data, *, max_points=MAX_POINTS) -> ParseResult
    archive.expand_zip(data, *, max_entries, max_entry_bytes, max_total_bytes) -> list[ZipEntry]
    fingerprint.activity_fingerprints(activity) -> dict
    fingerprint.is_same_activity(a, b, *, window_s=60) -> bool

Every refusal is `workers.activity.FileRejected(reason)` with the reason written for the athlete.

This module holds what the TCX and GPX readers share:

* Hostile XML. User XML is read only through defusedxml (`iter_xml`), which refuses any DOCTYPE outright:
  TCX and GPX never need a document type, and a DTD is where entity-expansion bombs ("billion laughs",
  quadratic blow-up) and external entities (file or network reads) live. The refusal comes at the DOCTYPE,
  before a single entity is expanded, so a bomb costs microseconds. Files are read as a stream; track
  points (MAX_POINTS) and XML elements (ELEMENTS_PER_POINT per allowed point) are counted while reading,
  so an oversized file is refused as soon as it passes a cap, without building the rest of its tree.
* Track building (`TrackBuilder`): per-point values to an `Activity`, with the same conventions as the FIT
  adapter (t from the first point, start_time UTC, time going backwards dropped by
  `workers.fit.build.plausible_times`, channels None when absent, NaN for a missing sample). Distance and
  speed are derived from positions when the file does not carry them (haversine, segment breaks excluded).
  Timer pauses are not written in TCX or GPX; a break between two `<Track>`s / `<trkseg>`s longer than
  twice the usual sampling interval is taken as one (Garmin starts a new Track after each timer stop).
"""

from __future__ import annotations

import codecs
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_etree
import numpy as np
from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from workers.activity import CHANNELS, Activity, FileRejected
from workers.fit.build import INDOOR_SUB_SPORTS, plausible_times

MAX_POINTS = 500_000  # track points per file; a 24 h event at 1 Hz has 86,400
ELEMENTS_PER_POINT = 40
# Nesting depth allowed in TCX/GPX (real files nest under 15). ElementTree frees a tree recursively in C, so
# a file of 500,000 nested elements crashes the process (SIGSEGV) once its tree is dropped; refuse it first.
MAX_XML_DEPTH = 64
MIN_POINTS = 10  # as the FIT adapter's MIN_RECORDS: fewer is not an activity
SHORT_ACTIVITY_S = 60.0
PAUSE_MIN_GAP_S = 2.0  # a segment break counts as a timer pause when longer than this and 2x the median step
EARTH_RADIUS_M = 6_371_008.8

# Plausible ranges; values outside are device placeholders or junk and become NaN.
RANGES: dict[str, tuple[float, float]] = {
    "heart_rate": (1.0, 300.0),
    "power": (0.0, 5000.0),
    "speed": (0.0, 100.0),
    "altitude": (-1000.0, 10_000.0),
    "temperature": (-60.0, 70.0),
    "cadence": (0.0, 300.0),
    "distance": (0.0, 5.0e7),
}


_LOCAL_NAMES: dict[str, str] = {}
_LOCAL_NAMES_MAX = 4096  # distinct tags remembered; a hostile file cannot grow the cache past this


def local_name(tag: Any) -> str:
    """'{namespace}Name' or 'prefix:Name' -> 'Name' (comments and processing instructions give '')."""
    if not isinstance(tag, str):
        return ""
    name = _LOCAL_NAMES.get(tag)
    if name is None:
        name = tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]
        if len(_LOCAL_NAMES) < _LOCAL_NAMES_MAX:
            _LOCAL_NAMES[tag] = name
    return name


# -- hostile XML ------------------------------------------------------------------------------------


def _describe_parse_error(exc: ParseError) -> str:
    text = str(exc)
    return text if len(text) <= 120 else text[:117] + "..."


def element_cap(max_points: int) -> int:
    """XML elements allowed in a file whose point cap is max_points (real files have under 20 per point)."""
    return ELEMENTS_PER_POINT * max_points + 10_000


def iter_xml(data: bytes, what: str, root: str, max_elements: int) -> Iterator[tuple[str, Element]]:
    """("start" | "end", element) events of an XML document, read by defusedxml with every DTD refused.

    `what` names the format in reasons ("TCX"); `root` is the local name the root element must have; more
    than `max_elements` elements refuse the file (a document of millions of empty elements costs far more
    memory than its size), and so does nesting deeper than MAX_XML_DEPTH. ParseError is left to the caller
    when some data was already read (a cut-off file keeps its points)."""
    elements = depth = 0
    events = safe_etree.iterparse(
        io.BytesIO(data),
        events=("start", "end"),
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )
    first = True
    try:
        for event, elem in events:
            if first:
                first = False
                if local_name(elem.tag).lower() != root.lower():
                    raise FileRejected(
                        f"this XML file is not a {what} file: its main element is <{local_name(elem.tag)}>"
                    )
            if event == "end":
                depth -= 1
            else:
                elements += 1
                depth += 1
                if depth > MAX_XML_DEPTH:
                    raise FileRejected(
                        f"this {what} file nests its XML elements more than {MAX_XML_DEPTH} levels deep, "
                        "which no workout file does; it was refused"
                    )
                if elements > max_elements:
                    raise FileRejected(
                        f"this {what} file holds more than {max_elements:,} XML elements, far more than any "
                        "workout needs; it was refused"
                    )
            yield event, elem
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden, DefusedXmlException) as exc:
        raise FileRejected(
            f"this {what} file declares an XML document type (DOCTYPE) or entities, which workout files "
            "never need; it was refused because such declarations can hide entity bombs and references to "
            "other files"
        ) from exc
    except ParseError as exc:
        if first:
            raise FileRejected(
                f"this {what} file is not readable XML ({_describe_parse_error(exc)}); it may be damaged"
            ) from exc
        raise
    except (LookupError, ValueError) as exc:  # an encoding expat does not know ("UTF-.FIT8") or take (UTF-7)
        raise FileRejected(
            f"this {what} file declares a text encoding that cannot be read; save it as UTF-8 and upload it "
            "again"
        ) from exc


def broken_xml_reason(what: str, exc: ParseError) -> str:
    return (
        f"this {what} file is not well-formed XML ({_describe_parse_error(exc)}); "
        "it may be cut off or damaged"
    )


_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']""")


def decode_xml_text(data: bytes, what: str) -> str:
    """The document as text, decoded as its byte-order mark or XML declaration says (UTF-8 otherwise)."""
    if data.startswith(codecs.BOM_UTF8):
        encoding, body = "utf-8", data[3:]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, body = "utf-16", data
    else:
        match = _DECLARED_ENCODING.match(data[:256])
        encoding, body = (match.group(1).decode("ascii") if match else "utf-8"), data
    try:
        codecs.lookup(encoding)
        text = body.decode(encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        raise FileRejected(f"this {what} file is not valid {encoding} text, as it claims to be") from exc
    return text.lstrip("\ufeff")


# -- values -----------------------------------------------------------------------------------------


def number(text: str | None) -> float:
    """A float from element text; NaN when absent, unreadable or not finite."""
    if text is None:
        return math.nan
    try:
        value = float(text.strip())
    except ValueError:
        return math.nan
    return value if math.isfinite(value) else math.nan


def utc_seconds(when: datetime) -> tuple[float, bool]:
    """POSIX seconds of a datetime, and whether it had no time zone (read as UTC)."""
    if when.tzinfo is None or when.utcoffset() is None:
        return when.replace(tzinfo=UTC).timestamp(), True
    return when.timestamp(), False


def parse_time(text: str | None) -> tuple[float, bool] | None:
    """An ISO 8601 time ("2024-07-01T08:00:00Z", offsets, fractions) as (POSIX seconds, naive), or None."""
    if not text:
        return None
    text = text.strip()
    if len(text) > 40:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return utc_seconds(when)


_SPORT_LABELS: dict[str, tuple[str, str | None]] = {
    "running": ("running", None),
    "run": ("running", None),
    "street_running": ("running", "street"),
    "trail_running": ("running", "trail"),
    "trail_run": ("running", "trail"),
    "track_running": ("running", "track"),
    "treadmill_running": ("running", "treadmill"),
    "treadmill": ("running", "treadmill"),
    "indoor_running": ("running", "indoor_running"),
    "virtual_run": ("running", "virtual_activity"),
    "biking": ("cycling", None),
    "cycling": ("cycling", None),
    "ride": ("cycling", None),
    "road_biking": ("cycling", "road"),
    "road_cycling": ("cycling", "road"),
    "mountain_biking": ("cycling", "mountain"),
    "gravel_cycling": ("cycling", "gravel_cycling"),
    "indoor_cycling": ("cycling", "indoor_cycling"),
    "virtual_ride": ("cycling", "virtual_activity"),
    "virtual_cycling": ("cycling", "virtual_activity"),
    "e_biking": ("e_biking", None),
    "e_bike_ride": ("e_biking", None),
    "ebikeride": ("e_biking", None),
    "swimming": ("swimming", None),
    "swim": ("swimming", None),
    "lap_swimming": ("swimming", "lap_swimming"),
    "open_water_swimming": ("swimming", "open_water"),
    "walking": ("walking", None),
    "walk": ("walking", None),
    "hiking": ("hiking", None),
    "hike": ("hiking", None),
    "rowing": ("rowing", None),
    "indoor_rowing": ("rowing", "indoor_rowing"),
    "other": ("generic", None),
    "generic": ("generic", None),
}


def sport_from_label(label: str | None) -> tuple[str | None, str | None]:
    """A TCX Sport attribute or GPX <type> as FIT sport / sub_sport names ("Biking" -> "cycling")."""
    if not label:
        return None, None
    key = re.sub(r"[\s-]+", "_", label.strip().lower())[:60]
    if key in _SPORT_LABELS:
        return _SPORT_LABELS[key]
    for token, sport in (
        ("run", "running"),
        ("cycl", "cycling"),
        ("bik", "cycling"),
        ("ride", "cycling"),
        ("swim", "swimming"),
        ("walk", "walking"),
        ("hik", "hiking"),
        ("row", "rowing"),
    ):
        if token in key:
            return sport, None
    return None, None


# -- track building ---------------------------------------------------------------------------------

POINT_FIELDS = (
    "lat",
    "lon",
    "altitude",
    "distance",
    "heart_rate",
    "cadence",
    "power",
    "speed",
    "temperature",
)


@dataclass
class TrackBuilder:
    """Per-point values of one activity, in file order, with segment breaks (TCX Track / GPX trkseg)."""

    ts: list[float] = field(default_factory=list)
    segment: list[int] = field(default_factory=list)
    values: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in POINT_FIELDS})
    untimed: int = 0  # points without a readable time, skipped
    naive_times: bool = False
    _segment: int = 0

    def new_segment(self) -> None:
        if self.segment and self.segment[-1] == self._segment:
            self._segment += 1

    def add(self, when: tuple[float, bool] | None, point: dict[str, float]) -> None:
        if when is None:
            self.untimed += 1
            return
        seconds, naive = when
        self.naive_times = self.naive_times or naive
        self.ts.append(seconds)
        self.segment.append(self._segment)
        for key, column in self.values.items():
            column.append(point.get(key, math.nan))

    def __len__(self) -> int:
        return len(self.ts)

    def _timed(self, warnings: list[str], what: str) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Times, segments and columns of the points with a plausible time; warnings say what was left out."""
        ts = np.asarray(self.ts, dtype=np.float64)
        seg = np.asarray(self.segment, dtype=np.int64)
        cols = {k: np.asarray(v, dtype=np.float64) for k, v in self.values.items()}
        keep = plausible_times(ts)
        dropped = int(keep.size - np.count_nonzero(keep))
        if dropped:
            warnings.append(
                f"{dropped:,} track point{'s' if dropped != 1 else ''} whose time goes backwards or jumps by "
                "days were ignored"
            )
            ts, seg = ts[keep], seg[keep]
            cols = {k: v[keep] for k, v in cols.items()}
        if self.untimed:
            warnings.append(f"{self.untimed:,} track points without a time were ignored")
        if self.naive_times:
            warnings.append(f"the {what} file's times carry no time zone; they were read as UTC")
        return ts, seg, cols

    def build(
        self,
        *,
        what: str,
        sport: str | None,
        sub_sport: str | None,
        device: dict[str, Any],
        summary: dict[str, Any],
        decoder: str,
        warnings: list[str],
    ) -> Activity:
        warnings = list(warnings)
        ts, seg, cols = self._timed(warnings, what)
        _blank_out_of_range(cols)
        lat, lon = _positions(cols)
        has_position = ~(np.isnan(lat) | np.isnan(lon))
        t = ts - ts[0]
        channels, derived = _channels(t, seg, cols, lat, lon, has_position)
        summary = dict(summary)
        if has_position.any():  # the first GPS fix: weather and sun position (science.md §3.4, §10.2)
            first = int(np.argmax(has_position))
            summary["start_lat"], summary["start_lon"] = float(lat[first]), float(lon[first])
        if derived:
            summary["derived_channels"] = derived
        return Activity(
            t=t,
            start_time=datetime.fromtimestamp(float(ts[0]), tz=UTC),
            sport=sport,
            sub_sport=sub_sport,
            indoor=_indoor(sub_sport, has_position),
            device=device,
            channels=channels,
            summary=summary,
            pauses=segment_pauses(t, seg),
            lat=lat if has_position.any() else None,
            lon=lon if has_position.any() else None,
            warnings=warnings,
            decoder=decoder,
        )


def _blank_out_of_range(cols: dict[str, np.ndarray]) -> None:
    """A value outside its physical range (RANGES) is a glitch, read as missing."""
    for name, (low, high) in RANGES.items():
        if name in cols:
            column = cols[name]
            column[(column < low) | (column > high)] = np.nan


def _positions(cols: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude taken out of the columns; an impossible position is missing in both."""
    lat, lon = cols.pop("lat"), cols.pop("lon")
    bad_position = (np.abs(lat) > 90) | (np.abs(lon) > 180)
    lat[bad_position] = np.nan
    lon[bad_position] = np.nan
    return lat, lon


def _channels(
    t: np.ndarray, seg: np.ndarray, cols: dict[str, np.ndarray], lat: np.ndarray, lon: np.ndarray,
    has_position: np.ndarray,
) -> tuple[dict[str, np.ndarray | None], list[str]]:  # fmt: skip
    """The activity's channels (None when empty), with distance and speed derived from GPS when absent."""
    derived: list[str] = []
    distance = cols["distance"]
    if np.all(np.isnan(distance)) and np.count_nonzero(has_position) >= 2:
        distance = path_distance(lat, lon, seg)
        derived.append("distance")
    speed = cols["speed"]
    if np.all(np.isnan(speed)) and not np.all(np.isnan(distance)):
        speed = step_speed(t, distance, seg)
        derived.append("speed")
    channels: dict[str, np.ndarray | None] = dict.fromkeys(CHANNELS)
    for name, column in (
        ("heart_rate", cols["heart_rate"]),
        ("power", cols["power"]),
        ("speed", speed),
        ("altitude", cols["altitude"]),
        ("temperature", cols["temperature"]),
        ("cadence", cols["cadence"]),
        ("distance", distance),
    ):
        channels[name] = None if np.all(np.isnan(column)) else column
    return channels, derived


def _indoor(sub_sport: str | None, has_position: np.ndarray) -> bool | None:
    """Indoor by its sub-sport, outdoor with a GPS fix, else unknown."""
    if sub_sport in INDOOR_SUB_SPORTS:
        return True
    return False if has_position.any() else None


def path_distance(lat: np.ndarray, lon: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """Cumulative haversine distance (m) along the points that have a position; a step across a segment
    break counts 0 (the athlete may have moved with the timer stopped). NaN before the first position."""
    out = np.full(lat.size, np.nan)
    at = np.nonzero(~(np.isnan(lat) | np.isnan(lon)))[0]
    if at.size == 0:
        return out
    phi, lam = np.radians(lat[at]), np.radians(lon[at])
    dphi, dlam = np.diff(phi), np.diff(lam)
    h = np.sin(dphi / 2) ** 2 + np.cos(phi[:-1]) * np.cos(phi[1:]) * np.sin(dlam / 2) ** 2
    steps = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    steps[seg[at][1:] != seg[at][:-1]] = 0.0
    cumulative = np.concatenate(([0.0], np.cumsum(steps)))
    # Hold the last known distance over points without a position.
    index = np.full(lat.size, -1)
    index[at] = np.arange(at.size)
    index = np.maximum.accumulate(index)
    known = index >= 0
    out[known] = cumulative[index[known]]
    return out


def step_speed(t: np.ndarray, distance: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """Speed (m/s) of each point over the step from the previous one; NaN at segment starts, for steps
    without time, and where distance goes backwards."""
    speed = np.full(t.size, np.nan)
    if t.size < 2:
        return speed
    dt = np.diff(t)
    dd = np.diff(distance)
    ok = (dt > 0) & (seg[1:] == seg[:-1]) & ~np.isnan(dd) & (dd >= 0)
    speed[1:][ok] = dd[ok] / dt[ok]
    return speed


def segment_pauses(t: np.ndarray, seg: np.ndarray) -> list[tuple[float, float]]:
    """(end of a segment, start of the next) for segment breaks clearly longer than the sampling step."""
    if t.size < 2:
        return []
    steps = np.diff(t)
    positive = steps[steps > 0]
    typical = float(np.median(positive)) if positive.size else 1.0
    threshold = max(PAUSE_MIN_GAP_S, 2 * typical)
    breaks = np.nonzero(seg[1:] != seg[:-1])[0]
    return [(float(t[i]), float(t[i + 1])) for i in breaks if steps[i] > threshold]


def finish_activities(activities: list[Activity], notes: list[str]) -> None:
    """Number the activities of one file and give each the file's notes (and a note if very short)."""
    short = too_short_note(activities)
    for index, activity in enumerate(activities):
        activity.leg_index = index
        activity.warnings.extend(notes)
        if short:
            activity.warnings.append(short)


def too_short_note(activities: list[Activity]) -> str | None:
    duration = sum(a.duration_s for a in activities)
    if duration < SHORT_ACTIVITY_S:
        return f"this activity is very short ({duration:.0f} s), so figures computed from it are rough"
    return None


def points_over_cap(what: str, cap: int) -> FileRejected:
    return FileRejected(
        f"this {what} file holds more than {cap:,} track points, far more than any workout needs; "
        "it was refused"
    )
