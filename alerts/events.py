"""One event, one alert (science.md §10.8). Pure: no I/O, no clock.

The legs of one multisport file, and the sessions of one athlete whose gaps are under 2 h, form one event.
The event is scored as a whole: its total moving time, its summed sweat and sodium, its hardest leg. The bike
and run legs of one triathlon once sent two emails, each with its own volume, and the race was never scored.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

EVENT_GAP = timedelta(hours=2)


@dataclass(frozen=True)
class Span:
    """Where one stored session sits in time (start and end in UTC) and which file it came from."""

    session_id: uuid.UUID
    upload_id: uuid.UUID | None
    start: datetime | None
    end: datetime | None


def as_utc(when: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every time we store is UTC."""
    if when is None:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def span_of(
    session_id: uuid.UUID, upload_id: uuid.UUID | None, start: datetime | None, duration_s: float | None
) -> Span:
    begin = as_utc(start)
    end = begin + timedelta(seconds=duration_s or 0.0) if begin is not None else None
    return Span(session_id, upload_id, begin, end)


def group_events(spans: Sequence[Span], *, gap: timedelta = EVENT_GAP) -> list[list[Span]]:
    """Split sessions into events: a new event starts after a gap of `gap` or more; legs of one file stay
    together whatever their gaps. Sessions without a start time are events of their own."""
    timed = sorted((s for s in spans if s.start is not None), key=lambda s: (s.start, str(s.session_id)))
    groups: list[list[Span]] = []
    latest_end: datetime | None = None
    for span in timed:
        assert span.start is not None and span.end is not None
        same_file = bool(groups) and any(
            span.upload_id is not None and span.upload_id == other.upload_id for other in groups[-1]
        )
        if groups and latest_end is not None and (span.start - latest_end < gap or same_file):
            groups[-1].append(span)
            latest_end = max(latest_end, span.end)
        else:
            groups.append([span])
            latest_end = span.end
    groups += [[s] for s in spans if s.start is None]
    return groups


def event_containing(spans: Sequence[Span], session_id: uuid.UUID) -> list[Span]:
    for group in group_events(spans):
        if any(s.session_id == session_id for s in group):
            return group
    raise ValueError(f"session {session_id} is not among the spans")


# ---------------------------------------------------------------- the event as one result


def _sum(values: Sequence[Any]) -> float | None:
    """Sum of figures that are all known; None when any is unknown (never a partial sum as if complete)."""
    if not values or any(not isinstance(v, int | float) or isinstance(v, bool) for v in values):
        return None
    return float(sum(values))


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _sum_known(values: Sequence[Any]) -> float | None:
    """Sum of the figures that are known (a lower bound when a leg, say a swim, has none); None if none is."""
    known = [v for v in (_num(v) for v in values) if v is not None]
    return float(sum(known)) if known else None


