"""`.zip` uploads of many workout files: each entry becomes its own upload, with its own status and reason.

    expand_zip(data, *, max_entries=200, max_entry_bytes=..., max_total_bytes=...) -> list[ZipEntry]

Why this is careful (shared/docs/reliability.md section 4, OWASP File Upload Cheat Sheet: "ZIP files are
not recommended", "the file size limit should be considered after file decompression"):

* Sizes written in the archive are never trusted. Each entry is read through zipfile's decompressing
  stream in READ_CHUNK pieces and abandoned as soon as it passes `max_entry_bytes` (so at most
  cap + READ_CHUNK bytes are ever produced for it), and reading stops for good once the entries read add
  up to more than `max_total_bytes`. A zip bomb, including CPython's unfixed "quoted-overlap" kind
  (gh-109858: many entries sharing one compressed kernel; this Python's zipfile has no overlap check) and
  forged compress_size / file_size fields, is stopped by these caps, whatever its headers say.
* Only "stored" and "deflate" entries are read. zipfile inflates bzip2 and LZMA entries without an output
  limit per read, so those (and Deflate64 and others it cannot read) get an entry error instead; every
  workout export seen (Garmin, Strava, Wahoo, phones, OS "compress" menus) uses deflate.
* The number of entries is checked before anything is decompressed: from the end-of-central-directory
  record and the central directory itself (cheap, before zipfile builds its table of entries), then on
  the files zipfile lists. More than `max_entries` files refuses the whole archive (FileRejected) with the
  count, so the athlete can split it.
* Directories, `__MACOSX/` resource forks, dotfiles (`.DS_Store`, `._x`), `Thumbs.db` and `desktop.ini` are
  skipped silently (they do not count towards `max_entries`); every other entry is returned, readable or
  not, so each one gets a status: password-protected (encrypted) entries, links, damaged entries, empty
  files, archives inside the archive ("archives inside archives are not accepted") and files that are not
  workouts ("this is a JPEG image, not a workout file") come back with `error` set and `data` None.
* Names are display metadata only: the directory part is dropped, control characters removed and the
  length capped. Nothing here touches the file system.

`ZipEntry.kind` is `workers.formats.detect.sniff_kind` of the entry ("fit", "fit.gz", "gpx", ...): Strava
bulk exports hold `.fit.gz` and `.gpx.gz` files, which stay compressed in `data`; give them to
`parse_any(data, kind, max_decompressed=...)`, which applies its own cap.
"""

from __future__ import annotations

import io
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass

from workers.activity import FileRejected
from workers.fit.intake import human_size
from workers.formats.detect import SNIFF_BYTES, ZIP_MAGIC, sniff_kind

MAX_ENTRIES = 200
MAX_ENTRY_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 256 * 1024 * 1024
READ_CHUNK = 64 * 1024
MAX_NAME_CHARS = 120
RECORDS_PER_ENTRY = 4  # central-directory records allowed per counted file (folders, __MACOSX twins)
SYSTEM_FILES = frozenset({"thumbs.db", "desktop.ini"})
_EOCD = b"PK\x05\x06"
_CENTRAL = b"PK\x01\x02"
_METHODS = {
    zipfile.ZIP_BZIP2: "bzip2",
    zipfile.ZIP_LZMA: "LZMA",
    9: "Deflate64",
    93: "Zstandard",
    95: "XZ",
    98: "PPMd",
    99: "AES (encrypted)",
}


@dataclass(frozen=True)
class ZipEntry:
    """One file of the archive: `data` to process, or `error` (for the athlete) saying why not."""

    name: str  # display name only (no directories, cleaned, capped); never a path
    data: bytes | None
    error: str | None
    kind: str | None = None  # sniff_kind of data when readable


def display_name(raw: str) -> str:
    """A file name to show: the last path part, printable characters only, at most MAX_NAME_CHARS."""
    base = raw.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    if not base:
        return "unnamed"
    if len(base) > MAX_NAME_CHARS:
        stem, dot, ext = base.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            base = stem[: MAX_NAME_CHARS - len(ext) - 2] + "~." + ext
        else:
            base = base[: MAX_NAME_CHARS - 1] + "~"
    return base


def _skipped(info: zipfile.ZipInfo) -> bool:
    parts = [p for p in info.filename.replace("\\", "/").split("/") if p]
    if not parts or info.is_dir():  # an empty name (is_dir() would raise IndexError on it)
        return True
    if "__MACOSX" in parts:
        return True
    base = parts[-1]
    return base.startswith(".") or base.lower() in SYSTEM_FILES


