"""Events and the alert decision, science.md §10.8: one event, one alert; only news is urgent. Pure."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from alerts.assess import AlertPolicy, alert_decision, assess
from alerts.events import Span, combine, group_events, span_of
from alerts.risk import RiskContext
from core.result import SessionResult

T = datetime(2026, 6, 14, 8, 0, tzinfo=UTC)
MakeSession = Callable[..., dict[str, Any]]


def results(*legs: dict[str, Any]) -> list[SessionResult]:
    """Stored session JSONs read back through the contract, as the hand-over does."""
    return [SessionResult.model_validate(leg) for leg in legs]


def span(start_h: float, hours: float, upload: uuid.UUID | None = None) -> Span:
    return span_of(uuid.uuid4(), upload or uuid.uuid4(), T + timedelta(hours=start_h), hours * 3600)


def test_it_joins_sessions_with_gaps_under_two_hours_into_one_event() -> None:
    swim, bike, run = span(0, 1), span(1.1, 5), span(6.2, 4)  # transitions of 6 min
    tomorrow = span(30, 1)
    groups = group_events([run, tomorrow, bike, swim])
    assert [[s.session_id for s in g] for g in groups] == [
        [swim.session_id, bike.session_id, run.session_id],
        [tomorrow.session_id],
    ]


def test_it_starts_a_new_event_after_a_gap_of_two_hours_or_more() -> None:
    morning, evening = span(0, 1), span(3, 1)  # ends 09:00, next starts 11:00: exactly 2 h
    assert len(group_events([morning, evening])) == 2


def test_it_keeps_the_legs_of_one_file_together_whatever_their_gaps() -> None:
    upload = uuid.uuid4()
    leg1, leg2 = span(0, 1, upload), span(5, 1, upload)
    assert len(group_events([leg1, leg2])) == 1


def test_it_keeps_a_session_without_a_start_time_as_an_event_of_its_own() -> None:
    undated = span_of(uuid.uuid4(), None, None, 3600)
    assert len(group_events([undated, span(0, 1)])) == 2


def test_it_scores_an_event_on_total_moving_time_summed_sodium_and_the_hardest_leg(
    make_session: MakeSession,
) -> None:
    bike = make_session(
        sport="cycling", start_time="2026-06-14T08:00:00Z", duration_s=3 * 3600.0, moving_time_s=3 * 3600.0,
        power={"if": 0.72}, sodium={"mg": 2000.0}, fluid={"intake_l": 1.0},
    )  # fmt: skip
    run = make_session(
        sport="running", start_time="2026-06-14T11:05:00Z", duration_s=1.5 * 3600, moving_time_s=1.5 * 3600,
        power=None, load={"hr_intensity": 0.88}, sodium={"mg": 1500.0}, fluid={"intake_l": 0.5},
    )  # fmt: skip
    event = combine(results(bike, run), ended_at=T + timedelta(hours=4, minutes=35))
    assert event.sport == "multisport" and event.to_json()["legs"] == 2
    assert event.moving_time_s == 4.5 * 3600
    assert event.sodium.mg == 3500.0
    assert event.load.hr_intensity == 0.88  # the run was the hardest leg
    result = assess(event, RiskContext(), AlertPolicy(), ended_at=None)
    # Each leg alone scores 1 point for duration at most; the race scores 2 (4 h 30 min moving) + 2 + 1.
    assert result.risk.factors["duration"] == 2
    assert result.risk.factors["intensity"] == 2
    assert result.risk.factors["sodium"] == 1


def test_it_does_not_sum_an_intake_that_is_unknown_for_one_leg(make_session: MakeSession) -> None:
    event = combine(results(make_session(fluid={"intake_l": 1.0}), make_session(fluid={"intake_l": None})))
    assert event.fluid.intake_l is None
    assert event.fluid.deficit_l is not None  # it is only the "if nothing was drunk" bound


# ---------------------------------------------------------------- the alert decision

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("hours_ago", "status"), [(0.5, "queued"), (23.9, "queued"), (24.1, "not_due")])
def test_it_emails_only_sessions_that_ended_within_the_window(hours_ago: float, status: str) -> None:
    decision = alert_decision(
        tier="high", ended_at=NOW - timedelta(hours=hours_ago), policy=AlertPolicy(now=NOW, window_h=24)
    )
    assert decision.status == status and decision.send is (status == "queued")


def test_it_lists_an_old_high_risk_session_and_says_why_it_was_not_emailed() -> None:
    decision = alert_decision(
        tier="high", ended_at=datetime(2019, 5, 1, 9, 0, tzinfo=UTC), policy=AlertPolicy(now=NOW)
    )
    assert decision.status == "not_due"
    assert "ended at 2019-05-01 09:00 UTC, more than 24 hours before it was analysed" in decision.reason


def test_it_reads_no_clock_so_without_a_time_of_analysis_nothing_is_urgent() -> None:
    assert alert_decision(tier="high", ended_at=NOW, policy=AlertPolicy()).status == "not_due"


def test_it_honours_a_configured_window() -> None:
    policy = AlertPolicy(now=NOW, window_h=72)
    assert alert_decision(tier="high", ended_at=NOW - timedelta(hours=48), policy=policy).send is True


def test_it_explains_why_a_moderate_session_sent_no_email_and_how_to_choose_the_moderate_tier() -> None:
    decision = alert_decision(tier="moderate", ended_at=NOW, policy=AlertPolicy(now=NOW))
    assert decision.status == "below_tier"
    assert "moderate cramp-risk profile; you get emails for high only" in decision.reason
    assert 'PUT /v1/preferences with {"alert_min_tier": "moderate"}' in decision.reason
    chosen = AlertPolicy(now=NOW, min_tier="moderate")
    assert alert_decision(tier="moderate", ended_at=NOW, policy=chosen).send is True


def test_it_never_sends_a_second_email_for_an_event_that_had_one() -> None:
    policy = AlertPolicy(now=NOW, already_alerted=True)
    decision = alert_decision(tier="high", ended_at=NOW, policy=policy)
    assert decision.status == "already_alerted" and decision.send is False


def test_it_never_emails_an_athlete_who_opted_out() -> None:
    decision = alert_decision(tier="high", ended_at=NOW, policy=AlertPolicy(now=NOW, opted_out=True))
    assert decision.status == "opted_out" and decision.send is False


def test_it_sums_the_sweat_and_sodium_of_the_legs_that_have_them_when_a_swim_has_none(
    make_session: MakeSession,
) -> None:
    unknown = {"sweat_l": None, "sweat_l_low": None, "sweat_l_high": None, "intake_l": None}
    swim = make_session(sport="swimming", fluid=unknown, sodium={"mg": None, "mg_low": None, "mg_high": None})
    bike = make_session(fluid={"sweat_l": 2.0, "intake_l": 1.0}, sodium={"mg": 1800.0})
    event = combine(results(swim, bike))
    assert event.fluid.sweat_l == 2.0 and event.sodium.mg == 1800.0  # never more than known
    assert event.fluid.intake_l is None  # the swim's drinking is not known
