"""Bearer API tokens: shown once, stored only as an HMAC-SHA256 hash (Polar kit/crypto.py).

Each token is a row of api_tokens with a name, an optional expiry and a revocation time; a revoked or
expired token answers 401 on its very next request (every request looks the row up).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import zlib
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import unit_of_work
from core.models import ApiToken, User
from core.settings import get_settings

TOKEN_PREFIX = "ss_"  # noqa: S105 - a public prefix, not a secret
SHOWN_PREFIX_CHARS = 10
# Writing last_used_at on every request would make each API call a write; a minute is precise enough.
LAST_USED_PRECISION = timedelta(minutes=1)
_bearer = HTTPBearer(auto_error=False, description="An API token (profile page, or `sweatsync user token`)")


def generate_token() -> str:
    """A random token with a CRC32 suffix, so secret scanners (and typos) can be recognised."""
    body = secrets.token_urlsafe(32)
    return f"{TOKEN_PREFIX}{body}_{zlib.crc32(body.encode()):08x}"


def hash_token(token: str) -> str:
    key = get_settings().secret_key.get_secret_value().encode()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def issue_token(
    db: Session, *, user_id: object, name: str, expires_in_days: int | None = None
) -> tuple[ApiToken, str]:
    """A new named token for the user (flush only); the clear token is returned once, never stored."""
    token = generate_token()
    now = datetime.now(UTC)
    row = ApiToken(
        user_id=user_id,
        name=(name.strip() or "token")[:100],
        prefix=token[:SHOWN_PREFIX_CHARS],
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    db.add(row)
    db.flush()
    return row, token


def token_is_live(row: ApiToken, now: datetime) -> bool:
    return row.revoked_at is None and (row.expires_at is None or row.expires_at > now)


def user_for_token(db: Session, token: str) -> User | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    now = datetime.now(UTC)
    if row is None or not token_is_live(row, now):
        return None
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_PRECISION:
        row.last_used_at = now
    return db.get(User, row.user_id)


def current_user(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> User:
    """The caller, as a detached row (routes open their own unit of work)."""
    user = None
    if credentials:
        with unit_of_work() as uow:
            user = user_for_token(uow.session, credentials.credentials)
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing, revoked, expired or invalid API token: send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


CurrentUser = Annotated[User, Depends(current_user)]
