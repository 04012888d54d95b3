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

Rows are delivered by the channel their kind names in `alerts.channels.channel_table` (email, webhook): the
channel builds and sends, and classifies its own errors; the claim, backoff and permanent-failure bookkeeping
here are shared and never branch on the kind. The tuning (batch size, backoff, attempts, lock time) comes
from the settings (`SWEATSYNC_RELAY_*`); the arguments of `relay_due` override it.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Table, and_, or_, select, update
from sqlalchemy.engine import Engine

from alerts.channels import Channel, Claim, EmailChannel, WebhookChannel, channel_table
from alerts.mail import PERMANENT, FileOutboxSender, Sender, SmtpSender
from alerts.webhook import WebhookSender, webhook_sender_from_settings
from core.db import is_postgres, unit_of_work
from core.models import AlertOutbox, OutboxStatus
from core.settings import Settings, get_settings

log = logging.getLogger("sweatsync.alerts.relay")

_T = cast(Table, AlertOutbox.__table__)


@dataclass
class RelayStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0  # transient error, rescheduled with backoff
    failed: int = 0  # permanent error, or attempts used up
    reclaimed: int = 0  # taken back from a relay that died mid-send: possible duplicates
    lost_lock: int = 0  # another relay took the row over before we sent it; skipped


def backoff_delay_s(attempts: int, *, base_s: float, cap_s: float, rng: random.Random) -> float:
    """min(cap, base·2^(attempts−1)) · jitter in [0.8, 1.2]; `attempts` counts the one that just failed."""
    return min(cap_s, base_s * 2 ** max(0, attempts - 1)) * rng.uniform(0.8, 1.2)


def sender_from_settings(settings: Settings) -> SmtpSender | FileOutboxSender:
    """SMTP when SWEATSYNC_SMTP_URL is set, else .eml files in the outbox directory."""
    smtp = settings.smtp
    return SmtpSender(smtp) if smtp is not None else FileOutboxSender(settings.effective_outbox_dir)


def _due_rows(s: Any, *, now: datetime, limit: int) -> Sequence[Any]:
    """Pending rows that are due, and `sending` rows whose relay died (lock expired), oldest first."""
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
    return s.execute(stmt).all()


def _out_of_attempts(s: Any, still: Any, stats: RelayStats, row: Any) -> None:
    """A row whose last attempt never finished (its relay died) and that has no attempt left: failed."""
    reclaimed = row.status == OutboxStatus.SENDING
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


def _take(
    s: Any, still: Any, row: Any, *, message_id: str, now: datetime, lock_s: float, stats: RelayStats
) -> Claim | None:
    """Compare-and-set the row to `sending` under our lock; None when another relay won it first."""
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
        return None  # another relay claimed it between our select and update (SQLite only)
    if row.status == OutboxStatus.SENDING:
        stats.reclaimed += 1
        log.warning(
            "alerts.relay.reclaimed possible_duplicate=true outbox_id=%s dedup_key=%s message_id=%s "
            "attempts=%d",
            row.id, row.dedup_key, message_id, row.attempts,
        )  # fmt: skip
    return Claim(
        id=row.id,
        dedup_key=row.dedup_key,
        recipient=row.recipient,
        payload=dict(row.payload),
        attempts=row.attempts + 1,
        message_id=message_id,
        kind=row.kind,
        user_id=row.user_id,
    )


def _claim(
    engine: Engine | None, *, now: datetime, limit: int, lock_s: float, max_attempts: int,
    channels: dict[str, Channel], stats: RelayStats,
) -> list[Claim]:  # fmt: skip
    claims: list[Claim] = []
    with unit_of_work(engine) as uow:
        s = uow.session
        for row in _due_rows(s, now=now, limit=limit):
            still = and_(_T.c.id == row.id, _T.c.status == row.status, _T.c.attempts == row.attempts)
            channel = channels.get(row.kind)
            if channel is None:
                _give_up(s, still, stats, row, f"no channel delivers outbox rows of kind {row.kind!r}")
            elif row.attempts >= max_attempts:
                _out_of_attempts(s, still, stats, row)
            else:
                message_id = channel.message_id(row.dedup_key)
                claim = _take(s, still, row, message_id=message_id, now=now, lock_s=lock_s, stats=stats)
                claims += [claim] if claim is not None else []
        # Each channel fills in what it reads at claim time (a webhook: the user's URL and secret as now).
        claims = [c for kind, group in _by_kind(claims).items() for c in channels[kind].prepare(s, group)]
    stats.claimed = len(claims)
    return claims


def _by_kind(claims: list[Claim]) -> dict[str, list[Claim]]:
    groups: dict[str, list[Claim]] = {}
    for claim in claims:
        groups.setdefault(claim.kind, []).append(claim)
    return groups


def _give_up(s: Any, still: Any, stats: RelayStats, row: Any, error: str) -> None:
    failed = {"status": OutboxStatus.FAILED, "locked_until": None, "last_error": error}
    done = s.execute(update(_T).where(still).values(**failed))
    if cast(CursorResult[Any], done).rowcount == 1:
        stats.failed += 1
        log.error("alerts.relay.failed outbox_id=%s permanent=true error=%s", row.id, error)


