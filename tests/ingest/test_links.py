"""One-click links from emails: signed, for their owner only, effective once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from alerts.handover import alert_links
from core.db import unit_of_work
from core.models import CrampReport, Upload, User, WorkoutSession
from core.settings import get_settings
from core.signing import sign
from ingest.app import create_app


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        yield c


def athlete_with_session(email: str) -> tuple[User, WorkoutSession]:
    with unit_of_work() as uow:
        user = User(email=email, token_hash=uuid.uuid4().hex * 2)
        uow.session.add(user)
        uow.session.flush()
        upload = Upload(user_id=user.id, sha256="0" * 64, size=1, storage_key="k")
        uow.session.add(upload)
        uow.session.flush()
        ws = WorkoutSession(user_id=user.id, upload_id=upload.id, metrics={}, algorithm_version="t")
        uow.session.add(ws)
    return user, ws


def path_of(url: str) -> str:
    return url.removeprefix(get_settings().public_base_url)


def test_the_cramped_link_records_the_answer_once(client: TestClient) -> None:
    user, ws = athlete_with_session("a@example.com")
    link = path_of(alert_links(user, ws)["cramped"])
    assert '<form method="post"' in client.get(link).text  # a prefetching mail scanner records nothing
    with unit_of_work() as uow:
        assert uow.session.get(CrampReport, ws.id) is None
    first = client.post(link)
    assert first.status_code == 200 and "your answer is recorded" in first.text
    assert client.post(link).status_code == 200  # once more: still one answer
    with unit_of_work() as uow:
        report = uow.session.get(CrampReport, ws.id)
        assert report is not None and report.cramped is True


def test_a_link_signed_for_one_athlete_does_nothing_to_another_athletes_session(client: TestClient) -> None:
    alice, _ = athlete_with_session("alice@example.com")
    _, bobs_session = athlete_with_session("bob@example.com")
    forged = sign(get_settings(), "cramped", str(alice.id), str(bobs_session.id))
    assert client.post(f"/v1/links/{forged}").status_code == 404
    assert client.post(f"/links/{forged}").status_code == 404
    with unit_of_work() as uow:
        assert uow.session.get(CrampReport, bobs_session.id) is None


def test_a_tampered_link_answers_404(client: TestClient) -> None:
    user, ws = athlete_with_session("t@example.com")
    token = path_of(alert_links(user, ws)["no_cramp"]).rsplit("/", 1)[1]
    assert client.post(f"/v1/links/{token[:-2]}xx").status_code == 404
    assert client.post(f"/links/{token[:-2]}xx").status_code == 404


def test_one_click_unsubscribe_accepts_the_rfc_8058_post(client: TestClient) -> None:
    user, ws = athlete_with_session("u@example.com")
    link = path_of(alert_links(user, ws)["unsubscribe"])
    r = client.post(
        link,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200
    with unit_of_work() as uow:
        assert uow.session.get(User, user.id).alerts_opt_out is True


def test_preferences_set_the_alert_tier_units_and_an_https_webhook(client: TestClient) -> None:
    token = client.post("/v1/users", json={"email": "pref@example.com"}).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/preferences", headers=auth).json()["alert_min_tier"] == "high"
    r = client.put("/v1/preferences", json={"alert_min_tier": "moderate", "units": "imperial"}, headers=auth)
    assert (r.json()["alert_min_tier"], r.json()["units"]) == ("moderate", "imperial")
    bad = client.put("/v1/preferences", json={"webhook_url": "http://insecure.example.com"}, headers=auth)
    assert bad.status_code == 422
    good = client.put("/v1/preferences", json={"webhook_url": "https://hooks.example.com/x"}, headers=auth)
    assert good.json()["webhook_secret"]
    assert client.put("/v1/preferences", json={"alert_min_tier": "low"}, headers=auth).status_code == 422
