"""Transparent cramp-risk score (science.md §4.2). Pure: no I/O, no clock.

The score is a heuristic that weights each factor by the strength of its evidence; it is not a validated
clinical model. Its output is described as "risk factors present" / "an elevated risk profile", never as a
diagnosis or a prediction.

Thresholds are inclusive (≥) and are applied to each figure at the precision the athlete reads it in the
email: intensity to 2 decimals, % body mass to 1 decimal, sodium to the milligram, duration in seconds
(shown as whole minutes, rounded down). So the email never prints "0.85" next to a 1-point tempo band.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from alerts import fmt
from alerts.view import AdviceFacts, advice_facts
from core.result import Risk, RiskReason, SessionResult

FACTORS = ("history", "intensity", "duration", "novelty", "fluid", "sodium")
TIERS = ("low", "moderate", "high")
MAX_SCORE = 3 + 2 + 2 + 1 + 1 + 2

CRAMP_HISTORY = ("none", "ever", "recent")

INTENSITY_MIN_DURATION_S = 30 * 60
INTENSITY_HIGH = 0.85
INTENSITY_MODERATE = 0.75
DURATION_LONG_S = 240 * 60
DURATION_MEDIUM_S = 120 * 60
NOVELTY_FACTOR = 1.25
FLUID_BM_PCT = 2.0
SODIUM_HIGH_MG = 5000
SODIUM_MEDIUM_MG = 3000
SALTY_SWEAT_MMOL_L = 60.0
SODIUM_CAP = 2
TIER_MODERATE_MIN = 3
TIER_HIGH_MIN = 5


@dataclass(frozen=True)
class RiskContext:
    """What the score needs beyond the session itself (the caller reads it from the database).

    - cramp_history: "recent" = cramped in at least 1 of the last 10 comparable sessions or races;
      "ever" = cramped before, not recently; "none".
    - previous_28d: (duration_s, load) of the athlete's sessions in the 28 days before this one, where
      load is `session_load(...)` of that session (power TSS, else HRSS) or None. Build the entries with
      `history_entry(session_json)` so this session and its history use the same rule.
    - sodium_24h_mg: sodium lost in the athlete's OTHER sessions of the rolling 24 h before this one.
    - measured_sweat_sodium_mmol_l: from a sweat test (profile), or None. Never the 40 mmol/L default.
    """

    cramp_history: str = "none"
    previous_28d: Sequence[tuple[float | None, float | None]] = field(default_factory=tuple)
    sodium_24h_mg: float = 0.0
    measured_sweat_sodium_mmol_l: float | None = None

    def __post_init__(self) -> None:
        if self.cramp_history not in CRAMP_HISTORY:
            raise ValueError(f"cramp_history must be one of {CRAMP_HISTORY}, got {self.cramp_history!r}")


def session_load(session: Mapping[str, Any] | SessionResult) -> float | None:
    """Training load used for novelty: power TSS if present, else the heart-rate equivalent HRSS."""
    return _load(advice_facts(session))


def _load(facts: AdviceFacts) -> float | None:
    return facts.power_tss if facts.power_tss is not None else facts.hrss


def history_entry(session: Mapping[str, Any] | SessionResult) -> tuple[float | None, float | None]:
    """One `RiskContext.previous_28d` entry for a stored session JSON (moving time, like the score)."""
    return advice_facts(session).scored_duration_s, session_load(session)


def tier_for(score: int) -> str:
    if score >= TIER_HIGH_MIN:
        return "high"
    if score >= TIER_MODERATE_MIN:
        return "moderate"
    return "low"


def should_alert(*, tier: str, min_tier: str = "high", opted_out: bool = False) -> bool:
    """True when the user wants an email for this tier (User.alert_min_tier, User.alerts_opt_out)."""
    if tier not in TIERS or min_tier not in TIERS:
        raise ValueError(f"tiers are {TIERS}, got {tier!r} / {min_tier!r}")
    return not opted_out and TIERS.index(tier) >= TIERS.index(min_tier)


def _history(ctx: RiskContext) -> tuple[int, str | None]:
    if ctx.cramp_history == "recent":
        return 3, "You cramped in a recent race or hard session (+3): the strongest known predictor."
    if ctx.cramp_history == "ever":
        return 1, (
            "You have cramped during exercise before, though not recently (+1): "
            "a history of cramps raises the odds."
        )
    return 0, None


def _intensity(facts: AdviceFacts, duration_s: float | None) -> tuple[int, str | None]:
    if duration_s is None or duration_s < INTENSITY_MIN_DURATION_S:
        return 0, None  # short efforts: intensity is not scored (§4.2)
    # A stale FTP (science.md §10.6) makes the power IF meaningless: heart rate is scored instead, unless the
    # heart rate was flat for over an hour (a sensor not reading a heart).
    value = None if facts.ftp_stale else facts.power_if
    source = "power"
    if value is None:
        value = None if facts.hr_flat else facts.hr_intensity
        source = "heart rate"
    if value is None:
        return 0, None
    shown = round(value, 2)
    why = "racing or working harder than usual was one of the two predictors in the only prospective study."
    if shown >= INTENSITY_HIGH:
        return 2, (
            f"A hard effort: intensity {shown:.2f} of your threshold, from {source} "
            f"(0.85 or more is threshold or race effort) (+2): {why}"
        )
    if shown >= INTENSITY_MODERATE:
        return 1, (
            f"A moderately hard effort: intensity {shown:.2f} of your threshold, from {source} "
            f"(0.75 to 0.85 is tempo effort) (+1): {why}"
        )
    return 0, None


def _duration(duration_s: float | None, *, moving: bool) -> tuple[int, str | None]:
    if duration_s is None:
        return 0, None
    kind = " moving" if moving else ""
    why = "cramps cluster late in long sessions, as muscles tire."
    if duration_s >= DURATION_LONG_S:
        return 2, f"A long session: {fmt.duration(duration_s)}{kind} (4 h or more) (+2): {why}"
    if duration_s >= DURATION_MEDIUM_S:
        return 1, f"A long session: {fmt.duration(duration_s)}{kind} (2 h or more) (+1): {why}"
    return 0, None


def _novelty(facts: AdviceFacts, duration_s: float | None, ctx: RiskContext) -> tuple[int, str | None]:
    if not ctx.previous_28d:
        return 0, None  # no history: nothing to be novel against
    why = "sessions more strenuous than anticipated are linked to cramps."
    prev_durations = [d for d, _ in ctx.previous_28d if d is not None and d > 0]
    if duration_s is not None and prev_durations:
        longest = max(prev_durations)
        if duration_s > NOVELTY_FACTOR * longest:
            return 1, (
                f"Longer than anything in your previous 28 days: {fmt.duration(duration_s)} "
                f"against your longest of {fmt.duration(longest)} (+1): {why}"
            )
    load = _load(facts)
    prev_loads = [x for _, x in ctx.previous_28d if x is not None and x > 0]
    if load is not None and prev_loads:
        highest = max(prev_loads)
        if load > NOVELTY_FACTOR * highest:
            return 1, (
                f"Harder than anything in your previous 28 days: training load {load:.0f} "
                f"against your highest of {highest:.0f} (+1): {why}"
            )
    return 0, None


def _fluid(facts: AdviceFacts) -> tuple[int, str | None]:
    if not facts.intake_known:
        return 0, None  # without a logged intake or a weigh-in the "deficit" is only the sweat loss (§10.7)
    pct = facts.body_mass_pct
    if pct is None or round(pct, 1) < FLUID_BM_PCT:
        return 0, None
    return 1, (
        f"An estimated fluid loss of {fmt.percent(pct)} of body mass (2% or more) (+1): "
        "the evidence linking dehydration to cramps is conflicting, so this counts for little."
    )


def _sodium(facts: AdviceFacts, ctx: RiskContext) -> tuple[int, str | None]:
    this = facts.sodium_mg or 0.0
    total = round(max(0.0, ctx.sodium_24h_mg) + max(0.0, this))
    points = 2 if total >= SODIUM_HIGH_MG else 1 if total >= SODIUM_MEDIUM_MG else 0
    parts = []
    if points:
        band = "5,000 mg or more" if points == 2 else "3,000 mg or more"
        parts.append(
            f"an estimated sodium loss of {fmt.mg(total)} over the last 24 hours, "
            f"this session included ({band})"
        )
    measured = ctx.measured_sweat_sodium_mmol_l
    if measured is not None and measured >= SALTY_SWEAT_MMOL_L:
        points += 1
        parts.append(f"a measured sweat sodium of {measured:.0f} mmol/L (60 or more: a salty sweater)")
    points = min(points, SODIUM_CAP)
    if not points:
        return 0, None
    text = " and ".join(parts)
    return points, (
        f"{text[0].upper()}{text[1:]} (+{points}): large salt losses have been linked to cramps "
        "in small studies; the evidence is weak."
    )


def score_risk(session: Mapping[str, Any] | SessionResult, ctx: RiskContext) -> Risk:
    """Score one session result (or its JSON, docs/session-json.md) per science.md §4.2.

    `factors` holds every factor's points; `reasons` one reason per factor that scored, in FACTORS order.
    """
    facts = advice_facts(session)
    duration_s = facts.scored_duration_s  # moving time (§10.7)
    results = {
        "history": _history(ctx),
        "intensity": _intensity(facts, duration_s),
        "duration": _duration(duration_s, moving=facts.moving_time_s is not None),
        "novelty": _novelty(facts, duration_s, ctx),
        "fluid": _fluid(facts),
        "sodium": _sodium(facts, ctx),
    }
    factors = {name: results[name][0] for name in FACTORS}
    reasons = [
        RiskReason(factor=name, points=points, reason=reason)
        for name in FACTORS
        for points, reason in [results[name]]
        if points and reason
    ]
    score = sum(factors.values())
    return Risk(score=score, tier=tier_for(score), factors=factors, reasons=reasons)