def _declared_records(data: bytes) -> int | None:
    """Central-directory records of a (non-zip64) archive, counted without parsing them: the larger of
    the end record's total and the record signatures inside the central directory. None when the end
    record is not found or uses zip64 markers (zipfile then reads it, bounded by the upload's size)."""
    at = data.rfind(_EOCD, max(0, len(data) - 22 - 0xFFFF))
    if at < 0 or at + 22 > len(data):
        return None
    _sig, _disk, _cd_disk, _here, total, cd_size, cd_offset, _comment = struct.unpack(
        "<4s4H2LH", data[at : at + 22]
    )
    if total == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        return None
    start = at - cd_size
    if start < 0:
        return total
    return max(total, data.count(_CENTRAL, start, at))


def _too_many(count: int, max_entries: int, what: str = "files") -> FileRejected:
    return FileRejected(
        f"the zip archive holds {count:,} {what}; at most {max_entries:,} workout files are accepted in one "
        "upload: split it into smaller archives"
    )


def _read_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> tuple[bytes, bool]:
    """(bytes read, over_cap): the entry's content, never more than cap + READ_CHUNK bytes of it."""
    chunks: list[bytes] = []
    size = 0
    with archive.open(info) as stream:
        while True:
            chunk = stream.read(READ_CHUNK)
            if not chunk:
                return b"".join(chunks), False
            size += len(chunk)
            if size > cap:
                return b"", True
            chunks.append(chunk)


def _entry_error(info: zipfile.ZipInfo) -> str | None:
    if info.flag_bits & 0x1:
        return "this file is password-protected (encrypted) inside the archive; zip it without a password"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "this entry is a link to another file, not a file"
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        method = _METHODS.get(info.compress_type, f"method {info.compress_type}")
        return (
            f"this file is compressed with {method}, which is not accepted; re-create the archive with the "
            "standard (deflate) compression"
        )
    return None


def _open_zip(data: bytes, max_entries: int) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """The archive and its files worth reading (no folders, no system files), or FileRejected for it whole."""
    if not data.startswith(ZIP_MAGIC):
        raise FileRejected("this is not a zip archive")
    records = _declared_records(data)
    if records is not None and records > max_entries * RECORDS_PER_ENTRY:
        raise _too_many(records, max_entries, "entries")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (
        zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, struct.error,
        NotImplementedError,  # a zip "version" zipfile does not read (found by atheris)
    ) as exc:  # fmt: skip
        raise FileRejected(
            "the zip archive is damaged or cut off: its table of contents could not be read"
        ) from exc
    wanted = [info for info in infos if not _skipped(info)]
    if len(wanted) > max_entries:
        raise _too_many(len(wanted), max_entries)
    if not wanted:
        raise FileRejected("the zip archive holds no files (only folders or system files)")
    return archive, wanted


def _typed_entry(name: str, content: bytes) -> ZipEntry:
    """An unpacked file with its kind, or the reason it is not a workout file we read."""
    if not content:
        return ZipEntry(name, None, "this file is empty")
    try:
        kind = sniff_kind(content[:SNIFF_BYTES], name)
    except FileRejected as exc:
        return ZipEntry(name, None, exc.reason)
    if kind == "zip":
        return ZipEntry(name, None, "archives inside archives are not accepted")
    return ZipEntry(name, content, None, kind)


def expand_zip(
    data: bytes,
    *,
    max_entries: int = MAX_ENTRIES,
    max_entry_bytes: int = MAX_ENTRY_BYTES,
    max_total_bytes: int = MAX_TOTAL_BYTES,
) -> list[ZipEntry]:
    """The files of a zip upload, in archive order, each readable (data, kind) or with its error.

    FileRejected for the whole archive when it is damaged, holds more than `max_entries` files, or holds
    no file at all (only folders and system files)."""
    if max_entries < 1 or max_entry_bytes < 0 or max_total_bytes < 0:
        raise ValueError("caps must be positive")
    archive, wanted = _open_zip(data, max_entries)
    over_total = (
        f"not read: the archive unpacks to more than {human_size(max_total_bytes)} in all, the most one "
        "upload may hold"
    )
    too_large = (
        f"this file is larger than {human_size(max_entry_bytes)} when unpacked, which is more than any "
        "activity file needs"
    )
    out: list[ZipEntry] = []
    total = 0
    exhausted = False
    for info in wanted:
        name = display_name(info.filename)
        error = over_total if exhausted else _entry_error(info)
        if error is not None:
            out.append(ZipEntry(name, None, error))
            continue
        budget = min(max_entry_bytes, max_total_bytes - total)
        try:
            content, over = _read_capped(archive, info, budget)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as exc:
            damaged = "the checksum does not match" if "CRC" in str(exc) else "it could not be unpacked"
            out.append(ZipEntry(name, None, f"this file is damaged inside the archive: {damaged}"))
            continue
        if over:
            exhausted = budget < max_entry_bytes  # the whole archive's budget ran out, not this file's
            out.append(ZipEntry(name, None, over_total if exhausted else too_large))
            continue
        total += len(content)
        out.append(_typed_entry(name, content))
    return out
