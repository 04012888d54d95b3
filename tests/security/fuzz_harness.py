"""Coverage-guided fuzzing of the file parsers with atheris (libFuzzer): sniffing, FIT, TCX, GPX, gzip, zip.

Run by tests/security/test_parser_fuzz.py for a bounded time, or by hand for longer:

    .venv/bin/python tests/security/fuzz_harness.py -max_total_time=600 CORPUS_DIR

An input may be refused (FileRejected) or parsed; anything else (another exception, a hang past -timeout,
a crash of the process) is a finding: libFuzzer writes the input to -artifact_prefix. Every finding becomes a
generator in tests/support/crashers.py, so its regression input is made in code, not kept as a file.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["workers", "gpxpy"]):
    from workers.activity import FileRejected
    from workers.formats.archive import expand_zip
    from workers.formats.detect import parse_any, sniff_kind

CAP = 8 * 1024 * 1024  # decompression cap while fuzzing: big enough to reach the cap checks quickly


def one_input(data: bytes) -> None:
    try:
        kind = sniff_kind(data[:65536], None)
        if kind == "zip":
            for entry in expand_zip(data, max_entries=20, max_entry_bytes=CAP, max_total_bytes=CAP):
                if entry.kind is not None and entry.data is not None:
                    parse_any(entry.data, entry.kind, max_decompressed=CAP)
        else:
            parse_any(data, kind, max_decompressed=CAP)
    except FileRejected:
        pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
