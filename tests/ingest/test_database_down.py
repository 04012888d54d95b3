"""A database that cannot be reached is a temporary condition for clients: 503 with Retry-After, never 500."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import isolated_env
from ingest.app import create_app
from sweatsync.embedded import free_port


def test_the_api_answers_503_with_retry_after_while_the_database_is_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nobody_listens = f"postgresql://postgres@127.0.0.1:{free_port()}/test?connect_timeout=2"
    with isolated_env(monkeypatch, tmp_path, database_url=nobody_listens), TestClient(create_app()) as client:
        r = client.post("/v1/users", json={"email": "down@example.com"})
        assert r.status_code == 503
        assert r.headers["Retry-After"] == "5"
        assert "database is unavailable" in r.json()["detail"]
        assert client.get("/v1/profile", headers={"Authorization": "Bearer ss_x"}).status_code == 503
