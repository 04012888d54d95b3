"""expand_zip: every entry accounted for, caps that do not trust the archive's own sizes."""

from __future__ import annotations

import gzip
import io
import struct
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from fitgen import build_fit, steady_records
from workers.activity import FileRejected
from workers.formats.archive import ZipEntry, display_name, expand_zip
from workers.formats.detect import parse_any

MB = 1 << 20
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)
FIT = build_fit(steady_records(3, hr=141), sport="running")
START = datetime(2024, 7, 1, 8, 0, tzinfo=UTC)


def gpx(n: int = 40) -> bytes:
    points = "".join(
        f'<trkpt lat="{45 + t * 3e-5:.6f}" lon="7.0">'
        f"<time>{(START + timedelta(seconds=t)).strftime('%Y-%m-%dT%H:%M:%SZ')}</time></trkpt>"
        for t in range(n)
    )
    return (
        '<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><type>running</type><trkseg>{points}</trkseg></trk></gpx>"
    ).encode()


def make_zip(entries: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, content in entries:
            if name.endswith("/"):
                archive.writestr(zipfile.ZipInfo(name), b"")
            else:
                archive.writestr(name, content)
    return buffer.getvalue()


def by_name(entries: list[ZipEntry]) -> dict[str, ZipEntry]:
    return {entry.name: entry for entry in entries}


def refusal(data: bytes, **caps: int) -> str:
    with pytest.raises(FileRejected) as info:
        expand_zip(data, **caps)
    return info.value.reason


def central_records(data: bytes) -> list[int]:
    """Offsets of the central-directory records of an archive written by zipfile."""
    at = data.rfind(b"PK\x05\x06")
    size, offset = struct.unpack("<LL", data[at + 12 : at + 20])
    out, pos = [], offset
    while pos < offset + size:
        out.append(pos)
        name_len, extra_len, comment_len = struct.unpack("<HHH", data[pos + 28 : pos + 34])
        pos += 46 + name_len + extra_len + comment_len
    return out


# -- per-entry outcomes -----------------------------------------------------------------------------


def test_each_file_of_a_mixed_archive_gets_its_own_outcome() -> None:
    bomb = bytes(20 * MB)  # deflates to ~20 KB
    data = make_zip(
        [
            ("export/", b""),
            ("export/run.fit", FIT),
            ("export/photo.png", PNG),
            ("export/inner.zip", make_zip([("a.fit", FIT)])),
            ("export/bomb.fit", bomb),
            ("export/ride.gpx.gz", gzip.compress(gpx())),
            ("__MACOSX/export/._run.fit", b"\x00\x05\x16\x07resource fork"),
            ("export/.DS_Store", b"\x00\x00\x00\x01Bud1"),
        ]
    )
    assert len(data) < MB
    entries = expand_zip(data, max_entry_bytes=4 * MB, max_total_bytes=16 * MB)
    assert [e.name for e in entries] == ["run.fit", "photo.png", "inner.zip", "bomb.fit", "ride.gpx.gz"]
    got = by_name(entries)
    assert got["run.fit"] == ZipEntry("run.fit", FIT, None, "fit")
    assert (
        got["photo.png"].data is None and got["photo.png"].error == "this is a PNG image, not a workout file"
    )
    assert got["inner.zip"].error == "archives inside archives are not accepted"
    assert got["bomb.fit"].data is None
    assert got["bomb.fit"].error == (
        "this file is larger than 4 MB when unpacked, which is more than any activity file needs"
    )
    assert got["ride.gpx.gz"].kind == "gpx.gz" and got["ride.gpx.gz"].error is None


def test_readable_entries_parse_like_single_uploads() -> None:
    entries = expand_zip(make_zip([("a/run.fit", FIT), ("b/ride.gpx.gz", gzip.compress(gpx()))]))
    results = [parse_any(e.data, e.kind, max_decompressed=10 * MB) for e in entries if e.data is not None]
    assert [r.decoder for r in results] == ["numpy", "gpx:gpxpy"]
    assert results[0].activities[0].channels["heart_rate"][0] == 141


def test_entry_names_are_display_names_without_directories() -> None:
    entries = expand_zip(
        make_zip([("../../etc/evil\x07.fit", FIT), ("C:\\Users\\me\\" + "x" * 300 + ".fit", FIT)])
    )
    assert entries[0].name == "evil.fit"
    assert len(entries[1].name) == 120 and entries[1].name.endswith("~.fit")
    assert display_name("folder/") == "folder" and display_name("///") == "unnamed"


def test_empty_and_text_entries_are_kept_with_a_reason() -> None:
    got = by_name(expand_zip(make_zip([("empty.fit", b""), ("notes.txt", b"ran well today\n")])))
    assert got["empty.fit"].error == "this file is empty"
    assert got["notes.txt"].error == "this is a text file, not a workout file"


def test_an_encrypted_entry_is_kept_with_a_reason() -> None:
    data = bytearray(make_zip([("secret.fit", FIT), ("open.fit", FIT)]))
    local, central = 0, central_records(bytes(data))[0]
    data[local + 6] |= 0x01  # general-purpose flag bit 0: encrypted (local header and central record)
    data[central + 8] |= 0x01
    got = by_name(expand_zip(bytes(data)))
    assert "password-protected" in got["secret.fit"].error and got["open.fit"].kind == "fit"


def test_bzip2_and_lzma_entries_are_refused_because_zipfile_inflates_them_without_a_limit() -> None:
    for method, word in ((zipfile.ZIP_BZIP2, "bzip2"), (zipfile.ZIP_LZMA, "LZMA")):
        (entry,) = expand_zip(make_zip([("run.fit", FIT)], method))
        assert entry.data is None and f"compressed with {word}" in entry.error


def test_a_damaged_entry_is_kept_with_a_reason_and_the_others_are_read() -> None:
    data = bytearray(make_zip([("broken.fit", FIT), ("fine.fit", FIT)], zipfile.ZIP_STORED))
    data[30 + len("broken.fit") + 200] ^= 0xFF  # a byte of the first entry's content: its CRC fails
    got = by_name(expand_zip(bytes(data)))
    assert got["broken.fit"].error == "this file is damaged inside the archive: the checksum does not match"
    assert got["fine.fit"].data == FIT


# -- caps -------------------------------------------------------------------------------------------


def test_an_archive_over_the_entry_count_is_refused_whole_with_the_count() -> None:
    data = make_zip([(f"run{i}.fit", FIT) for i in range(6)])
    assert refusal(data, max_entries=5) == (
        "the zip archive holds 6 files; at most 5 workout files are accepted in one upload: "
        "split it into smaller archives"
    )
    assert len(expand_zip(data, max_entries=6)) == 6


def test_folders_and_system_files_do_not_count_towards_the_entry_cap() -> None:
    files = [(f"export/run{i}.fit", FIT) for i in range(3)] + [
        (f"__MACOSX/export/._run{i}.fit", b"x") for i in range(3)
    ]
    assert len(expand_zip(make_zip([("export/", b""), *files]), max_entries=3)) == 3


def test_a_central_directory_with_thousands_of_records_is_refused_before_it_is_parsed() -> None:
    data = make_zip([(f"d{i}/", b"") for i in range(1000)] + [("run.fit", FIT)])
    assert refusal(data, max_entries=10) == (
        "the zip archive holds 1,001 entries; at most 10 workout files are accepted in one upload: "
        "split it into smaller archives"
    )


def test_an_archive_of_only_folders_and_system_files_is_refused() -> None:
    assert refusal(make_zip([("export/", b""), ("export/.DS_Store", b"x")])) == (
        "the zip archive holds no files (only folders or system files)"
    )


def test_entries_past_the_total_cap_are_not_read_but_accounted_for() -> None:
    chunk = FIT + bytes(MB - len(FIT))  # 1 MB each
    got = expand_zip(
        make_zip([(f"part{i}.fit", chunk) for i in range(5)]), max_entry_bytes=2 * MB, max_total_bytes=3 * MB
    )
    assert [e.error is None for e in got] == [True, True, True, False, False]
    assert all("unpacks to more than 3 MB" in e.error for e in got[3:])


def test_entries_sharing_one_compressed_kernel_are_stopped_by_the_total_cap_not_their_headers() -> None:
    """An overlapping-entries bomb: 50 central records, each naming the same local entry (2 MB of zeros)."""
    single = make_zip([("a.fit", bytes(2 * MB))])
    at = single.rfind(b"PK\x05\x06")
    (record_at,) = central_records(single)
    record = single[record_at:at]
    copies = 50
    eocd = bytearray(single[at:])
    struct.pack_into("<HHL", eocd, 8, copies, copies, len(record) * copies)
    bomb = single[:record_at] + record * copies + bytes(eocd)
    assert len(bomb) < 64 * 1024
    got = expand_zip(bomb, max_entries=100, max_entry_bytes=4 * MB, max_total_bytes=5 * MB)
    assert len(got) == copies
    assert [e.error for e in got[:2]] == [
        "not a workout file (.fit): it is not a FIT, TCX or GPX file (or a .gz or .zip of them)"
    ] * 2
    assert all(e.data is None and "unpacks to more than 5 MB" in e.error for e in got[2:])


def test_a_damaged_archive_is_refused_whole() -> None:
    data = make_zip([("run.fit", FIT)])
    assert (
        refusal(data[: len(data) // 2])
        == "the zip archive is damaged or cut off: its table of contents could not be read"
    )
    assert refusal(FIT) == "this is not a zip archive"
