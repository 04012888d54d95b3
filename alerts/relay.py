"""The outbox relay: claim due rows, send them, record the outcome (reliability.md §4, tests R9–R11).

Three short transactions per batch, each through `core.db.unit_of_work`:
1. Claim: select due rows (pending and due, or `sending` whose lock expired because a relay died), with
   `FOR UPDATE SKIP LOCKED` on PostgreSQL (Zulip's deliver_scheduled_emails pattern). SQLite has no row
   locks, so every claim is also a compare-and-set on (id, status, attempts): two relays can never both
   win the same row. Claimed rows become `sending` with `locked_until`, `attempts + 1`; commit.
2. Send each row outside any transaction, with a Message-ID derived from its dedup key.
3. Mark: `sent`; or back to `pending` with exponential backoff and jitter on a transient error; or `failed`
   on a permanent error or when `max_attempts` is used up. No loops.

A reclaimed `sending` row may already have been delivered (a crash between the server's 250 and our commit):
it is logged with `possible_duplicate=true` and sent again with the same Message-ID.

Rows are routed by kind: `webhook` rows go to the webhook sender (alerts.webhook: an HTTPS POST signed with
the user's current secret to the user's current URL, both read at claim time, with `Idempotency-Key: <dedup
key>` so the receiver can drop the duplicate); every other kind is an email for the mail sender. Both share
the claim, backoff and permanent-failure bookkeeping; each has its own error classification. A webhook row
records its Idempotency-Key in `message_id`.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Table, and_, or_, select, update
from sqlalchemy.engine import Engine

from alerts import webhook
from alerts.dedup import WEBHOOK
from alerts.mail import (
    PERMANENT,
    FileOutboxSender,
    Sender,
    SmtpSender,
    build_message,
    classify_error,
    describe_error,
    domain_of,
    message_id_for,
)
from alerts.webhook import WebhookError, WebhookSender, webhook_body, webhook_sender_from_settings
from core.db import is_postgres, unit_of_work
from core.models import AlertOutbox, OutboxStatus, User
from core.settings import Settings, get_settings

log = logging.getLogger("sweatsync.alerts.relay")

_T = cast(Table, AlertOutbox.__table__)
_U = User.__table__


@dataclass
class RelayStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0  # transient error, rescheduled with backoff
    failed: int = 0  # permanent error, or attempts used up
    reclaimed: int = 0  # taken back from a relay that died mid-send: possible duplicates
    lost_lock: int = 0  # another relay took the row over before we sent it; skipped


@dataclass(frozen=True)
class _Claim:
    id: uuid.UUID
    dedup_key: str
    recipient: str
    payload: dict[str, Any]
    attempts: int  # after the claim's increment
    message_id: str  # the email's Message-ID; for a webhook row, its Idempotency-Key
    kind: str = ""
    user_id: uuid.UUID | None = None
    webhook_url: str | None = None  # webhook rows: the user's URL and secret as they are now
    webhook_secret: str | None = field(default=None, repr=False)


def backoff_delay_s(attempts: int, *, base_s: float, cap_s: float, rng: random.Random) -> float:
    """min(cap, base·2^(attempts−1)) · jitter in [0.8, 1.2]; `attempts` counts the one that just failed."""
    return min(cap_s, base_s * 2 ** max(0, attempts - 1)) * rng.uniform(0.8, 1.2)


def sender_from_settings(settings: Settings) -> SmtpSender | FileOutboxSender:
    """SMTP when SWEATSYNC_SMTP_URL is set, else .eml files in the outbox directory."""
    smtp = settings.smtp
    return SmtpSender(smtp) if smtp is not None else FileOutboxSender(settings.effective_outbox_dir)


def _claim(
    engine: Engine | None, *, now: datetime, limit: int, lock_s: float, max_attempts: int, domain: str,
    stats: RelayStats,
) -> list[_Claim]:  # fmt: skip
    claims: list[_Claim] = []
    with unit_of_work(engine) as uow:
        s = uow.session
        due = or_(
            and_(_T.c.status == OutboxStatus.PENDING, _T.c.next_attempt_at <= now),
            and_(
                _T.c.status == OutboxStatus.SENDING,
                or_(_T.c.locked_until.is_(None), _T.c.locked_until < now),
            ),
        )
        columns = (_T.c.id, _T.c.status, _T.c.attempts, _T.c.dedup_key, _T.c.recipient, _T.c.payload)
        stmt = (
            select(*columns, _T.c.kind, _T.c.user_id)
            .where(due)
            .order_by(_T.c.next_attempt_at, _T.c.id)
            .limit(limit)
        )
        if is_postgres(s):
            stmt = stmt.with_for_update(skip_locked=True)
        for row in s.execute(stmt).all():
            reclaimed = row.status == OutboxStatus.SENDING
            still = and_(_T.c.id == row.id, _T.c.status == row.status, _T.c.attempts == row.attempts)
            # A webhook row's "message id" is its Idempotency-Key: the dedup key itself.
            message_id = row.dedup_key if row.kind == WEBHOOK else message_id_for(row.dedup_key, domain)
            if row.attempts >= max_attempts:
                done = s.execute(
                    update(_T)
                    .where(still)
                    .values(
                        status=OutboxStatus.FAILED,
                        locked_until=None,
                        last_error=f"gave up after {row.attempts} attempts; the last one did not finish",
                    )
                )
                if cast(CursorResult[Any], done).rowcount == 1:
                    stats.failed += 1
                    stats.reclaimed += int(reclaimed)
                    log.error(
                        "alerts.relay.gave_up outbox_id=%s attempts=%d possible_duplicate=%s",
                        row.id, row.attempts, str(reclaimed).lower(),
                    )  # fmt: skip
                continue
            won = s.execute(
                update(_T)
                .where(still)
                .values(
                    status=OutboxStatus.SENDING,
                    locked_until=now + timedelta(seconds=lock_s),
                    attempts=row.attempts + 1,
                    message_id=message_id,
                )
            )
            if cast(CursorResult[Any], won).rowcount != 1:
                continue  # another relay claimed it between our select and update (SQLite only)
            if reclaimed:
                stats.reclaimed += 1
                log.warning(
                    "alerts.relay.reclaimed possible_duplicate=true outbox_id=%s dedup_key=%s message_id=%s "
                    "attempts=%d",
                    row.id, row.dedup_key, message_id, row.attempts,
                )  # fmt: skip
            claims.append(
                _Claim(
                    id=row.id,
                    dedup_key=row.dedup_key,
                    recipient=row.recipient,
                    payload=dict(row.payload),
                    attempts=row.attempts + 1,
                    message_id=message_id,
                    kind=row.kind,
                    user_id=row.user_id,
                )
            )
        claims = _with_webhook_targets(s, claims)
    stats.claimed = len(claims)
    return claims


def _with_webhook_targets(s: Any, claims: list[_Claim]) -> list[_Claim]:
    """Webhook rows go to their user's URL, signed with their secret, as they are NOW (never stored twice)."""
    owners = {c.user_id for c in claims if c.kind == WEBHOOK}
    if not owners:
        return claims
    rows = s.execute(select(_U.c.id, _U.c.webhook_url, _U.c.webhook_secret).where(_U.c.id.in_(owners)))
    targets = {r.id: (r.webhook_url, r.webhook_secret) for r in rows}
    out = []
    for c in claims:
        if c.kind == WEBHOOK:
            url, secret = targets.get(c.user_id, (None, None))
            c = replace(c, webhook_url=url, webhook_secret=secret)
        out.append(c)
    return out


