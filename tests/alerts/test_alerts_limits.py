"""The hard advice limits of science.md §10.7, as properties over thousands of generated inputs.

Each property is checked twice: on the pure limit functions (alerts.limits), and end to end on whole
generated session JSONs through `recommend` and `score_risk`, reading every figure the athlete would read.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts import limits
from alerts.recommend import recommend
from alerts.risk import RiskContext, score_risk

MANY = settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOME = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])

litres = st.floats(min_value=-5.0, max_value=40.0, allow_nan=False)
maybe = st.one_of(st.none(), litres)
milligrams = st.one_of(st.none(), st.floats(min_value=0.0, max_value=40000.0, allow_nan=False))
seconds = st.one_of(st.none(), st.floats(min_value=0.0, max_value=200000.0, allow_nan=False))
odd_numbers = st.one_of(st.none(), st.just(float("nan")), st.just(float("inf")), st.floats(-100, 100))

LITRE_FIGURE = re.compile(r"(\d+(?:\.\d+)?) L\b")
MG_FIGURE = re.compile(r"(\d{1,3}(?:,\d{3})*|\d+) mg\b")
MG_PER_HOUR = re.compile(r"(\d{1,3}(?:,\d{3})*|\d+) mg of sodium per hour")


@st.composite
def sessions(draw: st.DrawFn) -> dict[str, Any]:
    source = draw(st.sampled_from(["model", "measured", None]))
    sweat = draw(maybe)
    return {
        "sport": "cycling",
        "duration_s": draw(seconds),
        "moving_time_s": draw(seconds),
        "partial": draw(st.booleans()),
        "power": {"if": draw(st.one_of(st.none(), st.floats(0.0, 2.0)))},
        "load": {"hr_intensity": draw(st.one_of(st.none(), st.floats(0.0, 1.5)))},
        "ambient": {
            "temp_c": draw(st.one_of(st.none(), st.floats(-20.0, 50.0))),
            "source": draw(st.sampled_from(["weather_message", "override", "head_unit", "default", None])),
        },
        "fluid": {
            "sweat_l": sweat,
            "sweat_l_low": draw(maybe),
            "sweat_l_high": draw(maybe),
            "respiratory_l": draw(st.one_of(st.none(), st.floats(0.0, 2.0))),
            "intake_l": draw(st.one_of(st.none(), st.floats(0.0, 10.0))),
            "deficit_l": draw(st.one_of(maybe, odd_numbers)),
            "body_mass_pct": draw(st.one_of(st.none(), st.floats(-5.0, 30.0))),
            "uncompensable_heat": draw(st.booleans()),
            "uncompensable_minutes": draw(st.one_of(st.none(), st.floats(0.0, 600.0))),
            "source": source,
        },
        "sodium": {
            "mg": draw(milligrams),
            "mg_low": draw(milligrams),
            "mg_high": draw(milligrams),
            "concentration_mmol_l": draw(st.one_of(st.none(), st.floats(10.0, 120.0))),
        },
        "data_quality": {
            "implausible": draw(st.booleans()),
            "ftp_stale": draw(st.booleans()),
            "hr_flat": draw(st.booleans()),
            "reasons": ["heart rate flat at 110 bpm for 9 hours"],
        },
    }


def _numbers(pattern: re.Pattern[str], text: str) -> list[float]:
    return [float(m.replace(",", "")) for m in pattern.findall(text)]


# ---------------------------------------------------------------- the pure limits


@MANY
@given(deficit=st.one_of(litres, odd_numbers), known=st.booleans(), implausible=st.booleans())
def test_fluid_is_never_above_the_deficit_one_litre_an_hour_or_three_litres(
    deficit: float | None, known: bool, implausible: bool
) -> None:
    plan = limits.fluid_plan(deficit_l=deficit, intake_known=known, implausible=implausible)
    if plan.volume_l is None:
        return
    assert deficit is not None and known and not implausible
    assert 0.0 <= plan.volume_l <= max(deficit, 0.0)
    assert plan.volume_l <= limits.FLUID_MAX_PER_EMAIL_L
    if plan.volume_l > 0:
        assert plan.window_h is not None
        assert limits.FLUID_WINDOW_MIN_H <= plan.window_h <= limits.FLUID_WINDOW_MAX_H
        assert plan.volume_l / plan.window_h <= limits.FLUID_MAX_PER_HOUR_L


@MANY
@given(a=st.floats(0.0, 3.0), b=st.floats(0.0, 3.0))
def test_the_fluid_window_grows_with_the_volume(a: float, b: float) -> None:
    small, large = sorted((a, b))
    assert limits.fluid_window_h(small) <= limits.fluid_window_h(large)
    assert limits.fluid_window_h(large) * limits.FLUID_MAX_PER_HOUR_L >= large


@MANY
@given(deficit=litres)
def test_unknown_intake_never_becomes_a_volume_to_drink(deficit: float) -> None:
    plan = limits.fluid_plan(deficit_l=deficit, intake_known=False)
    assert plan.volume_l is None and plan.mode in (limits.REPLACE_REST, limits.TOO_LARGE)
    assert (plan.mode == limits.TOO_LARGE) == (deficit > limits.FLUID_MAX_PER_EMAIL_L)


@MANY
@given(loss=st.one_of(milligrams, odd_numbers), implausible=st.booleans())
def test_sodium_after_is_never_above_the_loss_or_three_grams(loss: float | None, implausible: bool) -> None:
    target = limits.sodium_after_mg(loss, implausible=implausible)
    if target is not None:
        assert loss is not None and not implausible
        assert 0 <= target <= min(loss, limits.SODIUM_AFTER_MAX_MG)


@MANY
@given(loss=st.one_of(milligrams, odd_numbers), hours=st.one_of(st.none(), st.floats(0.0, 60.0)))
def test_sodium_during_stays_within_300_to_600_mg_an_hour(loss: float | None, hours: float | None) -> None:
    per_hour = limits.sodium_during_mg_per_h(loss, hours)
    assert limits.SODIUM_DURING_LOW_MG_H <= per_hour <= limits.SODIUM_DURING_HIGH_MG_H
    assert per_hour <= limits.SODIUM_DURING_CEILING_MG_H


@MANY
@given(
    temp=st.one_of(st.none(), st.floats(-30.0, 60.0)),
    measured=st.booleans(),
    minutes=st.one_of(st.none(), st.floats(0.0, 600.0)),
)
def test_heat_evidence_needs_a_measured_temperature_and_ten_minutes_or_thirty_degrees(
    temp: float | None, measured: bool, minutes: float | None
) -> None:
    hot, sustained = limits.heat_evidence(temp_c=temp, temp_measured=measured, uncompensable_minutes=minutes)
    if hot or sustained:
        assert measured and temp is not None
    assert hot == (measured and temp is not None and temp >= 30.0)
    assert not sustained or (minutes is not None and minutes >= 10.0)


# ---------------------------------------------------------------- whole sessions, as the athlete reads them


@SOME
@given(session=sessions(), units=st.sampled_from(["metric", "imperial"]))
def test_no_recommendation_ever_names_more_than_the_limits(session: dict[str, Any], units: str) -> None:
    risk = score_risk(session, RiskContext())
    rec = recommend(session, risk, units=units)
    fluid, sodium, quality = session["fluid"], session["sodium"], session["data_quality"]
    text = " ".join(rec.notices + rec.messages)
    assert all(v <= limits.FLUID_MAX_PER_EMAIL_L for v in _numbers(LITRE_FIGURE, text)), text
    assert all(v <= limits.SODIUM_AFTER_MAX_MG for v in _numbers(MG_FIGURE, text)), text
    assert all(v <= limits.SODIUM_DURING_HIGH_MG_H for v in _numbers(MG_PER_HOUR, text)), text
    if rec.fluid_l:
        assert fluid["deficit_l"] is not None and rec.fluid_l <= fluid["deficit_l"]
        assert rec.fluid_l / rec.fluid_window_h <= limits.FLUID_MAX_PER_HOUR_L
    if fluid["intake_l"] is None and fluid["source"] != "measured":
        assert not rec.fluid_l, "a volume to drink as if nothing was drunk"
        assert risk.factors["fluid"] == 0, "a fluid-deficit point without a known intake or weigh-in"
    if rec.sodium_mg is not None:
        assert sodium["mg"] is not None and rec.sodium_mg <= min(sodium["mg"], limits.SODIUM_AFTER_MAX_MG)
    if rec.sodium_during_mg_per_h is not None:
        assert 300 <= rec.sodium_during_mg_per_h <= 600
        assert "with food or a sports drink" in text
    if quality["implausible"]:
        assert rec.fluid_l is None and rec.sodium_mg is None
        assert "cannot be right (heart rate flat at 110 bpm for 9 hours)" in text
    if session["partial"]:
        assert "looks incomplete" in text


@SOME
@given(session=sessions())
def test_heat_guidance_only_comes_from_measured_heat(session: dict[str, Any]) -> None:
    rec = recommend(session, score_risk(session, RiskContext()))
    if rec.heat_guidance is None:
        return
    ambient, fluid = session["ambient"], session["fluid"]
    assert ambient["source"] not in ("default", None) and ambient["temp_c"] is not None
    minutes = fluid["uncompensable_minutes"]
    assert ambient["temp_c"] >= 30.0 or (minutes is not None and minutes >= 10.0)


@SOME
@given(session=sessions())
def test_duration_points_count_moving_time_and_no_intensity_comes_from_a_stale_ftp_or_a_flat_heart_rate(
    session: dict[str, Any],
) -> None:
    risk = score_risk(session, RiskContext())
    scored = session["moving_time_s"] if session["moving_time_s"] is not None else session["duration_s"]
    expected = 0 if scored is None else 2 if scored >= 4 * 3600 else 1 if scored >= 2 * 3600 else 0
    assert risk.factors["duration"] == expected
    if session["data_quality"]["ftp_stale"]:
        assert all("from power" not in r.reason for r in risk.reasons)
    if session["data_quality"]["hr_flat"]:
        assert all("from heart rate" not in r.reason for r in risk.reasons)
