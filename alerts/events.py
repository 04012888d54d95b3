"""One event, one alert (science.md §10.8). Pure: no I/O, no clock.

The legs of one multisport file, and the sessions of one athlete whose gaps are under 2 h, form one event.
The event is scored as a whole: its total moving time, its summed sweat and sodium, its hardest leg. The bike
and run legs of one triathlon once sent two emails, each with its own volume, and the race was never scored.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from core.result import Ambient, Assumption, DataQuality, Fluid, SessionResult, Sodium

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


def _sum(values: Sequence[float | None]) -> float | None:
    """Sum of figures that are all known; None when any is unknown (never a partial sum as if complete)."""
    if not values or any(v is None for v in values):
        return None
    return float(sum(v for v in values if v is not None))


def _sum_known(values: Sequence[float | None]) -> float | None:
    """Sum of the figures that are known (a lower bound when a leg, say a swim, has none); None if none is."""
    known = [v for v in values if v is not None]
    return float(sum(known)) if known else None


def _intensity(leg: SessionResult) -> float:
    return max((v for v in (leg.power.if_, leg.load.hr_intensity) if v is not None), default=-1.0)


def _fluid(legs: Sequence[SessionResult]) -> Fluid:
    blocks = [leg.fluid for leg in legs]
    # What was lost: the legs that have a figure (never more than the truth). What was drunk, and the deficit
    # built on it: only when every leg knows it, or an unknown intake would pass for "nothing drunk".
    lost = ("sweat_l", "sweat_l_low", "sweat_l_high", "respiratory_l")
    out: dict[str, Any] = {key: _sum_known([getattr(b, key) for b in blocks]) for key in lost}
    drunk = ("intake_l", "deficit_l", "body_mass_pct")
    out |= {key: _sum([getattr(b, key) for b in blocks]) for key in drunk}
    known = [b.uncompensable_minutes for b in blocks if b.uncompensable_minutes is not None]
    out["uncompensable_minutes"] = sum(known) if known else None
    out["uncompensable_heat"] = any(b.uncompensable_heat is True for b in blocks)
    out["source"] = "measured" if all(b.source == "measured" for b in blocks) else "model"
    hours = sum(leg.duration_s or 0.0 for leg in legs) / 3600.0
    out["rate_l_per_h"] = out["sweat_l"] / hours if out["sweat_l"] is not None and hours > 0 else None
    return Fluid(**out)


def _sodium(legs: Sequence[SessionResult]) -> Sodium:
    blocks = [leg.sodium for leg in legs]
    conc = [b.concentration_mmol_l for b in blocks if b.concentration_mmol_l is not None]
    measured = all(b.concentration_source == "measured" for b in blocks)
    return Sodium(
        mg=_sum_known([b.mg for b in blocks]),
        mg_low=_sum_known([b.mg_low for b in blocks]),
        mg_high=_sum_known([b.mg_high for b in blocks]),
        concentration_mmol_l=max(conc) if conc else None,
        concentration_source="measured" if measured else blocks[0].concentration_source,
    )


def _ambient(legs: Sequence[SessionResult]) -> Ambient:
    """The hottest leg's conditions (a measured temperature over an assumed one)."""

    def rank(leg: SessionResult) -> tuple[bool, float]:
        amb = leg.ambient
        measured = amb.temp_measured is not False and amb.source != "default"
        return measured, amb.temp_c if amb.temp_c is not None else -273.0

    return max(legs, key=rank).ambient


def _quality(legs: Sequence[SessionResult]) -> DataQuality:
    blocks = [leg.data_quality for leg in legs]
    reasons: list[str] = []
    for b in blocks:
        reasons += [r for r in b.reasons if r not in reasons]
    return DataQuality(
        implausible=any(b.implausible for b in blocks),
        ftp_stale=any(b.ftp_stale for b in blocks),
        hr_flat=any(b.hr_flat for b in blocks),
        reasons=reasons,
        power_spikes_dropped=sum(b.power_spikes_dropped for b in blocks),
    )


def _moving_time_s(leg: SessionResult) -> float | None:
    # A leg whose JSON has no moving time at all counts its duration; a null one stays unknown.
    return leg.moving_time_s if "moving_time_s" in leg.model_fields_set else leg.duration_s


def combine(legs: Sequence[SessionResult], *, ended_at: datetime | None = None) -> SessionResult:
    """One result for a whole event (its legs in time order), to score and advise on as one.

    A single leg comes back unchanged. For several: moving time, distance, sweat and sodium are summed over
    the legs that have them; intake and deficit only when every leg knows them; intensity is the hardest
    leg's; conditions the hottest leg's.
    """
    if not legs:
        raise ValueError("an event has at least one session")
    if len(legs) == 1:
        return legs[0]
    first, hardest = legs[0], max(legs, key=_intensity)
    sports = {leg.sport for leg in legs}
    start = as_utc(_parse_time(first.start_time))
    span = (ended_at - start).total_seconds() if ended_at is not None and start is not None else None
    assumptions: list[Assumption] = []
    for leg in legs:
        assumptions += [a for a in leg.assumptions if a not in assumptions]
    event = SessionResult(
        sport=sports.pop() if len(sports) == 1 else "multisport",
        sub_sport=None,
        indoor=first.indoor,
        start_time=first.start_time,
        duration_s=span if span is not None else _sum([leg.duration_s for leg in legs]),
        moving_time_s=_sum([_moving_time_s(leg) for leg in legs]),
        distance_m=_sum([leg.distance_m for leg in legs]),
        partial=any(leg.partial for leg in legs),
        heart_rate=hardest.heart_rate,
        power=hardest.power.model_copy(update={"tss": _sum([leg.power.tss for leg in legs])}),
        load=hardest.load.model_copy(update={"hrss": _sum([leg.load.hrss for leg in legs])}),
        ambient=_ambient(legs),
        fluid=_fluid(legs),
        sodium=_sodium(legs),
        data_quality=_quality(legs),
        inputs=first.inputs,
        assumptions=assumptions,
        missing=[m for leg in legs for m in leg.missing],
    )
    return event.model_copy(update={"legs": len(legs)})  # an extra field: how many sessions it stands for


def _parse_time(raw: Any) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
