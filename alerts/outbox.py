"""Write alerts to the transactional outbox (reliability.md §4).

Flushes only; the caller's unit of work commits.

The worker calls this in the SAME transaction that stores the session result, so the alert exists if and
only if the result does. `dedup_key` is UNIQUE and the insert is ON CONFLICT DO NOTHING, so reprocessing a
session (or ten concurrent runs of the same task) leaves exactly one row.

Two kinds of row: the cramp-risk email (`enqueue_cramp_alert`, only for the tiers the athlete wants) and the
outgoing webhook (`enqueue_webhook`, every analysed session of an athlete with a webhook URL; see
alerts.webhook for why). Neither ever raises for the athlete's settings: a refused webhook URL is logged and
skipped, so it can never roll back the session result it rides with.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from alerts.dedup import CRAMP_RISK, WEBHOOK, cramp_risk_key, webhook_key
from alerts.render import render_cramp_alert
from alerts.risk import should_alert
from alerts.webhook import WebhookUrlError, check_webhook_url, url_origin, webhook_payload
from core.models import AlertOutbox, OutboxStatus, User
from core.result import SessionResult

log = logging.getLogger("sweatsync.alerts.outbox")


def enqueue_alert(
    session: Session,
    *,
    user_id: uuid.UUID,
    session_id: uuid.UUID | None,
    kind: str,
    dedup_key: str,
    recipient: str,
    payload: Mapping[str, Any],
    now: datetime | None = None,
) -> bool:
    """Insert one pending outbox row unless its dedup key exists; True if a row was inserted."""
    dialect = session.get_bind().dialect.name
    inserts: dict[str, Callable[..., Any]] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
    if dialect not in inserts:
        raise NotImplementedError(f"outbox insert is not implemented for {dialect}")
    insert = inserts[dialect]
    when = now or datetime.now(UTC)
    session.flush()  # the user and session rows this one points at must reach the database first
    table = AlertOutbox.__table__
    stmt = (
        insert(table)
        .values(
            id=uuid.uuid4(),
            user_id=user_id,
            session_id=session_id,
            kind=kind,
            dedup_key=dedup_key,
            recipient=recipient,
            payload=dict(payload),
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=when,
            created_at=when,
        )
        .on_conflict_do_nothing(index_elements=[table.c.dedup_key])
        .returning(table.c.id)
    )
    return session.execute(stmt).scalar_one_or_none() is not None


def enqueue_cramp_alert(
    session: Session,
    *,
    user: User,
    session_id: uuid.UUID,
    session_json: Mapping[str, Any] | SessionResult,
    links: Mapping[str, str],
    now: datetime | None = None,
) -> bool:
    """The worker's hand-over: if the user wants this tier, render the email and enqueue it (flush only).

    `session_json` must already carry `risk`. Returns True only when a new outbox row was written.
    """
    result = session_json
    if not isinstance(result, SessionResult):
        result = SessionResult.model_validate(result)
    tier = result.risk.tier if result.risk is not None else None
    if tier is None:
        return False
    # A User not yet flushed has no column defaults applied: read None as the defaults.
    min_tier = user.alert_min_tier or "high"
    if not should_alert(tier=tier, min_tier=min_tier, opted_out=bool(user.alerts_opt_out)):
        return False
    payload = render_cramp_alert(
        session=result,
        user_email=user.email,
        display_name=user.display_name,
        session_id=str(session_id),
        links=links,
        units=user.units or "metric",
    )
    return enqueue_alert(
        session,
        user_id=user.id,
        session_id=session_id,
        kind=CRAMP_RISK,
        dedup_key=cramp_risk_key(session_id),
        recipient=user.email,
        payload=payload,
        now=now,
    )


def enqueue_webhook(
    session: Session,
    *,
    user: User,
    session_id: uuid.UUID,
    session_json: Mapping[str, Any],
    now: datetime | None = None,
    allow_insecure_localhost: bool = False,
) -> bool:
    """Queue the webhook call for one analysed session, whatever its risk tier (flush only).

    Returns True only when a new outbox row was written. False, with nothing written, when the user has no
    webhook URL, or when the URL is refused (not https://, credentials in it, ...) or there is no signing
    secret: then a warning `alerts.webhook.refused` names the reason. It never raises for those, so a bad
    setting cannot roll back the session result. The outbox row holds the event and the URL's origin only;
    the relay reads the current URL and secret from the user row when it sends.
    """
    url = user.webhook_url
    if not url:
        return False
    try:
        check_webhook_url(url, allow_insecure_localhost=allow_insecure_localhost)
        if not user.webhook_secret:
            raise WebhookUrlError("the athlete has no webhook secret to sign calls with")
    except WebhookUrlError as exc:
        log.warning("alerts.webhook.refused user_id=%s session_id=%s reason=%s", user.id, session_id, exc)
        return False
    when = now or datetime.now(UTC)
    payload = webhook_payload(session_json, session_json.get("risk"), session_id=session_id, created_at=when)
    return enqueue_alert(
        session,
        user_id=user.id,
        session_id=session_id,
        kind=WEBHOOK,
        dedup_key=webhook_key(session_id),
        recipient=url_origin(url),
        payload=payload,
        now=when,
    )