def _renew_lock(engine: Engine | None, claim: _Claim, locked_until: datetime) -> bool:
    with unit_of_work(engine) as uow:
        res = uow.session.execute(
            update(_T)
            .where(_T.c.id == claim.id, _T.c.status == OutboxStatus.SENDING, _T.c.attempts == claim.attempts)
            .values(locked_until=locked_until)
        )
        return cast(CursorResult[Any], res).rowcount == 1


def _mark_sent(engine: Engine | None, claim: _Claim, when: datetime) -> None:
    # Delivered is the truth even if another relay took the row meanwhile: only never un-send.
    with unit_of_work(engine) as uow:
        uow.session.execute(
            update(_T)
            .where(_T.c.id == claim.id, _T.c.status != OutboxStatus.SENT)
            .values(
                status=OutboxStatus.SENT,
                sent_at=when,
                message_id=claim.message_id,
                locked_until=None,
                last_error=None,
            )
        )


def _mark_error(engine: Engine | None, claim: _Claim, values: dict[str, Any]) -> bool:
    with unit_of_work(engine) as uow:
        res = uow.session.execute(
            update(_T)
            .where(_T.c.id == claim.id, _T.c.status == OutboxStatus.SENDING, _T.c.attempts == claim.attempts)
            .values(locked_until=None, **values)
        )
        return cast(CursorResult[Any], res).rowcount == 1


def _release(engine: Engine | None, claims: Sequence[_Claim]) -> None:
    """Hand back claimed rows we never tried to send (we are stopping): no attempt is charged."""
    try:
        with unit_of_work(engine) as uow:
            for c in claims:
                uow.session.execute(
                    update(_T)
                    .where(_T.c.id == c.id, _T.c.status == OutboxStatus.SENDING, _T.c.attempts == c.attempts)
                    .values(status=OutboxStatus.PENDING, locked_until=None, attempts=c.attempts - 1)
                )
    except Exception:  # the database may be what failed; the locks expire on their own
        log.exception("alerts.relay.release_failed count=%d", len(claims))


