"""The fast decode path: record messages with numpy, everything else with fitparse.

Records are 95-99 % of what the pipeline reads (a 14-h file: 45,805 records, a few hundred other messages),
and fitparse spends ~100 µs on each building one Python object per field. Here:

1. one pass over the message headers of the (already framed, see `framing`) segment notes each record's
   byte offset and its definition's fixed layout, and copies every definition and every non-record message
   into a small side payload;
2. the side payload goes through fitparse exactly as the reference path does (`decode_with_fitparse`), so
   file_id, session, event, hr, user_profile, zones_target, time_in_zone, weather, sport and the developer
   data descriptions come out of the reference decoder itself (enum names, subfields, components and all);
3. the records of each distinct layout are gathered with one fancy index into a structured-dtype view of the
   bytes (`np.ndarray(buffer=..., strides=(1,))`: element i is the layout read at byte i), then each needed
   field is decoded column-wise: endianness from the definition, the base type's invalid sentinel to NaN,
   profile scale/offset in the same float64 operations fitparse does, the speed/altitude components into
   their enhanced_* fields, compressed-timestamp headers accumulated as fitparse does, and developer fields
   with a role (core/skin temperature, power) scaled from their field_description.

Anything this path does not reproduce exactly raises `Declined` with the reason, and the caller decodes the
segment with fitparse instead: accumulated components (compressed_speed_distance), arrays, strings or bytes
in a record field the pipeline reads, a compressed-timestamp header on a non-record message, a field size that
is not a multiple of its type, a developer field described twice. Columns come out identical to what
`SegmentData` builds from fitparse's messages (tests/workers/fit/test_fit_fast.py checks every sample file).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from fitparse.profile import MESSAGE_TYPES
from fitparse.records import BASE_TYPES as FITPARSE_BASE_TYPES

from workers.fit.collect import (
    DEV_ROLES,
    DEVELOPER_DATA_ID,
    FIELD_DESCRIPTION,
    RECORD,
    RECORD_FIELDS,
    TIMESTAMP,
    SegmentData,
)
from workers.fit.decoders import UNKNOWN_FIELD_SCALES, decode_with_fitparse

DECODER_NAME = "numpy"
_PLACING = frozenset({0, 12, 18, FIELD_DESCRIPTION, DEVELOPER_DATA_ID})  # file_id, sport, session, dev


class Declined(Exception):
    """The fast path will not decode this segment; the message says why (it is logged)."""


@dataclass(frozen=True)
class _Base:
    dtype: str  # numpy type code without byte order
    size: int
    invalid: float  # raw sentinel; NaN for floats (any NaN is invalid)
    is_float: bool = False
    numeric: bool = True


# FIT base types as fitparse reads them (records.BASE_TYPES); unknown ids are read as bytes, as fitparse does.
_BASES: dict[int, _Base] = {
    0x00: _Base("u1", 1, 0xFF),
    0x01: _Base("i1", 1, 0x7F),
    0x02: _Base("u1", 1, 0xFF),
    0x83: _Base("i2", 2, 0x7FFF),
    0x84: _Base("u2", 2, 0xFFFF),
    0x85: _Base("i4", 4, 0x7FFFFFFF),
    0x86: _Base("u4", 4, 0xFFFFFFFF),
    0x88: _Base("f4", 4, math.nan, is_float=True),
    0x89: _Base("f8", 8, math.nan, is_float=True),
    0x0A: _Base("u1", 1, 0),
    0x8B: _Base("u2", 2, 0),
    0x8C: _Base("u4", 4, 0),
    0x8E: _Base("i8", 8, 0x7FFFFFFFFFFFFFFF),
    0x8F: _Base("u8", 8, 0xFFFFFFFFFFFFFFFF),
    0x90: _Base("u8", 8, 0),
}
_BYTES = _Base("u1", 1, 0xFF, numeric=False)
_STRING = _Base("S1", 1, 0, numeric=False)
_BASE_ID_BY_NAME = {bt.name: ident for ident, bt in FITPARSE_BASE_TYPES.items()}


def _base(ident: int) -> _Base:
    if ident == 0x07:
        return _STRING
    return _BASES.get(ident, _BYTES)


# Record fields the pipeline reads: their numbers, and the profile's scale/offset (None: unknown to fitparse,
# scaled like decoders.UNKNOWN_FIELD_SCALES does).
_WANTED = frozenset(num for nums in RECORD_FIELDS.values() for num in nums) | {TIMESTAMP}
_RECORD_PROFILE = MESSAGE_TYPES[RECORD].fields


@dataclass(frozen=True)
class _Scale:
    scale: float | None
    offset: float | None


def _native_scale(num: int) -> _Scale:
    prof = _RECORD_PROFILE.get(num)
    if prof is None:
        unknown = UNKNOWN_FIELD_SCALES.get((RECORD, num))
        return _Scale(unknown, None)
    if getattr(prof.type, "values", None) or prof.subfields:
        raise AssertionError(f"record field {num} is an enum or has subfields; the fast path would differ")
    return _Scale(prof.scale or None, prof.offset or None)


_SCALES = {num: _native_scale(num) for num in _WANTED}


@dataclass(frozen=True)
class _Component:
    target: int
    bits: int
    bit_offset: int
    scale: float | None
    offset: float | None
    accumulate: bool


def _components(num: int) -> tuple[_Component, ...]:
    prof = _RECORD_PROFILE.get(num)
    comps = getattr(prof, "components", None) or ()
    return tuple(
        _Component(c.def_num, c.bits, c.bit_offset, c.scale or None, c.offset or None, bool(c.accumulate))
        for c in comps
        if c.def_num in _WANTED
    )


# Record fields whose components land in a field the pipeline reads (speed -> enhanced_speed, ...), and
# those among them that accumulate (compressed_speed_distance -> distance, FR70-era devices).
_COMPONENTS = {num: comps for num in _RECORD_PROFILE if (comps := _components(num))}
_ACCUMULATING = frozenset(num for num, comps in _COMPONENTS.items() if any(c.accumulate for c in comps))


@dataclass
class _Layout:
    """One distinct definition: message number, byte order, size, fields (num, offset, size, base)."""

    mesg_num: int
    endian: str
    size: int
    fields: list[tuple[int, int, int, _Base]]
    dev: list[tuple[tuple[int, int], int, int]]  # ((dev index, num), offset, size)
    resets: bool = False  # fitparse restarts record accumulators whenever such a definition is read
    dev_epoch: int = 0  # developer descriptions read before this definition (fitparse types fields then)


def _layout(buf: bytes, pos: int, end: int, has_dev: bool) -> _Layout:
    endian = ">" if buf[pos + 2] == 1 else "<"
    mesg_num = struct.unpack_from(endian + "H", buf, pos + 3)[0]
    n = buf[pos + 5]
    fields: list[tuple[int, int, int, _Base]] = []
    offset = 0
    for i in range(pos + 6, pos + 6 + 3 * n, 3):
        num, size, ident = buf[i], buf[i + 1], buf[i + 2]
        base = _base(ident)
        if size % base.size:
            raise Declined(f"field {num} of message {mesg_num} is {size} bytes, not a multiple of its type")
        fields.append((num, offset, size, base))
        offset += size
    dev: list[tuple[tuple[int, int], int, int]] = []
    if has_dev:
        at = pos + 6 + 3 * n
        for i in range(at + 1, at + 1 + 3 * buf[at], 3):
            num, size, index = buf[i], buf[i + 1], buf[i + 2]
            dev.append(((index, num), offset, size))
            offset += size
    resets = mesg_num == RECORD and any(num in _ACCUMULATING for num, *_ in fields)
    return _Layout(mesg_num, endian, offset, fields, dev, resets)


@dataclass
class _Walk:
    side: list[bytes] = field(default_factory=list)  # definitions and non-record messages, in order
    layouts: list[_Layout] = field(default_factory=list)
    rec_pos: list[int] = field(default_factory=list)  # byte offset of each record's content
    rec_layout: list[int] = field(default_factory=list)
    resets: list[int] = field(default_factory=list)  # record counts at which accumulators restart
    dev_marks: list[int] = field(default_factory=list)  # record count before each developer description
    compressed: bool = False


def _walk(buf: bytes, start: int, stop: int, side_only: frozenset[int] | None = None) -> _Walk:
    """One pass over the message headers. `framing` has already checked every message fits and is defined.

    `side_only`: the non-record messages to pass to fitparse (None: all of them)."""
    walk = _Walk()
    interned: dict[bytes, int] = {}
    local: list[int] = [-1] * 16
    layouts = walk.layouts
    rec_pos, rec_layout, side = walk.rec_pos, walk.rec_layout, walk.side
    sizes = [0] * 16
    is_record = [False] * 16
    is_dev = [False] * 16
    dropped = [False] * 16
    run = start  # start of the current stretch of side bytes
    pos = start
    while pos < stop:
        head = buf[pos]
        if head & 0x80:
            n = (head >> 5) & 0x3
            if not is_record[n]:
                raise Declined("a compressed-timestamp header on a message other than a record")
            walk.compressed = True
        elif head & 0x40:
            n = head & 0x0F
            has_dev = bool(head & 0x20)
            end = pos + 6 + 3 * buf[pos + 5]
            if has_dev:
                end += 1 + 3 * buf[end]
            key = bytes(buf[pos + 1 : end])
            if has_dev:
                key += b"d%d" % len(walk.dev_marks)
            ident = interned.get(key)
            if ident is None:
                ident = interned[key] = len(layouts)
                layouts.append(_layout(buf, pos, end, has_dev))
                layouts[ident].dev_epoch = len(walk.dev_marks)
            local[n] = ident
            sizes[n] = layouts[ident].size
            if layouts[ident].resets:
                walk.resets.append(len(rec_pos))
            is_record[n] = layouts[ident].mesg_num == RECORD
            is_dev[n] = layouts[ident].mesg_num in (FIELD_DESCRIPTION, DEVELOPER_DATA_ID)
            dropped[n] = side_only is not None and layouts[ident].mesg_num not in side_only
            pos = end
            continue
        else:
            n = head & 0x0F
        if is_record[n]:
            if pos > run:
                side.append(buf[run:pos])
            rec_pos.append(pos + 1)
            rec_layout.append(local[n])
            pos += 1 + sizes[n]
            run = pos
        elif dropped[n] and not is_dev[n]:
            if pos > run:
                side.append(buf[run:pos])
            pos += 1 + sizes[n]
            run = pos
        else:
            if is_dev[n]:
                walk.dev_marks.append(len(rec_pos))
            pos += 1 + sizes[n]
    if pos > run:
        side.append(buf[run:pos])
    return walk


def _raw_timestamps(buf: bytes, start: int, stop: int) -> list[int | None]:
    """Each record's compressed-header timestamp (None for a normal header), accumulated as fitparse does:
    from the last valid timestamp field of any message, 5 bits at a time."""
    out: list[int | None] = []
    local: list[_Layout | None] = [None] * 16
    acc = 0
    pos = start
    while pos < stop:
        head = buf[pos]
        if head & 0x40 and not head & 0x80:
            has_dev = bool(head & 0x20)
            end = pos + 6 + 3 * buf[pos + 5]
            if has_dev:
                end += 1 + 3 * buf[end]
            local[head & 0x0F] = _layout(buf, pos, end, has_dev)
            pos = end
            continue
        compressed = bool(head & 0x80)
        lay = local[(head >> 5) & 0x3 if compressed else head & 0x0F]
        assert lay is not None  # framing guarantees it
        for num, offset, size, base in lay.fields:
            if num == TIMESTAMP and size == base.size and base.numeric and not base.is_float:
                raw = _read_int(buf, pos + 1 + offset, size, lay.endian, base)
                if raw is not None:
                    acc = raw
        ts: int | None = None
        if compressed:
            offset5 = head & 0x1F
            ts = offset5 + (acc & ~0x1F)
            if offset5 < (acc & 0x1F):
                ts += 0x20
            acc = ts
        if lay.mesg_num == RECORD:
            out.append(ts)
        pos += 1 + lay.size
    return out


def _read_int(buf: bytes, at: int, size: int, endian: str, base: _Base) -> int | None:
    value = int.from_bytes(
        buf[at : at + size], "big" if endian == ">" else "little", signed=base.dtype[0] == "i"
    )
    return None if value == base.invalid else value


# -- columns -----------------------------------------------------------------------------------------


def _view(buf: np.ndarray, lay: _Layout, names: dict[str, tuple[int, Any]]) -> np.dtype[Any]:
    return np.dtype(
        {
            "names": list(names),
            "formats": [fmt for _, fmt in names.values()],
            "offsets": [off for off, _ in names.values()],
            "itemsize": lay.size,
        }
    )


def _scaled(raw: np.ndarray, base: _Base, scale: float | None, offset: float | None) -> np.ndarray:
    """float64 with NaN where fitparse gives None; scale then offset, in fitparse's order."""
    values = raw.astype(np.float64)
    if base.is_float:
        invalid = np.isnan(values)
    else:
        invalid = raw == raw.dtype.type(base.invalid)
    if scale:
        values = values / scale
    if offset:
        values = values - offset
    values[invalid] = np.nan
    return values


