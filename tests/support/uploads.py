"""Uploads placed straight into the database and the raw folder, as the API would leave them."""

from __future__ import annotations

import hashlib
import uuid

from core.db import unit_of_work
from core.models import Profile, Upload, User
from core.settings import get_settings
from core.storage import raw_path


def make_upload(
    data: bytes,
    *,
    cramp_history: str = "none",
    suffix: str = ".fit",
    user_id: uuid.UUID | None = None,
    force: bool = False,
) -> uuid.UUID:
    """A queued upload of `data`, for a new athlete (or `user_id`'s)."""
    settings = get_settings()
    with unit_of_work() as uow:
        if user_id is None:
            user = User(email=f"{uuid.uuid4().hex[:8]}@example.com", token_hash=uuid.uuid4().hex * 2)
            uow.session.add(user)
            profile = Profile(
                user=user,
                mass_kg=70,
                height_m=1.75,
                sex="m",
                hr_max=190,
                hr_rest=50,
                cramp_history=cramp_history,
            )
            uow.session.add(profile)
            uow.session.flush()
            user_id = user.id
        upload_id = uuid.uuid4()
        key = f"{user_id}/{upload_id}{suffix}"
        path = raw_path(settings, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        uow.session.add(
            Upload(
                id=upload_id,
                user_id=user_id,
                force=force,
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
                storage_key=key,
            )
        )
    return upload_id


def new_api_user(api_url: str) -> tuple[str, uuid.UUID]:
    """A fresh account through POST /v1/users: (token, user id)."""
    import httpx

    r = httpx.post(f"{api_url}/v1/users", json={"email": f"u{uuid.uuid4().hex[:10]}@example.com"})
    assert r.status_code == 201, r.text
    return r.json()["token"], uuid.UUID(r.json()["id"])


def uploads_of(db_url: str, user_id: uuid.UUID) -> list[Upload]:
    """The user's upload rows, read from the database the server writes to."""
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    engine = sa.create_engine(db_url)
    try:
        with Session(engine, expire_on_commit=False) as db:
            return list(db.scalars(sa.select(Upload).where(Upload.user_id == user_id)))
    finally:
        engine.dispose()