def relay_due(
    *,
    engine: Engine | None = None,
    sender: Sender,
    now: datetime | None = None,
    limit: int = 50,
    backoff_base_s: float = 30.0,
    backoff_cap_s: float = 3600.0,
    max_attempts: int = 10,
    lock_s: float = 120,
    mail_from: str | None = None,
    rng: random.Random | None = None,
    webhook_sender: WebhookSender | None = None,
) -> RelayStats:
    """Send the outbox rows that are due, once each; returns counts. Safe to run in several processes.

    `now` pins the clock (tests advance it instead of sleeping); by default the wall clock is read at each
    step. `mail_from` defaults to Settings.mail_from; the Message-ID domain is taken from it. Email rows go
    to `sender`, webhook rows to `webhook_sender` (built from the settings when the first one is due).
    """
    if now is not None and now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    sender_address = mail_from or get_settings().mail_from
    domain = domain_of(sender_address)
    rng = rng or random.Random()
    stats = RelayStats()
    claim_now = now or datetime.now(UTC)
    started = time.monotonic()
    claims = _claim(
        engine,
        now=claim_now,
        limit=limit,
        lock_s=lock_s,
        max_attempts=max_attempts,
        domain=domain,
        stats=stats,
    )

    for index, claim in enumerate(claims):
        try:
            elapsed = time.monotonic() - started
            if elapsed > lock_s / 4 and not _renew_lock(
                engine, claim, claim_now + timedelta(seconds=elapsed + lock_s)
            ):
                stats.lost_lock += 1
                log.warning("alerts.relay.lost_lock outbox_id=%s", claim.id)
                continue
            try:
                if claim.kind == WEBHOOK:
                    webhook_sender = webhook_sender or webhook_sender_from_settings(get_settings())
                    _post_webhook(claim, webhook_sender)
                else:
                    message = build_message(
                        claim.payload,
                        sender=sender_address,
                        recipient=claim.recipient,
                        message_id=claim.message_id,
                        date=now,
                    )
                    sender.send(message, recipients=[claim.recipient])
            except Exception as exc:
                _record_error(
                    engine, claim, exc, now, stats, backoff_base_s, backoff_cap_s, max_attempts, rng
                )
                continue
            _mark_sent(engine, claim, now or datetime.now(UTC))
            stats.sent += 1
            log.info(
                "alerts.relay.sent outbox_id=%s message_id=%s attempts=%d",
                claim.id, claim.message_id, claim.attempts,
            )  # fmt: skip
        except BaseException:
            _release(engine, claims[index + 1 :])
            raise
    return stats


def _post_webhook(claim: _Claim, sender: WebhookSender) -> None:
    if not claim.webhook_url:
        raise WebhookError("the athlete removed the webhook URL; not sent")
    sender.send(
        claim.webhook_url,
        body=webhook_body(claim.payload),
        secret=claim.webhook_secret or "",
        idempotency_key=claim.dedup_key,
    )


def _record_error(
    engine: Engine | None, claim: _Claim, exc: Exception, now: datetime | None, stats: RelayStats,
    base_s: float, cap_s: float, max_attempts: int, rng: random.Random,
) -> None:  # fmt: skip
    when = now or datetime.now(UTC)
    classify: Callable[[BaseException], str] = classify_error
    describe: Callable[[BaseException], str] = describe_error
    if claim.kind == WEBHOOK:
        classify, describe = webhook.classify_error, webhook.describe_error
    error = describe(exc)
    if classify(exc) == PERMANENT:
        if _mark_error(engine, claim, {"status": OutboxStatus.FAILED, "last_error": error}):
            stats.failed += 1
        log.error("alerts.relay.failed outbox_id=%s permanent=true error=%s", claim.id, error)
        return
    if claim.attempts >= max_attempts:
        gave_up = {
            "status": OutboxStatus.FAILED,
            "last_error": f"gave up after {claim.attempts} attempts: {error}",
        }
        if _mark_error(engine, claim, gave_up):
            stats.failed += 1
        log.error("alerts.relay.gave_up outbox_id=%s attempts=%d error=%s", claim.id, claim.attempts, error)
        return
    delay = backoff_delay_s(claim.attempts, base_s=base_s, cap_s=cap_s, rng=rng)
    retry_after = getattr(exc, "retry_after_s", None)
    if isinstance(retry_after, int | float) and retry_after > delay:
        delay = min(float(retry_after), cap_s)  # the receiver asked for longer (429 / 503 Retry-After)
    values: dict[str, Any] = {
        "status": OutboxStatus.PENDING,
        "next_attempt_at": when + timedelta(seconds=delay),
        "last_error": error,
    }
    if _mark_error(engine, claim, values):
        stats.retried += 1
    log.warning(
        "alerts.relay.retry outbox_id=%s attempts=%d delay_s=%.3f error=%s",
        claim.id, claim.attempts, delay, error,
    )  # fmt: skip
