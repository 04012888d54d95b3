"""Where a stored session meets the alerts: score, recommend, and queue the email if due."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.dedup import cramp_risk_key
from alerts.outbox import enqueue_alert
from alerts.recommend import recommend
from alerts.render import render_cramp_alert
from alerts.risk import RiskContext, score_risk
from core.models import Profile, User, WorkoutSession
from core.settings import get_settings
from core.signing import sign

TIER_RANK = {"low": 0, "moderate": 1, "high": 2}


def risk_context(db: Session, *, profile: Profile | None, ws: WorkoutSession) -> RiskContext:
    previous: list[tuple[float, float | None]] = []
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
            previous.append((float(other.duration_s or 0.0), (metrics.get("power") or {}).get("tss")))
            if other.start_time and other.start_time >= ws.start_time - timedelta(hours=24):
                sodium_24h += float((metrics.get("sodium") or {}).get("mg") or 0.0)
    return RiskContext(
        cramp_history=(profile.cramp_history if profile else None) or "none",
        previous_28d=previous,
        sodium_24h_mg=sodium_24h,
        measured_sweat_sodium_mmol_l=profile.sweat_sodium_mmol_l if profile else None,
    )


def wants_alert(user: User, tier: str) -> bool:
    if user.alerts_opt_out:
        return False
    return TIER_RANK.get(tier, 0) >= TIER_RANK.get(user.alert_min_tier or "high", 2)


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
    metrics["recommendations"] = recommend(metrics, metrics["risk"])
    ws.metrics = metrics
    db.flush()
    if not wants_alert(user, metrics["risk"]["tier"]):
        return 0
    session_json = {**metrics, "id": str(ws.id), "upload_id": str(ws.upload_id)}
    payload = render_cramp_alert(
        session=session_json,
        user_email=user.email,
        display_name=user.display_name,
        session_id=str(ws.id),
        links=alert_links(user, ws),
        units=user.units or "metric",
    )
    inserted = enqueue_alert(
        db,
        user_id=user.id,
        session_id=ws.id,
        kind="cramp_risk",
        dedup_key=cramp_risk_key(ws.id),
        recipient=user.email,
        payload=payload,
    )
    return 1 if inserted else 0
