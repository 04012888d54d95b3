"""The one assessment: analysed result + context → risk → recommendations → alert decision. Pure.

The pipeline (alerts.handover), `sweatsync analyze` and recomputation all call `assess`, so the email, the
session JSON and the CLI never disagree. Nothing here reads a clock: the time of analysis comes in as
`AlertPolicy.now`, and a session is news only if it ended within `window_h` of it (science.md §10.8).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from alerts.recommend import recommend
from alerts.risk import TIERS, RiskContext, score_risk

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


@dataclass(frozen=True)
class Assessment:
    risk: dict[str, Any]
    recommendations: dict[str, Any]
    alert: dict[str, Any]

    @property
    def send(self) -> bool:
        return self.alert["status"] == QUEUED


def _tier_words(tier: str) -> str:
    return "an elevated (high)" if tier == "high" else f"a {tier}"


def alert_decision(*, tier: str, ended_at: datetime | None, policy: AlertPolicy) -> dict[str, Any]:
    """{"status", "send", "reason"}: whether this session (event) gets an "act now" email, and why not."""
    profile = f"This session has {_tier_words(tier)} cramp-risk profile"
    if policy.min_tier not in TIERS or tier not in TIERS:
        raise ValueError(f"tiers are {TIERS}, got {tier!r} / {policy.min_tier!r}")
    if TIERS.index(tier) < TIERS.index(policy.min_tier):
        reason = f"{profile}; you get emails for {policy.min_tier} only, so none was sent."
        if tier == "moderate":
            reason += " " + PREFERENCES_HINT
        return {"status": BELOW_TIER, "send": False, "reason": reason}
    if policy.opted_out:
        return {"status": OPTED_OUT, "send": False, "reason": f"{profile}; you turned alert emails off."}
    if policy.already_alerted:
        reason = f"{profile}; it is part of an event that already had its email, so no second one was sent."
        return {"status": ALREADY_ALERTED, "send": False, "reason": reason}
    window = timedelta(hours=policy.window_h)
    if policy.now is None or ended_at is None or policy.now - ended_at > window:
        when = "an unknown time" if ended_at is None else ended_at.strftime("%Y-%m-%d %H:%M UTC")
        reason = (
            f"{profile}, but it ended at {when}, more than {policy.window_h:g} hours before it was analysed: "
            "advice to act now would come too late, so it is listed here and not emailed."
        )
        return {"status": NOT_DUE, "send": False, "reason": reason}
    return {"status": QUEUED, "send": True, "reason": f"{profile}; an email with advice was sent."}


def assess(
    result: Mapping[str, Any],
    context: RiskContext,
    policy: AlertPolicy,
    *,
    ended_at: datetime | None,
    units: str = "metric",
) -> Assessment:
    """Score, advise and decide on one session JSON, or one event's combined JSON (alerts.events.combine)."""
    risk = score_risk(result, context)
    recommendations = recommend(result, risk, units=units)
    decision = alert_decision(tier=risk["tier"], ended_at=ended_at, policy=policy)
    return Assessment(risk=risk, recommendations=recommendations, alert=decision)
