"""Alert channels: one small interface, one table keyed by the outbox kind (design.md "Tables where sets
grow").

A channel knows how to name an attempt (`message_id`), fill in what it needs at claim time (`prepare`), turn
an outbox row into what it sends and send it (`send`), and tell a transient failure from a permanent one
(`classify`, `describe`). The relay owns claiming, backoff and bookkeeping and never branches on the kind:
a new channel (a push notification, say) is one class and one entry in `channel_table`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts import mail, webhook
from alerts.dedup import ACCOUNT_EMAIL, CRAMP_RISK, WEBHOOK
from core.models import User


@dataclass(frozen=True)
class Claim:
    """One outbox row claimed by a relay for one attempt."""

    id: uuid.UUID
    dedup_key: str
    recipient: str
    payload: dict[str, Any]
    attempts: int  # after the claim's increment
    message_id: str  # the email's Message-ID; for a webhook row, its Idempotency-Key
    kind: str = ""
    user_id: uuid.UUID | None = None
    target: Mapping[str, Any] = field(default_factory=dict, repr=False)  # what `prepare` filled in


class Channel(Protocol):
    def message_id(self, dedup_key: str) -> str: ...

    def prepare(self, db: Session, claims: Sequence[Claim]) -> list[Claim]: ...

    def send(self, claim: Claim) -> None: ...

    def classify(self, exc: BaseException) -> str: ...  # mail.TRANSIENT or mail.PERMANENT

    def describe(self, exc: BaseException) -> str: ...


class EmailChannel:
    """A rendered payload becomes a MIME message (alerts.mail) and goes to the SMTP or file sender."""

    def __init__(self, sender: mail.Sender, *, mail_from: str, date: datetime | None = None) -> None:
        self.sender, self.mail_from, self.date = sender, mail_from, date
        self.domain = mail.domain_of(mail_from)

    def message_id(self, dedup_key: str) -> str:
        return mail.message_id_for(dedup_key, self.domain)

    def prepare(self, db: Session, claims: Sequence[Claim]) -> list[Claim]:
        return list(claims)

    def send(self, claim: Claim) -> None:
        message = mail.build_message(
            claim.payload,
            sender=self.mail_from,
            recipient=claim.recipient,
            message_id=claim.message_id,
            date=self.date,
        )
        self.sender.send(message, recipients=[claim.recipient])

    def classify(self, exc: BaseException) -> str:
        return mail.classify_error(exc)

    def describe(self, exc: BaseException) -> str:
        return mail.describe_error(exc)


class WebhookChannel:
    """An HTTPS POST signed with the user's current secret to the user's current URL, both read at claim
    time (never stored twice); the dedup key is the `Idempotency-Key` of every attempt."""

    def __init__(self, sender: Callable[[], webhook.WebhookSender]) -> None:
        self._make_sender = sender
        self._sender: webhook.WebhookSender | None = None

    def message_id(self, dedup_key: str) -> str:
        return dedup_key

    def prepare(self, db: Session, claims: Sequence[Claim]) -> list[Claim]:
        owners = {c.user_id for c in claims}
        users = User.__table__
        rows = db.execute(
            select(users.c.id, users.c.webhook_url, users.c.webhook_secret).where(users.c.id.in_(owners))
        )
        targets = {r.id: {"url": r.webhook_url, "secret": r.webhook_secret} for r in rows}
        return [replace(c, target=targets.get(c.user_id, {})) for c in claims]

    def send(self, claim: Claim) -> None:
        url = claim.target.get("url")
        if not url:
            raise webhook.WebhookError("the athlete removed the webhook URL; not sent")
        if self._sender is None:
            self._sender = self._make_sender()
        self._sender.send(
            url,
            body=webhook.webhook_body(claim.payload),
            secret=claim.target.get("secret") or "",
            idempotency_key=claim.dedup_key,
        )

    def classify(self, exc: BaseException) -> str:
        return webhook.classify_error(exc)

    def describe(self, exc: BaseException) -> str:
        return webhook.describe_error(exc)


def channel_table(email: EmailChannel, hooks: WebhookChannel) -> dict[str, Channel]:
    """The outbox kinds and who delivers each; the relay fails a row whose kind has no channel."""
    return {CRAMP_RISK: email, ACCOUNT_EMAIL: email, WEBHOOK: hooks}
