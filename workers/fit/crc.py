"""FIT CRC-16 (the CRC-16/ARC variant the FIT SDK specifies: reflected polynomial 0xA001, init 0).

fitparse computes it one nibble at a time in pure Python (about 8 % of its decode time), so the adapter turns
the decoders' CRC checks off and checks each segment once here. Large inputs are split into equal chunks whose
CRCs are computed side by side with numpy and then combined (a CRC without final xor is linear, so
crc(A + B) = shift(crc(A), len(B)) ^ crc(B)); a 3 MB file takes about 10 ms instead of 120 ms.
"""

from __future__ import annotations

import numpy as np

_POLY = 0xA001


def _table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _POLY if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _table()
_TABLE_NP = np.array(_TABLE, dtype=np.uint16)
_VECTORIZE_FROM = 1 << 16  # below this the plain loop is as fast


def crc16_simple(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """Byte-at-a-time table CRC; the reference the fast path is tested against."""
    table = _TABLE
    for byte in bytes(data):
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


def _advance_zero_bytes(crc: int, count: int) -> int:
    table = _TABLE
    for _ in range(count):
        crc = table[crc & 0xFF] ^ (crc >> 8)
    return crc


def crc16(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC of `data`, continuing from `crc`."""
    data = bytes(data) if not isinstance(data, bytes) else data
    size = len(data)
    if size < _VECTORIZE_FROM:
        return crc16_simple(data, crc)
    chunk = int(size**0.5)
    chunks = size // chunk
    # One row per step: row j holds byte j of every chunk, so each step is one vector operation.
    columns = np.frombuffer(data, dtype=np.uint8, count=chunks * chunk).reshape(chunks, chunk).T.copy()
    partial = np.zeros(chunks, dtype=np.uint16)
    for row in columns:
        partial = _TABLE_NP[(partial ^ row) & 0xFF] ^ (partial >> 8)
    # shift(c) = what a CRC state c becomes after `chunk` zero bytes; linear in c, so two 256-entry tables.
    basis = [_advance_zero_bytes(1 << bit, chunk) for bit in range(16)]
    low = [0] * 256
    high = [0] * 256
    for value in range(1, 256):
        lo = hi = 0
        for bit in range(8):
            if value >> bit & 1:
                lo ^= basis[bit]
                hi ^= basis[bit + 8]
        low[value] = lo
        high[value] = hi
    total = crc
    for part in partial.tolist():
        total = low[total & 0xFF] ^ high[total >> 8] ^ part
    return crc16_simple(data[chunks * chunk :], total)
