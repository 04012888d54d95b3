"""Render the post-session cramp-risk email (pure: templates in, payload dict out).

One folder per email kind under `alerts/templates/<kind>/{subject.txt, body.txt, body.html}`. All numbers
are formatted here, in Python, with units and ranges; the templates only lay them out. HTML is autoescaped.
The payload is rendered once, at enqueue time, and stored in `alert_outbox.payload`; `alerts.mail` turns it
into a MIME message (and sanitizes every header value once more).

The session chart (alerts.chart) is drawn here too, once per alert: the payload keeps the PNG
(`payload["chart"]["png_b64"]`, about 10 KB) so a retried send attaches the same bytes without drawing again.
The HTML refers to it as `cid:<payload cid>`. A chart that cannot be drawn leaves no chart in the email.
"""

from __future__ import annotations

import base64
import re
import textwrap
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from alerts import fmt
from alerts.chart import chart_series, session_chart_png
from alerts.risk import MAX_SCORE
from core.result import Ambient, Fluid, Recommendations, Risk, SessionResult, Sodium

TEMPLATES = Path(__file__).parent / "templates"
KIND = "cramp_risk"

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")

SPORT_WORDS = {
    "cycling": "ride",
    "running": "run",
    "swimming": "swim",
    "walking": "walk",
    "hiking": "hike",
    "rowing": "row",
    "training": "workout",
    "multisport": "multisport event",  # the legs of one event (alerts.events.combine)
}

AMBIENT_SOURCES = {
    "override": "as you entered it",
    "weather": "observed weather near your route",
    "weather_message": "from your device's weather data",
    "head_unit": "from your bike computer's sensor, low confidence",
    "default": "assumed, no weather data",
}

PROFILE_FIELDS = {
    "mass_kg": "body mass",
    "height_m": "height",
    "sex": "sex",
    "age": "birth year",
    "hr_max": "maximum heart rate",
    "hr_rest": "resting heart rate",
    "lthr": "lactate-threshold heart rate",
    "ftp_w": "FTP (functional threshold power)",
}


def clean_text(value: str | None, *, max_len: int = 200) -> str:
    """One line of user text: control characters (CR, LF, NUL, ...) become spaces, runs collapse."""
    if not value:
        return ""
    return " ".join(_CONTROL.sub(" ", value).split())[:max_len].strip()


def _check_url(url: str, name: str) -> str:
    if not re.fullmatch(r"https?://[^\s<>\"'\x00-\x1f\x7f]+", url):
        raise ValueError(f"links[{name!r}] must be an absolute http(s) URL without spaces or quotes")
    return url


# A number and its unit stay on one line in the text body: "2.6–4.2 L", never "2.6–4.2" / "L".
_UNIT_GAP = re.compile(r"(?<=\d) (?=(?:L|mg|g|mmol/L|°C|°F|fl oz|h|min|bpm|kg|lb|mg/L)\b)")
_KEEP = "\x00"