# A field's values for a group of records: (value, present). `present` is where fitparse's value is not None:
# a valid number, or an array (a tuple is never None, even when its elements are all invalid, and the
# pipeline then reads its first valid element).
_Values = tuple[np.ndarray, np.ndarray]


def _scalar(value: np.ndarray) -> _Values:
    return value, ~np.isnan(value)


def _fill(current: _Values | None, new: _Values) -> _Values:
    """A component value: taken only where the field has no value yet."""
    if current is None:
        return new
    return np.where(current[1], current[0], new[0]), current[1] | new[1]


def _over(current: _Values | None, new: _Values) -> _Values:
    """A field's own value: wins wherever it is not None."""
    if current is None:
        return new
    return np.where(new[1], new[0], current[0]), current[1] | new[1]


def _first_valid(values: np.ndarray) -> np.ndarray:
    """Per row, the first non-NaN element (NaN if none), as the pipeline reads an array value."""
    valid = ~np.isnan(values)
    first = np.argmax(valid, axis=1)
    out = values[np.arange(values.shape[0]), first]
    out[~valid.any(axis=1)] = np.nan
    return out


@dataclass
class _DevSpec:
    role: str
    base: _Base
    scale: float | None
    offset: float | None


def _component_bits(
    column: np.ndarray, base: _Base, size: int, comp: _Component
) -> tuple[np.ndarray, np.ndarray] | None:
    """(component raw values, invalid mask) as fitparse's ComponentField.render gives them; None when fitparse
    skips the component (its bits lie beyond a byte array)."""
    if base.numeric:
        if base.is_float or size != base.size:
            raise Declined("a record field with components holds a float or an array")
        ints = column.astype(np.uint64)
        invalid = column == column.dtype.type(base.invalid)
    else:
        if comp.bit_offset and comp.bit_offset >= size * 8:
            return None
        if size > 8:
            raise Declined("a record byte array with components is longer than 8 bytes")
        ints = np.zeros(column.shape[0], dtype=np.uint64)
        for i in range(size):  # byte arrays unpack little endian
            ints |= column[:, i].astype(np.uint64) << np.uint64(8 * i)
        invalid = np.all(column == 0xFF, axis=1)
    bits = (ints >> np.uint64(comp.bit_offset)) & np.uint64((1 << comp.bits) - 1)
    return bits, invalid


