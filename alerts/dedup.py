"""The ONLY place alert dedup keys are built.

Keys come from stable identifiers only (never versions, dates formatted for humans, or scores), so
recomputing a session after an `algorithm_version` bump produces the same key and the UNIQUE constraint
on `alert_outbox.dedup_key` turns the second insert into a no-op: no re-alert (reliability.md D2).
"""

from __future__ import annotations

import uuid

CRAMP_RISK = "cramp_risk"
# Password-reset and invitation emails (ingest.accounts); each has a random key: every request is one email.
ACCOUNT_EMAIL = "account_email"


def _canonical_id(value: uuid.UUID | str) -> str:
    # "5F1C...", "5f1c..." and the hyphen-less form all name the same session: one key.
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


def cramp_risk_key(session_id: uuid.UUID | str) -> str:
    """Dedup key of the post-session cramp-risk alert: `cramp_risk:{session_id}`."""
    return f"{CRAMP_RISK}:{_canonical_id(session_id)}"


WEBHOOK = "webhook"


def webhook_key(session_id: uuid.UUID | str) -> str:
    """Dedup key of the outgoing webhook call for one analysed session: `webhook:{session_id}`.

    It is also the `Idempotency-Key` header of every attempt, so a receiver can drop a retry.
    """
    return f"{WEBHOOK}:{_canonical_id(session_id)}"
