"""Upload-side helpers: capped gzip decompression for .fit.gz uploads."""

from __future__ import annotations

import gzip
import io
import zlib
from typing import BinaryIO

from workers.activity import FitRejected


def human_size(size: int) -> str:
    if size >= 1 << 20:
        return f"{size / (1 << 20):g} MB"
    if size >= 1 << 10:
        return f"{size / (1 << 10):g} KB"
    return f"{size:,} bytes"


def decompress_gzip_capped(
    data_or_stream: bytes | bytearray | memoryview | BinaryIO, cap_bytes: int
) -> bytes:
    """Decompress a gzip upload, reading at most cap_bytes + 1 decompressed bytes.

    Raises FitRejected past the cap (a "zip bomb" never gets further than cap + 1 bytes) or when the data
    is not valid gzip."""
    if cap_bytes < 0:
        raise ValueError("cap_bytes must be >= 0")
    if isinstance(data_or_stream, bytes | bytearray | memoryview):
        stream: BinaryIO = io.BytesIO(bytes(data_or_stream))
    else:
        stream = data_or_stream
    try:
        with gzip.GzipFile(fileobj=stream, mode="rb") as unpacked:
            out = unpacked.read(cap_bytes + 1)
    except gzip.BadGzipFile as exc:
        raise FitRejected(f"the file is not gzip-compressed although its name says so ({exc})") from exc
    except (EOFError, OSError, zlib.error) as exc:
        raise FitRejected(
            f"the compressed (.gz) file is damaged or cut off and could not be unpacked ({exc})"
        ) from exc
    if len(out) > cap_bytes:
        raise FitRejected(
            f"the file is larger than {human_size(cap_bytes)} when decompressed, which is more than any "
            "activity file needs"
        )
    return out
