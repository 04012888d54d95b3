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


def _when(session: Mapping[str, Any]) -> tuple[str, str]:
    raw = session.get("start_time")
    if not isinstance(raw, str):
        return "", ""
    try:
        start = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return "", ""
    if start.tzinfo is None:
        return start.strftime("%Y-%m-%d"), start.strftime("%Y-%m-%d %H:%M")
    return start.strftime("%Y-%m-%d"), start.strftime("%Y-%m-%d %H:%M UTC")


def _facts(session: Mapping[str, Any], units: str) -> list[tuple[str, str]]:
    facts: list[tuple[str, str]] = []
    duration_s = fmt.as_number(session.get("duration_s"))
    if duration_s is not None:
        facts.append(("Duration", fmt.duration(duration_s)))
    moving_s = fmt.as_number(session.get("moving_time_s"))
    if moving_s is not None and (duration_s is None or fmt.duration(moving_s) != fmt.duration(duration_s)):
        facts.append(("Moving time", fmt.duration(moving_s)))

    power, load = fmt.section(session, "power"), fmt.section(session, "load")
    intensity, source = fmt.as_number(power.get("if")), "power"
    if intensity is None:
        intensity, source = fmt.as_number(load.get("hr_intensity")), "heart rate"
    if intensity is not None:
        text = f"{intensity:.2f} of your threshold (from {source}; 1.00 = threshold effort)"
        facts.append(("Intensity", text))
    else:
        facts.append(("Intensity", "not available (no power or heart-rate data)"))
    avg_hr = fmt.as_number(fmt.section(session, "heart_rate").get("avg_bpm"))
    if avg_hr is not None:
        facts.append(("Average heart rate", f"{avg_hr:.0f} bpm"))

    fluid = fmt.section(session, "fluid")
    sweat = fmt.as_number(fluid.get("sweat_l"))
    measured = fluid.get("source") == "measured"
    if sweat is not None:
        text = fmt.litres(sweat, units)
        low, high = fmt.as_number(fluid.get("sweat_l_low")), fmt.as_number(fluid.get("sweat_l_high"))
        if low is not None and high is not None and round(low, 1) != round(high, 1):
            text += f" (likely {fmt.litres_range(low, high, units)})"
        rate = fmt.as_number(fluid.get("rate_l_per_h"))
        if rate is not None:
            text += f", {fmt.litres(rate, units)} per hour"
        label = "Sweat loss (measured by weighing)" if measured else "Sweat loss (estimated)"
        facts.append((label, text))
    else:
        facts.append(("Sweat loss", "not available"))
    intake = fmt.as_number(fluid.get("intake_l"))
    facts.append(("Drinks logged", fmt.litres(intake, units) if intake is not None else "not logged"))
    deficit = fmt.as_number(fluid.get("deficit_l"))
    pct = fmt.as_number(fluid.get("body_mass_pct"))
    if intake is None and not measured:
        pass  # unknown intake: the sweat loss above is the figure; no deficit as if nothing was drunk (§10.7)
    elif deficit is not None and deficit > 0:
        text = fmt.litres(deficit, units)
        if pct is not None and pct >= 0:
            text += f", {fmt.percent(pct)} of body mass"
        facts.append(("Fluid deficit", text))
    elif deficit is not None:
        notes = []
        if deficit < 0:
            notes.append(f"you drank {fmt.litres(-deficit, units)} more than you lost")
        if pct is not None and pct < 0 and fluid.get("source") == "measured":
            # Only a weigh-in shows a rise in mass; a model estimate only says intake exceeded the loss.
            notes.append(f"your body mass rose by {fmt.percent(-pct)}")
        facts.append(("Fluid deficit", f"none ({'; '.join(notes)})" if notes else "none"))

    sodium = fmt.section(session, "sodium")
    na = fmt.as_number(sodium.get("mg"))
    if na is not None:
        text = fmt.mg(na)
        low, high = fmt.as_number(sodium.get("mg_low")), fmt.as_number(sodium.get("mg_high"))
        if low is not None and high is not None:
            text += f" (likely {fmt.mg_range(low, high)})"
        conc = fmt.as_number(sodium.get("concentration_mmol_l"))
        if conc is not None:
            measured_na = sodium.get("concentration_source") == "measured"
            text += f", at a sweat sodium of {conc:.0f} mmol/L ({'measured' if measured_na else 'assumed'})"
        facts.append(("Sodium loss (estimated)", text))
    else:
        facts.append(("Sodium loss", "not available"))

    ambient = fmt.section(session, "ambient")
    temp = fmt.as_number(ambient.get("temp_c"))
    if temp is not None:
        text = fmt.temperature(temp, units)
        rh = fmt.as_number(ambient.get("humidity_pct"))
        if rh is not None:
            text += f", {rh:.0f}% humidity"
        src = AMBIENT_SOURCES.get(str(ambient.get("source")))
        if src:
            text += f" ({src})"
        facts.append(("Conditions", text))
    return facts


