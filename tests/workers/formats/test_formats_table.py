"""One table of file formats drives sniffing, parsing and the clients' choice of files; refusals of any
format are FileRejected (FitRejected is the FIT decoder's own kind of it)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from fitgen import build_fit, steady_records
from support.hostile import GPX_HEAD, TCX_HEAD, gpx_points, tcx_points
from sweatsync.client import ACTIVITY_SUFFIXES, is_activity_file
from sweatsync.watch import completeness
from workers.activity import FileRejected, FitRejected
from workers.formats.detect import parse_any, sniff_kind
from workers.formats.table import EXTENSIONS, FORMATS, KINDS, PARSEABLE, format_of_kind, format_of_name

SAMPLES = {
    "fit": build_fit(steady_records(minutes=5, hr=140, speed_ms=3.0), sport="running"),
    "tcx": TCX_HEAD + tcx_points(60) + b"</Track></Lap></Activity></Activities></TrainingCenterDatabase>",
    "gpx": GPX_HEAD + gpx_points(60) + b"</trkseg></trk></gpx>",
}


@pytest.mark.parametrize("kind", [k for k in PARSEABLE])
def test_every_parseable_kind_in_the_table_is_sniffed_and_parsed(kind: str) -> None:
    fmt, gzipped = format_of_kind(kind)
    data = gzip.compress(SAMPLES[fmt.kind]) if gzipped else SAMPLES[fmt.kind]
    assert sniff_kind(data, f"upload{fmt.extension}") == kind
    assert parse_any(data, kind, max_decompressed=10 * 1024 * 1024).activities


def test_the_clients_pick_up_exactly_the_extensions_of_the_table() -> None:
    assert tuple(ACTIVITY_SUFFIXES) == EXTENSIONS == tuple("." + k for k in KINDS)
    for fmt in FORMATS:
        assert is_activity_file(Path(f"ride{fmt.extension.upper()}"))
        assert format_of_name(f"ride{fmt.extension}") == (fmt, False)
    assert not is_activity_file(Path("notes.txt")) and format_of_name("x.gz") is None


@pytest.mark.parametrize("kind", ["fit", "tcx", "gpx"])
def test_the_watcher_knows_when_each_format_is_completely_written(kind: str, tmp_path: Path) -> None:
    fmt, _ = format_of_kind(kind)
    path = tmp_path / f"ride{fmt.extension}"
    whole = SAMPLES[kind]
    assert completeness(path, whole) is None
    assert completeness(path, whole[: len(whole) // 2]) is not None


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (GPX_HEAD + b"</trkseg></trk></gpx>", "gpx"),
        (TCX_HEAD + b"<Trackpoint>", "tcx"),
        (b"PK\x03\x04" + b"\x00" * 100, None),
        (b"%PDF-1.7 not a workout", None),
    ],
)
def test_refusals_of_other_formats_are_file_rejected_not_fit_rejected(data: bytes, kind: str | None) -> None:
    with pytest.raises(FileRejected) as refused:
        sniffed = sniff_kind(data, "upload")
        if kind is not None:
            parse_any(data, sniffed, max_decompressed=1024 * 1024)
        else:
            from workers.formats.archive import expand_zip

            expand_zip(data, max_entries=10, max_entry_bytes=1024, max_total_bytes=1024)
    assert not isinstance(refused.value, FitRejected)
    assert refused.value.reason


def test_a_fit_refusal_is_still_a_file_refusal() -> None:
    assert issubclass(FitRejected, FileRejected)
    with pytest.raises(FitRejected):
        parse_any(SAMPLES["fit"][:20] + b"\x00" * 20, "fit", max_decompressed=1024)
