"""Where stored sessions meet the alerts: find each one's event, assess it, queue its one email if due.

The database reads live here (history, neighbours, earlier alerts); the decisions are alerts.assess's.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.assess import AlertPolicy, assess_event
from alerts.dedup import CRAMP_RISK, cramp_risk_key
from alerts.events import EVENT_GAP, Span, event_containing, span_of
from alerts.outbox import enqueue_cramp_alert, enqueue_webhook
from alerts.risk import RiskContext, history_entry
from core.db import is_postgres
from core.models import AlertOutbox, CrampReport, Profile, User, WorkoutSession
from core.result import Event, stored_result
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


def risk_context(
    db: Session, *, profile: Profile | None, ws: WorkoutSession, exclude: frozenset[uuid.UUID] = frozenset()
) -> RiskContext:
    """The athlete's history before `ws` (the first leg of its event); the event's own sessions excluded."""
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
            if other.id in exclude:
                continue
            result = stored_result(other)
            previous.append(history_entry(result))
            if other.start_time and other.start_time >= ws.start_time - timedelta(hours=24):
                sodium_24h += result.sodium.mg or 0.0
    return RiskContext(
        cramp_history=cramp_history(db, profile=profile, ws=ws),
        previous_28d=previous,
        sodium_24h_mg=sodium_24h,
        measured_sweat_sodium_mmol_l=profile.sweat_sodium_mmol_l if profile else None,
    )


def alert_links(user: User, ws: WorkoutSession) -> dict[str, str]:
    settings = get_settings()
    # Web pages (ingest.web): the signed links act without signing in; the others sign in first.
    base = f"{settings.public_base_url}/links"
    uid, sid = str(user.id), str(ws.id)
    return {
        "unsubscribe": f"{base}/{sign(settings, 'unsubscribe', uid)}",
        "cramped": f"{base}/{sign(settings, 'cramped', uid, sid)}",
        "no_cramp": f"{base}/{sign(settings, 'no_cramp', uid, sid)}",
        "session": f"{settings.public_base_url}/sessions/{sid}",
        "profile": f"{settings.public_base_url}/profile#alerts",
    }


def _span(ws: WorkoutSession) -> Span:
    return span_of(ws.id, ws.upload_id, ws.start_time, ws.duration_s)


def event_sessions(db: Session, ws: WorkoutSession) -> list[WorkoutSession]:
    """`ws` and the athlete's other sessions of the same event (§10.8), in time order."""
    if ws.start_time is None:
        return [ws]
    # Neighbours can chain: look a little further than one gap each way (a 24-h session is implausible).
    near = select(WorkoutSession).where(
        WorkoutSession.user_id == ws.user_id,
        WorkoutSession.start_time >= ws.start_time - timedelta(hours=30),
        WorkoutSession.start_time <= ws.start_time + timedelta(seconds=ws.duration_s or 0.0) + EVENT_GAP,
    )
    rows = {row.id: row for row in db.scalars(near)}
    same_file = select(WorkoutSession).where(WorkoutSession.upload_id == ws.upload_id)
    rows.update({row.id: row for row in db.scalars(same_file)})
    rows[ws.id] = ws
    group = event_containing([_span(row) for row in rows.values()], ws.id)
    return [rows[span.session_id] for span in group]


def already_alerted(db: Session, session_ids: list[uuid.UUID]) -> bool:
    """True when any session of the event already has its cramp-risk email queued or sent: never a second."""
    found = db.scalar(
        select(AlertOutbox.id)
        .where(AlertOutbox.kind == CRAMP_RISK, AlertOutbox.session_id.in_(session_ids))
        .limit(1)
    )
    return found is not None


def _assess_event(
    db: Session, *, user: User, profile: Profile | None, legs: list[WorkoutSession], now: datetime
) -> bool:
    """Score and advise on the event as one; store the outcome on every leg; queue its one email if due."""
    settings = get_settings()
    ids = [ws.id for ws in legs]
    policy = AlertPolicy(
        now=now,
        window_h=settings.alert_window_h,
        min_tier=user.alert_min_tier or "high",
        opted_out=bool(user.alerts_opt_out),
        already_alerted=already_alerted(db, ids),
    )
    context = risk_context(db, profile=profile, ws=legs[0], exclude=frozenset(ids))
    units = user.units or "metric"
    done = assess_event([stored_result(ws) for ws in legs], context, policy, units=units)
    assessment, combined = done.assessment, done.combined
    anchor = legs[0]
    event = None
    if len(legs) > 1:
        event = Event(
            key=cramp_risk_key(anchor.id),
            session_ids=[str(i) for i in ids],
            legs=len(legs),
            moving_time_s=combined.moving_time_s,
            sodium_mg=combined.sodium.mg,
        ).model_dump(mode="json")
    parts = assessment.as_json()
    for ws in legs:
        ws.metrics = {**(ws.metrics or {}), **parts, "event": event}
    db.flush()
    if not assessment.send:
        return False
    email = combined.model_copy(
        update={"risk": assessment.risk, "recommendations": assessment.recommendations}
    )
    return enqueue_cramp_alert(
        db, user=user, session_id=anchor.id, session_json=email, links=alert_links(user, anchor)
    )


def assess_and_queue(
    db: Session,
    *,
    user: User,
    profile: Profile | None,
    workout_session: WorkoutSession | None = None,
    sessions: list[WorkoutSession] | None = None,
    now: datetime | None = None,
) -> int:
    """Assess the events of newly stored (or recomputed) sessions; queue at most one email per event.

    `now` is the time of analysis (the wall clock by default): only events that ended within
    `Settings.alert_window_h` of it are emailed. Webhooks go out for every analysed session.
    """
    targets = sessions if sessions is not None else [workout_session] if workout_session is not None else []
    when = now or datetime.now(UTC)
    if is_postgres(db):
        # One athlete's hand-overs queue behind each other until commit, so two legs of one event arriving in
        # separate uploads at once cannot both miss the other's email. (SQLite serialises writers anyway.)
        # NO KEY UPDATE: it queues behind itself but not behind the key-share locks the new rows' foreign keys
        # already took on this user (a plain FOR UPDATE deadlocks against them).
        db.execute(select(User.id).where(User.id == user.id).with_for_update(key_share=True))
    queued, seen = 0, set[uuid.UUID]()
    for ws in targets:
        if ws.id in seen:
            continue
        legs = event_sessions(db, ws)
        seen.update(leg.id for leg in legs)
        queued += int(_assess_event(db, user=user, profile=profile, legs=legs, now=when))
    if user.webhook_url:  # integrators get every analysed session, whatever its tier
        for ws in targets:
            session_json = {"id": str(ws.id), "upload_id": str(ws.upload_id), **(ws.metrics or {})}
            queued += int(enqueue_webhook(db, user=user, session_id=ws.id, session_json=session_json))
    return queued