def _assumptions(session: Mapping[str, Any]) -> list[str]:
    out = []
    for item in session.get("assumptions") or []:
        if isinstance(item, str):
            out.append(clean_text(item, max_len=300))
        elif isinstance(item, Mapping):
            text = item.get("message") or item.get("reason") or item.get("text")
            if text:
                out.append(clean_text(str(text), max_len=300))
    return [a for a in out if a]


def _personalise(session: Mapping[str, Any]) -> list[str]:
    out = []
    inputs = fmt.section(session, "inputs")
    for key, label in PROFILE_FIELDS.items():
        entry = inputs.get(key)
        if isinstance(entry, Mapping) and entry.get("source") == "assumed":
            out.append(f"your {label}")
    if fmt.section(session, "sodium").get("concentration_source") != "measured":
        out.append("your sweat sodium from a sweat test")
    fluid = fmt.section(session, "fluid")
    if fluid.get("intake_l") is None:
        out.append("what you drank during the session")
    if fluid.get("source") != "measured":
        out.append("your weight before and after a session (nude, towelled dry), for a measured sweat loss")
    return out


def _chart(
    session: Mapping[str, Any], *, session_id: str, sport: str, duration: str, units: str
) -> dict[str, Any] | None:
    """What the email needs to show the chart: Content-ID, alt text and the series to draw; or None."""
    series = chart_series(session.get("series") if isinstance(session.get("series"), Mapping) else None)
    if series is None:
        return None
    parts = []
    if "heart_rate" in series:
        parts.append("heart rate (bpm)")
    elif "power" in series:
        parts.append("power (W)")
    if "fluid_l" in series:
        fluid = fmt.section(session, "fluid")
        text = "cumulative fluid loss"
        sweat, low, high = (fmt.as_number(fluid.get(k)) for k in ("sweat_l", "sweat_l_low", "sweat_l_high"))
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


def render_cramp_alert(
    *,
    session: Mapping[str, Any],
    user_email: str,
    display_name: str | None,
    session_id: str,
    links: Mapping[str, str],
    units: str = "metric",
) -> dict[str, Any]:
    """Render the cramp-risk email for one session JSON that already carries its `risk` and `recommendations`.

    `links` needs "unsubscribe" (the one-click POST URL of RFC 8058); "session", "profile",
    "preferences" and the "did you cramp?" pair "cramped" / "no_cramp" are shown when present.
    Returns the outbox payload {"subject", "text", "html", "headers", "to_name"}, plus "chart"
    ({"cid", "units", "png_b64"}) when the session has a drawable `series`: the HTML then shows
    `<img src="cid:...">` and `alerts.mail.build_message` attaches the PNG.
    """
    fmt.check_units(units)
    risk = session.get("risk")
    if not isinstance(risk, Mapping) or "tier" not in risk:
        raise ValueError("session JSON has no risk result; score it before rendering")
    url = {name: _check_url(value, name) for name, value in links.items() if value}
    if "unsubscribe" not in url:
        raise ValueError("links['unsubscribe'] is required (List-Unsubscribe, RFC 8058)")

    stored = session.get("recommendations")
    if not isinstance(stored, Mapping) or "messages" not in stored:
        raise ValueError("session JSON has no recommendations; assess it (alerts.assess) before rendering")
    # The stored advice, word for word: the email says what the session JSON and the CLI say.
    recs = {"notices": [], **stored}
    day, started = _when(session)
    duration_s = fmt.as_number(session.get("duration_s"))
    sport = SPORT_WORDS.get(str(session.get("sport") or "").lower(), "session")
    name = clean_text(display_name, max_len=100)
    duration = fmt.duration(duration_s) if duration_s is not None else ""
    chart = _chart(session, session_id=str(session_id), sport=sport, duration=duration, units=units)
    context = {
        "name": name,
        "user_email": clean_text(user_email, max_len=320),
        "session_id": clean_text(str(session_id), max_len=64),
        "tier": str(risk["tier"]),
        "score": int(risk.get("score") or 0),
        "reasons": [
            {"factor": str(r.get("factor")), "points": int(r.get("points") or 0), "reason": str(r["reason"])}
            for r in risk.get("reasons") or []
            if r.get("reason")
        ],
        "sport": sport,
        "day": day,
        "started": started,
        "duration": duration,
        "facts": _facts(session, units),
        "recs": recs,
        "assumptions": _assumptions(session),
        "personalise": _personalise(session),
        "links": {"session": "", "profile": "", "preferences": "", "cramped": "", "no_cramp": "", **url},
        "max_score": MAX_SCORE,
        "units": units,
        "chart": chart,
    }
    env = _env()
    subject = clean_text(env.get_template(f"{KIND}/subject.txt").render(context), max_len=250)
    text = env.get_template(f"{KIND}/body.txt").render(context)
    html = env.get_template(f"{KIND}/body.html").render(context)
    payload: dict[str, Any] = {
        "subject": subject,
        "text": text,
        "html": html,
        "headers": {
            "List-Unsubscribe": f"<{url['unsubscribe']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
        "to_name": name or None,
    }
    if chart is not None:
        payload["chart"] = {"cid": chart["cid"], "units": units, "png_b64": chart["png_b64"]}
    return payload
