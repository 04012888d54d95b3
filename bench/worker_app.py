"""The Celery app of the burst-scaling workers: the project's app, with the outbox relay routed to a queue of
its own. A burst then measures the analysis workers alone; the relay's emails go out afterwards, from one
process that consumes RELAY_QUEUE (`celery -A bench.worker_app:celery_app worker -Q sweatsync-relay`)."""

from __future__ import annotations

from workers.celery_app import celery_app

RELAY_QUEUE = "sweatsync-relay"
celery_app.conf.task_routes = {"sweatsync.relay_outbox": {"queue": RELAY_QUEUE}}

__all__ = ["RELAY_QUEUE", "celery_app"]
