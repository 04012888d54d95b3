"""sniff_kind over every kind (and the files it must refuse), and parse_any's dispatch."""

from __future__ import annotations

import gzip
import io
import zipfile
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from fitgen import build_fit, steady_records
from workers.activity import FileRejected
from workers.formats.detect import KINDS, SNIFF_BYTES, parse_any, sniff_kind

START = datetime(2024, 7, 1, 8, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64)


def stamp(t: int) -> str:
    return (START + timedelta(seconds=t)).strftime("%Y-%m-%dT%H:%M:%SZ")


def tcx(n: int = 60, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>\n') -> bytes:
    points = "".join(
        f"<Trackpoint><Time>{stamp(t)}</Time><HeartRateBpm><Value>{140 + t % 3}</Value></HeartRateBpm>"
        "<Extensions><ns3:TPX><ns3:Watts>250</ns3:Watts></ns3:TPX></Extensions></Trackpoint>"
        for t in range(n)
    )
    return (
        f'{prolog}<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2" '
        'xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2"><Activities>'
        f'<Activity Sport="Biking"><Id>{stamp(0)}</Id>'
        f'<Lap StartTime="{stamp(0)}"><Track>{points}</Track></Lap>'
        "</Activity></Activities></TrainingCenterDatabase>"
    ).encode()


def gpx(n: int = 60, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>\n') -> bytes:
    points = "".join(
        f'<trkpt lat="{45 + t * 3e-5:.6f}" lon="7.0"><time>{stamp(t)}</time></trkpt>' for t in range(n)
    )
    return (
        f'{prolog}<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><type>running</type><trkseg>{points}</trkseg></trk></gpx>"
    ).encode()


def zipped(**files: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def refusal(head: bytes, name: str | None = None) -> str:
    with pytest.raises(FileRejected) as info:
        sniff_kind(head, name)
    return info.value.reason


FIT = build_fit(steady_records(2, hr=140))


# -- sniff_kind -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (FIT, "fit"),
        (gzip.compress(FIT), "fit.gz"),
        (tcx(), "tcx"),
        (gzip.compress(tcx()), "tcx.gz"),
        (gpx(), "gpx"),
        (gzip.compress(gpx()), "gpx.gz"),
        (zipped(**{"a.fit": FIT}), "zip"),
    ],
    ids=list(KINDS),
)
def test_sniff_kind_names_every_accepted_kind_from_the_bytes(data: bytes, kind: str) -> None:
    assert sniff_kind(data[:SNIFF_BYTES], "upload") == kind


@pytest.mark.parametrize(
    "prolog",
    [
        "",
        "\ufeff",
        "\n\n   \t",
        '\ufeff<?xml version="1.0" encoding="UTF-8"?>\n<!-- exported -->\n<?xml-stylesheet href="x"?>\n',
        "<!--" + "x" * 5000 + "-->",
    ],
    ids=["bare", "bom", "whitespace", "declaration-comment-pi", "long-comment"],
)
def test_xml_workouts_are_found_behind_a_bom_whitespace_declaration_and_comments(prolog: str) -> None:
    assert sniff_kind(tcx(prolog=prolog), None) == "tcx"
    assert sniff_kind(gpx(prolog=prolog), None) == "gpx"


def test_utf16_and_prefixed_root_elements_are_recognised() -> None:
    assert sniff_kind(gpx().decode().encode("utf-16"), None) == "gpx"
    prefixed = (
        b'<tcd:TrainingCenterDatabase xmlns:tcd="http://www.garmin.com/x"></tcd:TrainingCenterDatabase>'
    )
    assert sniff_kind(prefixed, None) == "tcx"


def test_the_bytes_decide_the_kind_not_the_name() -> None:
    assert sniff_kind(gpx(), "ride.fit") == "gpx"
    assert sniff_kind(FIT, "run.gpx") == "fit"


def test_a_gzip_is_sniffed_from_the_start_of_its_content_only() -> None:
    big = gzip.compress(tcx(n=20_000))
    assert sniff_kind(big[:4096], "x.tcx.gz") == "tcx.gz"  # the rest of the stream is not needed


def test_images_documents_and_other_files_are_refused_with_what_they_are() -> None:
    assert refusal(PNG) == "this is a PNG image, not a workout file"
    assert (
        refusal(JPEG, "ride.fit")
        == "this is a JPEG image, not a workout file, although its name ends in .fit"
    )
    assert refusal(b"%PDF-1.7\n") == "this is a PDF document, not a workout file"
    assert refusal(b"PK\x05\x06" + bytes(18)) == "this is an empty ZIP archive, not a workout file"
    assert refusal(b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"/>') == (
        "this is a KML map file (Google Earth), not a workout file"
    )
    assert (
        refusal(b'<?xml version="1.0"?><note/>')
        == "this is an XML file (<note>), not a TCX or GPX workout file"
    )
    assert refusal(b'{"activity": 1}') == "this is a JSON text file, not a workout file"
    assert refusal(b"time,hr,power\n0,140,200\n") == "this is a CSV or text file, not a workout file"
    assert refusal(bytes(range(1, 200)), "notes.docx") == (
        "not a workout file (.docx): it is not a FIT, TCX or GPX file (or a .gz or .zip of them)"
    )


def test_an_empty_file_is_refused() -> None:
    assert refusal(b"") == "the file is empty"
    assert refusal(b"  \n ") == "the file holds only blank space"


def test_a_fit_file_with_a_damaged_header_gets_the_fit_adapters_precise_reason() -> None:
    damaged = bytes([99]) + FIT[1:64]
    assert refusal(damaged) == "not a FIT file: the header declares an impossible size (99 bytes)"


def test_compressed_files_that_hold_no_workout_are_refused() -> None:
    assert refusal(gzip.compress(PNG)) == (
        "the compressed (.gz) file does not hold a workout file: this is a PNG image, not a workout file"
    )
    assert "compressed twice" in refusal(gzip.compress(gzip.compress(FIT)))
    assert "holds a zip archive" in refusal(gzip.compress(zipped(**{"a.fit": FIT})))
    assert refusal(gzip.compress(b"")) == "the compressed (.gz) file is empty"
    assert "damaged" in refusal(b"\x1f\x8b\x08\x00" + b"\xff" * 100)


# -- parse_any --------------------------------------------------------------------------------------


def test_parse_any_reads_a_gzipped_tcx() -> None:
    data = gzip.compress(tcx(n=90))
    result = parse_any(data, sniff_kind(data, "ride.tcx.gz"), max_decompressed=10 << 20)
    (activity,) = result.activities
    assert activity.sport == "cycling" and activity.t.size == 90
    assert np.all(activity.channels["power"] == 250) and result.decoder == "tcx:defusedxml"


def test_parse_any_reads_fit_gpx_and_their_gzip_forms() -> None:
    for data, decoder in ((FIT, "numpy"), (gpx(), "gpx:gpxpy")):
        for payload in (data, gzip.compress(data)):
            result = parse_any(payload, sniff_kind(payload, None), max_decompressed=10 << 20)
            assert result.decoder == decoder and len(result.activities) == 1


def test_parse_any_refuses_a_gzip_that_unpacks_past_the_cap() -> None:
    bomb = gzip.compress(tcx(n=10) + b" " * (4 << 20))
    kind = sniff_kind(bomb, "x.tcx.gz")
    with pytest.raises(FileRejected) as info:
        parse_any(bomb, kind, max_decompressed=1 << 20)
    assert "larger than 1 MB when decompressed" in info.value.reason


def test_parse_any_refuses_a_gzip_whose_content_is_not_what_its_start_promised() -> None:
    with pytest.raises(FileRejected) as info:
        parse_any(gzip.compress(gpx()), "tcx.gz", max_decompressed=10 << 20)
    assert (
        info.value.reason == "the compressed (.gz) file does not hold the TCX file its first bytes promised"
    )


def test_parse_any_does_not_take_zip_archives() -> None:
    with pytest.raises(ValueError, match="not 'zip'"):
        parse_any(zipped(**{"a.fit": FIT}), "zip", max_decompressed=10 << 20)


def test_a_doctype_names_the_root_so_the_parser_can_refuse_it_with_its_own_reason() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "aaaaaaaaaa">]><gpx>&a;</gpx>'
    assert sniff_kind(bomb, None) == "gpx"
    with pytest.raises(FileRejected, match="declares an XML document type"):
        parse_any(bomb, "gpx", max_decompressed=1 << 20)