def _section(leg: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    block = leg.get(name)
    return block if isinstance(block, Mapping) else {}


def _intensity(leg: Mapping[str, Any]) -> float:
    power_if = _section(leg, "power").get("if")
    hr_if = _section(leg, "load").get("hr_intensity")
    return max((v for v in (power_if, hr_if) if isinstance(v, int | float)), default=-1.0)


def _fluid(legs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    blocks = [_section(leg, "fluid") for leg in legs]
    # What was lost: the legs that have a figure (never more than the truth). What was drunk, and the deficit
    # built on it: only when every leg knows it, or an unknown intake would pass for "nothing drunk".
    lost = ("sweat_l", "sweat_l_low", "sweat_l_high", "respiratory_l")
    out: dict[str, Any] = {key: _sum_known([b.get(key) for b in blocks]) for key in lost}
    out |= {key: _sum([b.get(key) for b in blocks]) for key in ("intake_l", "deficit_l", "body_mass_pct")}
    minutes = [_num(b.get("uncompensable_minutes")) for b in blocks]
    known = [m for m in minutes if m is not None]
    out["uncompensable_minutes"] = sum(known) if known else None
    out["uncompensable_heat"] = any(b.get("uncompensable_heat") is True for b in blocks)
    out["source"] = "measured" if all(b.get("source") == "measured" for b in blocks) else "model"
    hours = sum(float(leg.get("duration_s") or 0.0) for leg in legs) / 3600.0
    out["rate_l_per_h"] = out["sweat_l"] / hours if out["sweat_l"] is not None and hours > 0 else None
    return out


def _sodium(legs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    blocks = [_section(leg, "sodium") for leg in legs]
    keys = ("mg", "mg_low", "mg_high")
    out: dict[str, Any] = {key: _sum_known([b.get(key) for b in blocks]) for key in keys}
    conc = [c for c in (_num(b.get("concentration_mmol_l")) for b in blocks) if c is not None]
    out["concentration_mmol_l"] = max(conc) if conc else None
    measured = all(b.get("concentration_source") == "measured" for b in blocks)
    out["concentration_source"] = "measured" if measured else blocks[0].get("concentration_source")
    return out


def _ambient(legs: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The hottest leg's conditions (a measured temperature over an assumed one)."""

    def rank(leg: Mapping[str, Any]) -> tuple[bool, float]:
        amb = _section(leg, "ambient")
        temp = amb.get("temp_c")
        return amb.get("temp_measured") is not False and amb.get("source") != "default", (
            float(temp) if isinstance(temp, int | float) else -273.0
        )

    return _section(max(legs, key=rank), "ambient")


def _quality(legs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    blocks = [_section(leg, "data_quality") for leg in legs]
    reasons: list[str] = []
    for b in blocks:
        reasons += [str(r) for r in b.get("reasons") or [] if str(r) not in reasons]
    return {
        "implausible": any(b.get("implausible") is True for b in blocks),
        "ftp_stale": any(b.get("ftp_stale") is True for b in blocks),
        "reasons": reasons,
        "power_spikes_dropped": sum(int(b.get("power_spikes_dropped") or 0) for b in blocks),
    }


def combine(legs: Sequence[Mapping[str, Any]], *, ended_at: datetime | None = None) -> dict[str, Any]:
    """One session JSON for a whole event (its legs in time order), to score and advise on as one.

    A single leg comes back unchanged. For several: moving time, distance, sweat and sodium are summed over
    the legs that have them; intake and deficit only when every leg knows them; intensity is the hardest
    leg's; conditions the hottest leg's.
    """
    if not legs:
        raise ValueError("an event has at least one session")
    if len(legs) == 1:
        return dict(legs[0])
    first, hardest = legs[0], max(legs, key=_intensity)
    sports = {leg.get("sport") for leg in legs}
    moving = _sum([leg.get("moving_time_s", leg.get("duration_s")) for leg in legs])
    start = as_utc(_parse_time(first.get("start_time")))
    span = (ended_at - start).total_seconds() if ended_at is not None and start is not None else None
    assumptions: list[Any] = []
    for leg in legs:
        assumptions += [a for a in leg.get("assumptions") or [] if a not in assumptions]
    return {
        "sport": sports.pop() if len(sports) == 1 else "multisport",
        "sub_sport": None,
        "indoor": first.get("indoor"),
        "start_time": first.get("start_time"),
        "duration_s": span if span is not None else _sum([leg.get("duration_s") for leg in legs]),
        "moving_time_s": moving,
        "distance_m": _sum([leg.get("distance_m") for leg in legs]),
        "partial": any(leg.get("partial") is True for leg in legs),
        "heart_rate": _section(hardest, "heart_rate"),
        "power": {**_section(hardest, "power"), "tss": _sum([_section(x, "power").get("tss") for x in legs])},
        "load": {**_section(hardest, "load"), "hrss": _sum([_section(x, "load").get("hrss") for x in legs])},
        "ambient": _ambient(legs),
        "fluid": _fluid(legs),
        "sodium": _sodium(legs),
        "data_quality": _quality(legs),
        "inputs": first.get("inputs") or {},
        "assumptions": assumptions,
        "missing": [m for leg in legs for m in leg.get("missing") or []],
        "legs": len(legs),
    }


def _parse_time(raw: Any) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
