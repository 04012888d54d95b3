"""Periodic recovery: re-enqueue uploads a lost message left behind, and send due alerts."""

from __future__ import annotations

import uuid
from datetime import timedelta

from alerts.relay import relay_due, sender_from_settings
from core.db import unit_of_work
from core.models import utcnow
from core.settings import Settings
from workers import repository as repo


def stuck_upload_ids(settings: Settings) -> list[uuid.UUID]:
    now = utcnow()
    with unit_of_work() as uow:
        ids = repo.stuck_uploads(
            uow.session, older_than=now - timedelta(seconds=settings.stuck_after_s), now=now
        )
        repo.mark_resent(uow.session, ids, now=now)  # a long backlog is not resent at every sweep
        return ids


def relay_outbox(settings: Settings) -> int:
    stats = relay_due(sender=sender_from_settings(settings), mail_from=settings.mail_from)
    return stats.sent
