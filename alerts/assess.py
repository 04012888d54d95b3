"""The one assessment: analysed result + context → risk → recommendations → alert decision. Pure.

The pipeline (alerts.handover), `sweatsync analyze` and recomputation all call `assess`, so the email, the
session JSON and the CLI never disagree. Nothing here reads a clock: the time of analysis comes in as
`AlertPolicy.now`, and a session is news only if it ended within `window_h` of it (science.md §10.8).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from alerts.events import as_utc, combine
from alerts.recommend import recommend
from alerts.risk import TIERS, RiskContext, score_risk
from core.result import Alert, Recommendations, Risk, SessionResult

# alert.status values, each with the sentence the athlete reads in the session JSON and the CLI.
QUEUED = "queued"
NOT_DUE = "not_due"
BELOW_TIER = "below_tier"
OPTED_OUT = "opted_out"
ALREADY_ALERTED = "already_alerted"

PREFERENCES_HINT = (
    "To get emails for moderate sessions too, choose the moderate tier: PUT /v1/preferences with "
    '{"alert_min_tier": "moderate"}.'
)


@dataclass(frozen=True)
class AlertPolicy:
    """What decides whether an assessed session is emailed. `now` is the time of analysis (UTC, aware)."""

    now: datetime | None = None  # None: never "act now" (the CLI, which sends nothing)
    window_h: float = 24.0
    min_tier: str = "high"
    opted_out: bool = False
    already_alerted: bool = False  # another session of the same event has its email already
    dry_run: bool = False  # `sweatsync analyze`: say what the service would do; nothing is sent


@dataclass(frozen=True)
class Assessment:
    risk: Risk
    recommendations: Recommendations
    alert: Alert

    def as_json(self) -> dict[str, Any]:
        """The session JSON's `risk`, `recommendations` and `alert` parts."""
        return {
            "risk": self.risk.model_dump(mode="json"),
            "recommendations": self.recommendations.model_dump(mode="json"),
            "alert": self.alert.model_dump(mode="json"),
        }

    @property
    def send(self) -> bool:
        return self.alert.send


def _tier_words(tier: str) -> str:
    return "an elevated (high)" if tier == "high" else f"a {tier}"


def alert_decision(*, tier: str, ended_at: datetime | None, policy: AlertPolicy) -> Alert:
    """Whether this session (event) gets an "act now" email, and why not."""
    profile = f"This session has {_tier_words(tier)} cramp-risk profile"
    none_sent = "no email would be sent" if policy.dry_run else "none was sent"
    if policy.min_tier not in TIERS or tier not in TIERS:
        raise ValueError(f"tiers are {TIERS}, got {tier!r} / {policy.min_tier!r}")
    if TIERS.index(tier) < TIERS.index(policy.min_tier):
        reason = f"{profile}; you get emails for {policy.min_tier} only, so {none_sent}."
        if tier == "moderate":
            reason += " " + PREFERENCES_HINT
        return Alert(status=BELOW_TIER, send=False, reason=reason)
    if policy.opted_out:
        return Alert(status=OPTED_OUT, send=False, reason=f"{profile}; you turned alert emails off.")
    if policy.already_alerted:
        reason = f"{profile}; it is part of an event that already had its email, so no second one was sent."
        return Alert(status=ALREADY_ALERTED, send=False, reason=reason)
    window = timedelta(hours=policy.window_h)
    if policy.now is None or ended_at is None or policy.now - ended_at > window:
        when = "an unknown time" if ended_at is None else ended_at.strftime("%Y-%m-%d %H:%M UTC")
        reason = (
            f"{profile}, but it ended at {when}, more than {policy.window_h:g} hours before it was analysed: "
            "advice to act now would come too late, so it is listed here and not emailed."
        )
        return Alert(status=NOT_DUE, send=False, reason=reason)
    sent = "an email with advice was sent"
    if policy.dry_run:
        sent = "the service would email you this advice now"
    return Alert(status=QUEUED, send=not policy.dry_run, reason=f"{profile}; {sent}.")


def assess(
    result: Mapping[str, Any] | SessionResult,
    context: RiskContext,
    policy: AlertPolicy,
    *,
    ended_at: datetime | None = None,
    units: str = "metric",
) -> Assessment:
    """Score, advise and decide on one session result (or its JSON), or an event's (alerts.events.combine)."""
    risk = score_risk(result, context)
    recommendations = recommend(result, risk, units=units)
    assert risk.tier is not None  # score_risk always gives a tier
    decision = alert_decision(tier=risk.tier, ended_at=ended_at, policy=policy)
    return Assessment(risk=risk, recommendations=recommendations, alert=decision)


def _ended_at(leg: SessionResult) -> datetime | None:
    if leg.start_time is None:
        return None
    try:
        start = as_utc(datetime.fromisoformat(leg.start_time.replace("Z", "+00:00")))
    except ValueError:
        return None
    return start + timedelta(seconds=leg.duration_s or 0.0) if start is not None else None


@dataclass(frozen=True)
class EventAssessment:
    assessment: Assessment
    combined: SessionResult  # the event as one result (the one leg itself for a single session)
    ended_at: datetime | None


def assess_event(
    legs: Sequence[Mapping[str, Any] | SessionResult],
    context: RiskContext,
    policy: AlertPolicy,
    *,
    units: str = "metric",
) -> EventAssessment:
    """Assess the legs of one event (in time order) as one: the pipeline's, the CLI's and recompute's call.
    A leg given as stored JSON is read through the result contract once, here."""
    results = [leg if isinstance(leg, SessionResult) else SessionResult.model_validate(leg) for leg in legs]
    ends = [end for end in (_ended_at(leg) for leg in results) if end is not None]
    ended_at = max(ends) if ends else None
    combined = combine(results, ended_at=ended_at)
    result = assess(combined, context, policy, ended_at=ended_at, units=units)
    return EventAssessment(result, combined, ended_at)
