"""Accounts: argon2 passwords, browser sessions, one-time emailed links (reset, invitation).

Services flush; the caller's unit of work commits. Secrets that travel (session cookies, link tokens)
are random and stored only as SHA-256, so a database leak does not sign anyone in.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from alerts.dedup import ACCOUNT_EMAIL  # the outbox kind the relay sends as an email
from alerts.outbox import enqueue_alert
from core.models import AccountLink, Profile, User, WebSession
from core.settings import get_settings

MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # argon2 takes any length; a bound keeps a hostile 10 MB password cheap to refuse
LINK_DAYS = {"reset": 1, "invite": 7}

_hasher = PasswordHasher()


class AccountError(Exception):
    """A refusal the athlete can act on; str() is the sentence to show."""


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_hex(16))


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"Choose a password of at least {MIN_PASSWORD} characters.")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"Choose a password of at most {MAX_PASSWORD} characters.")


def hash_password(password: str) -> str:
    check_password_rules(password)
    return _hasher.hash(password)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_account(
    db: Session, *, email: str, password: str | None = None, display_name: str | None = None
) -> User:
    email = normalise_email(email)
    if "@" not in email or len(email) > 320:
        raise AccountError("Enter an email address such as you@example.org.")
    if db.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError("An account with this email already exists. Sign in, or reset its password.")
    user = User(
        email=email,
        display_name=(display_name or None),
        password_hash=hash_password(password) if password else None,
    )
    db.add(user)
    db.add(Profile(user=user))
    db.flush()
    return user


def authenticate(db: Session, *, email: str, password: str) -> User | None:
    """The user when the password matches. Unknown emails cost one argon2 check too (no timing oracle)."""
    user = db.scalar(select(User).where(User.email == normalise_email(email)))
    stored = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    try:
        ok: bool = _hasher.verify(stored, password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None or not user.password_hash:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def set_password(db: Session, user: User, password: str) -> None:
    """New password; every browser signed in as this user is signed out."""
    user.password_hash = hash_password(password)
    end_all_sessions(db, user.id)


# --- browser sessions ---------------------------------------------------------------------------


def start_session(db: Session, user_id: uuid.UUID) -> str:
    """A new server-side session; returns the cookie value (never stored in clear)."""
    cookie = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    days = get_settings().web_session_days
    expires = now + timedelta(days=days)
    db.add(WebSession(id_hash=_sha(cookie), user_id=user_id, created_at=now, expires_at=expires))
    db.flush()
    return cookie


def session_user(db: Session, cookie: str | None) -> User | None:
    if not cookie or len(cookie) > 100:
        return None
    row = db.get(WebSession, _sha(cookie))
    if row is None or row.expires_at <= datetime.now(UTC):
        return None
    return db.get(User, row.user_id)


def end_session(db: Session, cookie: str | None) -> None:
    if cookie and len(cookie) <= 100:
        db.execute(delete(WebSession).where(WebSession.id_hash == _sha(cookie)))


def end_all_sessions(db: Session, user_id: uuid.UUID) -> None:
    db.execute(delete(WebSession).where(WebSession.user_id == user_id))


# --- one-time links: password reset and invitation ------------------------------------------------


def new_account_link(db: Session, *, user_id: uuid.UUID, purpose: str) -> str:
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    db.add(
        AccountLink(
            id_hash=_sha(token),
            user_id=user_id,
            purpose=purpose,
            created_at=now,
            expires_at=now + timedelta(days=LINK_DAYS[purpose]),
        )
    )
    db.flush()
    return token


def account_link_url(token: str, purpose: str) -> str:
    path = "invite" if purpose == "invite" else "reset"
    return f"{get_settings().public_base_url}/{path}/{token}"


def open_account_link(db: Session, token: str, purpose: str) -> AccountLink | None:
    """The link when it exists, is for this purpose, is unused and has not expired."""
    if not token or len(token) > 100:
        return None
    row = db.get(AccountLink, _sha(token))
    if row is None or row.purpose != purpose or row.used_at is not None:
        return None
    if row.expires_at <= datetime.now(UTC):
        return None
    return row


def redeem_account_link(db: Session, token: str, purpose: str, password: str) -> User:
    """Set the password through a link, once; the link and every older session stop working."""
    row = open_account_link(db, token, purpose)
    user = db.get(User, row.user_id) if row is not None else None
    if row is None or user is None:
        raise AccountError("This link has expired or was already used. Ask for a new one.")
    set_password(db, user, password)
    row.used_at = datetime.now(UTC)
    return user


_EMAILS = {
    "reset": (
        "Reset your sweatsync password",
        "Someone (hopefully you) asked to reset the password of your sweatsync account.\n\n"
        "Choose a new password here (the link works once, for 24 hours):\n{url}\n\n"
        "If it was not you, ignore this email: your password stays as it is.\n",
    ),
    "invite": (
        "You are invited to sweatsync",
        "An account was made for you on sweatsync, which turns workout files into sweat, sodium and "
        "cramp-risk advice.\n\nChoose your password here (the link works once, for 7 days):\n{url}\n",
    ),
}


def queue_account_email(db: Session, *, user: User, purpose: str) -> str:
    """Write the reset or invitation email to the outbox (flush only); returns the link's URL."""
    url = account_link_url(new_account_link(db, user_id=user.id, purpose=purpose), purpose)
    subject, text = _EMAILS[purpose]
    enqueue_alert(
        db,
        user_id=user.id,
        session_id=None,
        kind=ACCOUNT_EMAIL,
        dedup_key=f"{ACCOUNT_EMAIL}:{purpose}:{uuid.uuid4()}",
        recipient=user.email,
        payload={"subject": subject, "text": text.format(url=url), "to_name": user.display_name},
    )
    return url
