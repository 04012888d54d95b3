"""Every input that ever crashed, hung or fooled a parser, generated in code (never a copied file).

Each entry is a function making the input; tests/security/test_parser_fuzz.py runs them all and expects a
refusal with a sentence or a parsed result, nothing else. When the fuzz run (tests/security/fuzz_harness.py)
finds something new, add a generator here that makes the same input (or a smaller one showing the fault).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

from support.hostile import (
    GPX_HEAD,
    TCX_HEAD,
    deep_gpx,
    deep_tcx,
    fit_with_array_file_type,
    gpx_points,
    tcx_points,
)


def zip_entry_without_a_name() -> bytes:
    """atheris, 2026-12-04: zipfile's is_dir() raises IndexError on an entry whose name is empty."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo(""), b"data")
        archive.writestr("ride.fit", b"\x0e\x10")
    return out.getvalue()


def zip_of_an_unknown_version() -> bytes:
    """atheris, 2026-12-04: zipfile raised NotImplementedError ("zip file version 25.5") opening it."""
    data = bytearray(zip_entry_without_a_name())
    central = data.find(b"PK\x01\x02")
    data[central + 6 : central + 8] = (255).to_bytes(2, "little")  # version needed to extract
    return bytes(data)


def xml_with_an_unknown_encoding() -> bytes:
    """atheris, 2026-12-04: expat raised LookupError for `encoding="UTF-.FIT8"` (an internal error)."""
    return TCX_HEAD.replace(b'encoding="UTF-8"', b'encoding="UTF-.FIT8"') + tcx_points(20)


CRASHERS: dict[str, Callable[[], bytes]] = {
    # issue 13: ElementTree freed a 500,000-deep tree recursively and the worker child died of SIGSEGV.
    "gpx nested 500,000 deep": lambda: deep_gpx(500_000),
    "tcx nested 500,000 deep": lambda: deep_tcx(500_000),
    # issue 13: a FIT file type read as an array was dumped into the reason ("this is a (4, 0, 22, 59, ...").
    "fit file type as an array": fit_with_array_file_type,
    "zip entry without a name": zip_entry_without_a_name,
    "zip of an unknown version": zip_of_an_unknown_version,
    "tcx with an unknown encoding": xml_with_an_unknown_encoding,
    # atheris, 2026-12-04: expat raised ValueError ("multi-byte encodings are not supported") for UTF-7.
    "tcx in utf-7": lambda: TCX_HEAD.replace(b'encoding="UTF-8"', b'encoding="UTF-7"') + tcx_points(20),
    "gpx with an unknown encoding": lambda: GPX_HEAD.replace(b"UTF-8", b"x-no-such-codec") + gpx_points(20),
}
