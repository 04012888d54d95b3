"""The session result names the weather it used, or why none was used, where the email and CLI show it."""

from __future__ import annotations

from typing import Any

from alerts.assess import AlertPolicy, assess
from alerts.render import render_cramp_alert
from alerts.risk import RiskContext
from core.result import Ambient, SessionResult
from workers.physiology.inputs import WeatherObservation
from workers.weather import WeatherLookup, annotate

OBS = WeatherObservation(temp_c=27.5, humidity_pct=64.0, wind_ms=3.2, samples=3, lat=52.5, lon=13.4)
LINKS = {"unsubscribe": "https://sweatsync.example.org/u/one-click?t=abc"}


def result(source: str) -> SessionResult:
    return SessionResult(
        sport="cycling", duration_s=5400.0, ambient=Ambient(temp_c=20.0, humidity_pct=50.0, source=source)
    )


def email_text(session: SessionResult) -> str:
    body: dict[str, Any] = session.to_json()
    done = assess(
        body, RiskContext(cramp_history="recent", previous_28d=[], sodium_24h_mg=0.0), AlertPolicy()
    )
    body.update(risk=done.risk, recommendations=done.recommendations)
    mail = render_cramp_alert(
        session=body, user_email="a@example.com", display_name=None, session_id="s1", links=LINKS
    )
    return str(mail["text"])


def test_a_used_observation_is_recorded_and_named_in_the_emails_assumptions() -> None:
    session = result("weather")
    annotate(session, WeatherLookup(OBS, "used", None, [{"hour": "2025-06-21T09:00:00+00:00"}]))

    assert session.ambient.weather_lookup is not None
    assert (session.ambient.weather_lookup.status, session.ambient.weather_lookup.provider) == (
        "used",
        "open-meteo",
    )
    (note,) = session.assumptions
    assert note.source == "weather" and note.value == {"temp_c": 27.5, "humidity_pct": 64.0}
    assert "observed weather (open-meteo) near your route, averaged over 3 hours" in " ".join(
        email_text(session).split()
    )


def test_an_unavailable_provider_names_the_reason_and_the_fallback() -> None:
    session = result("head_unit")
    annotate(session, WeatherLookup(None, "unavailable", "the weather service could not be reached"))

    (note,) = session.assumptions
    assert note.message.startswith(
        "No weather observation was used (the weather service could not be reached); the air temperature "
        "is from your bike computer's sensor."
    )
    assert (
        session.ambient.weather_lookup is not None and session.ambient.weather_lookup.status == "unavailable"
    )


def test_an_override_or_lookups_turned_off_add_no_note_but_the_lookup_is_still_recorded() -> None:
    overridden, off = result("override"), result("default")
    annotate(overridden, WeatherLookup(None, "unavailable", "the weather service could not be reached"))
    annotate(off, WeatherLookup(None, "off", "weather lookups are turned off on this server"))

    assert overridden.assumptions == [] and off.assumptions == []
    assert off.ambient.weather_lookup is not None
    assert off.ambient.weather_lookup.reason == "weather lookups are turned off on this server"
