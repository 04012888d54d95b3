"""Stream an upload to disk under a byte cap, hashing as it goes; never hold the body in memory.

Accepts `multipart/form-data` (one file part, field `file`) or a raw body
(`application/octet-stream`, `application/gzip`) with the name in `?filename=`.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from fastapi import HTTPException, Request, status
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

# Slack for multipart boundaries and part headers on top of the file cap.
ENVELOPE_SLACK = 64 * 1024
MAX_PARTS = 10
# A file name is display metadata: longer than this is not a name but an attack or a mistake.
MAX_FILENAME_CHARS = 1024
# python-multipart's per-part limits (its defaults), named here so the refusals can quote them.
MAX_PART_HEADERS = 8
MAX_PART_HEADER_BYTES = 4096 + 128
# Enough of the start of the file to tell FIT, TCX, GPX, gzip and zip apart (XML can open with comments).
HEAD_BYTES = 64 * 1024


@dataclass
class Received:
    tmp_path: Path
    size: int
    sha256: str
    filename: str | None
    head: bytes  # first bytes, for sniffing


class _Sink:
    """Writes the file part to a temporary file, counting and hashing; refuses past the cap."""

    def __init__(self, path: Path, cap: int) -> None:
        self.path = path
        self.cap = cap
        self.size = 0
        self.hash = hashlib.sha256()
        self.head = b""
        self.fh: IO[bytes] = open(path, "wb")  # noqa: SIM115 - closed in finish/abort

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.cap:
            raise HTTPException(
                413,
                f"the file is larger than the {self.cap // (1024 * 1024)} MB upload limit",
            )
        if len(self.head) < HEAD_BYTES:
            self.head += data[: HEAD_BYTES - len(self.head)]
        self.hash.update(data)
        self.fh.write(data)

    def finish(self) -> None:
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()

    def abort(self) -> None:
        self.fh.close()
        self.path.unlink(missing_ok=True)


def _clean_name(raw: str | None) -> str | None:
    """Display metadata only: never used in a path. Strip directories, controls, cap length."""
    if not raw:
        return None
    if len(raw) > MAX_FILENAME_CHARS:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"the file name is {len(raw):,} characters long; at most {MAX_FILENAME_CHARS:,} are accepted",
        )
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in "\r\n\t")
    return name[:200] or None


async def receive_upload(request: Request, *, cap: int, incoming_dir: Path) -> Received:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap + ENVELOPE_SLACK:
        raise HTTPException(
            413,
            f"the file is larger than the {cap // (1024 * 1024)} MB upload limit",
        )
    filename: str | None = request.query_params.get("filename")
    _clean_name(filename)  # a name over the cap is refused before a byte of the body is read
    incoming_dir.mkdir(parents=True, exist_ok=True)
    sink = _Sink(incoming_dir / f"{uuid.uuid4().hex}.part", cap)
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    try:
        if ctype == b"multipart/form-data":
            filename = await _receive_multipart(request, params, sink, cap) or filename
        else:
            async for chunk in request.stream():
                sink.write(chunk)
        if sink.size == 0:
            raise HTTPException(422, "the file is empty")
        name = _clean_name(filename)
        sink.finish()
    except BaseException:
        sink.abort()
        raise
    return Received(sink.path, sink.size, sink.hash.hexdigest(), name, sink.head)


class _FormReader:
    """Callbacks for python-multipart's streaming parser: the first part named `file` goes to the sink."""

    def __init__(self, sink: _Sink) -> None:
        self.sink = sink
        self.parts = 0
        self.field = b""
        self.headers: dict[bytes, bytes] = {}
        self.in_file = False
        self.file_seen = False
        self.filename: str | None = None

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST, f"too many parts in the form (at most {MAX_PARTS})"
            )
        self.headers = {}
        self.in_file = False

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        key = self.field.lower()
        self.headers[key] = self.headers.get(key, b"") + data[start:end]

    def on_header_end(self) -> None:
        self.field = b""

    def on_headers_finished(self) -> None:
        _, disp = parse_options_header(self.headers.get(b"content-disposition", b""))
        if disp.get(b"name") == b"file" and not self.file_seen:
            self.file_seen = self.in_file = True
            raw = disp.get(b"filename")
            self.filename = raw.decode("utf-8", "replace") if raw else None

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.in_file:
            self.sink.write(data[start:end])

    def callbacks(self) -> dict[str, object]:
        names = (
            "on_part_begin",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
            "on_part_data",
        )
        return {name: getattr(self, name) for name in names}


async def _receive_multipart(
    request: Request, params: dict[bytes, bytes], sink: _Sink, cap: int
) -> str | None:
    boundary = params.get(b"boundary")
    if not boundary:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "multipart body without a boundary")
    reader = _FormReader(sink)
    total = 0
    try:
        parser = MultipartParser(  # refuses a boundary over 256 bytes
            boundary,
            reader.callbacks(),  # type: ignore[arg-type]
            max_header_count=MAX_PART_HEADERS,
            max_header_size=MAX_PART_HEADER_BYTES,
        )
        async for chunk in request.stream():
            total += len(chunk)
            if total > cap + ENVELOPE_SLACK:
                raise HTTPException(
                    413,
                    f"the file is larger than the {cap // (1024 * 1024)} MB upload limit",
                )
            parser.write(chunk)
        parser.finalize()
    except FormParserError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, _multipart_reason(exc)) from None
    if not reader.file_seen:
        raise HTTPException(422, "no file in the form: send it in a field named 'file'")
    return reader.filename


def _multipart_reason(exc: FormParserError) -> str:
    """python-multipart's error as a sentence; its own text names byte offsets, not the problem."""
    text = str(exc)
    if "header count" in text:
        return f"a part of the form has too many headers (at most {MAX_PART_HEADERS})"
    if "header size" in text:
        return (
            f"a header of the form is longer than {MAX_PART_HEADER_BYTES:,} bytes "
            "(a very long file name, perhaps)"
        )
    if "boundary length" in text.lower():
        return "the form's boundary is longer than 256 characters"
    if "boundary" in text.lower():
        return "the form body does not match the boundary its Content-Type declares; it may be damaged"
    return "the form body is malformed multipart data; send the file in a field named 'file'"
