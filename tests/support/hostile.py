"""Hostile workout files, generated in code (never copied): deep nesting, bombs, truncations, renames."""

from __future__ import annotations

GPX_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<gpx version="1.1" creator="hostile" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>'
)
TCX_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?><TrainingCenterDatabase '
    b'xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"><Activities>'
    b'<Activity Sport="Running"><Id>2024-01-01T00:00:00Z</Id><Lap StartTime="2024-01-01T00:00:00Z"><Track>'
)


def gpx_points(count: int) -> bytes:
    return b"".join(
        b'<trkpt lat="45.0%04d" lon="7.0"><time>2024-01-01T%02d:%02d:%02dZ</time></trkpt>'
        % (i, i // 3600, i // 60 % 60, i % 60)
        for i in range(count)
    )


def tcx_points(count: int) -> bytes:
    return b"".join(
        b"<Trackpoint><Time>2024-01-01T%02d:%02d:%02dZ</Time><HeartRateBpm><Value>140</Value>"
        b"</HeartRateBpm></Trackpoint>" % (i // 3600, i // 60 % 60, i % 60)
        for i in range(count)
    )


def nested(depth: int, tag: bytes = b"x") -> bytes:
    return b"<%s>" % tag * depth + b"</%s>" % tag * depth


def deep_gpx(depth: int = 500_000) -> bytes:
    """A GPX whose last point carries `depth` nested extension elements (500,000 crashed ElementTree)."""
    return (
        GPX_HEAD
        + gpx_points(60)
        + b'<trkpt lat="45.1" lon="7.0"><time>2024-01-01T01:00:00Z</time><extensions>'
        + nested(depth)
        + b"</extensions></trkpt></trkseg></trk></gpx>"
    )


def deep_tcx(depth: int = 500_000) -> bytes:
    return (
        TCX_HEAD
        + tcx_points(60)
        + b"<Trackpoint><Time>2024-01-01T01:00:00Z</Time><Extensions>"
        + nested(depth)
        + b"</Extensions></Trackpoint></Track></Lap></Activity></Activities></TrainingCenterDatabase>"
    )


def fit_with_array_file_type(length: int = 240) -> bytes:
    """A FIT file whose file_id.type is an array of numbers: decoders echo it as a tuple in their text."""
    from fitgen import _Writer, fit_file

    writer = _Writer()
    writer.write("file_id", {0: ("enum", tuple([4, 0, 22, 59] * (length // 4)))})
    return fit_file(bytes(writer.body))
