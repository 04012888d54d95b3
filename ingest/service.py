"""Ingest services: users, profiles, uploads. Keyword-only; they flush, the unit of work commits."""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from fastapi import HTTPException, status
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db import unit_of_work
from core.models import Profile, Upload, UploadStatus, User
from core.settings import Settings
from core.storage import raw_path
from ingest.auth import issue_token
from ingest.receive import Received

log = logging.getLogger(__name__)


class EmailTaken(Exception):
    pass


def create_user(db: Session, *, email: str, display_name: str | None = None) -> tuple[User, str]:
    """Create a user; returns it with its API token, which is never stored in clear."""
    email = email.strip().lower()
    if db.scalar(select(User.id).where(User.email == email)) is not None:
        raise EmailTaken(email)
    user = User(email=email, display_name=display_name)
    db.add(user)
    db.add(Profile(user=user))
    db.flush()
    _, token = issue_token(db, user_id=user.id, name="first token")
    return user, token


def check_waiting_uploads(*, user_id: uuid.UUID, cap: int) -> None:
    """429 when the user already has `cap` uploads waiting for a worker: one user cannot fill the queue."""
    with unit_of_work() as uow:
        waiting = uow.session.scalar(
            select(func.count())
            .select_from(Upload)
            .where(
                Upload.user_id == user_id, Upload.status.in_([UploadStatus.QUEUED, UploadStatus.PROCESSING])
            )
        )
    if (waiting or 0) >= cap:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"you have {waiting} uploads waiting to be analysed (at most {cap}); "
            "try again when some are done",
            headers={"Retry-After": "30"},
        )


def enqueue_processing(upload_id: uuid.UUID) -> None:
    """Send the task; if the broker is down the upload stays queued and the sweeper sends it later."""
    from workers.tasks import process_upload

    try:
        process_upload.delay(str(upload_id))
    except Exception:  # noqa: BLE001 - any broker failure costs latency only, never the upload
        log.warning("sweatsync.ingest.enqueue_failed upload_id=%s", upload_id, exc_info=True)


def enqueue_recompute(session_id: uuid.UUID) -> None:
    from workers.tasks import recompute_session

    try:
        recompute_session.delay(str(session_id))
    except Exception:  # noqa: BLE001 - the overrides are stored; `sweatsync recompute` can re-run it
        log.warning("sweatsync.ingest.recompute_enqueue_failed session_id=%s", session_id, exc_info=True)


@dataclass
class Stored:
    upload: Upload
    created: bool


def store_upload(
    *, settings: Settings, user_id: uuid.UUID, received: Received, kind: str, force: bool = False
) -> Stored:
    """Keep the raw bytes, insert the row, commit, and only then enqueue the analysis."""
    dest: Path | None = None
    try:
        with unit_of_work() as uow:
            db = uow.session
            existing = db.scalar(
                select(Upload).where(Upload.user_id == user_id, Upload.sha256 == received.sha256)
            )
            if existing is not None:
                return Stored(existing, created=False)
            upload_id = uuid.uuid4()
            key = f"{user_id}/{upload_id}.{kind}"
            dest = raw_path(settings, key)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(received.tmp_path, dest)
            _fsync_dir(dest.parent)
            upload = Upload(
                id=upload_id,
                user_id=user_id,
                sha256=received.sha256,
                size=received.size,
                original_name=received.filename,
                storage_key=key,
                status=UploadStatus.QUEUED,
                force=force,
            )
            db.add(upload)
            db.flush()
            uow.after_commit(lambda: enqueue_processing(upload_id))
            return Stored(upload, created=True)
    except IntegrityError:
        # The same bytes arrived twice at once: the other request won; answer with its upload.
        if dest is not None:
            dest.unlink(missing_ok=True)
        with unit_of_work() as uow:
            existing = uow.session.scalar(
                select(Upload).where(Upload.user_id == user_id, Upload.sha256 == received.sha256)
            )
            assert existing is not None
            return Stored(existing, created=False)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
