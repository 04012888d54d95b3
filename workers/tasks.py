"""Thin Celery tasks: they take ids, call a service, and declare their retry policy."""

from __future__ import annotations

import logging
from uuid import UUID

from sqlalchemy.exc import OperationalError

from core.settings import get_settings
from workers import pipeline, sweeper
from workers.celery_app import celery_app

log = logging.getLogger(__name__)

# Transient infrastructure errors (database restarting, lock timeouts) are retried with backoff;
# everything about the file itself is recorded on the upload row by the pipeline, not raised.
_TRANSIENT = (OperationalError, ConnectionError, TimeoutError)


@celery_app.task(
    name="sweatsync.process_upload",
    autoretry_for=_TRANSIENT,
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=8,
)
def process_upload(upload_id: str) -> str:
    outcome = pipeline.process_upload(UUID(upload_id), settings=get_settings())
    for next_id in outcome.enqueue:
        process_upload.delay(str(next_id))
    if outcome.alerts_queued:
        relay_outbox.delay()
    return outcome.status


@celery_app.task(name="sweatsync.relay_outbox", autoretry_for=_TRANSIENT, retry_backoff=2, max_retries=5)
def relay_outbox() -> int:
    return sweeper.relay_outbox(get_settings())


@celery_app.task(name="sweatsync.recompute_session", autoretry_for=_TRANSIENT, retry_backoff=2, max_retries=5)
def recompute_session(session_id: str) -> str:
    return pipeline.recompute_session(UUID(session_id), settings=get_settings())


@celery_app.task(name="sweatsync.sweep", autoretry_for=_TRANSIENT, retry_backoff=2, max_retries=3)
def sweep() -> int:
    ids = sweeper.stuck_upload_ids(get_settings())
    for upload_id in ids:
        process_upload.delay(str(upload_id))
    if ids:
        log.warning("sweatsync.sweep.requeued", extra={"count": len(ids)})
    sweeper.relay_outbox(get_settings())
    return len(ids)