def _component_value(bits: np.ndarray, invalid: np.ndarray, comp: _Component) -> np.ndarray:
    value = bits.astype(np.float64)
    if comp.scale:
        value = value / comp.scale
    if comp.offset:
        value = value - comp.offset
    value[invalid] = np.nan
    return value


def _group_values(
    raw: np.ndarray,
    lay: _Layout,
    dev_specs: dict[tuple[int, int], _DevSpec],
    accumulated: dict[int, np.ndarray],
    only: frozenset[int] | None = None,
) -> tuple[dict[int, _Values], dict[str, np.ndarray]]:
    """Values of one layout's records, by field number and developer role, in fitparse's field order.

    `accumulated`: this group's values of accumulating components (computed over all records in order)."""
    native: dict[int, _Values] = {}
    for i, (num, _off, size, base) in enumerate(lay.fields):
        comps = _COMPONENTS.get(num, ()) if only is None else ()
        wanted = num in _WANTED if only is None else num in only
        if not comps and not wanted:
            continue
        column = raw[f"f{i}"]
        for comp in comps:  # fitparse puts a field's components before the field itself
            if comp.accumulate:
                value = accumulated[comp.target]
            else:
                found = _component_bits(column, base, size, comp)
                if found is None:
                    continue
                value = _component_value(*found, comp)
            native[comp.target] = _fill(native.get(comp.target), _scalar(value))
        if wanted:
            if not base.numeric:
                raise Declined(f"record field {num} holds a string or bytes")
            if num == TIMESTAMP and (base.is_float or size != base.size):
                raise Declined("a record timestamp stored as a float or an array")
            sc = _SCALES[num]
            value = _scaled(column, base, sc.scale, sc.offset)
            if size == base.size:
                native[num] = _over(native.get(num), _scalar(value))
            else:
                native[num] = _over(native.get(num), (_first_valid(value), np.ones(value.shape[0], bool)))
    roles: dict[str, _Values] = {}
    for j, (key, _off, size) in enumerate(lay.dev):
        spec = dev_specs.get(key)
        if spec is None:
            continue
        if not spec.base.numeric or size != spec.base.size:
            raise Declined(f"developer field {key} holds an array, a string or bytes")
        value = _scaled(raw[f"d{j}"], spec.base, spec.scale, spec.offset)
        roles[spec.role] = _fill(roles.get(spec.role), _scalar(value))
    return native, {role: values for role, (values, _) in roles.items()}


