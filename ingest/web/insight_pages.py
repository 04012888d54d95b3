"""Trends across sessions, and Plan a session."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select

from core.db import unit_of_work
from core.models import CrampReport, WeighIn, WorkoutSession
from core.result import stored_result
from ingest.plan import PlanIn, plan_session
from ingest.web.charts import bar_chart, scatter_chart
from ingest.web.core import checked_form, form_float, form_str, render, require_user

router = APIRouter(include_in_schema=False)


@router.get("/trends")
def trends_page(request: Request) -> Response:
    user, v = require_user(request)
    with unit_of_work() as uow:
        db = uow.session
        sessions = list(
            db.scalars(
                select(WorkoutSession)
                .where(WorkoutSession.user_id == user.id)
                .order_by(WorkoutSession.start_time)
            )
        )
        weighed = set(db.scalars(select(WeighIn.session_id).where(WeighIn.user_id == user.id)))
        reports = list(
            db.execute(
                select(CrampReport.cramped, WorkoutSession.start_time, WorkoutSession.id)
                .join(WorkoutSession, WorkoutSession.id == CrampReport.session_id)
                .where(CrampReport.user_id == user.id)
                .order_by(WorkoutSession.start_time)
            )
        )
    points: list[tuple[float, float, bool]] = []
    weekly: dict[str, float] = defaultdict(float)
    for ws in sessions:
        r = stored_result(ws)
        temp, rate = r.ambient.temp_c, r.fluid.rate_l_per_h
        if temp is not None and rate is not None:
            points.append((float(temp), float(rate), ws.id in weighed))
        if ws.start_time is not None:
            monday = (ws.start_time - timedelta(days=ws.start_time.weekday())).date()
            weekly[monday.isoformat()] += float(r.load.trimp_banister or 0.0)
    weeks = sorted(weekly.items())[-16:]
    return render(
        request,
        v,
        "trends.html",
        title="Trends",
        sessions=len(sessions),
        sweat_chart=scatter_chart(
            title="Sweat rate against air temperature",
            x_label="air temperature °C",
            y_label="sweat L/h",
            points=points,
            chart_id="chart-sweat-temp",
        ),
        load_chart=bar_chart(
            title="Weekly training load (TRIMP)",
            unit="TRIMP",
            bars=[(w[5:], v) for w, v in weeks],
            chart_id="chart-weekly-load",
        ),
        weeks=weeks,
        reports=reports,
        measured=sum(1 for p in points if p[2]),
    )


def _plan_form(form: Any) -> dict[str, Any]:
    return {
        "sport": form_str(form, "sport") or "cycling",
        "duration_min": form_float(form, "duration_min"),
        "power_w": form_float(form, "power_w"),
        "pace_min_per_km": _pace(form_str(form, "pace")),
        "pace": form_str(form, "pace", 10),
        "heart_rate_bpm": form_float(form, "heart_rate_bpm"),
        "temp_c": form_float(form, "temp_c"),
        "humidity_pct": form_float(form, "humidity_pct") if form_str(form, "humidity_pct") else 50.0,
        "indoor": form_str(form, "indoor") == "indoor",
    }


def _pace(text: str) -> float | None:
    """ "5:30" or "5.5" minutes per km."""
    if not text:
        return None
    try:
        if ":" in text:
            minutes, seconds = text.split(":", 1)
            return int(minutes) + int(seconds) / 60
        return float(text.replace(",", "."))
    except ValueError:
        return -1.0  # refused by PlanIn's bounds with a sentence


@router.get("/plan")
def plan_page(request: Request) -> Response:
    _, v = require_user(request)
    return render(request, v, "plan.html", title="Plan a session", values={})


@router.post("/plan")
async def plan(request: Request) -> Response:
    user, v = require_user(request)
    form = await checked_form(request)
    values = _plan_form(form)
    try:
        body = PlanIn(**{k: v for k, v in values.items() if k != "pace"})
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(x) for x in first.get("loc", ())) or "the form"
        message = str(first.get("msg", "")).removeprefix("Value error, ")
        return render(
            request,
            v,
            "plan.html",
            422,
            title="Plan a session",
            values=values,
            error=f"Check {where.replace('_', ' ') if where else 'the form'}: {message}.",
        )
    with unit_of_work() as uow:
        result = plan_session(uow.session, user_id=user.id, plan=body)
    return render(request, v, "plan.html", title="Plan a session", values=values, result=result)
