"""Accounts, tokens and profiles over HTTP, against a real database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from core.db import get_engine
from ingest.app import create_app


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        yield c


def test_it_returns_the_token_once_and_stores_only_its_hash(client: TestClient) -> None:
    r = client.post("/v1/users", json={"email": "Runner@Example.com"})
    assert r.status_code == 201
    token = r.json()["token"]
    assert token.startswith("ss_")
    with get_engine().connect() as conn:
        dump = " ".join(str(v) for row in conn.execute(sa.text("select * from users")) for v in row)
    assert token not in dump
    assert r.json()["email"] == "runner@example.com"


def test_it_answers_409_when_the_email_is_taken(client: TestClient) -> None:
    client.post("/v1/users", json={"email": "a@example.com"})
    assert client.post("/v1/users", json={"email": "A@example.com"}).status_code == 409


@pytest.mark.parametrize("token", ["", "ss_nope", "Bearer", "ss_" + "x" * 60])
def test_it_answers_401_for_a_wrong_token(client: TestClient, token: str) -> None:
    assert client.get("/v1/profile", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_it_keeps_fields_left_out_of_a_profile_update(client: TestClient) -> None:
    token = client.post("/v1/users", json={"email": "p@example.com"}).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert client.put("/v1/profile", json={"mass_kg": 71.5, "sex": "f"}, headers=auth).status_code == 200
    r = client.put("/v1/profile", json={"hr_max": 190}, headers=auth)
    assert r.json()["mass_kg"] == 71.5
    assert r.json()["hr_max"] == 190
    assert client.get("/v1/profile", headers=auth).json()["sex"] == "f"


@pytest.mark.parametrize("body", [{"mass_kg": 5}, {"sex": "x"}, {"height_m": 180}, {"unknown": 1}])
def test_it_refuses_an_implausible_profile_with_422(client: TestClient, body: dict[str, object]) -> None:
    token = client.post("/v1/users", json={"email": "q@example.com"}).json()["token"]
    assert (
        client.put("/v1/profile", json=body, headers={"Authorization": f"Bearer {token}"}).status_code == 422
    )
