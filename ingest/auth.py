"""Bearer API tokens: shown once, stored only as an HMAC-SHA256 hash (Polar kit/crypto.py)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import zlib
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import unit_of_work
from core.models import User
from core.settings import get_settings

TOKEN_PREFIX = "ss_"  # noqa: S105 - a public prefix, not a secret
_bearer = HTTPBearer(auto_error=False, description="The API token from POST /v1/users")


def generate_token() -> str:
    """A random token with a CRC32 suffix, so secret scanners (and typos) can be recognised."""
    body = secrets.token_urlsafe(32)
    return f"{TOKEN_PREFIX}{body}_{zlib.crc32(body.encode()):08x}"


def hash_token(token: str) -> str:
    key = get_settings().secret_key.get_secret_value().encode()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def user_for_token(db: Session, token: str) -> User | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    return db.scalar(select(User).where(User.token_hash == hash_token(token)))


def current_user(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> User:
    """The caller, as a detached row (routes open their own unit of work)."""
    user = None
    if credentials:
        with unit_of_work() as uow:
            user = user_for_token(uow.session, credentials.credentials)
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or invalid API token: send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


CurrentUser = Annotated[User, Depends(current_user)]
