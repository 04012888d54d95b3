"""A test client on a fresh database (SQLite and PostgreSQL), and helpers to act as a browser would."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from ingest.app import create_app


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(), follow_redirects=False) as c:
        yield c


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_up(client: TestClient, email: str = "ana@example.com", password: str = "correct horse") -> None:
    token = csrf_of(client.get("/signup").text)
    r = client.post("/signup", data={"csrf_token": token, "email": email, "password": password})
    assert r.status_code == 303, r.text


def post_form(client: TestClient, page: str, action: str, **data: str) -> object:
    """Load `page`, take its CSRF token, post `data` to `action` (as the browser's form would)."""
    token = csrf_of(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **data})
