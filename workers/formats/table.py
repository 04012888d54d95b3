"""The one table of file formats sweatsync accepts: how each is recognised, parsed and named.

Everything that decides "is this a workout file, and which" reads this table: upload sniffing and parsing
(`workers.formats.detect`), the worker's pipeline (through detect), `sweatsync upload` and `sweatsync watch`
(which files of a folder to send, and when one is completely written). Adding a format is one row here.

The table is light on purpose (parsers are named, imported on first use), so the command-line client can
read it without loading the decoders.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workers.activity import ParseResult

GZIP = ".gz"
ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class FileFormat:
    kind: str  # the stored kind: raw files are kept as {user}/{upload}.{kind}[.gz]
    label: str  # how reasons name it
    extension: str  # the accepted file-name ending
    parser: str | None  # "module:function" taking bytes, giving a ParseResult; None: expanded, not parsed
    xml_root: str | None = None  # the root element that identifies an XML format (local name)
    gzipped_too: bool = True  # also accepted as a .gz of itself
    magic: bytes | None = None  # leading bytes that identify it (FIT has a header check of its own)

    def parse(self, data: bytes) -> ParseResult:
        if self.parser is None:
            raise ValueError(f"{self.label} files are expanded, not parsed")
        module, _, name = self.parser.partition(":")
        function: Callable[[bytes], ParseResult] = getattr(importlib.import_module(module), name)
        return function(data)


FORMATS: tuple[FileFormat, ...] = (
    FileFormat("fit", "FIT", ".fit", "workers.fit:parse_fit"),
    FileFormat("tcx", "TCX", ".tcx", "workers.formats.tcx:parse_tcx", xml_root="TrainingCenterDatabase"),
    FileFormat("gpx", "GPX", ".gpx", "workers.formats.gpx:parse_gpx", xml_root="gpx"),
    FileFormat("zip", "ZIP", ".zip", None, gzipped_too=False, magic=ZIP_MAGIC),
)
BY_KIND = {f.kind: f for f in FORMATS}
# Every kind an upload can be stored as, and the file-name endings the clients pick up.
KINDS: tuple[str, ...] = tuple(
    k for f in FORMATS for k in ((f.kind, f.kind + GZIP) if f.gzipped_too else (f.kind,))
)
PARSEABLE: tuple[str, ...] = tuple(k for k in KINDS if BY_KIND[k.removesuffix(GZIP)].parser is not None)
EXTENSIONS: tuple[str, ...] = tuple("." + k for k in KINDS)
XML_ROOTS = {f.xml_root.lower(): f.kind for f in FORMATS if f.xml_root}


def format_of_name(name: str) -> tuple[FileFormat, bool] | None:
    """(format, gzipped) for a file name the clients accept ("ride.FIT.gz" -> FIT, True); None otherwise."""
    lowered = name.lower()
    for fmt in FORMATS:
        if lowered.endswith(fmt.extension):
            return fmt, False
        if fmt.gzipped_too and lowered.endswith(fmt.extension + GZIP):
            return fmt, True
    return None


def format_of_kind(kind: str) -> tuple[FileFormat, bool]:
    """(format, gzipped) of a stored kind ("gpx.gz" -> GPX, True); KeyError for an unknown kind."""
    gzipped = kind.endswith(GZIP)
    return BY_KIND[kind.removesuffix(GZIP)], gzipped
