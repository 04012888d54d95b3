"""Cramp-risk score, science.md §4.2: every rule and boundary, the tiers, and the safety properties."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from alerts.risk import FACTORS, MAX_SCORE, RiskContext, history_entry, score_risk, session_load, should_alert
from core.result import RiskReason

NO_RISK: dict[str, Any] = {"duration_s": 3600.0}  # one hour, nothing else known


def factor(session: dict[str, Any], name: str, ctx: RiskContext | None = None) -> int:
    return score_risk(session, ctx or RiskContext()).factors[name]


# ---------------------------------------------------------------- history


@pytest.mark.parametrize(("history", "points"), [("none", 0), ("ever", 1), ("recent", 3)])
def test_it_scores_cramp_history_three_for_recent_and_one_for_ever(history: str, points: int) -> None:
    assert factor(NO_RISK, "history", RiskContext(cramp_history=history)) == points


def test_it_refuses_an_unknown_cramp_history_value() -> None:
    with pytest.raises(ValueError):
        RiskContext(cramp_history="sometimes")


# ---------------------------------------------------------------- intensity


@pytest.mark.parametrize(
    ("intensity", "points"),
    [(0.74, 0), (0.7449, 0), (0.75, 1), (0.80, 1), (0.8449, 1), (0.85, 2), (0.95, 2), (1.10, 2)],
)
def test_it_scores_intensity_at_the_inclusive_bands(intensity: float, points: int) -> None:
    assert factor({"duration_s": 3600.0, "power": {"if": intensity}}, "intensity") == points


def test_it_applies_intensity_bands_to_the_value_shown_at_two_decimals() -> None:
    # 0.846 is printed as "0.85" in the reason, so it scores as 0.85: the email never contradicts itself.
    result = score_risk({"duration_s": 3600.0, "power": {"if": 0.846}}, RiskContext())
    assert result.factors["intensity"] == 2
    assert "0.85" in result.reasons[0].reason


@pytest.mark.parametrize(("duration_s", "points"), [(1799.0, 0), (1800.0, 2), (600.0, 0)])
def test_it_scores_intensity_only_for_sessions_of_thirty_minutes_or_more(
    duration_s: float, points: int
) -> None:
    assert factor({"duration_s": duration_s, "power": {"if": 0.95}}, "intensity") == points


def test_it_prefers_power_intensity_over_heart_rate_intensity() -> None:
    session = {"duration_s": 3600.0, "power": {"if": 0.70}, "load": {"hr_intensity": 0.90}}
    assert factor(session, "intensity") == 0


def test_it_falls_back_to_heart_rate_intensity_without_power() -> None:
    session = {"duration_s": 3600.0, "power": {"if": None}, "load": {"hr_intensity": 0.90}}
    result = score_risk(session, RiskContext())
    assert result.factors["intensity"] == 2
    assert "from heart rate" in result.reasons[0].reason


def test_it_scores_no_intensity_when_neither_power_nor_heart_rate_is_known() -> None:
    assert factor({"duration_s": 3600.0, "power": None, "load": {}}, "intensity") == 0


# ---------------------------------------------------------------- duration


@pytest.mark.parametrize(
    ("duration_s", "points"),
    [(7199.0, 0), (7200.0, 1), (14399.0, 1), (14400.0, 2), (30000.0, 2), (None, 0)],
)
def test_it_scores_duration_one_from_two_hours_and_two_from_four_hours(
    duration_s: float | None, points: int
) -> None:
    assert factor({"duration_s": duration_s}, "duration") == points


def test_it_shows_a_duration_just_under_four_hours_as_three_hours_fifty_nine() -> None:
    reason = score_risk({"duration_s": 14399.0}, RiskContext()).reasons[0].reason
    assert "3 h 59 min (2 h or more) (+1)" in reason


# ---------------------------------------------------------------- novelty


def test_it_scores_no_novelty_without_any_history_however_long_the_session() -> None:
    assert (
        factor({"duration_s": 50000.0, "power": {"tss": 900}}, "novelty", RiskContext(previous_28d=[])) == 0
    )


@pytest.mark.parametrize(("duration_s", "points"), [(12500.0, 0), (12500.01, 1), (9000.0, 0)])
def test_it_scores_novelty_when_the_session_is_more_than_a_quarter_longer_than_the_longest(
    duration_s: float, points: int
) -> None:
    ctx = RiskContext(previous_28d=[(10000.0, None), (6000.0, None)])
    assert factor({"duration_s": duration_s}, "novelty", ctx) == points


@pytest.mark.parametrize(("tss", "points"), [(250.0, 0), (250.5, 1)])
def test_it_scores_novelty_when_the_training_load_is_more_than_a_quarter_above_the_highest(
    tss: float, points: int
) -> None:
    ctx = RiskContext(previous_28d=[(10000.0, 200.0), (9000.0, None)])
    session = {"duration_s": 8000.0, "power": {"tss": tss}}
    assert factor(session, "novelty", ctx) == points


def test_it_uses_hrss_as_the_training_load_when_there_is_no_power() -> None:
    session = {"duration_s": 8000.0, "power": None, "load": {"hrss": 300.0}}
    assert session_load(session) == 300.0
    assert factor(session, "novelty", RiskContext(previous_28d=[(10000.0, 200.0)])) == 1


def test_it_ignores_history_entries_without_a_usable_figure() -> None:
    ctx = RiskContext(previous_28d=[(None, None), (0.0, 0.0)])
    assert factor({"duration_s": 8000.0, "power": {"tss": 300.0}}, "novelty", ctx) == 0


def test_it_builds_history_entries_with_the_same_load_rule_as_the_score() -> None:
    assert history_entry({"duration_s": 3600, "power": {"tss": 80}, "load": {"hrss": 95}}) == (3600.0, 80.0)
    assert history_entry({"duration_s": 3600, "load": {"hrss": 95}}) == (3600.0, 95.0)
    assert history_entry({}) == (None, None)


# ---------------------------------------------------------------- fluid


@pytest.mark.parametrize(("pct", "points"), [(1.9, 0), (1.94, 0), (2.0, 1), (3.5, 1), (-0.4, 0), (None, 0)])
def test_it_scores_one_point_for_an_estimated_fluid_loss_of_two_percent_of_body_mass(
    pct: float | None, points: int
) -> None:
    assert factor({"duration_s": 3600.0, "fluid": {"intake_l": 0.5, "body_mass_pct": pct}}, "fluid") == points


def test_it_scores_no_fluid_point_when_intake_is_unknown_and_nobody_weighed_in() -> None:
    # Without a logged intake the "deficit" is the whole sweat loss: no evidence of dehydration (§10.7).
    session = {"duration_s": 3600.0, "fluid": {"intake_l": None, "body_mass_pct": 4.0, "source": "model"}}
    assert factor(session, "fluid") == 0


def test_it_scores_the_fluid_point_from_a_weigh_in_even_without_a_logged_intake() -> None:
    session = {"duration_s": 3600.0, "fluid": {"intake_l": None, "body_mass_pct": 2.4, "source": "measured"}}
    assert factor(session, "fluid") == 1


# ---------------------------------------------------------------- moving time and data quality


def test_it_counts_moving_time_not_elapsed_time_for_duration_points() -> None:
    # Five hours on the clock, of which 1 h 50 min moving (a long café stop): no duration point.
    assert factor({"duration_s": 18000.0, "moving_time_s": 6600.0}, "duration") == 0
    reason = score_risk({"duration_s": 20000.0, "moving_time_s": 14500.0}, RiskContext()).reasons[0]
    assert "4 h 01 min moving (4 h or more) (+2)" in reason.reason


def test_it_scores_no_intensity_from_power_when_the_ftp_looks_stale() -> None:
    stale = {"implausible": False, "ftp_stale": True, "reasons": ["IF above 1.15 for over an hour"]}
    session = {"duration_s": 7200.0, "power": {"if": 1.3}, "data_quality": stale}
    assert factor(session, "intensity") == 0
    with_hr = {**session, "load": {"hr_intensity": 0.8}}
    assert factor(with_hr, "intensity") == 1  # heart rate is still a fair measure of effort
    assert "from heart rate" in score_risk(with_hr, RiskContext()).reasons[0].reason


def test_it_scores_no_intensity_from_a_heart_rate_that_stayed_flat_for_over_an_hour() -> None:
    flat = {"implausible": True, "hr_flat": True, "reasons": ["heart rate flat for 27.8 h"]}
    session = {"duration_s": 7200.0, "load": {"hr_intensity": 1.18}, "data_quality": flat}
    assert factor(session, "intensity") == 0
    with_power = {**session, "power": {"if": 0.9}}
    assert factor(with_power, "intensity") == 2  # the power meter still measured the effort
    assert "from power" in score_risk(with_power, RiskContext()).reasons[0].reason


# ---------------------------------------------------------------- sodium


@pytest.mark.parametrize(
    ("earlier_mg", "this_mg", "points"),
    [
        (0.0, 2999.0, 0),
        (0.0, 3000.0, 1),
        (2000.0, 1000.0, 1),  # the rolling 24 h includes this session
        (2000.0, 2999.0, 1),
        (2000.0, 3000.0, 2),
        (0.0, 5000.0, 2),
        (4000.0, None, 1),  # this session's sodium unknown: the earlier ones still count
    ],
)
def test_it_scores_sodium_over_the_rolling_24_hours_including_this_session(
    earlier_mg: float, this_mg: float | None, points: int
) -> None:
    ctx = RiskContext(sodium_24h_mg=earlier_mg)
    assert factor({"duration_s": 3600.0, "sodium": {"mg": this_mg}}, "sodium", ctx) == points


@pytest.mark.parametrize(
    ("loss_mg", "measured", "points"),
    [(0.0, 59.9, 0), (0.0, 60.0, 1), (3500.0, 60.0, 2), (6000.0, 75.0, 2), (6000.0, None, 2)],
)
def test_it_adds_one_for_a_measured_salty_sweat_and_caps_sodium_at_two(
    loss_mg: float, measured: float | None, points: int
) -> None:
    ctx = RiskContext(measured_sweat_sodium_mmol_l=measured)
    assert factor({"duration_s": 3600.0, "sodium": {"mg": loss_mg}}, "sodium", ctx) == points


# ---------------------------------------------------------------- tiers and output shape


@pytest.mark.parametrize(
    ("score", "tier"), [(0, "low"), (2, "low"), (3, "moderate"), (4, "moderate"), (5, "high")]
)
def test_it_maps_scores_to_tiers_low_moderate_high(score: int, tier: str) -> None:
    # history recent (3) + duration (1 or 2) + fluid (1) reach each score exactly.
    recipes = {
        0: ({"duration_s": 3600.0}, "none"),
        2: ({"duration_s": 7200.0, "fluid": {"intake_l": 0.5, "body_mass_pct": 2.0}}, "none"),
        3: ({"duration_s": 3600.0}, "recent"),
        4: ({"duration_s": 7200.0}, "recent"),
        5: ({"duration_s": 14400.0}, "recent"),
    }
    session, history = recipes[score]
    result = score_risk(session, RiskContext(cramp_history=history))
    assert (result.score, result.tier) == (score, tier)


def test_it_returns_integer_points_for_every_factor_and_a_reason_for_each_one_that_scored() -> None:
    session = {"duration_s": 15000.0, "power": {"if": 0.9}, "fluid": {"intake_l": 0.5, "body_mass_pct": 2.5}}
    result = score_risk(session, RiskContext(cramp_history="recent", sodium_24h_mg=5200.0))
    assert list(result.factors) == list(FACTORS)
    assert all(type(v) is int for v in result.factors.values())
    scored = [name for name in FACTORS if result.factors[name]]
    assert [r.factor for r in result.reasons] == scored
    for r in result.reasons:
        assert r.points == result.factors[r.factor]
        assert f"(+{r.points})" in r.reason


def test_it_words_reasons_as_risk_factors_never_as_a_diagnosis_or_prediction() -> None:
    session = {
        "duration_s": 15000.0,
        "power": {"if": 0.9},
        "fluid": {"intake_l": 0.5, "body_mass_pct": 2.5},
        "sodium": {"mg": 6000.0},
    }
    ctx = RiskContext(
        cramp_history="recent", previous_28d=[(3600.0, 50.0)], measured_sweat_sodium_mmol_l=70.0
    )
    text = " ".join(r.reason for r in score_risk(session, ctx).reasons).lower()
    for forbidden in ("diagnos", "you will cramp", "you are going to", "predicts that", "certain"):
        assert forbidden not in text


def test_it_explains_a_recent_cramp_as_the_strongest_known_predictor() -> None:
    result = score_risk(NO_RISK, RiskContext(cramp_history="recent"))
    assert result.reasons == [
        RiskReason(
            factor="history",
            points=3,
            reason="You cramped in a recent race or hard session (+3): the strongest known predictor.",
        )
    ]


# ---------------------------------------------------------------- worked examples


def test_it_rates_a_hard_long_race_by_an_athlete_who_cramped_recently_as_high() -> None:
    # Ironman-style: recent cramp (3), IF 0.88 (2), 5 h (2), 3.1% BM (1), 6.2 g sodium (2) = 10.
    session = {
        "duration_s": 18000.0,
        "power": {"if": 0.88, "tss": 380.0},
        "fluid": {"intake_l": 0.5, "body_mass_pct": 3.1},
        "sodium": {"mg": 6200.0},
    }
    ctx = RiskContext(cramp_history="recent", previous_28d=[(17000.0, 350.0)])
    result = score_risk(session, ctx)
    assert result.factors == {
        "history": 3, "intensity": 2, "duration": 2, "novelty": 0, "fluid": 1, "sodium": 2,
    }  # fmt: skip
    assert (result.score, result.tier) == (10, "high")


def test_it_rates_a_hot_easy_five_hour_ride_without_history_as_high_only_through_a_stack_of_three() -> None:
    session = {
        "duration_s": 18000.0,
        "power": {"if": 0.62},
        "fluid": {"intake_l": 0.5, "body_mass_pct": 2.4},
        "sodium": {"mg": 5400.0},
    }
    result = score_risk(session, RiskContext())
    assert result.factors == {
        "history": 0, "intensity": 0, "duration": 2, "novelty": 0, "fluid": 1, "sodium": 2,
    }  # fmt: skip
    assert (result.score, result.tier) == (5, "high")


def test_it_rates_a_short_easy_run_by_a_salty_sweater_as_low() -> None:
    session = {"duration_s": 2400.0, "load": {"hr_intensity": 0.65}, "sodium": {"mg": 800.0}}
    result = score_risk(session, RiskContext(measured_sweat_sodium_mmol_l=72.0))
    assert (result.score, result.tier) == (1, "low")


# ---------------------------------------------------------------- properties over every combination

LEVELS = {"history": 3, "intensity": 3, "duration": 3, "novelty": 2, "fluid": 2, "sodium": 3}
POINTS = {
    "history": (0, 1, 3),
    "intensity": (0, 1, 2),
    "duration": (0, 1, 2),
    "novelty": (0, 1),
    "fluid": (0, 1),
    "sodium": (0, 1, 2),
}
WEAK = ("novelty", "fluid", "sodium")


def _case(levels: dict[str, int]) -> tuple[dict[str, Any], RiskContext]:
    duration_s = (3600.0, 9000.0, 15000.0)[levels["duration"]]
    session = {
        "duration_s": duration_s,
        "power": {"if": (0.5, 0.8, 0.9)[levels["intensity"]]},
        "fluid": {"intake_l": 0.5, "body_mass_pct": (1.0, 2.5)[levels["fluid"]]},
        "sodium": {"mg": (500.0, 3500.0, 6000.0)[levels["sodium"]]},
    }
    longest = duration_s if levels["novelty"] == 0 else duration_s / 1.5
    ctx = RiskContext(
        cramp_history=("none", "ever", "recent")[levels["history"]], previous_28d=[(longest, None)]
    )
    return session, ctx


ALL_CASES = [
    dict(zip(LEVELS, combo, strict=True)) for combo in itertools.product(*(range(n) for n in LEVELS.values()))
]


def test_every_combination_scores_the_sum_of_its_factor_points_and_the_right_tier() -> None:
    for levels in ALL_CASES:
        result = score_risk(*_case(levels))
        expected = {name: POINTS[name][level] for name, level in levels.items()}
        assert result.factors == expected, levels
        assert result.score == sum(expected.values()) <= MAX_SCORE
        assert (result.tier == "high") == (result.score >= 5)


def test_no_single_factor_on_its_own_ever_triggers_high() -> None:
    for levels in ALL_CASES:
        result = score_risk(*_case(levels))
        if sum(1 for v in result.factors.values() if v) <= 1:
            assert result.tier != "high", result.factors


def test_the_weak_evidence_factors_together_never_trigger_high() -> None:
    for levels in ALL_CASES:
        result = score_risk(*_case(levels))
        if not any(result.factors[name] for name in FACTORS if name not in WEAK):
            assert result.tier != "high", result.factors


def test_without_a_cramp_history_high_needs_at_least_three_risk_factors() -> None:
    for levels in ALL_CASES:
        result = score_risk(*_case(levels))
        if result.factors["history"] == 0 and result.tier == "high":
            assert sum(1 for v in result.factors.values() if v) >= 3, result.factors


# ---------------------------------------------------------------- alert policy


@pytest.mark.parametrize(
    ("tier", "min_tier", "opted_out", "expected"),
    [
        ("high", "high", False, True),
        ("moderate", "high", False, False),
        ("moderate", "moderate", False, True),
        ("high", "low", False, True),
        ("high", "high", True, False),
    ],
)
def test_it_alerts_only_at_or_above_the_users_minimum_tier_and_never_after_opt_out(
    tier: str, min_tier: str, opted_out: bool, expected: bool
) -> None:
    assert should_alert(tier=tier, min_tier=min_tier, opted_out=opted_out) is expected


def test_it_scores_a_typed_session_result_exactly_as_its_json() -> None:
    from core.result import SessionResult

    session = {
        "duration_s": 15000.0,
        "moving_time_s": 14800.0,
        "power": {"if": 0.9, "tss": 300.0},
        "fluid": {"intake_l": 0.5, "body_mass_pct": 2.5},
        "sodium": {"mg": 3500.0},
    }
    ctx = RiskContext(cramp_history="recent", previous_28d=[(9000.0, 150.0)])
    assert score_risk(SessionResult.model_validate(session), ctx) == score_risk(session, ctx)


def test_a_malformed_section_reads_as_unknown_and_scores_nothing() -> None:
    assert factor({"duration_s": 3600.0, "fluid": {"intake_l": 0.5, "body_mass_pct": "lots"}}, "fluid") == 0
