"""Byte-level framing: what the file looks like, where each chained FIT segment starts and ends, and where
a segment breaks.

A structural pass over the message headers (no field decoding) runs before any decoder. It knows the size of
every message from its definition, so it finds a truncation or a corrupt stretch without decoding anything,
and hands each decoder a self-contained, well-framed FIT file per segment:

* chained files are split here, never by fitparse (which recurses once per chained file and hits
  RecursionError on long chains); at most MAX_SEGMENTS segments are read;
* a segment cut off mid-message, or holding a message that refers to an undefined definition or a definition
  with an impossible architecture byte, is cut at the last whole message and marked partial;
* a header that declares data_size 0 although data follows (a file the device never finalised) is scanned
  as far as its messages are well formed;
* zero-size field definitions (TrainingPeaks Virtual writes them for developer fields) are dropped from the
  definition; they occupy no bytes in data messages, so nothing else changes;
* only the message types the adapter reads (WANTED_MESSAGES) are passed on, unless the segment uses
  compressed timestamps; HRV, laps, device_info etc. would cost fitparse as much as records do;
* the file CRC is checked here once (decoders run with their CRC checks off).

Declared sizes are never used to allocate anything: every loop consumes input bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from workers.activity import FitRejected
from workers.fit.crc import crc16

MAX_SEGMENTS = 1_000
# Global message numbers the adapter reads; the others are dropped before decoding (see _scan).
WANTED_MESSAGES = frozenset(
    {
        0,  # file_id
        3,  # user_profile
        7,  # zones_target
        12,  # sport
        18,  # session
        20,  # record
        21,  # event
        128,  # weather_conditions
        132,  # hr
        206,  # field_description
        207,  # developer_data_id
        216,  # time_in_zone
    }
)
FIT_MAGIC = b".FIT"

CRC_MISMATCH = "the file's checksum does not match; the data was recovered but may be damaged"
CUT_OFF = (
    "the file is cut off: it ends in the middle of a message, so what was recorded after that is missing"
)
UNFINISHED = "the device did not finish writing this file"


@dataclass
class Segment:
    """One FIT file of a (possibly chained) upload, re-framed for the decoders."""

    index: int
    offset: int  # where its header starts in the upload
    payload: bytes  # header + well-formed messages + 2 CRC bytes; decoders run with CRC checks off
    messages: int  # whole messages found by the structural pass
    partial: bool = False  # data after a break in this segment was dropped
    warnings: list[str] = field(default_factory=list)
    fault: str | None = None  # the break, in plain words, when partial


@dataclass
class _Scan:
    end: int
    messages: int
    fault: str | None = None
    fault_kind: str | None = None  # "eof" | "undefined" | "definition"
    body: bytes = b""  # the messages to decode (filtered and repaired)
    dropped_empty_fields: int = 0
    compressed: bool = False  # compressed-timestamp headers were seen


_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "this is a PNG image, not a FIT file"),
    (b"\xff\xd8\xff", "this is a JPEG image, not a FIT file"),
    (b"GIF87a", "this is a GIF image, not a FIT file"),
    (b"GIF89a", "this is a GIF image, not a FIT file"),
    (b"%PDF", "this is a PDF document, not a FIT file"),
    (b"PK\x03\x04", "this is a ZIP archive, not a FIT file: unzip it and upload the .fit file inside"),
    (b"PK\x05\x06", "this is an empty ZIP archive, not a FIT file"),
    (b"\x1f\x8b", "this is a gzip-compressed file: upload it with a .fit.gz name or decompress it first"),
    (b"Rar!", "this is a RAR archive, not a FIT file"),
    (b"7z\xbc\xaf\x27\x1c", "this is a 7-Zip archive, not a FIT file"),
)


def _looks_like_header(head: bytes) -> bool:
    return len(head) >= 12 and _plausible_header_size(head[0]) and head[8:12] == FIT_MAGIC


def _plausible_header_size(size: int) -> bool:
    return size == 12 or 14 <= size <= 64


def _text_kind(head: bytes) -> str | None:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character cut at the end of the sample is still text.
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return None
    if not text or any(ord(c) < 32 and c not in "\t\r\n\f" for c in text):
        return None
    lowered = text.lstrip("\ufeff \t\r\n").lower()
    if lowered.startswith(("<?xml", "<gpx", "<trainingcenterdatabase", "<kml")):
        if "<gpx" in lowered:
            return "this is a GPX file, not a FIT file"
        if "trainingcenterdatabase" in lowered:
            return "this is a TCX file, not a FIT file"
        return "this is an XML file, not a FIT file"
    if lowered.startswith(("<!doctype html", "<html")):
        return "this is a web page (HTML), not a FIT file"
    if lowered.startswith(("{", "[")):
        return "this is a JSON text file, not a FIT file"
    return "this is a text file, not a FIT file"


def sniff_fit_header(head: bytes) -> str | None:
    """None if the first bytes look like a FIT header, else a reason written for the athlete.

    Give it the first few hundred bytes of the upload (at least 12 for a verdict on a FIT header)."""
    head = bytes(head[:512])
    if not head:
        return "the file is empty"
    if _looks_like_header(head):
        return None
    for signature, reason in _SIGNATURES:
        if head.startswith(signature):
            return reason
    text = _text_kind(head)
    if text:
        return text
    if len(head) < 12 and _plausible_header_size(head[0]):
        return f"not a FIT file: it is only {len(head)} bytes long, shorter than a FIT header"
    if len(head) >= 12 and head[8:12] == FIT_MAGIC:
        return f"not a FIT file: the header declares an impossible size ({head[0]} bytes)"
    return "not a FIT file: the first bytes are not a FIT file header"


def _scan(data: bytes, start: int, stop: int, wanted: frozenset[int] | None) -> _Scan:
    """Walk messages in data[start:stop] by their sizes; stop at the first one that does not fit or is
    malformed. Returns the body to decode: zero-size field definitions repaired and, when `wanted` is given,
    only the definition and data messages of those global message numbers (fitparse decodes every message
    it is given, and half the messages of a Garmin file are HRV intervals nobody here reads)."""
    sizes: dict[int, int] = {}
    kept: dict[int, bool] = {}
    pos = start
    count = 0
    pieces: list[bytes] = []
    run_start = start  # start of the current stretch of bytes copied as they are
    dropped = 0
    compressed = False
    fault_kind = None
    while pos < stop:
        head = data[pos]
        rewrite: bytes | None = None
        if head & 0x80:  # compressed-timestamp data message: local type in bits 5-6
            local = (head >> 5) & 0x3
            size = sizes.get(local)
            if size is None:
                fault_kind = "undefined"
                break
            compressed = True
            nxt = pos + 1 + size
        elif head & 0x40:  # definition message
            definition = _read_definition(data, pos, stop, wanted)
            if isinstance(definition, str):
                fault_kind = definition
                break
            local, nxt = definition.local, definition.end
            sizes[local] = definition.size
            kept[local] = definition.keep
            if definition.keep and definition.empty:
                rewrite = _drop_empty_fields(data, pos, definition.fields_end, nxt, definition.has_dev)
                dropped += definition.empty
        else:  # normal data message
            local = head & 0x0F
            size = sizes.get(local)
            if size is None:
                fault_kind = "undefined"
                break
            nxt = pos + 1 + size
        if nxt > stop:
            fault_kind = "eof"
            break
        if rewrite is not None or not kept[local]:
            if pos > run_start:
                pieces.append(data[run_start:pos])
            if rewrite is not None:
                pieces.append(rewrite)
            run_start = nxt
        pos = nxt
        count += 1
    if pos > run_start:
        pieces.append(data[run_start:pos])
    body = pieces[0] if len(pieces) == 1 else b"".join(pieces)
    return _Scan(pos, count, _fault_text(fault_kind, pos), fault_kind, body, dropped, compressed)


@dataclass
class _Definition:
    local: int  # local message type it defines
    end: int  # where the next message starts
    size: int  # bytes of each data message it defines
    keep: bool  # its global message number is wanted
    empty: int  # zero-size field definitions in it
    fields_end: int  # end of the native field definitions
    has_dev: bool  # developer field definitions follow the native ones


def _read_definition(data: bytes, pos: int, stop: int, wanted: frozenset[int] | None) -> _Definition | str:
    """Size up the definition message at pos, or say why it cannot be read ("eof" or "definition")."""
    if pos + 6 > stop:
        return "eof"
    if data[pos + 2] > 1:  # architecture: 0 little endian, 1 big endian
        return "definition"
    head = data[pos]
    n_fields = data[pos + 5]
    fields_end = pos + 6 + 3 * n_fields
    nxt = fields_end
    has_dev = bool(head & 0x20)
    if has_dev:
        if fields_end + 1 > stop:
            return "eof"
        nxt = fields_end + 1 + 3 * data[fields_end]
    if nxt > stop:
        return "eof"
    field_sizes = data[pos + 7 : fields_end : 3]
    total = sum(field_sizes)
    empty = field_sizes.count(0)
    if has_dev:
        dev_sizes = data[fields_end + 2 : nxt : 3]
        total += sum(dev_sizes)
        empty += dev_sizes.count(0)
    endian = "<" if data[pos + 2] == 0 else ">"
    keep = wanted is None or struct.unpack_from(endian + "H", data, pos + 3)[0] in wanted
    return _Definition(head & 0x0F, nxt, total, keep, empty, fields_end, has_dev)


def _fault_text(fault_kind: str | None, pos: int) -> str | None:
    """The break found by the scan, in words for the athlete."""
    if fault_kind == "eof":
        return CUT_OFF
    if fault_kind == "undefined":
        return (
            f"the file is damaged: a data message at byte {pos:,} refers to a message definition that does "
            "not exist, so the data after that point could not be read"
        )
    if fault_kind == "definition":
        return (
            f"the file is damaged: the message definition at byte {pos:,} is invalid, so the data after that "
            "point could not be read"
        )
    return None


def _scan_for_decoding(data: bytes, start: int, stop: int) -> _Scan:
    scan = _scan(data, start, stop, WANTED_MESSAGES)
    if scan.compressed:
        # Compressed timestamps count from the last timestamp of any message: keep every message.
        scan = _scan(data, start, stop, None)
    return scan


def _drop_empty_fields(data: bytes, pos: int, fields_end: int, end: int, has_dev: bool) -> bytes:
    fields = [data[i : i + 3] for i in range(pos + 6, fields_end, 3) if data[i + 1] != 0]
    out = bytearray(data[pos : pos + 5])
    out.append(len(fields))
    out += b"".join(fields)
    if has_dev:
        dev = [data[i : i + 3] for i in range(fields_end + 1, end, 3) if data[i + 1] != 0]
        out.append(len(dev))
        out += b"".join(dev)
    return bytes(out)


def _payload(data: bytes, pos: int, header_size: int, body: bytes) -> bytes:
    header = bytearray(data[pos : pos + header_size])
    struct.pack_into("<I", header, 4, len(body))
    if header_size >= 14:
        header[12:14] = b"\x00\x00"  # 0 = "header CRC not computed", which the spec allows
    return bytes(header) + body + b"\x00\x00"


def split_segments(data: bytes) -> tuple[list[Segment], list[str]]:
    """Split an upload into chained FIT segments. Returns (segments, file-level warnings).

    Raises FitRejected when the upload does not start with a FIT file."""
    size = len(data)
    if size == 0:
        raise FitRejected("the file is empty")
    reason = sniff_fit_header(data[:512])
    if reason:
        raise FitRejected(reason)
    segments: list[Segment] = []
    warnings: list[str] = []
    pos = 0
    headers = 0
    while pos < size:
        if headers >= MAX_SEGMENTS:
            warnings.append(
                f"the file holds more than {MAX_SEGMENTS:,} chained FIT files; only the first "
                f"{MAX_SEGMENTS:,} were read"
            )
            break
        if not _looks_like_header(data[pos : pos + 14]):
            trailing = _trailing_warning(data, pos)
            if trailing:
                warnings.append(trailing)
            break
        headers += 1
        header_size = data[pos]
        if header_size > size - pos:
            warnings.append(f"the upload ends inside a FIT header at byte {pos:,}; that part was ignored")
            break
        data_size = struct.unpack_from("<I", data, pos + 4)[0]
        header_warnings = _header_warnings(data, pos, header_size)
        body_start = pos + header_size
        if data_size == 0:
            after = body_start + 2
            if size - body_start <= 2 or _looks_like_header(data[after : after + 14]):
                pos = after  # an empty FIT file (header and CRC only): nothing to read
                continue
            if _looks_like_header(data[body_start : body_start + 14]):
                pos = body_start  # an empty FIT file without even a CRC
                continue
            segments.append(_unfinished_segment(data, pos, header_size, len(segments), header_warnings))
            break  # without a declared size the end of this file cannot be known: nothing after it is read
        declared_end = body_start + data_size
        segments.append(_sized_segment(data, pos, header_size, len(segments), declared_end, header_warnings))
        if declared_end > size:
            break
        pos = declared_end + 2
    return segments, warnings


def _trailing_warning(data: bytes, pos: int) -> str | None:
    """Why the bytes after the last FIT file were ignored; None for harmless zero padding."""
    tail = data[pos:]
    if tail.count(0) == len(tail):
        return None
    what = "starts with a damaged FIT header" if _plausible_header_size(data[pos]) else "is not FIT data"
    return (
        f"the rest of the upload ({len(data) - pos:,} bytes after byte {pos:,}) {what} and was ignored; "
        "only the part before it was used"
    )


def _header_warnings(data: bytes, pos: int, header_size: int) -> list[str]:
    """Check the optional header CRC (0 means not computed); a mismatch is noted, never fatal."""
    if header_size >= 14:
        header_crc = struct.unpack_from("<H", data, pos + 12)[0]
        if header_crc and crc16(data[pos : pos + 12]) != header_crc:
            return ["the file header's checksum does not match; the data was read anyway"]
    return []


def _unfinished_segment(
    data: bytes, pos: int, header_size: int, index: int, header_warnings: list[str]
) -> Segment:
    """A file whose header declares no data although messages follow: keep what is well formed."""
    scan = _scan_for_decoding(data, pos + header_size, len(data))
    seg = Segment(index, pos, _payload(data, pos, header_size, scan.body), scan.messages, partial=True)
    seg.fault = UNFINISHED
    seg.warnings = [
        *header_warnings,
        f"{UNFINISHED} (its header says it holds no data); the messages written before it stopped "
        "were recovered",
    ]
    _note_repairs(seg, scan)
    return seg


def _sized_segment(
    data: bytes, pos: int, header_size: int, index: int, declared_end: int, header_warnings: list[str]
) -> Segment:
    """A file with a declared size: scan up to it, then say where it broke or whether its CRC holds."""
    size = len(data)
    scan = _scan_for_decoding(data, pos + header_size, min(declared_end, size))
    seg = Segment(index, pos, _payload(data, pos, header_size, scan.body), scan.messages)
    seg.warnings.extend(header_warnings)
    _note_repairs(seg, scan)
    if scan.fault is None and declared_end > size:
        scan.fault, scan.fault_kind = CUT_OFF, "eof"
    if scan.fault is not None:
        seg.partial = True
        seg.fault = scan.fault
        seg.warnings.append(f"{scan.fault}; the data before the break was kept")
    elif declared_end + 2 > size:
        seg.warnings.append("the file ends without its checksum, so its data could not be verified")
    else:
        stored = struct.unpack_from("<H", data, declared_end)[0]
        if crc16(data[pos:declared_end]) != stored:
            seg.warnings.append(CRC_MISMATCH)
    return seg


def _note_repairs(seg: Segment, scan: _Scan) -> None:
    if scan.dropped_empty_fields:
        plural = "s" if scan.dropped_empty_fields != 1 else ""
        seg.warnings.append(
            f"{scan.dropped_empty_fields} empty field definition{plural} (size 0, written by the recording "
            "app) were skipped"
        )
