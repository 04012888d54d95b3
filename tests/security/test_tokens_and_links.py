"""Stolen, guessed and tampered credentials (reliability.md S7): random and mutated API tokens answer 401,
no token is stored in clear, a revoked one stops at once, and a tampered one-click link is refused (4xx)."""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from alerts.handover import alert_links
from core.db import unit_of_work
from core.models import Upload, User, WorkoutSession
from core.settings import get_settings
from ingest.app import create_app

GUESSES = 1_000  # reliability.md says 10,000; 1,000 keep this file to seconds (mutations of a real one)


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        yield c


def mutations(token: str, rng: random.Random) -> Iterator[str]:
    alphabet = string.ascii_letters + string.digits + "-_"
    for _ in range(GUESSES // 2):
        chars = list(token)
        i = rng.randrange(len(chars))
        chars[i] = rng.choice(alphabet.replace(chars[i], ""))
        yield "".join(chars)
    for _ in range(GUESSES // 4):
        yield token[: rng.randrange(1, len(token))]
    for _ in range(GUESSES // 4):
        yield "ss_" + "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 80)))


def test_random_and_mutated_tokens_all_answer_401(client: TestClient) -> None:
    token = client.post("/v1/users", json={"email": "t@example.com"}).json()["token"]
    rng = random.Random(7)
    codes = {client.get("/v1/sessions", headers={"Authorization": f"Bearer {guess}"}).status_code
             for guess in mutations(token, rng) if guess != token}  # fmt: skip
    assert codes == {401}
    odd = ["", " ", "Bearer", "ss_", "%E2%80%AE" + token, token + "~", token * 50, "a" * 8000]
    for value in odd:
        r = client.get(
            "/v1/sessions", headers={"Authorization": f"Bearer {value}".encode().decode("latin-1")}
        )
        assert r.status_code == 401, (value[:20], r.status_code)
    assert client.get("/v1/sessions", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_no_token_is_stored_in_clear(client: TestClient, database_url: str) -> None:
    tokens = [client.post("/v1/users", json={"email": f"p{i}@example.com"}).json()["token"] for i in range(3)]
    auth = {"Authorization": f"Bearer {tokens[0]}"}
    tokens.append(client.post("/v1/tokens", json={"name": "laptop"}, headers=auth).json()["token"])
    if database_url.startswith("sqlite"):
        dump = b"".join(
            p.read_bytes() for p in Path(database_url.removeprefix("sqlite:///")).parent.glob("*.db*")
        )
    else:
        import sqlalchemy as sa

        engine = sa.create_engine(database_url)
        with engine.connect() as conn:
            tables = conn.execute(
                sa.text("select tablename from pg_tables where schemaname='public'")
            ).scalars()
            dump = b"".join(
                str(conn.execute(sa.text(f'select * from "{t}"')).all()).encode() for t in list(tables)
            )
        engine.dispose()
    for token in tokens:
        assert token.encode() not in dump
        assert token[3:23].encode() not in dump  # not even a part of its secret (after "ss_")


def test_a_revoked_token_answers_401_on_the_very_next_request(client: TestClient) -> None:
    first = client.post("/v1/users", json={"email": "r@example.com"}).json()["token"]
    auth = {"Authorization": f"Bearer {first}"}
    second = client.post("/v1/tokens", json={"name": "phone"}, headers=auth).json()
    stolen = {"Authorization": f"Bearer {second['token']}"}
    assert client.get("/v1/sessions", headers=stolen).status_code == 200
    assert client.delete(f"/v1/tokens/{second['id']}", headers=auth).status_code == 200
    assert client.get("/v1/sessions", headers=stolen).status_code == 401


def test_a_tampered_one_click_link_is_refused_and_never_a_500(client: TestClient) -> None:
    with unit_of_work() as uow:
        user = User(email="link@example.com", token_hash="l" * 64)
        uow.session.add(user)
        uow.session.flush()
        upload = Upload(user_id=user.id, sha256="3" * 64, size=1, storage_key="k")
        uow.session.add(upload)
        uow.session.flush()
        ws = WorkoutSession(user_id=user.id, upload_id=upload.id, metrics={}, algorithm_version="t")
        uow.session.add(ws)
    base = get_settings().public_base_url
    links = [url.removeprefix(base) for url in alert_links(user, ws).values() if "/links/" in url]
    assert links
    rng = random.Random(3)
    for link in links:
        prefix, _, token = link.rpartition("/")
        tampered = [token[:-1] + ("A" if token[-1] != "A" else "B"), token[: len(token) // 2], token[::-1],
                    "x" * 5000, "..%2F..%2Fetc%2Fpasswd", token + "." + token]  # fmt: skip
        for _ in range(20):
            chars = list(token)
            chars[rng.randrange(len(chars))] = rng.choice(string.ascii_letters)
            tampered.append("".join(chars))
        for bad in tampered:
            if bad == token:
                continue
            for method in ("GET", "POST"):
                r = client.request(method, f"{prefix}/{bad}")
                assert 400 <= r.status_code < 500, (method, bad[:40], r.status_code, r.text[:200])
