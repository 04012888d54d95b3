"""API tokens: named, listed, given an expiry, revoked (401 on the very next request), on the API, the
profile page and the CLI; and the CLI finds the same database from any folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from web.conftest import post_form, sign_up

from core.db import unit_of_work
from core.models import ApiToken


def api_user(client: TestClient) -> str:
    r = client.post("/v1/users", json={"email": "api@example.com"})
    assert r.status_code == 201
    return str(r.json()["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_new_named_token_works_and_is_listed_without_its_secret(client: TestClient) -> None:
    first = api_user(client)
    r = client.post("/v1/tokens", json={"name": "watcher", "expires_in_days": 30}, headers=bearer(first))
    assert r.status_code == 201
    body = r.json()
    assert body["name"] == "watcher" and body["token"].startswith(body["prefix"])
    assert client.get("/v1/profile", headers=bearer(body["token"])).status_code == 200
    listed = client.get("/v1/tokens", headers=bearer(first)).json()
    assert {t["name"] for t in listed} == {"first token", "watcher"}
    assert all("token" not in t and t["prefix"].startswith("ss_") for t in listed)
    assert next(t for t in listed if t["name"] == "watcher")["last_used_at"] is not None


def test_a_revoked_token_answers_401_at_once(client: TestClient) -> None:
    first = api_user(client)
    second = client.post("/v1/tokens", json={"name": "laptop"}, headers=bearer(first)).json()
    assert client.delete(f"/v1/tokens/{second['id']}", headers=bearer(first)).status_code == 200
    r = client.get("/v1/sessions", headers=bearer(second["token"]))
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    assert client.get("/v1/sessions", headers=bearer(first)).status_code == 200


def test_an_expired_token_answers_401(client: TestClient) -> None:
    first = api_user(client)
    with unit_of_work() as uow:
        uow.session.execute(update(ApiToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert client.get("/v1/sessions", headers=bearer(first)).status_code == 401


def test_one_athlete_cannot_revoke_another_athletes_token(client: TestClient) -> None:
    alice = api_user(client)
    bob = client.post("/v1/users", json={"email": "bob@example.com"}).json()["token"]
    bobs = client.get("/v1/tokens", headers=bearer(bob)).json()[0]["id"]
    assert client.delete(f"/v1/tokens/{bobs}", headers=bearer(alice)).status_code == 404
    assert client.get("/v1/sessions", headers=bearer(bob)).status_code == 200


def test_the_profile_page_creates_shows_once_and_revokes_a_token(client: TestClient) -> None:
    sign_up(client)
    r = post_form(client, "/profile", "/profile/tokens", name="script", expires_in_days="7")
    token = re.search(r'<code id="new-token">(ss_[^<]+)</code>', r.text)
    assert token, r.text
    assert client.get("/v1/profile", headers=bearer(token.group(1))).status_code == 200
    assert token.group(1) not in client.get("/profile").text  # shown once only
    with unit_of_work() as uow:
        row = uow.session.scalars(select(ApiToken).where(ApiToken.name == "script")).one()
    post_form(client, "/profile", f"/profile/tokens/{row.id}/revoke")
    assert client.get("/v1/profile", headers=bearer(token.group(1))).status_code == 401
    assert "revoked" in client.get("/profile").text


def run_cli(*args: str, cwd: Path, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sweatsync.cli", *args], cwd=cwd, env=env, input=stdin,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_user_create_and_user_token_reach_the_same_database_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWEATSYNC_")}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")  # the default place, as on a fresh machine
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    created = run_cli("user", "create", "cli@example.com", cwd=one, env=env)
    assert created.returncode == 0, created.stderr
    assert "/invite/" in created.stdout  # a link to choose a web password
    token = run_cli("user", "token", "cli@example.com", "--expires-days", "90", cwd=two, env=env)
    assert token.returncode == 0, token.stderr
    assert "expires" in token.stdout and re.search(r"ss_\S+", token.stdout)
    assert (tmp_path / "data" / "sweatsync" / "sweatsync.db").exists()
    assert not (one / "var").exists() and not (two / "var").exists()
    missing = run_cli("user", "token", "nobody@example.com", cwd=two, env=env)
    assert missing.returncode == 1 and "no account" in missing.stderr