def _fill(text: str, width: int, first: str, rest: str) -> str:
    glued = _UNIT_GAP.sub(_KEEP, text).replace("fl oz", f"fl{_KEEP}oz")
    out = textwrap.fill(
        glued,
        width=width,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return out.replace(_KEEP, " ")


def _bullet(text: str, width: int = 76) -> str:
    return _fill(text, width, "- ", "  ")


def _wrap(text: str, width: int = 76) -> str:
    return _fill(text, width, "", "")


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["bullet"] = _bullet
    env.filters["wrap"] = _wrap
    return env


def _when(result: SessionResult) -> tuple[str, str]:
    if result.start_time is None:
        return "", ""
    try:
        start = datetime.fromisoformat(result.start_time.replace("Z", "+00:00"))
    except ValueError:
        return "", ""
    if start.tzinfo is None:
        return start.strftime("%Y-%m-%d"), start.strftime("%Y-%m-%d %H:%M")
    return start.strftime("%Y-%m-%d"), start.strftime("%Y-%m-%d %H:%M UTC")


Fact = tuple[str, str]


def _time_facts(result: SessionResult) -> list[Fact]:
    facts = []
    duration_s, moving_s = result.duration_s, result.moving_time_s
    if duration_s is not None:
        facts.append(("Duration", fmt.duration(duration_s)))
    if moving_s is not None and (duration_s is None or fmt.duration(moving_s) != fmt.duration(duration_s)):
        facts.append(("Moving time", fmt.duration(moving_s)))
    return facts


def _effort_facts(result: SessionResult) -> list[Fact]:
    intensity, source = result.power.if_, "power"
    if intensity is None:
        intensity, source = result.load.hr_intensity, "heart rate"
    if intensity is not None:
        text = f"{intensity:.2f} of your threshold (from {source}; 1.00 = threshold effort)"
        facts = [("Intensity", text)]
    else:
        facts = [("Intensity", "not available (no power or heart-rate data)")]
    if result.heart_rate.avg_bpm is not None:
        facts.append(("Average heart rate", f"{result.heart_rate.avg_bpm:.0f} bpm"))
    return facts


def _sweat_fact(fluid: Fluid, units: str) -> Fact:
    if fluid.sweat_l is None:
        return ("Sweat loss", "not available")
    text = fmt.litres(fluid.sweat_l, units)
    low, high = fluid.sweat_l_low, fluid.sweat_l_high
    if low is not None and high is not None and round(low, 1) != round(high, 1):
        text += f" (likely {fmt.litres_range(low, high, units)})"
    if fluid.rate_l_per_h is not None:
        text += f", {fmt.litres(fluid.rate_l_per_h, units)} per hour"
    measured = fluid.source == "measured"
    return ("Sweat loss (measured by weighing)" if measured else "Sweat loss (estimated)", text)


def _deficit_fact(fluid: Fluid, units: str) -> Fact | None:
    deficit, pct, measured = fluid.deficit_l, fluid.body_mass_pct, fluid.source == "measured"
    if fluid.intake_l is None and not measured:
        return None  # unknown intake: the sweat loss is the figure; no deficit as if none was drunk (§10.7)
    if deficit is None:
        return None
    if deficit > 0:
        text = fmt.litres(deficit, units)
        if pct is not None and pct >= 0:
            text += f", {fmt.percent(pct)} of body mass"
        return ("Fluid deficit", text)
    notes = []
    if deficit < 0:
        notes.append(f"you drank {fmt.litres(-deficit, units)} more than you lost")
    if pct is not None and pct < 0 and measured:
        # Only a weigh-in shows a rise in mass; a model estimate only says intake exceeded the loss.
        notes.append(f"your body mass rose by {fmt.percent(-pct)}")
    return ("Fluid deficit", f"none ({'; '.join(notes)})" if notes else "none")


def _fluid_facts(fluid: Fluid, units: str) -> list[Fact]:
    intake = fluid.intake_l
    facts = [_sweat_fact(fluid, units)]
    facts.append(("Drinks logged", fmt.litres(intake, units) if intake is not None else "not logged"))
    deficit = _deficit_fact(fluid, units)
    return [*facts, deficit] if deficit is not None else facts


def _sodium_fact(sodium: Sodium) -> Fact:
    if sodium.mg is None:
        return ("Sodium loss", "not available")
    text = fmt.mg(sodium.mg)
    if sodium.mg_low is not None and sodium.mg_high is not None:
        text += f" (likely {fmt.mg_range(sodium.mg_low, sodium.mg_high)})"
    if sodium.concentration_mmol_l is not None:
        measured = sodium.concentration_source == "measured"
        text += (
            f", at a sweat sodium of {sodium.concentration_mmol_l:.0f} mmol/L "
            f"({'measured' if measured else 'assumed'})"
        )
    return ("Sodium loss (estimated)", text)


def _conditions_facts(ambient: Ambient, units: str) -> list[Fact]:
    if ambient.temp_c is None:
        return []
    text = fmt.temperature(ambient.temp_c, units)
    if ambient.humidity_pct is not None:
        text += f", {ambient.humidity_pct:.0f}% humidity"
    src = AMBIENT_SOURCES.get(str(ambient.source))
    if src:
        text += f" ({src})"
    return [("Conditions", text)]


def _facts(result: SessionResult, units: str) -> list[Fact]:
    """The email's table of figures, in reading order: time, effort, fluid, sodium, conditions."""
    return [
        *_time_facts(result),
        *_effort_facts(result),
        *_fluid_facts(result.fluid, units),
        _sodium_fact(result.sodium),
        *_conditions_facts(result.ambient, units),
    ]


def _assumptions(result: SessionResult) -> list[str]:
    out = []
    for item in result.assumptions:
        extra = item.model_extra or {}
        text = item.message or extra.get("reason") or extra.get("text")
        if text:
            out.append(clean_text(str(text), max_len=300))
    return [a for a in out if a]


def _personalise(result: SessionResult) -> list[str]:
    out = []
    for key, label in PROFILE_FIELDS.items():
        if getattr(result.inputs, key).source == "assumed":
            out.append(f"your {label}")
    if result.sodium.concentration_source != "measured":
        out.append("your sweat sodium from a sweat test")
    if result.fluid.intake_l is None:
        out.append("what you drank during the session")
    if result.fluid.source != "measured":
        out.append("your weight before and after a session (nude, towelled dry), for a measured sweat loss")
    return out


def _chart(
    result: SessionResult, *, session_id: str, sport: str, duration: str, units: str
) -> dict[str, Any] | None:
    """What the email needs to show the chart: Content-ID, alt text and the series to draw; or None."""
    series = chart_series(result.series.model_dump(mode="json"))
    if series is None:
        return None
    parts = []
    if "heart_rate" in series:
        parts.append("heart rate (bpm)")
    elif "power" in series:
        parts.append("power (W)")
    if "fluid_l" in series:
        fluid = result.fluid
        text = "cumulative fluid loss"
        sweat, low, high = fluid.sweat_l, fluid.sweat_l_low, fluid.sweat_l_high
        if sweat is not None:
            text += f", reaching about {fmt.litres(sweat, units)}"
            if low is not None and high is not None and round(low, 1) != round(high, 1):
                text += f" (likely {fmt.litres_range(low, high, units)})"
        parts.append(text)
    alt = f"Chart of your {duration + ' ' if duration else ''}{sport} over time: {'; '.join(parts)}."
    cid = f"session-chart.{re.sub(r'[^A-Za-z0-9-]', '', session_id)[:64] or 'session'}@sweatsync"
    png = session_chart_png(series, units=units)
    if png is None:
        return None
    return {"cid": cid, "alt": alt, "units": units, "png_b64": base64.b64encode(png).decode("ascii")}


def _assessed(session: Mapping[str, Any] | SessionResult) -> tuple[SessionResult, Risk, Recommendations]:
    """The result read once through the contract, with the risk and advice the email needs."""
    result = session if isinstance(session, SessionResult) else SessionResult.model_validate(session)
    risk, recs = result.risk, result.recommendations
    if risk is None or "tier" not in risk.model_fields_set:
        raise ValueError("session JSON has no risk result; score it before rendering")
    if recs is None or "messages" not in recs.model_fields_set:
        raise ValueError("session JSON has no recommendations; assess it (alerts.assess) before rendering")
    return result, risk, recs


def _reasons(risk: Risk) -> list[dict[str, Any]]:
    return [
        {"factor": str(r.factor), "points": int(r.points or 0), "reason": str(r.reason)}
        for r in risk.reasons
        if r.reason
    ]


def render_cramp_alert(
    *,
    session: Mapping[str, Any] | SessionResult,
    user_email: str,
    display_name: str | None,
    session_id: str,
    links: Mapping[str, str],
    units: str = "metric",
) -> dict[str, Any]:
    """Render the cramp-risk email for one session result (or its JSON) with its risk and recommendations.

    `links` needs "unsubscribe" (the one-click POST URL of RFC 8058); "session", "profile",
    "preferences" and the "did you cramp?" pair "cramped" / "no_cramp" are shown when present.
    Returns the outbox payload {"subject", "text", "html", "headers", "to_name"}, plus "chart"
    ({"cid", "units", "png_b64"}) when the session has a drawable `series`: the HTML then shows
    `<img src="cid:...">` and `alerts.mail.build_message` attaches the PNG.
    """
    fmt.check_units(units)
    result, risk, recs = _assessed(session)
    url = {name: _check_url(value, name) for name, value in links.items() if value}
    if "unsubscribe" not in url:
        raise ValueError("links['unsubscribe'] is required (List-Unsubscribe, RFC 8058)")
    name = clean_text(display_name, max_len=100)
    context = _context(
        result, risk, recs, name=name, user_email=user_email, session_id=session_id, units=units
    )
    context["links"] = {"session": "", "profile": "", "preferences": "", "cramped": "", "no_cramp": "", **url}
    env = _env()
    subject = clean_text(env.get_template(f"{KIND}/subject.txt").render(context), max_len=250)
    payload: dict[str, Any] = {
        "subject": subject,
        "text": env.get_template(f"{KIND}/body.txt").render(context),
        "html": env.get_template(f"{KIND}/body.html").render(context),
        "headers": {
            "List-Unsubscribe": f"<{url['unsubscribe']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
        "to_name": name or None,
    }
    chart = context["chart"]
    if chart is not None:
        payload["chart"] = {"cid": chart["cid"], "units": units, "png_b64": chart["png_b64"]}
    return payload


def _context(
    result: SessionResult, risk: Risk, recs: Recommendations, *, name: str, user_email: str, session_id: str,
    units: str,
) -> dict[str, Any]:  # fmt: skip
    """What the templates lay out: every figure already formatted, with its unit."""
    day, started = _when(result)
    sport = SPORT_WORDS.get(str(result.sport or "").lower(), "session")
    duration = fmt.duration(result.duration_s) if result.duration_s is not None else ""
    return {
        "name": name,
        "user_email": clean_text(user_email, max_len=320),
        "session_id": clean_text(str(session_id), max_len=64),
        "tier": str(risk.tier),
        "score": int(risk.score or 0),
        "reasons": _reasons(risk),
        "sport": sport,
        "day": day,
        "started": started,
        "duration": duration,
        "facts": _facts(result, units),
        "recs": recs,  # the stored advice, word for word: the email says what the session JSON and CLI say
        "assumptions": _assumptions(result),
        "personalise": _personalise(result),
        "max_score": MAX_SCORE,
        "units": units,
        "chart": _chart(result, session_id=str(session_id), sport=sport, duration=duration, units=units),
    }
