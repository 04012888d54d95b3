"""What an upload is, from its first bytes; and parsing any accepted kind.

    sniff_kind(head, name) -> "fit" | "fit.gz" | "tcx" | "tcx.gz" | "gpx" | "gpx.gz" | "zip"
    parse_any(data, kind, *, max_decompressed) -> ParseResult

The bytes decide, never the name or the Content-Type (OWASP File Upload Cheat Sheet): a GPX named
`ride.fit` is a GPX. The name only sharpens the reason given for a file that is none of these ("not a
workout file (.docx)").

* FIT by its header (`workers.fit.sniff_fit_header`).
* TCX / GPX by the XML root element (`TrainingCenterDatabase`, `gpx`, any namespace prefix) after an
  optional byte-order mark (UTF-8 or UTF-16), whitespace, XML declaration, comments and processing
  instructions; a DOCTYPE names the root too (the parser refuses the DOCTYPE later, with its reason).
* gzip by its magic bytes; the inner kind is sniffed from the first SNIFF_INNER_BYTES decompressed bytes
  only (a bomb costs nothing here; `parse_any` decompresses under `max_decompressed`). A gzip inside a
  gzip, or a zip inside a gzip, is refused.
* zip by `PK\\x03\\x04` (expand it with `workers.formats.archive.expand_zip`; `parse_any` does not take it).

Give `sniff_kind` at least the first SNIFF_BYTES of the upload (or all of it when shorter): enough for a
FIT header, an XML prolog with a long comment, and the gzip prefix that holds the inner file's start.
"""

from __future__ import annotations

import codecs
import re
import zlib

from workers.activity import FileRejected, FitRejected, ParseResult
from workers.fit import decompress_gzip_capped, sniff_fit_header
from workers.formats.table import FORMATS, KINDS, PARSEABLE, XML_ROOTS, ZIP_MAGIC, format_of_kind

__all__ = ["KINDS", "PARSEABLE", "SNIFF_BYTES", "ZIP_MAGIC", "parse_any", "sniff_kind"]

SNIFF_BYTES = 64 * 1024
SNIFF_INNER_BYTES = 16 * 1024