def _renew_lock(engine: Engine | None, claim: Claim, locked_until: datetime) -> bool:
    with unit_of_work(engine) as uow:
        res = uow.session.execute(
            update(_T)
            .where(_T.c.id == claim.id, _T.c.status == OutboxStatus.SENDING, _T.c.attempts == claim.attempts)
            .values(locked_until=locked_until)
        )
        return cast(CursorResult[Any], res).rowcount == 1


def _mark_sent(engine: Engine | None, claim: Claim, when: datetime) -> None:
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


def _mark_error(engine: Engine | None, claim: Claim, values: dict[str, Any]) -> bool:
    with unit_of_work(engine) as uow:
        res = uow.session.execute(
            update(_T)
            .where(_T.c.id == claim.id, _T.c.status == OutboxStatus.SENDING, _T.c.attempts == claim.attempts)
            .values(locked_until=None, **values)
        )
        return cast(CursorResult[Any], res).rowcount == 1


def _release(engine: Engine | None, claims: Sequence[Claim]) -> None:
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


@dataclass(frozen=True)
class RelayTuning:
    """How the relay paces itself; `from_settings` reads SWEATSYNC_RELAY_*."""

    batch_size: int = 50
    backoff_base_s: float = 30.0
    backoff_cap_s: float = 3600.0
    max_attempts: int = 10
    lock_s: float = 120.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RelayTuning:
        return cls(
            batch_size=settings.relay_batch_size,
            backoff_base_s=settings.relay_backoff_base_s,
            backoff_cap_s=settings.relay_backoff_cap_s,
            max_attempts=settings.relay_max_attempts,
            lock_s=settings.relay_lock_s,
        )


def relay_due(
    *,
    engine: Engine | None = None,
    sender: Sender,
    now: datetime | None = None,
    limit: int | None = None,
    backoff_base_s: float | None = None,
    backoff_cap_s: float | None = None,
    max_attempts: int | None = None,
    lock_s: float | None = None,
    mail_from: str | None = None,
    rng: random.Random | None = None,
    webhook_sender: WebhookSender | None = None,
) -> RelayStats:
    """Send the outbox rows that are due, once each; returns counts. Safe to run in several processes.

    `now` pins the clock (tests advance it instead of sleeping); by default the wall clock is read at each
    step. `mail_from` defaults to Settings.mail_from; the Message-ID domain is taken from it. Email rows go
    to `sender`, webhook rows to `webhook_sender` (built from the settings when the first one is due).
    The tuning arguments left as None come from the settings (RelayTuning.from_settings).
    """
    if now is not None and now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    settings = get_settings()
    base = RelayTuning.from_settings(settings)
    tuning = RelayTuning(
        batch_size=limit if limit is not None else base.batch_size,
        backoff_base_s=backoff_base_s if backoff_base_s is not None else base.backoff_base_s,
        backoff_cap_s=backoff_cap_s if backoff_cap_s is not None else base.backoff_cap_s,
        max_attempts=max_attempts if max_attempts is not None else base.max_attempts,
        lock_s=lock_s if lock_s is not None else base.lock_s,
    )
    email = EmailChannel(sender, mail_from=mail_from or settings.mail_from, date=now)
    hooks = WebhookChannel(lambda: webhook_sender or webhook_sender_from_settings(get_settings()))
    return _relay(engine, channel_table(email, hooks), now, tuning, rng or random.Random())


def _relay(
    engine: Engine | None, channels: dict[str, Channel], now: datetime | None, tuning: RelayTuning,
    rng: random.Random,
) -> RelayStats:  # fmt: skip
    stats = RelayStats()
    claim_now = now or datetime.now(UTC)
    started = time.monotonic()
    claims = _claim(
        engine,
        now=claim_now,
        limit=tuning.batch_size,
        lock_s=tuning.lock_s,
        max_attempts=tuning.max_attempts,
        channels=channels,
        stats=stats,
    )
    for index, claim in enumerate(claims):
        try:
            elapsed = time.monotonic() - started
            if elapsed > tuning.lock_s / 4 and not _renew_lock(
                engine, claim, claim_now + timedelta(seconds=elapsed + tuning.lock_s)
            ):
                stats.lost_lock += 1
                log.warning("alerts.relay.lost_lock outbox_id=%s", claim.id)
                continue
            channel = channels[claim.kind]
            try:
                channel.send(claim)
            except Exception as exc:
                _record_error(engine, claim, exc, channel, now, stats, tuning, rng)
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


def _record_error(
    engine: Engine | None, claim: Claim, exc: Exception, channel: Channel, now: datetime | None,
    stats: RelayStats, tuning: RelayTuning, rng: random.Random,
) -> None:  # fmt: skip
    when = now or datetime.now(UTC)
    max_attempts, base_s, cap_s = tuning.max_attempts, tuning.backoff_base_s, tuning.backoff_cap_s
    error = channel.describe(exc)
    if channel.classify(exc) == PERMANENT:
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
