"""Email rendering: golden outputs, the required content, RFC 8058 headers, escaping.

Regenerate the golden files after an intended wording change with:
    UPDATE_GOLDEN=1 /work/venv/bin/pytest tests/alerts/test_render.py
and review the diff like code. The chart's own golden PNGs are in test_alerts_chart.py.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from alerts.assess import AlertPolicy, assess, assess_event
from alerts.chart import session_chart_png
from alerts.recommend import recommend
from alerts.render import render_cramp_alert
from alerts.risk import RiskContext
from core.result import Risk

GOLDEN = Path(__file__).parent / "golden"
SESSION_ID = "5f1c7a52-3d0e-4c1e-9a57-2b8f0c6d9e41"
LINKS = {
    "unsubscribe": "https://sweatsync.example.org/u/one-click?t=abc123",
    "session": f"https://sweatsync.example.org/sessions/{SESSION_ID}",
    "profile": "https://sweatsync.example.org/profile",
    "preferences": "https://sweatsync.example.org/settings/alerts",
    "cramped": "https://sweatsync.example.org/v1/links/Y3JhbXBlZA.abc",
    "no_cramp": "https://sweatsync.example.org/v1/links/bm9fY3JhbXA.def",
}
MakeSession = Callable[..., dict[str, Any]]
MakeSeries = Callable[..., dict[str, Any]]


def metric_high_session(make_session: MakeSession, series: dict[str, Any] | None = None) -> dict[str, Any]:
    session = make_session(series=series) if series else make_session()
    ctx = RiskContext(cramp_history="recent", previous_28d=[(10000.0, 200.0)], sodium_24h_mg=1000.0)
    session.update(assess(session, ctx, AlertPolicy()).as_json())
    return session


def imperial_overdrinking_session(make_session: MakeSession) -> dict[str, Any]:
    session = make_session(
        sport="running",
        start_time="2025-06-15T16:30:00+00:00",
        duration_s=9300.0,
        moving_time_s=9300.0,
        power=None,
        load={"hr_intensity": 0.88, "hrss": 150},
        ambient={"temp_c": 18.0, "humidity_pct": 60, "source": "default"},
        fluid={
            "sweat_l": 1.9,
            "sweat_l_low": 1.9,
            "sweat_l_high": 1.9,
            "rate_l_per_h": 0.74,
            "respiratory_l": 0.2,
            "intake_l": 2.5,
            "deficit_l": -0.4,
            "body_mass_pct": -0.5,
            "source": "measured",
        },
        sodium={"mg": 1748.0, "mg_low": 874.0, "mg_high": 2622.0},
        inputs={"mass_kg": {"source": "assumed"}, "hr_max": {"source": "assumed"}},
        assumptions=[
            {"field": "mass_kg", "value": 70.0, "message": "Body mass assumed to be 70 kg."},
            {"field": "temp_c", "value": 20.0, "message": "Air temperature assumed to be 20 °C (no weather data)."},  # noqa: E501
        ],
    )
    assessed = assess(session, RiskContext(cramp_history="ever"), AlertPolicy(), units="imperial")
    session.update(assessed.as_json())
    return session


def check_golden(name: str, payload: dict[str, Any]) -> None:
    files = {
        f"{name}.subject.txt": payload["subject"] + "\n",
        f"{name}.txt": payload["text"],
        f"{name}.html": payload["html"],
        f"{name}.headers.json": json.dumps(payload["headers"], indent=2, sort_keys=True) + "\n",
    }
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        for file_name, content in files.items():
            (GOLDEN / file_name).write_text(content, encoding="utf-8")
    for file_name, content in files.items():
        path = GOLDEN / file_name
        assert path.exists(), f"missing golden file {path}; run with UPDATE_GOLDEN=1"
        assert content == path.read_text(encoding="utf-8"), f"{file_name} differs; UPDATE_GOLDEN=1 to accept"


# ---------------------------------------------------------------- golden


def test_it_renders_the_metric_high_risk_email_exactly_as_the_golden_files(
    make_session: MakeSession, make_series: MakeSeries
) -> None:
    payload = render_cramp_alert(
        session=metric_high_session(make_session, make_series(252)),
        user_email="ana@example.org",
        display_name="Ana Šimić",
        session_id=SESSION_ID,
        links=LINKS,
    )
    check_golden("cramp_risk_metric_high", payload)


def test_it_renders_the_imperial_overdrinking_email_exactly_as_the_golden_files(
    make_session: MakeSession,
) -> None:
    payload = render_cramp_alert(
        session=imperial_overdrinking_session(make_session),
        user_email="sam@example.org",
        display_name=None,
        session_id=SESSION_ID,
        links={"unsubscribe": LINKS["unsubscribe"]},
        units="imperial",
    )
    check_golden("cramp_risk_imperial_overdrinking", payload)


# ---------------------------------------------------------------- required content


@pytest.fixture
def high(make_session: MakeSession, make_series: MakeSeries) -> dict[str, Any]:
    return render_cramp_alert(
        session=metric_high_session(make_session, make_series(252)),
        user_email="ana@example.org",
        display_name="Ana",
        session_id=SESSION_ID,
        links=LINKS,
    )


def test_the_subject_states_the_tier(high: dict[str, Any], make_session: MakeSession) -> None:
    assert high["subject"] == "High cramp-risk profile after your 4 h 12 min ride on 2025-06-14"
    moderate = imperial_overdrinking_session(make_session)
    payload = render_cramp_alert(
        session=moderate, user_email="s@example.org", display_name=None, session_id=SESSION_ID, links=LINKS
    )
    assert payload["subject"].startswith(f"{moderate['risk']['tier'].capitalize()} cramp-risk profile")


def test_every_figure_carries_its_unit_and_its_range(high: dict[str, Any]) -> None:
    for body in (" ".join(high["text"].split()), high["html"]):
        assert "4 h 12 min" in body
        assert "0.86 of your threshold (from power" in body
        assert "3.4 L (likely 2.6–4.2 L), 0.8 L per hour" in body
        assert "3,128 mg (likely 1,564–4,692 mg), at a sweat sodium of 40 mmol/L (assumed)" in body
        assert "2.2 L, 2.9% of body mass" in body
        assert "31 °C, 45% humidity" in body


def test_it_explains_why_you_got_this_with_each_reason_and_its_points(high: dict[str, Any]) -> None:
    text = " ".join(high["text"].split())
    assert "WHY YOU GOT THIS" in high["text"]
    assert "Why you got this" in high["html"]
    assert "You cramped in a recent race or hard session (+3): the strongest known predictor." in text
    assert "(4 h or more) (+2)" in text


def test_it_says_risk_factors_present_and_not_a_diagnosis(high: dict[str, Any]) -> None:
    for body in (high["text"], high["html"]):
        flat = " ".join(body.split())
        assert "risk factors for exercise-associated muscle cramps are present" in flat
        assert "This is not a diagnosis, and it does not predict that you will cramp." in flat
        assert "elevated cramp-risk profile" in flat


def test_it_includes_the_recommendations_the_eah_block_and_how_to_make_it_personal(
    high: dict[str, Any],
) -> None:
    text = " ".join(high["text"].split())
    assert "Fluid: drink up to 2.2 L over the next 5 hours (no more than 1.0 L in any hour)" in text
    assert "ABOUT DRINKING TOO MUCH" in high["text"]
    assert "Exercise-associated hyponatraemia (EAH)" in text
    assert "ASSUMPTIONS" in high["text"] and "Height assumed to be 1.75 m" in text
    assert "- your height" in high["text"]
    assert "- your sweat sodium from a sweat test" in high["text"]
    assert f"Edit your profile: {LINKS['profile']}" in high["text"]


def test_it_carries_an_unsubscribe_line_and_one_click_unsubscribe_headers(high: dict[str, Any]) -> None:
    assert f"Unsubscribe in one click: {LINKS['unsubscribe']}" in high["text"]
    assert 'href="https://sweatsync.example.org/u/one-click?t=abc123"' in high["html"]
    assert high["headers"]["List-Unsubscribe"] == f"<{LINKS['unsubscribe']}>"
    assert high["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_it_keeps_numbers_and_units_on_one_line_in_the_text_body(high: dict[str, Any]) -> None:
    for line in high["text"].splitlines():
        stripped = line.strip()
        for unit in ("L", "mg", "mmol/L", "°C", "h", "min"):
            assert not stripped.startswith(f"{unit} "), line


def test_it_warns_about_overdrinking_at_the_top_when_mass_rose(make_session: MakeSession) -> None:
    payload = render_cramp_alert(
        session=imperial_overdrinking_session(make_session),
        user_email="sam@example.org",
        display_name=None,
        session_id=SESSION_ID,
        links=LINKS,
        units="imperial",
    )
    head = payload["text"].split("YOUR SESSION")[0]
    assert "WARNING: you may have drunk more than you lost" in head
    assert "No extra fluid: you weighed more after the session than before" in " ".join(
        payload["text"].split()
    )


# ---------------------------------------------------------------- escaping and link safety


def test_it_escapes_user_text_in_the_html_body(make_session: MakeSession) -> None:
    payload = render_cramp_alert(
        session=metric_high_session(make_session),
        user_email="x@example.org",
        display_name='<script>alert("x")</script> & co',
        session_id=SESSION_ID,
        links=LINKS,
    )
    assert "<script>" not in payload["html"]
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co" in payload["html"]


def test_it_flattens_line_breaks_in_the_display_name(make_session: MakeSession) -> None:
    payload = render_cramp_alert(
        session=metric_high_session(make_session),
        user_email="x@example.org",
        display_name="Eve\r\nBcc: victim@example.org",
        session_id=SESSION_ID,
        links=LINKS,
    )
    assert payload["to_name"] == "Eve Bcc: victim@example.org"
    assert "\r" not in payload["text"]
    assert payload["text"].startswith("Hi Eve Bcc: victim@example.org,\n")


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "https://ok.example/\r\nBcc: x@y", "//no-scheme.example", 'https://a.example/"x'],
)
def test_it_refuses_links_that_are_not_plain_http_urls(make_session: MakeSession, url: str) -> None:
    with pytest.raises(ValueError):
        render_cramp_alert(
            session=metric_high_session(make_session),
            user_email="x@example.org",
            display_name=None,
            session_id=SESSION_ID,
            links={**LINKS, "unsubscribe": url},
        )


def test_it_requires_an_unsubscribe_link_and_a_scored_session(make_session: MakeSession) -> None:
    with pytest.raises(ValueError, match="unsubscribe"):
        render_cramp_alert(
            session=metric_high_session(make_session),
            user_email="x@example.org",
            display_name=None,
            session_id=SESSION_ID,
            links={"session": LINKS["session"]},
        )
    with pytest.raises(ValueError, match="risk"):
        render_cramp_alert(
            session=make_session(),
            user_email="x@example.org",
            display_name=None,
            session_id=SESSION_ID,
            links=LINKS,
        )


def test_it_renders_a_sparse_session_and_says_which_figures_are_not_available() -> None:
    session: dict[str, Any] = {"duration_s": 5400.0}  # no power, fluid or sodium section
    session.update(assess(session, RiskContext(cramp_history="recent"), AlertPolicy()).as_json())
    payload = render_cramp_alert(
        session=session, user_email="x@example.org", display_name=None, session_id=SESSION_ID, links=LINKS
    )
    assert payload["subject"] == "Moderate cramp-risk profile after your 1 h 30 min session"
    text = payload["text"]
    assert "- Intensity: not available (no power or heart-rate data)" in text
    assert "- Sweat loss: not available" in text
    assert "- Sodium loss: not available" in text
    assert "we could not estimate your fluid loss for this session, so drink to thirst" in " ".join(
        text.split()
    )


def test_it_asks_did_you_cramp_with_one_click_yes_and_no_links(high: dict[str, Any]) -> None:
    assert "DID YOU CRAMP?" in high["text"]
    assert f"Yes, I cramped: {LINKS['cramped']}" in high["text"]
    assert f"No, I did not: {LINKS['no_cramp']}" in high["text"]
    assert f'<a href="{LINKS["cramped"]}">Yes, I cramped</a>' in high["html"]


def test_it_leaves_out_the_cramp_question_without_both_links(make_session: MakeSession) -> None:
    payload = render_cramp_alert(
        session=metric_high_session(make_session),
        user_email="x@example.org",
        display_name=None,
        session_id=SESSION_ID,
        links={"unsubscribe": LINKS["unsubscribe"], "cramped": LINKS["cramped"]},
    )
    assert "DID YOU CRAMP?" not in payload["text"]
    assert "Did you cramp?" not in payload["html"]


# ---------------------------------------------------------------- the chart


def test_the_html_shows_the_chart_by_content_id_with_alt_text_and_the_text_body_does_not(
    high: dict[str, Any],
) -> None:
    cid = f"session-chart.{SESSION_ID}@sweatsync"
    assert high["chart"]["cid"] == cid
    assert f'<img src="cid:{cid}" width="600" height="300"' in high["html"]
    assert (
        'alt="Chart of your 4 h 12 min ride over time: heart rate (bpm); cumulative fluid loss, '
        'reaching about 3.4 L (likely 2.6–4.2 L)."' in high["html"]
    )
    assert "cid:" not in high["text"] and "Chart" not in high["text"]


def test_the_payload_keeps_the_chart_drawn_once_when_the_alert_is_queued(
    high: dict[str, Any], make_series: MakeSeries
) -> None:
    chart = high["chart"]
    assert set(chart) == {"cid", "units", "png_b64"}
    assert base64.b64decode(chart["png_b64"]) == session_chart_png(make_series(252))
    assert len(json.dumps(chart)) < 20_000  # about 10 KB of PNG, whatever the session's length


def test_a_session_without_a_series_renders_without_a_chart(make_session: MakeSession) -> None:
    session = make_session(series={"t_min": [], "heart_rate": None, "fluid_l": None})
    session.update(assess(session, RiskContext(cramp_history="recent"), AlertPolicy()).as_json())
    payload = render_cramp_alert(
        session=session, user_email="x@example.org", display_name=None, session_id=SESSION_ID, links=LINKS
    )
    assert "chart" not in payload
    assert "<img" not in payload["html"] and "sweatsync:chart" not in payload["html"]
    assert "Why you got this" in payload["html"]


def test_the_alt_text_names_power_and_imperial_units_when_those_are_drawn(
    make_session: MakeSession, make_series: MakeSeries
) -> None:
    session = make_session(series=make_series(95, heart_rate=False))
    session.update(assess(session, RiskContext(cramp_history="recent"), AlertPolicy()).as_json())
    payload = render_cramp_alert(
        session=session,
        user_email="x@example.org",
        display_name=None,
        session_id=SESSION_ID,
        links=LINKS,
        units="imperial",
    )
    assert "power (W)" in payload["html"]
    assert "reaching about 115 fl oz / 3.4 L (likely 88–142 fl oz / 2.6–4.2 L)" in payload["html"]
    assert payload["chart"]["units"] == "imperial"


def test_it_claims_a_rise_in_body_mass_only_when_a_weigh_in_measured_it() -> None:
    def text_for(source: str) -> str:
        session = {
            "sport": "cycling",
            "duration_s": 7200,
            "fluid": {
                "source": source,
                "sweat_l": 1.0,
                "intake_l": 1.2,
                "deficit_l": -0.2,
                "body_mass_pct": -0.3,
            },
            "risk": {"score": 5, "tier": "high", "factors": {}, "reasons": []},
        }
        risk = Risk.model_validate(session["risk"])
        session["recommendations"] = recommend(session, risk).model_dump(mode="json")
        links = {"unsubscribe": "https://sweat.example.com/v1/links/u"}
        text = render_cramp_alert(
            session=session,
            user_email="a@example.com",
            display_name=None,
            session_id=str(uuid.uuid4()),
            links=links,
        )["text"]
        return " ".join(text.split())  # undo the line wrapping

    assert "body mass rose" not in text_for("model")
    assert "body mass rose" in text_for("measured")


def test_it_renders_the_stored_recommendations_word_for_word(make_session: MakeSession) -> None:
    session = metric_high_session(make_session)
    session["recommendations"] = {**session["recommendations"], "messages": ["Exactly this, as stored."]}
    text = render_cramp_alert(
        session=session, user_email="a@example.org", display_name=None, session_id=SESSION_ID, links=LINKS
    )["text"]
    assert "- Exactly this, as stored." in text and "Fluid: drink up to" not in text


def test_it_refuses_a_session_that_was_never_assessed(make_session: MakeSession) -> None:
    session = make_session()
    session["risk"] = {"score": 5, "tier": "high", "factors": {}, "reasons": []}
    with pytest.raises(ValueError, match="no recommendations"):
        render_cramp_alert(
            session=session, user_email="a@example.org", display_name=None, session_id=SESSION_ID, links=LINKS
        )


def test_a_partial_file_email_says_so_at_the_top(make_session: MakeSession) -> None:
    session = make_session(partial=True)
    session.update(assess(session, RiskContext(cramp_history="recent"), AlertPolicy()).as_json())
    text = render_cramp_alert(
        session=session, user_email="a@example.org", display_name=None, session_id=SESSION_ID, links=LINKS
    )["text"]
    flat = " ".join(text.split())
    assert flat.index("NOTE: This file looks incomplete") < flat.index("YOUR SESSION")


def test_every_high_email_carries_the_cramp_advice_of_science_10_9(high: dict[str, Any]) -> None:
    flat = " ".join(high["text"].split())
    for phrase in (
        "exercise-associated muscle cramp is multifactorial",
        "Neuromuscular fatigue",
        "fluid and sodium loss may contribute",
        "gently stretch the cramping muscle (calf, hamstrings or quadriceps)",
        "Stretching your calves, quads and hamstrings before and after exercise is widely recommended",
        "the evidence that it prevents cramps is limited",
        "Bananas, spinach and whole grains",
        "recovery nutrition",
        "salty foods",
        "frequent",
        "severe",
        "at rest or at night",
    ):
        assert phrase in flat, phrase


def test_it_renders_one_email_for_a_two_leg_event_with_unknown_intake_exactly_as_the_golden_files(
    make_session: MakeSession,
) -> None:
    # A bike and a run 5 min apart, nothing logged about drinking: one event, one email, no volume to drink.
    bike = make_session(
        start_time="2025-06-14T07:00:00Z", duration_s=10800.0, moving_time_s=10700.0, series=None,
        fluid={"intake_l": None, "sweat_l": 1.3, "sweat_l_low": 0.9, "sweat_l_high": 1.7, "deficit_l": 1.6},
        sodium={"mg": 1930.0, "mg_low": 965.0, "mg_high": 2895.0},
    )  # fmt: skip
    run = make_session(
        sport="running", start_time="2025-06-14T10:05:00Z", duration_s=5400.0, moving_time_s=5350.0,
        power=None, load={"hr_intensity": 0.87, "hrss": 110}, series=None,
        fluid={"intake_l": None, "sweat_l": 0.9, "sweat_l_low": 0.6, "sweat_l_high": 1.2, "deficit_l": 1.2},
        sodium={"mg": 1290.0, "mg_low": 645.0, "mg_high": 1935.0},
    )  # fmt: skip
    done = assess_event([bike, run], RiskContext(cramp_history="ever"), AlertPolicy())
    email = done.combined.model_copy(
        update={"risk": done.assessment.risk, "recommendations": done.assessment.recommendations}
    )
    assert done.assessment.recommendations.fluid_l is None
    payload = render_cramp_alert(
        session=email,
        user_email="tri@example.org",
        display_name="Kai",
        session_id=SESSION_ID,
        links=LINKS,
    )
    check_golden("cramp_risk_event_unknown_intake", payload)
    flat = " ".join(payload["text"].split())
    assert "subtract what you drank during the session and replace the rest" in flat
    assert "drink up to" not in flat


def test_it_names_observed_weather_as_the_source_of_the_conditions(make_session: MakeSession) -> None:
    session = metric_high_session(make_session)
    session["ambient"] = {**session["ambient"], "source": "weather"}
    payload = render_cramp_alert(
        session=session, user_email="x@example.org", display_name=None, session_id=SESSION_ID, links=LINKS
    )
    assert "31 °C, 45% humidity (observed weather near your route)" in " ".join(payload["text"].split())