GZIP_MAGIC = b"\x1f\x8b"
WORKOUT_FILES = "a FIT, TCX or GPX file (or a .gz or .zip of them)"
_WORKOUT_EXTENSIONS = (*(f.extension for f in FORMATS), ".gz")

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"BZh", "a bzip2-compressed file"),
    (b"\xfd7zXZ\x00", "an xz-compressed file"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office document"),
    (b"ID3", "an MP3 audio file"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a Windows program"),
    (b"SQLite format 3\x00", "a database file"),
)
_XML_ROOTS = XML_ROOTS
_XML_OTHER = {
    "kml": "a KML map file (Google Earth)",
    "kmz": "a KMZ map file",
    "html": "a web page (HTML)",
    "svg": "an SVG image",
    "plist": "a property list",
    "crs": "a CRS course file",
}
_NAME = re.compile(r"[A-Za-z_][\w:.-]{0,100}")
_DOCTYPE = re.compile(r"<!DOCTYPE\s+([A-Za-z_][\w:.-]{0,100})")


def _extension(name: str | None) -> str | None:
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    if "." not in base.strip("."):
        return None
    suffix = base.rsplit(".", 1)[-1]
    if not suffix.isalnum() or len(suffix) > 8:
        return None
    return "." + suffix


def _not_workout(what: str, name: str | None) -> FileRejected:
    ext = _extension(name)
    if ext in _WORKOUT_EXTENSIONS:
        return FileRejected(f"this is {what}, not a workout file, although its name ends in {ext}")
    return FileRejected(f"this is {what}, not a workout file")


def _as_text(head: bytes) -> str | None:
    """The head as text if it looks like text (BOM-aware, UTF-8 or UTF-16, Latin-1 XML); None for binary."""
    body, encoding = head, "utf-8"
    if head.startswith(codecs.BOM_UTF8):
        body = head[3:]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif head[:4] in (b"<\x00?\x00", b"<\x00g\x00", b"<\x00T\x00"):
        encoding = "utf-16-le"
    elif head[:4] in (b"\x00<\x00?", b"\x00<\x00g", b"\x00<\x00T"):
        encoding = "utf-16-be"
    if encoding != "utf-8":
        body = body[: len(body) - len(body) % 2]
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.start >= len(body) - 4:  # a multi-byte character cut at the end of the sample
            text = body[: exc.start].decode(encoding)
        elif encoding == "utf-8" and body.lstrip().startswith(b"<"):
            text = body.decode("latin-1")  # XML declared ISO-8859-1 / windows-1252 (any byte decodes)
        else:
            return None
    if any(ord(c) < 32 and c not in "\t\r\n\f" for c in text[:4096]):
        return None
    return text.lstrip("\ufeff")


def _xml_root(text: str) -> str | None:
    """The root element's name (prefix kept) after the prolog; None when the head does not reach it."""
    pos = 0
    size = len(text)
    while pos < size:
        while pos < size and text[pos] in " \t\r\n":
            pos += 1
        if text.startswith("<?", pos):
            end = text.find("?>", pos)
            if end < 0:
                return None
            pos = end + 2
        elif text.startswith("<!--", pos):
            end = text.find("-->", pos)
            if end < 0:
                return None
            pos = end + 3
        elif text.startswith("<!DOCTYPE", pos):
            match = _DOCTYPE.match(text, pos)
            return match.group(1) if match else None
        elif text.startswith("<", pos):
            match = _NAME.match(text, pos + 1)
            return match.group(0) if match else None
        else:
            return None
    return None


def _text_kind(text: str, name: str | None) -> str:
    """tcx / gpx for workout XML, else raise FileRejected with what the text is."""
    stripped = text.lstrip()
    if stripped.startswith("<"):
        root = _xml_root(stripped)
        if root is None:
            raise FileRejected(
                "this is an XML file, but its first part does not show a TCX or GPX workout (the main "
                "element could not be found)"
            )
        local = root.rsplit(":", 1)[-1].lower()
        if local in _XML_ROOTS:
            return _XML_ROOTS[local]
        if local in _XML_OTHER:
            raise _not_workout(_XML_OTHER[local], name)
        raise FileRejected(f"this is an XML file (<{root[:40]}>), not a TCX or GPX workout file")
    lowered = stripped[:64].lower()
    if lowered.startswith(("{", "[")):
        raise _not_workout("a JSON text file", name)
    if lowered.startswith(("<!doctype html", "<html")):
        raise _not_workout("a web page (HTML)", name)
    ext = _extension(name)
    if ext == ".csv" or (lowered.count(",") >= 3 and "\n" in stripped[:4096]):
        raise _not_workout("a CSV or text file", name)
    raise _not_workout("a text file", name)


def _sniff_plain(head: bytes, name: str | None) -> str:
    """fit / tcx / gpx / zip / gzip for the head of an upload, else FileRejected."""
    if not head:
        raise FileRejected("the file is empty")
    fit_reason = sniff_fit_header(head)
    if fit_reason is None:
        return "fit"
    for fmt in FORMATS:
        if fmt.magic and head.startswith(fmt.magic):
            return fmt.kind
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            raise _not_workout(what, name)
    if head[4:8] == b"ftyp":
        raise _not_workout("a photo or video (MP4/HEIC/MOV)", name)
    if head.startswith(b"RIFF") and head[8:12] in (b"WEBP", b"WAVE", b"AVI "):
        raise _not_workout(
            {b"WEBP": "a WebP image", b"WAVE": "a WAV audio file"}.get(head[8:12], "a video"), name
        )
    if len(head) >= 12 and head[8:12] == b".FIT":
        raise FitRejected(fit_reason)  # a FIT file with a damaged header: its own reason is the precise one
    text = _as_text(head)
    if text is not None and text.strip():
        return _text_kind(text, name)
    if text is not None:
        raise FileRejected("the file holds only blank space")
    if len(head) < 12 and head[0] in (12, 14):
        raise FitRejected(fit_reason)
    ext = _extension(name)
    detail = f" ({ext})" if ext else ""
    raise FileRejected(f"not a workout file{detail}: it is not {WORKOUT_FILES}")


def sniff_kind(head: bytes, name: str | None) -> str:
    """The kind of an upload from its first bytes (give at least SNIFF_BYTES); FileRejected(reason) when it
    is not one the service takes. `name` (the client's file name) is used only in reasons."""
    head = bytes(head[:SNIFF_BYTES])
    kind = _sniff_plain(head, name)
    if kind != "gzip":
        return kind
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        inner = inflater.decompress(head, SNIFF_INNER_BYTES)
    except zlib.error as exc:
        raise FileRejected("the file looks gzip-compressed but is damaged: it could not be unpacked") from exc
    if not inner:
        if inflater.eof:
            raise FileRejected("the compressed (.gz) file is empty")
        raise FileRejected("the compressed (.gz) file is cut off: it holds too little to be read")
    try:
        inner_kind = _sniff_plain(inner, None)
    except FileRejected as exc:
        raise FileRejected(f"the compressed (.gz) file does not hold a workout file: {exc.reason}") from exc
    if inner_kind == "gzip":
        raise FileRejected(
            "the file is compressed twice (a .gz inside a .gz); decompress it once and upload it"
        )
    if inner_kind == "zip":
        raise FileRejected("the compressed (.gz) file holds a zip archive: upload the zip itself")
    return f"{inner_kind}.gz"


def parse_any(data: bytes, kind: str, *, max_decompressed: int) -> ParseResult:
    """Parse an upload of a kind given by `sniff_kind` (zip archives are expanded first, not parsed here).

    `.gz` kinds are decompressed through `decompress_gzip_capped` (max_decompressed + 1 bytes at most) and
    their content is sniffed again before parsing. FileRejected(reason) for files that cannot become
    sessions; ValueError for a kind this function does not take (a caller's mistake)."""
    if kind not in PARSEABLE:
        raise ValueError(f"parse_any takes one of {', '.join(PARSEABLE)}, not {kind!r}")
    fmt, gzipped = format_of_kind(kind)
    if gzipped:
        data = decompress_gzip_capped(data, max_decompressed)
        if _sniff_plain(data[:SNIFF_BYTES], None) != fmt.kind:
            raise FileRejected(
                f"the compressed (.gz) file does not hold the {fmt.label} file its first bytes promised"
            )
    return fmt.parse(data)