def _accumulate(
    groups: list[tuple[_Layout, np.ndarray, np.ndarray]], count: int, resets: list[int]
) -> dict[int, np.ndarray]:
    """Accumulating components over all records in file order, as fitparse does: the raw value unwraps over
    its bit width, invalid values leave the running value alone, and a record definition holding the field
    restarts it at 0."""
    out: dict[int, np.ndarray] = {}
    for parent in _ACCUMULATING:
        for comp in (c for c in _COMPONENTS[parent] if c.accumulate):
            raw = np.full(count, -1, dtype=np.int64)
            seen = False
            for lay, idx, rows in groups:
                for i, (num, _off, size, base) in enumerate(lay.fields):
                    if num != parent:
                        continue
                    found = _component_bits(rows[f"f{i}"], base, size, comp)
                    if found is None:
                        continue
                    bits, invalid = found
                    if seen and np.any(raw[idx] >= 0):
                        raise Declined(f"record field {parent} appears twice in one definition")
                    raw[idx[~invalid]] = bits[~invalid].astype(np.int64)
                    seen = True
            if not seen:
                continue
            top, mask = 1 << comp.bits, (1 << comp.bits) - 1
            restart = set(resets)
            acc = 0
            values: list[float] = []
            for k, r in enumerate(raw.tolist()):
                if k in restart:
                    acc = 0
                if r < 0:
                    values.append(math.nan)
                    continue
                full = r + (acc & ~mask)
                if r < (acc & mask):
                    full += top
                acc = full
                values.append(float(full))
            value = np.array(values)
            if comp.scale:
                value = value / comp.scale
            if comp.offset:
                value = value - comp.offset
            out[comp.target] = value
    return out


