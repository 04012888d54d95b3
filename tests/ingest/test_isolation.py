"""Broken object-level authorization (OWASP API1): every route with an object id answers 404 to other users.

Routes are discovered from the app, so a new route with an id in its path fails here until it is covered.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from core.db import unit_of_work
from core.models import ApiToken, Upload, User, WorkoutSession
from ingest.app import create_app

# A valid body for each route that takes one, so a 404 cannot hide behind a 422.
BODIES = {
    "/v1/sessions/{session_id}/conditions": {"temp_c": 25},
    "/v1/sessions/{session_id}/weigh-in": {"pre_kg": 70, "post_kg": 69},
}
KNOWN_ID_PARAMS = {"upload_id", "session_id", "token_id"}
PUBLIC = {"/v1/links/{token}"}  # signed links: their own owner check is in test_links.py


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        yield c


def routes_with_ids() -> list[tuple[str, str]]:
    """Every documented route with an id in its path (undocumented ones are signed links, in PUBLIC)."""
    paths = create_app().openapi()["paths"]
    return sorted(
        (method.upper(), path)
        for path, ops in paths.items()
        if "{" in path and path not in PUBLIC
        for method in ops
    )


def test_every_route_with_an_id_has_a_known_kind_of_id() -> None:
    for _, path in routes_with_ids():
        params = {part.strip("{}") for part in path.split("/") if part.startswith("{")}
        assert params <= KNOWN_ID_PARAMS, f"{path}: add its id kind to this test"


def test_another_users_objects_answer_404_on_every_route(client: TestClient) -> None:
    with unit_of_work() as uow:
        owner = User(email="owner@example.com", token_hash="o" * 64)
        uow.session.add(owner)
        uow.session.flush()
        upload = Upload(user_id=owner.id, sha256="1" * 64, size=1, storage_key="k")
        uow.session.add(upload)
        uow.session.flush()
        ws = WorkoutSession(user_id=owner.id, upload_id=upload.id, metrics={}, algorithm_version="t")
        uow.session.add(ws)
        token = ApiToken(user_id=owner.id, name="owner's", prefix="ss_", token_hash="t" * 64)
        uow.session.add(token)
    ids = {"upload_id": upload.id, "session_id": ws.id, "token_id": token.id}
    intruder = client.post("/v1/users", json={"email": "intruder@example.com"}).json()["token"]
    auth = {"Authorization": f"Bearer {intruder}"}
    checked = 0
    for method, path in routes_with_ids():
        url = path.format(**{k: str(v) for k, v in ids.items()})
        r = client.request(method, url, headers=auth, json=BODIES.get(path))
        assert r.status_code == 404, (method, path, r.status_code, r.text)
        unknown = path.format(**{k: str(uuid.uuid4()) for k in ids})
        assert client.request(method, unknown, headers=auth, json=BODIES.get(path)).status_code == 404
        checked += 1
    assert checked >= 4
    assert client.get("/v1/sessions", headers=auth).json() == []
    assert client.get("/v1/alerts", headers=auth).json() == []
