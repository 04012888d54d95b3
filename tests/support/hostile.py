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


# -- a generated corpus of malformed uploads ------------------------------------------------------------

import gzip as _gzip  # noqa: E402
import io as _io  # noqa: E402
import random as _random  # noqa: E402
import struct as _struct  # noqa: E402
import zipfile as _zipfile  # noqa: E402
from dataclasses import dataclass as _dataclass  # noqa: E402

HOSTILE_NAMES = [
    "../../etc/passwd", "..\\..\\windows\\system32\\config\\sam", "ride\x00.fit", "CON", "NUL.fit", "aux.gpx",
    "\u202egpx.fit", "x" * 300 + ".fit", "ride.fit\r\nX-Injected: 1", "<script>alert(1)</script>.fit",
    "/absolute/path.fit", "ride.fit.exe", "%2e%2e%2fpasswd.fit", "ride .fit ", "\u0000", "💥" * 50 + ".fit",
    "=?utf-8?q?Evil=0D=0ABcc:_x@evil.example?=.fit", ".hidden.fit", "ride.FIT.GZ", "a/b/c/../../d.tcx",
]  # fmt: skip
OTHER_FILES = {
    "png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 200,
    "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n",
    "jpeg": b"\xff\xd8\xff\xe0" + b"\x00" * 100,
    "elf": b"\x7fELF\x02\x01\x01" + b"\x00" * 100,
    "html": b"<!doctype html><html><body>hi</body></html>",
    "json": b'{"type": "FeatureCollection"}',
    "kml": b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"></kml>',
    "empty": b"",
    "blank": b"   \n\t  ",
    "nul": b"\x00" * 512,
}


@_dataclass
class Malformed:
    what: str  # the family of the case, for reports
    body: bytes
    filename: str
    raw_multipart: bytes | None = None  # a whole multipart body, sent as it is
    content_type: str | None = None
    as_query: bool = False  # raw body with ?filename= instead of a multipart form


