"""A server on a public URL: nobody opens an account (or makes it email an address) without an invitation,
unless the operator opened sign-up."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from core.db import unit_of_work
from core.models import User
from core.settings import reset_settings_cache
from ingest.app import create_app


@pytest.fixture
def public(database_url: str, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("SWEATSYNC_PUBLIC_BASE_URL", "https://sweat.example.com")
    monkeypatch.setenv("SWEATSYNC_SECRET_KEY", "a3f1c9e07b5d4e21b8f6a0c4d9e2f7a1")
    reset_settings_cache()
    return TestClient(create_app(), follow_redirects=False)


def users() -> int:
    with unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(User)) or 0


def test_sign_up_is_closed_on_a_public_server(public: TestClient) -> None:
    r = public.post("/v1/users", json={"email": "victim@example.com"})
    assert r.status_code == 403 and "invitation" in r.json()["detail"]
    page = public.get("/signup")
    assert page.status_code in (200, 403, 404) and "invitation" in page.text.lower()
    assert users() == 0


def test_the_operator_can_open_sign_up(public: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWEATSYNC_OPEN_SIGNUP", "true")
    reset_settings_cache()
    assert public.post("/v1/users", json={"email": "open@example.com"}).status_code == 201