def _gather(
    data: np.ndarray,
    lay: _Layout,
    positions: np.ndarray,
    dev_specs: dict[tuple[int, int], _DevSpec],
    only: frozenset[int] | None = None,
) -> np.ndarray:
    """The fields the pipeline reads, of every record with this layout: one structured-dtype gather."""
    names: dict[str, tuple[int, Any]] = {}
    for i, (num, off, size, base) in enumerate(lay.fields):
        if (num in _WANTED or num in _COMPONENTS) if only is None else num in only:
            if not base.numeric:
                names[f"f{i}"] = (off, (np.dtype(np.uint8), (size,)))
            elif size == base.size:
                names[f"f{i}"] = (off, np.dtype(lay.endian + base.dtype))
            else:
                names[f"f{i}"] = (off, (np.dtype(lay.endian + base.dtype), (size // base.size,)))
    for j, (key, off, size) in enumerate(lay.dev):
        spec = dev_specs.get(key)
        if spec is not None and spec.base.numeric and size == spec.base.size:
            names[f"d{j}"] = (off, np.dtype(lay.endian + spec.base.dtype))
    dtype = _view(data, lay, names)
    count = data.size - lay.size + 1
    # Element i of this view is the layout read at byte i; indexing it copies only the records.
    view = np.ndarray((count,), dtype=dtype, buffer=data, offset=0, strides=(1,))
    return view[positions]


class _SideSink:
    """Passes fitparse's messages on. Before each developer description it has the records written before
    that description decoded (`flush`), so every record is read with the descriptions in force at its place
    in the file, as the reference path does."""

    def __init__(self, inner: SegmentData, marks: list[int], flush: Callable[[int], None]) -> None:
        self.inner = inner
        self.marks = marks
        self.flush = flush
        self.dev_seen = 0
        self.dev_bases: dict[tuple[int, int], list[tuple[int, Any]]] = {}  # key -> [(epoch, base type)]

    def message(self, mesg_num: int, fields: dict[int, Any], dev: dict[tuple[int, int], Any] | None) -> None:
        if mesg_num in (FIELD_DESCRIPTION, DEVELOPER_DATA_ID):
            self.flush(self.marks[self.dev_seen])
            if mesg_num == FIELD_DESCRIPTION:
                key = (fields.get(0), fields.get(1))
                self.dev_bases.setdefault(key, []).append((self.dev_seen, fields.get(2)))  # type: ignore[arg-type]
            self.dev_seen += 1
        self.inner.message(mesg_num, fields, dev)

    def base_at(self, key: tuple[int, int], epoch: int) -> Any:
        """The base type fitparse gave the field in a definition read after `epoch` descriptions."""
        found = None
        for seen, base in self.dev_bases.get(key, ()):
            if seen < epoch:
                found = base
        return found


def _dev_specs(sink: SegmentData, side: _SideSink, epoch: int) -> dict[tuple[int, int], _DevSpec]:
    """Developer fields with a record role: the role and scale in force now (SegmentData resolves them per
    record), the base type in force when the definition was read (fitparse types them then)."""
    specs: dict[tuple[int, int], _DevSpec] = {}
    for key, role in sink.dev_roles.items():
        base_name = side.base_at(key, epoch)
        ident = _BASE_ID_BY_NAME.get(base_name) if isinstance(base_name, str) else base_name
        if not isinstance(ident, int):
            raise Declined(f"developer field {key} has an unknown base type")
        dev = sink.dev_fields[key]
        specs[key] = _DevSpec(role, _base(ident), dev.scale, dev.offset)
    return specs


def _has_accumulating(groups: list[tuple[_Layout, np.ndarray, np.ndarray]]) -> bool:
    return any(num in _ACCUMULATING for lay, _, _ in groups for num, *_ in lay.fields)


class _Records:
    """Decodes the records in batches [done, upto), each with the developer fields in force for it."""

    def __init__(self, walk: _Walk, payload: bytes, sink: SegmentData, only: frozenset[int] | None) -> None:
        self.only = only
        self.walk = walk
        self.sink = sink
        self.side: _SideSink | None = None
        self.count = len(walk.rec_pos)
        self.data = np.frombuffer(payload, dtype=np.uint8)
        self.positions = np.asarray(walk.rec_pos, dtype=np.intp)
        self.layout_of = np.asarray(walk.rec_layout, dtype=np.intp)
        # Columns are allocated when a record holds the field (a 14-h file: 46 k records, 8 bytes each).
        self.native: dict[int, np.ndarray] = {}
        self.present: dict[int, np.ndarray] = {}
        self.roles: dict[str, np.ndarray] = {}
        self.done = 0
        self.batches = 0

    def flush(self, upto: int) -> None:
        if upto <= self.done:
            return
        lo, self.done = self.done, upto
        assert self.side is not None
        layout_of = self.layout_of[lo:upto]
        groups = []
        specs_of: dict[int, dict[tuple[int, int], _DevSpec]] = {}
        for ident in np.unique(layout_of).tolist():
            lay = self.walk.layouts[ident]
            idx = lo + np.nonzero(layout_of == ident)[0]
            dev = lay.dev and self.only is None
            specs = specs_of[ident] = _dev_specs(self.sink, self.side, lay.dev_epoch) if dev else {}
            groups.append((lay, idx, _gather(self.data, lay, self.positions[idx], specs, self.only)))
        accumulated: dict[int, np.ndarray] = {}
        if self.only is None and _has_accumulating(groups):
            if lo or upto < self.count:
                raise Declined("accumulated record components with developer fields described mid-file")
            accumulated = _accumulate(groups, self.count, self.walk.resets)
        for (lay, idx, rows), specs in zip(groups, specs_of.values(), strict=True):
            own = {target: value[idx] for target, value in accumulated.items()}
            values, dev_values = _group_values(rows, lay, specs, own, self.only)
            for num, (column, present) in values.items():
                self._column(self.native, num, np.nan)[idx] = column
                self._column(self.present, num, False)[idx] = present
            for role, column in dev_values.items():
                self._column(self.roles, role, np.nan)[idx] = column

    def _column(self, columns: dict[Any, np.ndarray], key: Any, empty: float | bool) -> np.ndarray:
        column = columns.get(key)
        if column is None:
            column = columns[key] = np.full(self.count, empty)
        return column

    def native_or_missing(self, num: int) -> tuple[np.ndarray, np.ndarray]:
        if num in self.native:
            return self.native[num], self.present[num]
        return np.full(self.count, np.nan), np.zeros(self.count, dtype=bool)


def _side_payload(payload: bytes, header_size: int, body: bytes) -> bytes:
    header = bytearray(payload[:header_size])
    struct.pack_into("<I", header, 4, len(body))
    if header_size >= 14:
        header[12:14] = b"\x00\x00"  # "header CRC not computed"; the decoders run with CRC checks off
    return bytes(header) + body + b"\x00\x00"


def decode_fast(payload: bytes, sink: SegmentData, timestamps_only: bool = False) -> None:
    """Decode one framed segment (see `framing.Segment.payload`) into `sink`, or raise Declined.

    `timestamps_only`: of the records, read only their timestamps (every other channel stays missing), and
    of the other messages only those that place and name the activities (file_id, session, sport, the
    developer descriptions fitparse needs to read definitions): enough for the duplicate check."""
    header_size = payload[0]
    start, stop = header_size, len(payload) - 2
    walk = _walk(payload, start, stop, _PLACING if timestamps_only else None)
    records = _Records(walk, payload, sink, frozenset({TIMESTAMP}) if timestamps_only else None)
    side = records.side = _SideSink(sink, walk.dev_marks, records.flush)
    decode_with_fitparse(_side_payload(payload, header_size, b"".join(walk.side)), side)
    count = records.count
    if not count:
        return
    records.flush(count)
    ts = records.native_or_missing(TIMESTAMP)[0]
    if walk.compressed:
        stamped = _raw_timestamps(payload, start, stop)
        header_ts = np.array([np.nan if v is None else float(v) for v in stamped])
        ts = np.where(np.isnan(ts), header_ts, ts)
    timed = ~np.isnan(ts)
    everything = bool(timed.all())  # usually: no copies then
    columns: dict[str, np.ndarray] = {}
    for name, nums in RECORD_FIELDS.items():  # the first of the field numbers that is not None
        column, present = records.native_or_missing(nums[0])
        for num in nums[1:]:
            other, other_present = records.native_or_missing(num)
            column = np.where(present, column, other)
            present = present | other_present
        columns[name] = column if everything else column[timed]
    for role in DEV_ROLES:
        found = records.roles.get(role)
        role_column = np.full(count, np.nan) if found is None else found
        columns[role] = role_column if everything else role_column[timed]
    sink.add_records(ts if everything else ts[timed], columns, untimed=int(count - timed.sum()))
