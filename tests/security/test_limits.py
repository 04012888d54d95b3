"""Limits per token and per address (429 + Retry-After, counted in Redis so several API processes share
them), and the per-user cap on uploads waiting in the queue (reliability.md S8)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from core.settings import reset_settings_cache
from ingest.app import create_app
from support.services import redis_server
from sweatsync.embedded import free_port

pytestmark = pytest.mark.integration

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
FIT_HEAD = b"\x0e\x10\x00\x00\x00\x00\x00\x00.FIT" + b"\x00" * 64


@pytest.fixture
def limited(
    database_url: str, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., TestClient]]:
    """Apps with the limits on, counting in a Redis of this test's own."""
    with redis_server(tmp_path / "limits") as limits_url:
        monkeypatch.setenv("SWEATSYNC_BROKER_URL", redis_url)
        monkeypatch.setenv("SWEATSYNC_RATE_LIMIT_STORAGE_URL", limits_url)
        monkeypatch.setenv("SWEATSYNC_RATE_LIMITS_ENABLED", "true")
        clients: list[TestClient] = []

        def make(**settings: str) -> TestClient:
            for key, value in settings.items():
                monkeypatch.setenv(f"SWEATSYNC_{key.upper()}", value)
            reset_settings_cache()
            client = TestClient(create_app())
            client.__enter__()
            clients.append(client)
            return client

        yield make
        for client in clients:
            client.__exit__(None, None, None)


def new_token(client: TestClient, email: str) -> dict[str, str]:
    r = client.post("/v1/users", json={"email": email})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def upload(client: TestClient, auth: dict[str, str], data: bytes = PNG) -> int:
    return client.post("/v1/uploads", files={"file": ("x.fit", data)}, headers=auth).status_code


def test_uploads_101_to_150_in_a_minute_get_429_with_retry_after_and_another_user_is_unaffected(
    limited: Callable[..., TestClient],
) -> None:
    client = limited()
    alice, bob = new_token(client, "alice@example.com"), new_token(client, "bob@example.com")
    answers = [client.post("/v1/uploads", files={"file": ("x.fit", PNG)}, headers=alice) for _ in range(150)]
    assert {r.status_code for r in answers[:100]} == {415}  # counted, then refused for what they are
    assert {r.status_code for r in answers[100:]} == {429}
    refused = answers[-1]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "too many uploads with this token" in refused.json()["detail"]
    assert upload(client, bob) == 415


def test_an_address_is_limited_even_without_a_token(limited: Callable[..., TestClient]) -> None:
    client = limited(rate_limit_per_address="20/minute")
    codes = [client.get("/v1/sessions", headers={"Authorization": f"Bearer ss_guess{i}"}).status_code
             for i in range(25)]  # fmt: skip
    assert codes[:20] == [401] * 20 and codes[20:] == [429] * 5
    refused = client.get("/v1/sessions")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert client.get("/healthz").status_code == 200  # probes are never limited


def test_two_api_processes_share_one_count(limited: Callable[..., TestClient]) -> None:
    first = limited(rate_limit_per_token="10/minute")
    second = limited(rate_limit_per_token="10/minute")  # another app, another limiter: only Redis is shared
    auth = new_token(first, "shared@example.com")
    assert [first.get("/v1/sessions", headers=auth).status_code for _ in range(6)] == [200] * 6
    assert [second.get("/v1/sessions", headers=auth).status_code for _ in range(5)] == [200] * 4 + [429]


def test_a_user_with_too_many_uploads_waiting_gets_429_until_some_are_done(
    limited: Callable[..., TestClient],
) -> None:
    client = limited(max_waiting_uploads_per_user="3")  # no worker runs: uploads stay queued
    alice, bob = new_token(client, "q1@example.com"), new_token(client, "q2@example.com")
    files = [FIT_HEAD + bytes([i]) * 16 for i in range(4)]
    assert [upload(client, alice, data) for data in files] == [202, 202, 202, 429]
    refused = client.post("/v1/uploads", files={"file": ("x.fit", files[3])}, headers=alice)
    assert "3 uploads waiting" in refused.json()["detail"] and refused.headers["Retry-After"]
    assert upload(client, bob, files[3]) == 202


def test_requests_are_served_when_the_counter_store_is_down(limited: Callable[..., TestClient]) -> None:
    client = limited(rate_limit_storage_url=f"redis://127.0.0.1:{free_port()}/0")
    assert client.get("/healthz").status_code == 200
    assert client.post("/v1/users", json={"email": "down@example.com"}).status_code == 201


def test_password_guessing_on_the_sign_in_form_gets_429_long_before_the_general_limit(
    limited: Callable[..., TestClient],
) -> None:
    client = limited(rate_limit_account_forms="5/minute")
    form = {"email": "victim@example.com", "password": "guess-0000"}
    codes = [client.post("/signin", data=form, follow_redirects=False).status_code for _ in range(8)]
    assert 429 not in codes[:5] and codes[5:] == [429] * 3
    refused = client.post("/reset", data={"email": "victim@example.com"}, follow_redirects=False)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert client.get("/signin").status_code == 200  # reading the page is not an attempt
