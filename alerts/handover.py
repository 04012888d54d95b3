"""Where a stored session meets the alerts: score, recommend, and queue the email if due."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.outbox import enqueue_cramp_alert, enqueue_webhook
from alerts.recommend import recommend
from alerts.risk import RiskContext, history_entry, score_risk
from core.models import CrampReport, Profile, User, WorkoutSession
from core.settings import get_settings
from core.signing import sign

HISTORY_RANK = {"none": 0, "ever": 1, "recent": 2}


def cramp_history(db: Session, *, profile: Profile | None, ws: WorkoutSession) -> str:
    """The stronger of the profile's answer and the athlete's own reports (science.md §4.2 "History").

    "recent" = a reported cramp in one of the last 10 sessions before this one; "ever" = any reported cramp.
    """
    stated = (profile.cramp_history if profile else None) or "none"
    before = select(WorkoutSession.id).where(WorkoutSession.user_id == ws.user_id, WorkoutSession.id != ws.id)
    if ws.start_time is not None:
        before = before.where(WorkoutSession.start_time < ws.start_time)
    last_ten = list(db.scalars(before.order_by(WorkoutSession.start_time.desc()).limit(10)))
    cramped = select(CrampReport.session_id).where(
        CrampReport.user_id == ws.user_id, CrampReport.cramped.is_(True)
    )
    reported = "none"
    if last_ten and db.scalar(cramped.where(CrampReport.session_id.in_(last_ten)).limit(1)) is not None:
        reported = "recent"
    elif db.scalar(cramped.limit(1)) is not None:
        reported = "ever"
    return max(stated, reported, key=HISTORY_RANK.__getitem__)


def risk_context(db: Session, *, profile: Profile | None, ws: WorkoutSession) -> RiskContext:
    previous: list[tuple[float | None, float | None]] = []
    sodium_24h = 0.0
    if ws.start_time is not None:
        rows = db.scalars(
            select(WorkoutSession).where(
                WorkoutSession.user_id == ws.user_id,
                WorkoutSession.id != ws.id,
                WorkoutSession.start_time >= ws.start_time - timedelta(days=28),
                WorkoutSession.start_time < ws.start_time,
            )
        )
        for other in rows:
            metrics = other.metrics or {}
            previous.append(history_entry(metrics))
            if other.start_time and other.start_time >= ws.start_time - timedelta(hours=24):
                sodium_24h += float((metrics.get("sodium") or {}).get("mg") or 0.0)
    return RiskContext(
        cramp_history=cramp_history(db, profile=profile, ws=ws),
        previous_28d=previous,
        sodium_24h_mg=sodium_24h,
        measured_sweat_sodium_mmol_l=profile.sweat_sodium_mmol_l if profile else None,
    )


def alert_links(user: User, ws: WorkoutSession) -> dict[str, str]:
    settings = get_settings()
    base = f"{settings.public_base_url}/v1/links"
    uid, sid = str(user.id), str(ws.id)
    return {
        "unsubscribe": f"{base}/{sign(settings, 'unsubscribe', uid)}",
        "cramped": f"{base}/{sign(settings, 'cramped', uid, sid)}",
        "no_cramp": f"{base}/{sign(settings, 'no_cramp', uid, sid)}",
        "session": f"{settings.public_base_url}/v1/sessions/{sid}",
        "profile": f"{settings.public_base_url}/docs#/profile",
    }


def assess_and_queue(
    db: Session, *, user: User, profile: Profile | None, workout_session: WorkoutSession
) -> int:
    """Add risk and recommendations to the session; queue one alert email when it is due."""
    ws = workout_session
    metrics: dict[str, Any] = dict(ws.metrics)
    metrics["risk"] = score_risk(metrics, risk_context(db, profile=profile, ws=ws))
    metrics["recommendations"] = recommend(metrics, metrics["risk"], units=user.units or "metric")
    ws.metrics = metrics
    db.flush()
    session_json = {"id": str(ws.id), "upload_id": str(ws.upload_id), **metrics}
    inserted = enqueue_cramp_alert(
        db, user=user, session_id=ws.id, session_json=session_json, links=alert_links(user, ws)
    )
    if user.webhook_url:  # integrators get every analysed session, whatever its tier
        inserted |= enqueue_webhook(db, user=user, session_id=ws.id, session_json=session_json)
    return 1 if inserted else 0
