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
from support.routes import served_routes

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


# -- the whole matrix: every route of the app, API and pages, has a case ------------------------------

OBJECT = "object"  # another user's id in the path answers 404 (checked below, API and pages)
OWN = "own"  # no id in the path: it reads or changes the caller's own data only (lists checked below)
PUBLIC = "public"  # needs no account: probes, docs, sign-in/up, POST /v1/users (closed in production)
SIGNED = "signed"  # a signed one-time link; owner and tampering checks in test_links.py and tests/web
CASES: dict[tuple[str, str], str] = {
    **{("GET", p): PUBLIC for p in ("/healthz", "/readyz", "/openapi.json", "/docs", "/docs/oauth2-redirect",
                                    "/redoc", "/signin", "/signup", "/reset")},
    **{("POST", p): PUBLIC for p in ("/v1/users", "/signin", "/signup", "/reset", "/signout")},
    **{(m, p): SIGNED for m in ("GET", "POST") for p in ("/v1/links/{token}", "/links/{token}",
                                                         "/reset/{token}", "/invite/{token}")},
    ("GET", "/v1/uploads/{upload_id}"): OBJECT,
    ("GET", "/v1/sessions/{session_id}"): OBJECT,
    ("PUT", "/v1/sessions/{session_id}/conditions"): OBJECT,
    ("POST", "/v1/sessions/{session_id}/weigh-in"): OBJECT,
    ("DELETE", "/v1/tokens/{token_id}"): OBJECT,
    ("GET", "/sessions/{session_id}"): OBJECT,
    ("POST", "/sessions/{session_id}/weigh-in"): OBJECT,
    ("POST", "/sessions/{session_id}/conditions"): OBJECT,
    ("POST", "/sessions/{session_id}/cramp"): OBJECT,
    ("GET", "/outbox/{email_id}"): OBJECT,
    ("POST", "/profile/tokens/{token_id}/revoke"): OBJECT,
    **{("GET", p): OWN for p in ("/", "/sessions", "/upload", "/trends", "/plan", "/profile", "/outbox",
                                 "/v1/alerts", "/v1/preferences", "/v1/profile", "/v1/profile/weights",
                                 "/v1/sessions", "/v1/tokens")},
    **{("POST", p): OWN for p in ("/upload", "/upload/demo", "/plan", "/profile", "/profile/weights",
                                  "/profile/preferences", "/profile/tokens", "/v1/plan",
                                  "/v1/profile/weights", "/v1/tokens", "/v1/uploads")},
    **{("PUT", p): OWN for p in ("/v1/preferences", "/v1/profile")},
}  # fmt: skip
PAGE_FORMS = {  # form fields so a page answers about the object, not about a missing field
    "/sessions/{session_id}/weigh-in": {"pre_kg": "70", "post_kg": "69"},
    "/sessions/{session_id}/conditions": {"temp_c": "25", "indoor": "outdoor"},
    "/sessions/{session_id}/cramp": {"cramped": "yes"},
}


def every_route() -> set[tuple[str, str]]:
    """(method, path) of every route the app serves, documented or not (pages, links)."""
    return served_routes(create_app().routes)


def test_every_route_has_an_isolation_case() -> None:
    missing = sorted(every_route() - set(CASES))
    assert not missing, f"new routes without a case in CASES (how is each kept to its caller?): {missing}"


def test_every_api_object_route_is_in_the_404_check_above() -> None:
    api = {(m, p) for m, p in every_route() if CASES.get((m, p)) == OBJECT and p.startswith("/v1/")}
    assert api <= set(routes_with_ids())


def test_another_users_objects_answer_404_on_every_page(database_url: str) -> None:
    from web.conftest import csrf_of, sign_up

    from core.models import AlertOutbox

    with unit_of_work() as uow:
        owner = User(email="owner@example.com", token_hash="o" * 64)
        uow.session.add(owner)
        uow.session.flush()
        upload = Upload(user_id=owner.id, sha256="2" * 64, size=1, storage_key="k")
        uow.session.add(upload)
        uow.session.flush()
        ws = WorkoutSession(user_id=owner.id, upload_id=upload.id, metrics={}, algorithm_version="t")
        token = ApiToken(user_id=owner.id, name="owner's", prefix="ss_", token_hash="u" * 64)
        uow.session.add_all([ws, token])
        uow.session.flush()
        email = AlertOutbox(user_id=owner.id, session_id=ws.id, kind="cramp_risk", dedup_key=f"k:{ws.id}",
                            recipient="owner@example.com",
                            payload={"text": "secret"}, status="pending")  # fmt: skip
        uow.session.add(email)
    ids = {"session_id": ws.id, "token_id": token.id, "email_id": email.id}
    with TestClient(create_app(), follow_redirects=False) as browser:
        sign_up(browser, "intruder@example.com")
        pages = [(m, p) for (m, p), case in CASES.items() if case == OBJECT and not p.startswith("/v1/")]
        for method, path in sorted(pages):
            url = path.format(**{k: str(v) for k, v in ids.items() if "{" + k + "}" in path})
            data = {"csrf_token": csrf_of(browser.get("/profile").text), **PAGE_FORMS.get(path, {})}
            r = browser.request(method, url, data=data if method == "POST" else None)
            assert r.status_code == 404, (method, path, r.status_code, r.text[:200])
        assert "secret" not in browser.get("/outbox").text
        assert str(ws.id) not in browser.get("/sessions").text
    with unit_of_work() as uow:
        assert uow.session.get(ApiToken, token.id).revoked_at is None  # type: ignore[union-attr]


def test_lists_hold_only_the_callers_own_rows(client: TestClient) -> None:
    owner = client.post("/v1/users", json={"email": "lists-owner@example.com"}).json()["token"]
    intruder = client.post("/v1/users", json={"email": "lists-intruder@example.com"}).json()["token"]
    mine = {"Authorization": f"Bearer {owner}"}
    theirs = {"Authorization": f"Bearer {intruder}"}
    assert client.post("/v1/profile/weights", json={"mass_kg": 71.5, "measured_at": "2026-01-01T08:00:00Z"},
                       headers=mine).status_code == 201  # fmt: skip
    assert client.put("/v1/profile", json={"mass_kg": 88}, headers=mine).status_code == 200
    assert client.put("/v1/profile", json={"mass_kg": 55}, headers=theirs).status_code == 200
    assert client.get("/v1/profile/weights", headers=theirs).json() == []
    assert client.get("/v1/profile", headers=mine).json()["mass_kg"] == 88
    names = [t.get("name") for t in client.get("/v1/tokens", headers=theirs).json()]
    assert len(names) == 1  # only the intruder's own token
