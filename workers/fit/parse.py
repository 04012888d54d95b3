"""parse_fit: framing, decoding with fallback, building, and the verdict on the upload."""

from __future__ import annotations

import hashlib
import logging

from workers.activity import FitRejected, ParseResult
from workers.fit.build import FILE_KIND_WORDS, FileContext, SegmentResult, build_activities, file_type_name
from workers.fit.collect import SegmentData
from workers.fit.decoders import decode_with_fitdecode, decode_with_fitparse
from workers.fit.fast import DECODER_NAME as FAST_DECODER
from workers.fit.fast import decode_fast
from workers.fit.framing import MAX_SEGMENTS, UNFINISHED, Segment, split_segments

log = logging.getLogger(__name__)

MIN_RECORDS = 10
SHORT_ACTIVITY_S = 60.0


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
    return text if len(text) <= 160 else text[:157] + "..."


def decode_segment(seg: Segment, fast: bool = True) -> SegmentResult:
    """The numpy fast path first; fitparse for what it declines (logged with the reason); fitdecode when
    fitparse cannot read the segment; the better of the two if both fail. `fast=False` is the reference."""
    if fast:
        quick = SegmentData()
        try:
            decode_fast(seg.payload, quick)
        except Exception as exc:  # Declined, or the file's own fault: the reference path decides
            log.info("fast FIT decoder declined segment %d (%s); decoding it with fitparse", seg.index, exc)
        else:
            return SegmentResult(
                seg.index, seg.offset, quick, FAST_DECODER, seg.partial, list(seg.warnings), seg.fault
            )
    primary = SegmentData()
    try:
        decode_with_fitparse(seg.payload, primary)
    except Exception as exc:  # any decoder exception is a fact about the file
        primary_error: Exception = exc
    else:
        return SegmentResult(
            seg.index, seg.offset, primary, "fitparse", seg.partial, list(seg.warnings), seg.fault
        )
    fallback = SegmentData()
    try:
        decode_with_fitdecode(seg.payload, fallback)
    except Exception as exc:
        fallback_error: Exception = exc
    else:
        return SegmentResult(
            seg.index, seg.offset, fallback, "fitdecode", seg.partial, list(seg.warnings), seg.fault
        )
    if primary.messages >= fallback.messages:
        best, name, error = primary, "fitparse", primary_error
    else:
        best, name, error = fallback, "fitdecode", fallback_error
    fault = f"the file is damaged: part of it could not be decoded ({_describe(error)})"
    warnings = [*seg.warnings, f"{fault}; the data before the damage was kept"]
    return SegmentResult(seg.index, seg.offset, best, name, True, warnings, seg.fault or fault)


def _unused_notes(unused: list[SegmentResult]) -> list[str]:
    notes = []
    for seg in unused:
        if not seg.warnings:
            continue  # clean chained non-activity or hr-only files are normal
        reason = seg.fault or seg.warnings[-1]
        notes.append(f"a FIT file chained in the upload (at byte {seg.offset:,}) could not be used: {reason}")
    return notes


def _reject_reason(results: list[SegmentResult], file_warnings: list[str]) -> str:
    if not results:
        if any(str(MAX_SEGMENTS) in w or f"{MAX_SEGMENTS:,}" in w for w in file_warnings):
            return (
                f"the file holds more than {MAX_SEGMENTS:,} chained FIT files and none of the first "
                f"{MAX_SEGMENTS:,} contains any data"
            )
        return "the file holds no data: it contains only empty FIT headers"
    kinds = [file_type_name(r.data) for r in results]
    if "activity" not in kinds:
        other = next((k for k in kinds if k is not None), None)
        if other is not None:
            return f"not an activity file: this is a {FILE_KIND_WORDS.get(other, other)} file"
    records = sum(
        r.data.records + r.data.untimed_records
        for r, k in zip(results, kinds, strict=True)
        if k in (None, "activity")
    )
    if records == 0:
        fault = next((r.fault for r in results if r.fault), None)
        if fault == UNFINISHED:
            return f"{UNFINISHED}, and no records could be recovered from it"
        if fault:
            return f"{fault}; no records could be read"
    return f"too little data to be an activity ({records} records)"


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def parse_fit(data: bytes, fast: bool = True) -> ParseResult:
    """Parse an upload (one FIT file or several chained) into activities, or raise FitRejected.

    `fast=False` decodes with fitparse alone: the reference the fast path is compared against."""
    data = bytes(data)
    segments, file_warnings = _framed(data)
    results = [decode_segment(seg, fast) for seg in segments]
    return _result(results, file_warnings)


def parse_fit_headers(data: bytes) -> ParseResult | None:
    """The activities of an upload placed in time without decoding their records' values: the summary
    messages (file_id, session, sport, events, ...) and each record's timestamp only, so start, duration,
    sport, device and legs come out exactly as `parse_fit` gives them, and every channel is missing.

    For the duplicate check before the full decode. None when that is not certain to agree with
    `parse_fit`: the fast path declines a segment, or the upload would be refused."""
    try:
        segments, file_warnings = _framed(bytes(data), keep=True)
        results = []
        for seg in segments:
            sink = SegmentData()
            decode_fast(seg.payload, sink, timestamps_only=True)
            results.append(
                SegmentResult(
                    seg.index, seg.offset, sink, FAST_DECODER, seg.partial, list(seg.warnings), seg.fault
                )
            )
        return _result(results, file_warnings)
    except Exception:  # declined, refused or damaged: the full decode decides, as it always did
        return None


# The framing of the last upload parse_fit_headers read, for the full decode that usually follows it in the
# same worker process (the duplicate check found something new): the structural pass and the CRC are then paid
# once. One entry, keyed by a digest of the bytes, taken by the first parse_fit of the same bytes.
_FRAMED: dict[bytes, tuple[list[Segment], list[str]]] = {}


def _framed(data: bytes, keep: bool = False) -> tuple[list[Segment], list[str]]:
    key = hashlib.blake2b(data, digest_size=16).digest()
    found = _FRAMED.pop(key, None)
    if found is not None:
        return found
    framed = split_segments(data)
    if keep:
        _FRAMED.clear()
        _FRAMED[key] = framed
    return framed


def _result(results: list[SegmentResult], file_warnings: list[str]) -> ParseResult:
    ctx = FileContext(results, file_warnings)
    activities, unused = build_activities(ctx)
    if not activities:
        raise FitRejected(_reject_reason(results, file_warnings))
    total = sum(int(a.t.size) for a in activities)
    if total < MIN_RECORDS:
        raise FitRejected(f"too little data to be an activity ({total} records)")
    notes = _unused_notes(unused)
    duration = sum(a.duration_s for a in activities)
    if duration < SHORT_ACTIVITY_S:
        notes.append(f"this activity is very short ({duration:.0f} s), so figures computed from it are rough")
    for activity in activities:
        activity.warnings = _dedupe([*activity.warnings, *notes])
    decoders = _dedupe([a.decoder for a in activities])
    return ParseResult(
        activities=activities,
        file_type="activity",
        warnings=_dedupe([w for a in activities for w in a.warnings]),
        decoder="+".join(decoders),
    )


__all__ = ["parse_fit", "parse_fit_headers"]