def _valid_files() -> dict[str, bytes]:
    from fitgen import build_fit, steady_records

    fit = build_fit(steady_records(minutes=10, hr=150, power=200, speed_ms=8.0), sport="cycling")
    tcx = TCX_HEAD + tcx_points(120) + b"</Track></Lap></Activity></Activities></TrainingCenterDatabase>"
    gpx = GPX_HEAD + gpx_points(120) + b"</trkseg></trk></gpx>"
    archive = _io.BytesIO()
    with _zipfile.ZipFile(archive, "w", _zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.fit", fit)
        zf.writestr("b.gpx", gpx)
    return {
        "ride.fit": fit, "ride.tcx": tcx, "ride.gpx": gpx, "ride.fit.gz": _gzip.compress(fit),
        "ride.gpx.gz": _gzip.compress(gpx), "rides.zip": archive.getvalue(),
    }  # fmt: skip


def _bombs() -> dict[str, bytes]:
    """Small files that unpack to far more than any cap (200 MB of zeros)."""
    zeros = _gzip.compress(b"\x00" * (200 * 1024 * 1024), compresslevel=9)
    fit_bomb = _gzip.compress(fit_header(200 * 1024 * 1024) + b"\x00" * (150 * 1024 * 1024), compresslevel=9)
    archive = _io.BytesIO()
    with _zipfile.ZipFile(archive, "w", _zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.fit", b"\x00" * (150 * 1024 * 1024))
    nested = _io.BytesIO()
    with _zipfile.ZipFile(nested, "w", _zipfile.ZIP_DEFLATED) as zf:
        for i in range(5):
            zf.writestr(f"inner{i}.zip", archive.getvalue())
    return {
        "bomb.fit.gz": fit_bomb,
        "zeros.gz": zeros,
        "bomb.zip": archive.getvalue(),
        "nested.zip": nested.getvalue(),
    }


def fit_header(data_size: int) -> bytes:
    header = _struct.pack("<BBHI4s", 14, 0x20, 2132, data_size & 0xFFFFFFFF, b".FIT")
    return header + b"\x00\x00"


def _multipart_cases(rng: _random.Random, body: bytes) -> list[Malformed]:
    disposition = b'Content-Disposition: form-data; name="file"; filename="ride.fit"'

    def part(headers: bytes, boundary: bytes = b"B") -> bytes:
        return b"--" + boundary + b"\r\n" + headers + b"\r\n\r\n" + body + b"\r\n--" + boundary + b"--\r\n"

    raws = [
        part(disposition, b"OTHER"),
        part(disposition + b"\r\nX-Pad: " + b"a" * rng.randint(5_000, 30_000)),
        part(b'Content-Disposition: form-data; name="file"; filename="' + b"n" * rng.randint(5_000, 12_000)
             + b'"'),
        part(disposition + b"".join(b"\r\nX-H%d: v" % i for i in range(rng.randint(9, 6_000)))),
        part(disposition + b"\r\nno colon here"),
        part(b'Content-Disposition: form-data; name="other"'),
        b"".join(b'--B\r\nContent-Disposition: form-data; name="f%d"\r\n\r\nx\r\n' % i
                 for i in range(rng.randint(11, 3000))) + b"--B--\r\n",
        b"--B\r\n" + disposition + b"\r\n\r\n" + body,  # never closed
        b"garbage without any boundary at all",
        b"",
    ]  # fmt: skip
    types = ["multipart/form-data; boundary=B", "multipart/form-data", "multipart/form-data; boundary=",
             'multipart/form-data; boundary="' + "b" * 300 + '"']  # fmt: skip
    cases = []
    for raw in raws:
        ctype = types[0] if rng.random() < 0.8 else rng.choice(types[1:])
        cases.append(Malformed("malformed multipart", b"", "", raw_multipart=raw, content_type=ctype))
    return cases


def malformed_uploads(count: int = 1000, seed: int = 13) -> list[Malformed]:
    """`count` malformed uploads, the same ones for the same seed: truncated, bit-flipped, huge declared
    sizes, bombs, deep nesting, renamed formats, hostile names, malformed multipart."""
    rng = _random.Random(seed)
    valid = _valid_files()
    bombs = _bombs()
    names = list(valid)
    cases: list[Malformed] = []
    while len(cases) < count:
        family = rng.randrange(8)
        name = rng.choice(names)
        data = valid[name]
        as_query = rng.random() < 0.3
        if family == 0:
            cut = rng.randrange(0, len(data))
            cases.append(Malformed("truncated", data[:cut], name, as_query=as_query))
        elif family == 1:
            flipped = bytearray(data)
            for _ in range(rng.randint(1, 24)):
                i = rng.randrange(len(flipped))
                flipped[i] ^= 1 << rng.randrange(8)
            cases.append(Malformed("bit-flipped", bytes(flipped), name, as_query=as_query))
        elif family == 2:
            fit = valid["ride.fit"]
            declared = rng.choice([0xFFFFFFFF, 0x7FFFFFFF, len(fit) * 1000, len(fit) + 1, 0])
            body = fit_header(declared) + fit[14:]
            if rng.random() < 0.3:  # or a zip whose entry claims to be huge
                body = bytearray(valid["rides.zip"])
                offset = bytes(body).find(b"PK\x03\x04")
                body[offset + 22 : offset + 26] = _struct.pack("<I", 0xFFFFFFF0)
                body = bytes(body)
            cases.append(Malformed("huge declared size", body, rng.choice(["ride.fit", "rides.zip"])))
        elif family == 3:
            bomb = rng.choice(list(bombs))
            cases.append(Malformed("bomb", bombs[bomb], bomb, as_query=as_query))
        elif family == 4:
            depth = rng.choice([65, 100, 1000, 20_000, 200_000])
            body = deep_gpx(depth) if rng.random() < 0.5 else deep_tcx(depth)
            cases.append(Malformed("deep nesting", body, rng.choice(["deep.gpx", "deep.tcx", "deep.fit"])))
        elif family == 5:
            kind = rng.choice(list(OTHER_FILES) + names)
            body = OTHER_FILES[kind] if kind in OTHER_FILES else valid[kind]
            target = rng.choice(["ride.fit", "ride.gpx", "ride.tcx", "ride.fit.gz", "ride.zip", "ride"])
            cases.append(Malformed("renamed format", body, target, as_query=as_query))
        elif family == 6:
            body = data if rng.random() < 0.3 else rng.randbytes(rng.randint(1, 4000))
            cases.append(Malformed("hostile name", body, rng.choice(HOSTILE_NAMES), as_query=as_query))
        else:
            cases.append(rng.choice(_multipart_cases(rng, data[: rng.randint(0, 2000)])))
    return cases[:count]
