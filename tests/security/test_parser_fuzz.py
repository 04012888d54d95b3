"""The file parsers under hostile bytes: every crasher ever found is refused with a sentence (its input made
in code, tests/support/crashers.py), and a bounded coverage-guided atheris run finds nothing new."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from support.crashers import CRASHERS
from support.hostile import _valid_files
from workers.activity import FileRejected
from workers.formats.archive import expand_zip
from workers.formats.detect import parse_any, sniff_kind

REPO = Path(__file__).resolve().parents[2]
FUZZ_SECONDS = int(os.environ.get("SWEATSYNC_FUZZ_SECONDS", "30"))  # CI budget; run longer by hand


def refuse_or_parse(data: bytes) -> str:
    """What the worker does with an upload's bytes, in short: "parsed" or the refusal's reason."""
    try:
        kind = sniff_kind(data[:65536], None)
        if kind == "zip":
            entries = expand_zip(data, max_entries=20, max_entry_bytes=1 << 23, max_total_bytes=1 << 23)
            for entry in entries:
                if entry.kind is not None and entry.data is not None:
                    refuse_or_parse(entry.data)
            return "parsed"
        parse_any(data, kind, max_decompressed=1 << 23)
        return "parsed"
    except FileRejected as refused:
        return refused.reason


@pytest.mark.parametrize("name", list(CRASHERS))
def test_every_input_that_ever_crashed_a_parser_is_now_refused_or_parsed(name: str) -> None:
    outcome = refuse_or_parse(CRASHERS[name]())
    assert outcome == "parsed" or (len(outcome.split()) >= 3 and len(outcome) <= 300), outcome


@pytest.mark.integration
def test_a_bounded_coverage_guided_fuzz_run_finds_no_crash(tmp_path: Path) -> None:
    pytest.importorskip("atheris")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, data in _valid_files().items():  # seeds of every format, made in code
        (corpus / name).write_bytes(data)
    for name, make in CRASHERS.items():
        if "500,000" not in name:  # the small ones; the 500,000-deep files would only slow it down
            (corpus / name.replace(" ", "_")).write_bytes(make())
    run = subprocess.run(
        [sys.executable, str(REPO / "tests/security/fuzz_harness.py"), f"-max_total_time={FUZZ_SECONDS}",
         "-seed=13", "-timeout=30", "-rss_limit_mb=3000", f"-artifact_prefix={tmp_path}/", str(corpus)],
        cwd=REPO, capture_output=True, text=True, timeout=FUZZ_SECONDS + 600,
    )  # fmt: skip
    findings = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("crash-", "timeout-", "oom-")))
    assert run.returncode == 0 and not findings, (findings, run.stderr[-4000:])
    stats = [line for line in run.stderr.splitlines() if line.startswith("#") and "cov:" in line]
    print(f"\natheris, {FUZZ_SECONDS} s: {stats[-1] if stats else run.stderr[-300:]}")
