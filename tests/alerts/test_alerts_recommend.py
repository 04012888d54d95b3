"""Recommendations, science.md §5 and §10.7: each hard safety rule is a test of its own.

The limits themselves are property-tested over generated inputs in test_alerts_limits.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from alerts.recommend import EAH_BLOCK, cap_fluid, recommend
from core.result import Risk

RISK_LOW = Risk(score=0, tier="low")
MakeSession = Callable[..., dict[str, Any]]


def awkward_floats() -> list[float]:
    values = [i * 0.0137 for i in range(0, 500)] + [i / 10 for i in range(0, 80)]
    values += [math.nextafter(v, -math.inf) for v in values] + [math.nextafter(v, math.inf) for v in values]
    values += [1e-9, 0.0999999, 0.1, 0.15, 2.25, 7.99, 12.0]
    return values


# ---------------------------------------------------------------- rule 1: never more than the deficit


def test_it_never_recommends_more_fluid_than_was_lost(make_session: MakeSession) -> None:
    for deficit in awkward_floats():
        for intake in (None, 0.0, 0.5):
            sweat = deficit + (intake or 0.0)
            session = make_session(
                fluid={"deficit_l": deficit, "sweat_l": sweat, "respiratory_l": 0.0, "intake_l": intake}
            )
            fluid_l = recommend(session, RISK_LOW).fluid_l
            if intake is None:
                assert fluid_l is None  # unknown intake: no volume at all (§10.7)
                continue
            assert fluid_l is not None or deficit > 3.0
            assert fluid_l is None or 0.0 <= fluid_l <= max(deficit, 0.0), (deficit, intake, fluid_l)


def test_it_never_recommends_a_negative_amount_of_fluid(make_session: MakeSession) -> None:
    for deficit in (-2.0, -0.3, -1e-9, 0.0):
        session = make_session(fluid={"deficit_l": deficit, "sweat_l": 1.0, "intake_l": 1.0})
        assert recommend(session, RISK_LOW).fluid_l == 0.0


def test_it_rounds_the_fluid_amount_down_to_a_tenth_of_a_litre(make_session: MakeSession) -> None:
    assert cap_fluid(2.19) == 2.1
    assert cap_fluid(2.2) == 2.2
    assert cap_fluid(math.nextafter(0.3, 0.0)) <= math.nextafter(0.3, 0.0)
    assert cap_fluid(0.05) == 0.0


def test_it_shows_the_sweat_loss_and_asks_to_replace_the_rest_when_intake_was_not_logged(
    make_session: MakeSession,
) -> None:
    session = make_session(fluid={"intake_l": None, "deficit_l": 2.7, "sweat_l": 2.4, "respiratory_l": 0.3})
    result = recommend(session, RISK_LOW)
    assert result.fluid_l is None and result.fluid_mode == "replace_rest"
    assert result.overdrinking_warning is False
    message = result.messages[0]
    assert "you lost about 2.7 L in sweat and breath" in message
    assert "subtract what you drank during the session and replace the rest" in message
    assert "drink up to" not in message


def test_it_names_no_volume_above_three_litres_when_intake_was_not_logged(make_session: MakeSession) -> None:
    # The 27-h recording that once said "drink up to 16.9 L over the next 2–4 hours".
    session = make_session(fluid={"intake_l": None, "deficit_l": 16.9, "sweat_l": 16.6, "respiratory_l": 0.3})
    message = recommend(session, RISK_LOW).messages[0]
    assert "16.9" not in message and "16.6" not in message
    assert "drink to thirst over the rest of the day with salty food, weigh yourself" in message


def test_it_asks_to_drink_to_thirst_when_the_deficit_is_unknown(make_session: MakeSession) -> None:
    result = recommend(make_session(fluid={"deficit_l": None, "sweat_l": None}), RISK_LOW)
    assert result.fluid_l is None
    assert "drink to thirst" in result.messages[0]


def test_it_spreads_fluid_over_a_window_that_grows_with_the_volume(make_session: MakeSession) -> None:
    result = recommend(make_session(), RISK_LOW)
    message = result.messages[0]
    assert (result.fluid_l, result.fluid_window_h) == (2.2, 5)
    assert message.startswith(
        "Fluid: drink up to 2.2 L over the next 5 hours (no more than 1.0 L in any hour)"
    )
    assert "let thirst guide you; do not force it" in message
    small = recommend(make_session(fluid={"deficit_l": 0.6}), RISK_LOW)
    assert (small.fluid_l, small.fluid_window_h) == (0.6, 2)


def test_it_names_no_volume_but_thirst_salty_food_and_a_weigh_in_above_three_litres(
    make_session: MakeSession,
) -> None:
    result = recommend(make_session(fluid={"intake_l": 0.5, "deficit_l": 4.3, "sweat_l": 4.5}), RISK_LOW)
    assert result.fluid_l is None and result.fluid_mode == "too_large"
    message = result.messages[0]
    for phrase in (
        "drink to thirst",
        "salty food",
        "weigh yourself",
        "seek medical advice if you feel unwell",
    ):
        assert phrase in message


# ---------------------------------------------------------------- rule 2: no extra fluid, warn


def test_it_recommends_no_extra_fluid_and_warns_when_measured_body_mass_rose(
    make_session: MakeSession,
) -> None:
    session = make_session(
        fluid={
            "source": "measured",
            "body_mass_pct": -0.6,
            "sweat_l": 1.2,
            "intake_l": 1.6,
            "deficit_l": -0.1,
        }
    )
    result = recommend(session, RISK_LOW)
    assert result.fluid_l == 0.0
    assert result.overdrinking_warning is True
    assert result.messages[0].startswith("No extra fluid: you weighed more after the session than before")


def test_it_warns_even_if_a_stale_deficit_says_otherwise_when_measured_mass_rose(
    make_session: MakeSession,
) -> None:
    session = make_session(
        fluid={"source": "measured", "body_mass_pct": -0.2, "deficit_l": 0.8, "intake_l": None}
    )
    result = recommend(session, RISK_LOW)
    assert (result.fluid_l, result.overdrinking_warning) == (0.0, True)


@pytest.mark.parametrize("intake", [3.7, 3.70001, 5.0])
def test_it_recommends_no_extra_fluid_and_warns_when_logged_intake_covered_the_loss(
    make_session: MakeSession, intake: float
) -> None:
    session = make_session(
        fluid={"sweat_l": 3.4, "respiratory_l": 0.3, "intake_l": intake, "deficit_l": 3.7 - intake}
    )
    result = recommend(session, RISK_LOW)
    assert result.fluid_l == 0.0
    assert result.overdrinking_warning is True
    assert "No extra fluid" in result.messages[0]


def test_it_does_not_warn_about_overdrinking_when_intake_fell_short_of_the_loss(
    make_session: MakeSession,
) -> None:
    session = make_session(fluid={"sweat_l": 3.4, "respiratory_l": 0.3, "intake_l": 3.6, "deficit_l": 0.1})
    result = recommend(session, RISK_LOW)
    assert result.overdrinking_warning is False
    assert result.fluid_l == 0.1


def test_it_suggests_salty_food_rather_than_drinks_when_overdrinking(make_session: MakeSession) -> None:
    session = make_session(fluid={"intake_l": 4.0, "deficit_l": -0.3})
    sodium = recommend(session, RISK_LOW).messages[1]
    assert "from salty food rather than from extra drinks" in sodium
    assert "rehydration drink" not in sodium


# ---------------------------------------------------------------- rule 3: EAH block


def test_it_always_includes_the_eah_block(make_session: MakeSession) -> None:
    for fluid in ({}, {"intake_l": 4.0, "deficit_l": -0.3}, {"deficit_l": None}):
        assert recommend(make_session(fluid=fluid), RISK_LOW).eah_block == EAH_BLOCK


def test_the_eah_block_says_what_eah_is_how_to_prevent_it_and_when_to_get_urgent_care() -> None:
    text = EAH_BLOCK.lower()
    for phrase in (
        "below 135 mmol/l",
        "up to 24 hours",
        "drinking more than you lose",
        "drink to thirst",
        "if you weigh more after exercise than before, you drank too much",
        "women",
        "nsaids",
        "over 4 hours",
        "urgent medical care for confusion, a severe headache, vomiting, or weight gain",
    ):
        assert phrase in text


# ---------------------------------------------------------------- rule 4: heat


@pytest.mark.parametrize(("temp_c", "expected"), [(29.9, False), (30.0, True), (38.0, True), (None, False)])
def test_it_adds_heat_guidance_from_thirty_degrees(
    make_session: MakeSession, temp_c: float | None, expected: bool
) -> None:
    session = make_session(ambient={"temp_c": temp_c}, fluid={"uncompensable_heat": False})
    heat = recommend(session, RISK_LOW).heat_guidance
    assert bool(heat) is expected
    if expected:
        assert heat in recommend(session, RISK_LOW).messages
        for word in ("cool", "slow down", "shade"):
            assert word in heat.lower()


def test_it_adds_heat_guidance_when_the_heat_balance_was_uncompensable_even_in_mild_air(
    make_session: MakeSession,
) -> None:
    session = make_session(
        ambient={"temp_c": 22.0}, fluid={"uncompensable_heat": True, "uncompensable_minutes": 25.0}
    )
    heat = recommend(session, RISK_LOW).heat_guidance
    assert heat and "for about 25 minutes your body could not lose heat" in heat
    assert "it was hot" not in heat


@pytest.mark.parametrize(
    ("minutes", "source", "temp_c"),
    [
        (2.0, "weather_message", 22.0),
        (9.9, "weather_message", 29.0),
        (40.0, "default", 20.0),
        (40.0, "default", 35.0),
    ],
)
def test_it_gives_no_heat_guidance_on_a_few_minutes_or_an_assumed_temperature(
    make_session: MakeSession, minutes: float, source: str, temp_c: float
) -> None:
    session = make_session(
        ambient={"temp_c": temp_c, "source": source},
        fluid={"uncompensable_heat": True, "uncompensable_minutes": minutes},
    )
    assert recommend(session, RISK_LOW).heat_guidance is None


# ---------------------------------------------------------------- seed advice, accurate to §5


def test_it_sizes_sodium_to_the_estimated_loss_via_food_and_40_to_60_mmol_drinks(
    make_session: MakeSession,
) -> None:
    session = make_session(sodium={"mg": 2128.0, "mg_low": 1064.0, "mg_high": 2992.0})
    result = recommend(session, RISK_LOW)
    assert result.sodium_mg == 2100  # rounded down: never above the loss
    sodium = result.messages[1]
    assert "roughly 2,100 mg (likely 1,064–2,992 mg)" in sodium
    assert "40–60 mmol/L" in sodium and "0.9–1.4 g per litre" in sodium


def test_it_has_no_sodium_target_when_the_loss_is_unknown(make_session: MakeSession) -> None:
    assert recommend(make_session(sodium={"mg": None}), RISK_LOW).sodium_mg is None


def test_it_presents_bananas_spinach_and_whole_grains_as_recovery_food_not_a_cramp_cure(
    make_session: MakeSession,
) -> None:
    text = " ".join(recommend(make_session(), RISK_LOW).messages)
    assert "Bananas, spinach and whole grains" in text
    assert "not a cramp cure" in text
    for food in ("broth", "pretzels", "bread", "cheese"):
        assert food in text


def test_it_advises_gently_stretching_calves_hamstrings_and_quadriceps_for_an_acute_cramp(
    make_session: MakeSession,
) -> None:
    text = " ".join(recommend(make_session(), RISK_LOW).messages)
    assert "gently stretch the cramping muscle (calf, hamstrings or quadriceps)" in text
    assert "stretching your calves, quads and hamstrings before and after exercise is widely recommended" in (
        text.lower()
    )
    assert "evidence that it prevents cramps is limited" in text


def test_it_says_when_to_see_a_professional_and_when_to_get_urgent_care(make_session: MakeSession) -> None:
    text = " ".join(recommend(make_session(), RISK_LOW).messages)
    for phrase in (
        "frequent or keep coming back",
        "whole body or are severe",
        "at rest or at night",
        "weakness",
        "cola-coloured urine",
        "rhabdomyolysis",
        "β2-agonist",
        "diuretic",
        "statin",
        "known illness",
        "urgent medical care for confusion, a severe headache, vomiting, or weight gain after exercise",
    ):
        assert phrase in text


def test_it_suggests_sodium_during_future_long_sessions_without_forced_drinking_or_cure_claims(
    make_session: MakeSession,
) -> None:
    messages = recommend(make_session(duration_s=15120.0), RISK_LOW).messages
    future = next(m for m in messages if m.startswith("Next time"))
    assert "about 600 mg of sodium per hour" in future  # this session lost ~740 mg/h: held to 600
    assert "with food or a sports drink" in future
    assert "Never pair it with forced drinking" in future
    assert "no proof that it prevents cramps" in future


def test_it_skips_future_sodium_advice_for_a_short_session_with_ordinary_losses(
    make_session: MakeSession,
) -> None:
    session = make_session(duration_s=3600.0, sodium={"mg": 900.0, "concentration_mmol_l": 40.0})
    assert not any(m.startswith("Next time") for m in recommend(session, RISK_LOW).messages)


def test_it_writes_volumes_in_fluid_ounces_for_imperial_users_without_changing_the_numbers(
    make_session: MakeSession,
) -> None:
    metric = recommend(make_session(), RISK_LOW)
    imperial = recommend(make_session(), RISK_LOW, units="imperial")
    assert imperial.fluid_l == metric.fluid_l == 2.2
    assert "drink up to 74 fl oz / 2.2 L" in imperial.messages[0]
    assert "88 °F / 31 °C" in imperial.heat_guidance


def test_it_never_mentions_a_diagnosis_or_a_cure(make_session: MakeSession) -> None:
    text = " ".join(recommend(make_session(), RISK_LOW).messages).lower()
    assert "diagnos" not in text
    assert "cures" not in text and "will prevent" not in text


def test_it_treats_a_recording_over_24_hours_as_implausible_and_names_no_volume(
    make_session: MakeSession,
) -> None:
    # The 27-h recording with heart rate stuck at 110 (issue 11), even before its data_quality is filled in.
    session = make_session(
        duration_s=99997.0, fluid={"intake_l": 0.5, "deficit_l": 2.0}, sodium={"mg": 10734.0}
    )
    result = recommend(session, RISK_LOW)
    assert result.fluid_l is None and result.sodium_mg is None
    assert "the recording lasts more than 24 hours" in result.notices[0]


def test_it_suggests_no_sodium_amount_when_the_estimated_loss_is_nil(make_session: MakeSession) -> None:
    result = recommend(make_session(sodium={"mg": 0.0, "mg_low": 0.0, "mg_high": 0.0}), RISK_LOW)
    assert result.sodium_mg == 0
    assert "estimated sodium loss is small; salt your recovery meal to taste" in result.messages[1]


def test_it_asks_to_replace_the_rest_of_a_known_loss_even_without_a_deficit(
    make_session: MakeSession,
) -> None:
    # A triathlon whose swim has no deficit: the loss of the other legs is still worth saying.
    session = make_session(fluid={"intake_l": None, "deficit_l": None, "sweat_l": 1.9, "respiratory_l": 0.4})
    result = recommend(session, RISK_LOW)
    assert result.fluid_mode == "replace_rest" and result.fluid_l is None
    assert "you lost about 2.3 L in sweat and breath" in result.messages[0]
