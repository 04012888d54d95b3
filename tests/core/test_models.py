"""The schema, as migrated by Alembic, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy.exc import IntegrityError, StatementError

from core.db import unit_of_work
from core.models import AlertOutbox, Upload, User


def _user(email: str = "x@example.com") -> User:
    return User(email=email, token_hash=email.ljust(64, "0"))


def test_it_stores_and_returns_timezone_aware_times(database_url: str) -> None:
    with unit_of_work() as uow:
        user = _user()
        uow.session.add(user)
    with unit_of_work() as uow:
        got = uow.session.get(User, user.id)
        assert got is not None and got.created_at.tzinfo is not None


def test_it_refuses_a_naive_datetime(database_url: str) -> None:
    with pytest.raises(StatementError, match="tzinfo is required"), unit_of_work() as uow:
        user = _user()
        user.created_at = datetime(2026, 1, 1)  # noqa: DTZ001 - the point of the test
        uow.session.add(user)


def test_it_allows_one_upload_per_user_and_content_hash(database_url: str) -> None:
    with unit_of_work() as uow:
        user = _user()
        uow.session.add(user)
    with pytest.raises(IntegrityError), unit_of_work() as uow:
        for _ in range(2):
            uow.session.add(Upload(user_id=user.id, sha256="a" * 64, size=1, storage_key="k"))
            uow.session.flush()


def test_it_allows_one_outbox_row_per_dedup_key(database_url: str) -> None:
    with unit_of_work() as uow:
        user = _user()
        uow.session.add(user)
    with pytest.raises(IntegrityError), unit_of_work() as uow:
        for _ in range(2):
            uow.session.add(
                AlertOutbox(
                    user_id=user.id, kind="cramp_risk", dedup_key="cramp_risk:1", recipient="x", payload={}
                )
            )
            uow.session.flush()
