"""The Celery app. Every broker and worker setting lives here (reliability.md §2).

The database is the source of truth and the broker only carries ids: a lost message costs
latency (the sweeper re-enqueues stuck uploads), never data.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import worker_process_init

from core.settings import Settings, get_settings

# Used when no broker URL is configured and `sweatsync up` did not start one.
FALLBACK_BROKER_URL = "redis://127.0.0.1:6379/0"


def make_celery(settings: Settings) -> Celery:
    app = Celery("sweatsync", broker=settings.broker_url or FALLBACK_BROKER_URL, include=["workers.tasks"])
    transport = {
        "visibility_timeout": settings.broker_visibility_timeout_s,
        # kombu scans for messages whose worker vanished only every interval x throttle (10 x 10 s); a
        # broker restart then left in-flight tasks waiting 100 s past the visibility timeout. Scan every 10 s.
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 1,
        # The scan takes a lock key that expires; a broker killed mid-scan keeps it in its append-only file,
        # and with the default expiry no worker would scan for 5 minutes.
        "unacked_mutex_expire": 60,
    }
    app.conf.update(
        # At-least-once: ack after the task ran; a killed child puts its message back.
        task_acks_late=True,
        task_reject_on_worker_lost=True,  # safe because process_upload caps attempts in the DB
        worker_prefetch_multiplier=1,  # long tasks: don't hoard messages a crash would strand
        task_ignore_result=True,  # task state lives in the uploads table
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_soft_time_limit=settings.task_soft_time_limit_s,
        task_time_limit=settings.task_time_limit_s,
        broker_transport_options=transport,
        visibility_timeout=settings.broker_visibility_timeout_s,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        worker_max_memory_per_child=1_000_000,  # KiB; fitparse grows ~60-90x the file size
        worker_cancel_long_running_tasks_on_connection_loss=True,
        task_default_queue="sweatsync",
        timezone="UTC",
        # No ETA/countdown anywhere (celery#2481 family): periodic work runs from beat.
        beat_schedule={
            "sweep-stuck-uploads": {"task": "sweatsync.sweep", "schedule": settings.sweep_interval_s},
            "relay-outbox": {"task": "sweatsync.relay_outbox", "schedule": settings.relay_interval_s},
        },
    )
    return app


celery_app = make_celery(get_settings())


@worker_process_init.connect
def _fresh_connections_after_fork(**_: Any) -> None:
    # A forked child must not reuse the parent's pooled database connections.
    from core.db import dispose_engines

    dispose_engines()
