"""The two decoders, reduced to one neutral message stream.

Each adapter turns a decoded data message into `sink.message(mesg_num, fields, dev)`:

* `fields`: {field number: value}. Values are scaled (FIT profile scale/offset applied) but not converted:
  timestamps stay seconds since 1989-12-31 UTC, enums are the decoder's name for the value (or the raw int
  when its profile does not know it). Fields the decoder's profile does not know (fitparse 1.2.0 has no
  record.core_temperature 139 or time_in_zone 216) are scaled here from `UNKNOWN_FIELD_SCALES`, so both
  decoders give the same numbers.
* `dev`: {(developer_data_index, field number): value} or None; the sink resolves them through the file's
  developer_data_id and field_description messages, namespaced by application id.

fitparse runs with `check_crc=False` and a data processor that does nothing (the documented ~1.8x; the
segment CRC is checked once in `framing`). fitparse keeps a global registry of developer fields (`DEV_TYPES`)
shared by every file it parses, so it is cleared before each segment under a lock; and it caches every
decoded message for the life of the FitFile (upstream issue #59, ~190 MB for a 3 MB file), so the adapter
empties that cache as it goes. fitdecode is the fallback, streaming, with its CRC check and processors off
and errors ignored (a field whose size is not a multiple of its type is read as bytes, as the COROS PACE 2
file needs).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any, Protocol

import fitdecode
import fitparse
import fitparse.records as fitparse_records
from fitdecode.types import DevFieldDefinition as FitdecodeDevFieldDefinition

# (mesg_num, field_num) -> scale, for fields one of the decoders may not know (none of them has an offset).
UNKNOWN_FIELD_SCALES: dict[tuple[int, int], float] = {
    (20, 108): 100.0,  # record.enhanced_respiration_rate
    (20, 139): 100.0,  # record.core_temperature
    (18, 208): 100.0,  # session.avg_core_temperature
    (18, 209): 100.0,  # session.min_core_temperature
    (18, 210): 100.0,  # session.max_core_temperature
}


class Sink(Protocol):
    def message(
        self, mesg_num: int, fields: dict[int, Any], dev: dict[tuple[int, int], Any] | None
    ) -> None: ...


class _RawValues(fitparse.FitFileDataProcessor):
    """Skips fitparse's per-field processor dispatch (about a quarter of its time)."""

    def run_type_processor(self, field_data: Any) -> None:
        pass

    def run_field_processor(self, field_data: Any) -> None:
        pass

    def run_unit_processor(self, field_data: Any) -> None:
        pass

    def run_message_processor(self, data_message: Any) -> None:
        pass


_RAW = _RawValues()
_FITPARSE_LOCK = threading.Lock()
_FitparseDevFieldDefinition = fitparse_records.DevFieldDefinition


def _scale_unknown(mesg_num: int, field_num: int, value: Any) -> Any:
    scale = UNKNOWN_FIELD_SCALES.get((mesg_num, field_num))
    if scale is None or value is None:
        return value
    if isinstance(value, tuple):
        return tuple(None if v is None else v / scale for v in value)
    if isinstance(value, int | float):
        return value / scale
    return value


def _collect_fields(
    mesg_num: int, field_data: Iterable[Any], dev_def: type[Any]
) -> tuple[dict[int, Any], dict[tuple[int, int], Any] | None]:
    """Native fields by number and developer fields by (developer index, number), from either decoder.

    fitparse and fitdecode expose the same shape here: `field_def` (None for expanded components and
    compressed-timestamp headers), `field` (None for fields the profile does not know) and `value`.
    """
    fields: dict[int, Any] = {}
    dev: dict[tuple[int, int], Any] | None = None
    for fd in field_data:
        fdef = fd.field_def
        if fdef is None:  # component expansion or compressed-timestamp header
            num = fd.field.def_num
            if fields.get(num) is None:
                fields[num] = fd.value
            continue
        if isinstance(fdef, dev_def):
            if dev is None:
                dev = {}
            dev[(fdef.dev_data_index, fdef.def_num)] = fd.value
            continue
        num = fdef.def_num
        value = fd.value
        if fd.field is None:
            value = _scale_unknown(mesg_num, num, value)
        if value is not None or num not in fields:
            fields[num] = value
    return fields, dev


def decode_with_fitparse(payload: bytes, sink: Sink) -> None:
    """Feed every data message of one FIT segment to `sink`. Any exception is the file's, not ours."""
    with _FITPARSE_LOCK:
        fitparse_records.DEV_TYPES.clear()
        try:
            fit = fitparse.FitFile(payload, check_crc=False, data_processor=_RAW)
            cache = getattr(fit, "_messages", None)
            dev_def = _FitparseDevFieldDefinition
            emit = sink.message
            for msg in fit.get_messages():
                if isinstance(cache, list):
                    cache.clear()
                mesg_num = msg.def_mesg.mesg_num
                emit(mesg_num, *_collect_fields(mesg_num, msg.fields, dev_def))
        finally:
            fitparse_records.DEV_TYPES.clear()


def decode_with_fitdecode(payload: bytes, sink: Sink) -> None:
    """Same contract as decode_with_fitparse, with fitdecode."""
    data_message = fitdecode.FitDataMessage
    dev_def = FitdecodeDevFieldDefinition
    emit = sink.message
    with fitdecode.FitReader(
        payload,
        processor=None,
        check_crc=fitdecode.CrcCheck.DISABLED,
        error_handling=fitdecode.ErrorHandling.IGNORE,
    ) as reader:
        for frame in reader:
            if not isinstance(frame, data_message):
                continue
            mesg_num = frame.global_mesg_num
            emit(mesg_num, *_collect_fields(mesg_num, frame.fields, dev_def))
