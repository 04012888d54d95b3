"""A .zip upload: every file inside becomes its own upload, with its own status and reason.

Expansion runs in the worker (never in the API) under the zip caps of `workers.formats.archive`. Child ids
are derived from the archive id and the entry's position, so a retried expansion creates nothing twice.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import unit_of_work
from core.models import Upload, UploadStatus
from core.settings import Settings
from core.storage import raw_path
from workers import repository as repo
from workers.activity import FileRejected
from workers.formats.archive import ZipEntry, expand_zip

if TYPE_CHECKING:
    from workers.pipeline import Outcome


def _child_sha(archive: Upload, index: int, entry: ZipEntry) -> str:
    if entry.data is not None:
        return hashlib.sha256(entry.data).hexdigest()
    # An unreadable entry has no bytes of its own; it still needs a unique, stable row.
    return hashlib.sha256(f"zip-entry:{archive.id}:{index}:{entry.name}".encode()).hexdigest()


def expand_archive(upload_id: uuid.UUID, *, settings: Settings) -> Outcome:
    from workers.pipeline import Outcome

    with unit_of_work() as uow:
        archive = uow.session.get(Upload, upload_id)
        assert archive is not None
        data = raw_path(settings, archive.storage_key).read_bytes()
    try:
        entries = expand_zip(
            data,
            max_entries=settings.max_zip_entries,
            max_entry_bytes=settings.max_upload_bytes,
            max_total_bytes=settings.max_decompressed_bytes,
        )
    except FileRejected as rejected:
        with unit_of_work() as uow:
            repo.finish_upload(
                uow.session, upload_id=upload_id, status=UploadStatus.FAILED, error=rejected.reason
            )
        return Outcome(UploadStatus.FAILED)

    to_process: list[uuid.UUID] = []
    with unit_of_work() as uow:
        db = uow.session
        archive = db.get(Upload, upload_id)
        assert archive is not None
        for index, entry in enumerate(entries):
            child_id = _add_child(db, archive, index, entry, settings=settings)
            if child_id is not None:
                to_process.append(child_id)
        db.flush()
        repo.finish_upload(
            db,
            upload_id=upload_id,
            status=UploadStatus.DONE,
            warnings=[f"{len(entries)} file(s) in the archive; each has its own upload (see entries)"],
        )
    return Outcome(UploadStatus.DONE, enqueue=to_process)


def _add_child(
    db: Session, archive: Upload, index: int, entry: ZipEntry, *, settings: Settings
) -> uuid.UUID | None:
    """One entry of the archive as an upload of its own; its id when it is to be analysed, else None."""
    child_id = uuid.uuid5(archive.id, f"{index}:{entry.name}")
    sha = _child_sha(archive, index, entry)
    if db.get(Upload, child_id) is not None:
        return None  # created by an earlier attempt of this task
    same_bytes = db.scalar(select(Upload.id).where(Upload.user_id == archive.user_id, Upload.sha256 == sha))
    if same_bytes is not None:
        return None  # the athlete uploaded this file before: it already has its upload
    readable = entry.data is not None and entry.kind is not None and entry.error is None
    key = f"{archive.user_id}/{child_id}.{entry.kind if readable else 'bin'}"
    if entry.data is not None:
        path = raw_path(settings, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(entry.data)
    db.add(
        Upload(
            id=child_id,
            user_id=archive.user_id,
            sha256=sha,
            size=len(entry.data or b""),
            original_name=entry.name,
            storage_key=key,
            status=UploadStatus.QUEUED if readable else UploadStatus.FAILED,
            error=None if readable else (entry.error or "not a workout file"),
            archive_id=archive.id,
            force=archive.force,
        )
    )
    return child_id if readable else None
