"""Database access for the workers. Only flushes; `core.db.unit_of_work` commits."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from core.models import BodyWeight, Profile, Upload, UploadStatus, User, WeighIn, WorkoutSession, utcnow
from core.result import SessionResult
from workers.formats.fingerprint import is_same_activity

HOSTNAME = socket.gethostname()
# Uploads this process is working on right now. A lease that names this process but is not in here was
# left by an attempt of ours that already ended (a database error mid-store): it can be retaken at once.
_ACTIVE: set[uuid.UUID] = set()
_ACTIVE_LOCK = threading.Lock()


@contextmanager
def working_on(upload_id: uuid.UUID) -> Iterator[bool]:
    """True while this process works on the upload; False when another thread of it already does."""
    with _ACTIVE_LOCK:
        mine = upload_id not in _ACTIVE
        _ACTIVE.add(upload_id)
    try:
        yield mine
    finally:
        if mine:
            with _ACTIVE_LOCK:
                _ACTIVE.discard(upload_id)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def claim_upload(
    db: Session, *, upload_id: uuid.UUID, lease_s: int, now: datetime | None = None
) -> Upload | None:
    """Take the processing lease on an upload, or return None when someone else holds it.

    A single conditional UPDATE is atomic on SQLite and PostgreSQL alike, so ten concurrent
    deliveries of the same id produce exactly one claim. Call it inside `working_on(upload_id)`: a lease
    held by this very process is then known to be stale and is retaken without counting an attempt.
    """
    now = now or utcnow()
    claim = dict(
        status=UploadStatus.PROCESSING,
        attempts=Upload.attempts + 1,
        worker_pid=os.getpid(),
        worker_host=HOSTNAME,
        locked_until=now + timedelta(seconds=lease_s),
        started_at=now,
        updated_at=now,
    )
    claimable = or_(
        Upload.status == UploadStatus.QUEUED,
        and_(Upload.status == UploadStatus.PROCESSING, Upload.locked_until < now),
    )
    result = db.execute(
        update(Upload)
        .where(Upload.id == upload_id, claimable)
        .values(**claim)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        held = db.get(Upload, upload_id)
        # Fast paths on this host: a killed worker child's pid is gone, or the lease is our own from an
        # attempt that ended (a transient database error); take over now instead of waiting for the lease.
        own = held is not None and held.worker_pid == os.getpid()
        if (
            held is None
            or held.status != UploadStatus.PROCESSING
            or held.worker_host != HOSTNAME
            or held.worker_pid is None
            or (not own and _pid_alive(held.worker_pid))
        ):
            return None
        result = db.execute(
            update(Upload)
            .where(
                Upload.id == upload_id, Upload.worker_pid == held.worker_pid, Upload.worker_host == HOSTNAME
            )
            .values(**{**claim, "attempts": Upload.attempts} if own else claim)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            return None
    db.expire_all()
    return db.get(Upload, upload_id)


def finish_upload(
    db: Session,
    *,
    upload_id: uuid.UUID,
    status: str,
    error: str | None = None,
    warnings: list[str] | None = None,
    duplicate_of: uuid.UUID | None = None,
) -> None:
    upload = db.get(Upload, upload_id)
    if upload is None:
        return
    upload.status = status
    upload.error = error
    upload.warnings = warnings or None
    upload.duplicate_of = duplicate_of
    upload.locked_until = None
    upload.finished_at = utcnow()
    db.flush()


def get_user_and_profile(db: Session, user_id: uuid.UUID) -> tuple[User, Profile | None]:
    user = db.get(User, user_id)
    if user is None:
        raise LookupError(f"user {user_id} not found")
    return user, db.get(Profile, user_id)


def upsert_session(db: Session, *, upload: Upload, leg_index: int, **values: object) -> WorkoutSession:
    existing = db.scalar(
        select(WorkoutSession).where(
            WorkoutSession.upload_id == upload.id, WorkoutSession.leg_index == leg_index
        )
    )
    if existing is None:
        existing = WorkoutSession(user_id=upload.user_id, upload_id=upload.id, leg_index=leg_index)
        db.add(existing)
    for key, value in values.items():
        setattr(existing, key, value)
    db.flush()
    return existing


def stuck_uploads(db: Session, *, older_than: datetime, now: datetime) -> list[uuid.UUID]:
    """Uploads a lost broker message left behind: queued for long, or processing past their lease, or
    processing for long (a worker killed whole keeps its lease; the resent task's claim retakes it at once
    when the holder's pid is gone, and is a no-op while it lives)."""
    rows = db.scalars(
        select(Upload.id).where(
            or_(
                and_(Upload.status == UploadStatus.QUEUED, Upload.updated_at < older_than),
                and_(
                    Upload.status == UploadStatus.PROCESSING,
                    or_(Upload.locked_until < now, Upload.updated_at < older_than),
                ),
            )
        )
    )
    return list(rows)


RESENDABLE = (UploadStatus.QUEUED, UploadStatus.PROCESSING)


def mark_resent(db: Session, upload_ids: list[uuid.UUID], *, now: datetime) -> None:
    """The sweeper sent these again: each waits another `stuck_after_s` before the next resend."""
    if upload_ids:
        db.execute(
            update(Upload)
            .where(Upload.id.in_(upload_ids), Upload.status.in_(RESENDABLE))
            .values(updated_at=now)
            .execution_options(synchronize_session=False)
        )


def mass_in_force(db: Session, *, user_id: uuid.UUID, when: datetime | None) -> float | None:
    """The latest dated weight at or before the session (science.md §9: the mass at the time)."""
    if when is None:
        return None
    return db.scalar(
        select(BodyWeight.mass_kg)
        .where(BodyWeight.user_id == user_id, BodyWeight.measured_at <= when)
        .order_by(BodyWeight.measured_at.desc())
        .limit(1)
    )


def weigh_in_for(db: Session, session_id: uuid.UUID) -> WeighIn | None:
    return db.get(WeighIn, session_id)


def calibration_pairs(
    db: Session, *, user_id: uuid.UUID, before: datetime | None
) -> list[tuple[float, float]]:
    """(model, measured) sweat litres of the athlete's earlier weighed sessions."""
    query = select(WorkoutSession.metrics).join(WeighIn, WeighIn.session_id == WorkoutSession.id)
    query = query.where(WorkoutSession.user_id == user_id)
    if before is not None:
        query = query.where(WorkoutSession.start_time < before)
    pairs = []
    for metrics in db.scalars(query):
        fluid = SessionResult.model_validate(metrics or {}).fluid
        model, measured = fluid.model_sweat_l, fluid.measured_sweat_l
        if model and measured is not None and model > 0 and measured > 0:
            pairs.append((model, measured))
    return pairs


# A recording lasts at most this long; sessions further away cannot be the same activity.
_LONGEST_ACTIVITY = timedelta(hours=48)


def same_activity(db: Session, *, upload: Upload, fingerprint: dict[str, object]) -> uuid.UUID | None:
    """The athlete's existing session (from another upload) that this activity repeats, if any."""
    start = fingerprint.get("start_time")
    if not isinstance(start, str):
        return None
    when = datetime.fromisoformat(start.replace("Z", "+00:00"))
    candidates = db.execute(
        select(WorkoutSession.id, WorkoutSession.metrics).where(
            WorkoutSession.user_id == upload.user_id,
            WorkoutSession.upload_id != upload.id,
            WorkoutSession.start_time > when - _LONGEST_ACTIVITY,
            WorkoutSession.start_time < when + _LONGEST_ACTIVITY,
        )
    )
    for session_id, metrics in candidates:
        other = (metrics or {}).get("fingerprint")
        if other and is_same_activity(fingerprint, other):
            return session_id
    return None
