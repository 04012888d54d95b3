"""Pages: every one renders for its owner, asks for sign-in (then comes back) otherwise, answers other
athletes' objects with a 404 page, and never shows JSON or a traceback."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from web.conftest import csrf_of, post_form, sign_up

from alerts.handover import alert_links
from core.db import unit_of_work
from core.models import Profile, Upload, User, WorkoutSession
from core.settings import get_settings
from support.routes import served_routes
from sweatsync.cli import analyze_file, build_parser
from sweatsync.demo import demo_gpx

PAGES = ["/sessions", "/upload", "/trends", "/plan", "/profile", "/outbox"]


def analysed_session(email: str, tmp: Path) -> WorkoutSession:
    """A stored session with the real models' output for the package's own sample ride."""
    sample = tmp / "demo.gpx"
    sample.write_bytes(demo_gpx())
    metrics = analyze_file(build_parser().parse_args(["analyze", str(sample)]))[0].to_json()
    with unit_of_work() as uow:
        user = uow.session.scalar(select(User).where(User.email == email))
        assert user is not None
        upload = Upload(
            user_id=user.id, sha256=uuid.uuid4().hex * 2, size=1, storage_key="k.gpx", status="done"
        )
        uow.session.add(upload)
        uow.session.flush()
        ws = WorkoutSession(
            user_id=user.id, upload_id=upload.id, metrics=metrics, algorithm_version="t", sport="cycling",
            start_time=datetime.now(UTC), duration_s=metrics["duration_s"],
        )  # fmt: skip
        uow.session.add(ws)
    return ws


def test_the_start_page_sends_a_signed_in_athlete_to_their_sessions(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200 and "Create an account" in r.text
    sign_up(client)
    assert client.get("/").headers["location"] == "/sessions"


@pytest.mark.parametrize("page", PAGES)
def test_each_page_asks_for_sign_in_then_renders(client: TestClient, page: str) -> None:
    assert client.get(page).headers["location"].startswith("/signin?next=")
    sign_up(client)
    r = client.get(page)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "Traceback" not in r.text


def test_the_session_page_draws_charts_figures_and_risk(client: TestClient, tmp_path: Path) -> None:
    sign_up(client, "ana@example.com")
    ws = analysed_session("ana@example.com", tmp_path)
    html = client.get(f"/sessions/{ws.id}").text
    assert '<svg class="chart" id="chart-heart_rate"' in html
    assert '<svg class="chart" id="chart-sweat"' in html and "<polygon" in html  # the range band
    assert "Sweat loss" in html and 'href="/profile#f-mass_kg"' in html and "Cramp risk" in html
    assert "I cramped" in html and 'id="cond-temp_c"' in html


def test_another_athletes_session_is_a_404_page(client: TestClient, tmp_path: Path) -> None:
    sign_up(client, "owner@example.com")
    ws = analysed_session("owner@example.com", tmp_path)
    client.cookies.clear()
    sign_up(client, "intruder@example.com")
    for path in (f"/sessions/{ws.id}", f"/sessions/{uuid.uuid4()}", "/sessions/not-an-id", "/nowhere"):
        r = client.get(path)
        assert r.status_code == 404 and "There is nothing here" in r.text, path
    token = csrf_of(client.get("/sessions").text)
    for action in ("weigh-in", "conditions", "cramp"):
        r = client.post(
            f"/sessions/{ws.id}/{action}",
            data={"csrf_token": token, "pre_kg": "70", "post_kg": "69", "temp_c": "20", "cramped": "yes"},
        )
        assert r.status_code == 404 and "<html" in r.text, action


def test_the_emails_links_land_on_pages_after_sign_in(client: TestClient, tmp_path: Path) -> None:
    sign_up(client, "ana@example.com")
    ws = analysed_session("ana@example.com", tmp_path)
    with unit_of_work() as uow:
        user = uow.session.get_one(User, ws.user_id)
        links = alert_links(user, ws)
    base = get_settings().public_base_url
    client.cookies.delete("ss_session")
    session_path = links["session"].removeprefix(base)
    r = client.get(session_path)
    assert r.headers["location"] == f"/signin?next=%2Fsessions%2F{ws.id}"
    signed_in = post_form(client, "/signin", "/signin", email="ana@example.com", password="correct horse",
                          next=session_path)  # fmt: skip
    assert signed_in.headers["location"] == session_path
    assert client.get(links["profile"].removeprefix(base).split("#")[0]).status_code == 200
    cramped = client.get(links["cramped"].removeprefix(base))
    assert cramped.status_code == 200 and "Did you cramp" in cramped.text


def test_a_weigh_in_and_conditions_from_the_page_are_stored_for_the_recompute(
    client: TestClient, tmp_path: Path
) -> None:
    sign_up(client, "ana@example.com")
    ws = analysed_session("ana@example.com", tmp_path)
    page = f"/sessions/{ws.id}"
    r = post_form(client, page, f"{page}/weigh-in", pre_kg="71.2", post_kg="69.9", fluid_l="0.5", urine_l="0")
    assert r.status_code == 303
    r = post_form(client, page, f"{page}/conditions", temp_c="31", humidity_pct="40", indoor="outdoor")
    assert r.status_code == 303
    bad = post_form(client, page, f"{page}/weigh-in", pre_kg="seventy", post_kg="69")
    assert bad.status_code == 422 and "not a number" in bad.text
    with unit_of_work() as uow:
        stored = uow.session.get_one(WorkoutSession, ws.id)
        assert stored.overrides == {"temp_c": 31.0, "humidity_pct": 40.0, "indoor": False}


def test_the_plan_page_and_route_keep_to_the_drinking_limits(client: TestClient) -> None:
    sign_up(client)
    r = post_form(client, "/plan", "/plan", sport="cycling", duration_min="240", power_w="260", temp_c="32",
                  humidity_pct="60")  # fmt: skip
    assert r.status_code == 200 and "Drinking plan" in r.text and "Not calibrated yet" in r.text
    token = client.post("/v1/users", json={"email": "api@example.com"}).json()["token"]
    body = {"sport": "cycling", "duration_min": 240, "power_w": 260, "temp_c": 32, "humidity_pct": 60}
    plan = client.post("/v1/plan", json=body, headers={"Authorization": f"Bearer {token}"}).json()
    assert all(h["drink_l"] <= 1.0 for h in plan["hours"])
    assert plan["drink_total_l"] <= min(3.0, plan["sweat_l"])
    assert all(300 * h["minutes"] / 60 <= h["sodium_mg_high"] <= 600 for h in plan["hours"])
    missing = post_form(client, "/plan", "/plan", duration_min="60", temp_c="20")
    assert missing.status_code == 422 and "intensity" in missing.text


def test_a_plan_no_one_could_hold_says_so_first_on_the_page_and_in_the_api(client: TestClient) -> None:
    sign_up(client)
    page = post_form(client, "/plan", "/plan", sport="running", duration_min="1440", pace="3:00", temp_c="20")
    assert page.status_code == 200
    assert '<p class="error" role="alert">No one has run 3:00 min/km for 24 hours' in page.text
    token = client.post("/v1/users", json={"email": "api@example.com"}).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    body = {"sport": "running", "duration_min": 1440, "pace_min_per_km": 3.0, "temp_c": 20}
    impossible = client.post("/v1/plan", json=body, headers=auth).json()
    assert impossible["plausible"] is False and impossible["notes"][0].startswith("No one has run")
    body["pace_min_per_km"] = 6.0
    ordinary = client.post("/v1/plan", json=body, headers=auth).json()
    assert ordinary["plausible"] is True and not ordinary["notes"][0].startswith("No one")


def test_docs_are_served_from_files_in_an_installed_package(client: TestClient) -> None:
    html = client.get("/docs").text
    assert "/static/swagger/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200


def test_a_file_that_is_no_workout_is_refused_with_a_sentence_on_the_upload_page(client: TestClient) -> None:
    sign_up(client)
    token = csrf_of(client.get("/upload").text)
    r = client.post(
        "/upload", data={"csrf_token": token}, files={"file": ("notes.txt", b"just some text", "text/plain")}
    )
    assert r.status_code == 422 and "not accepted" in r.text and "Traceback" not in r.text


PUBLIC_PAGES = {"/links/{token}", "/reset/{token}", "/invite/{token}"}  # signed or one-time links


def page_routes_with_ids() -> list[tuple[str, str]]:
    """Every page route with an id in its path, found by walking the web routers."""
    from ingest.web import account_pages, pages

    found = served_routes([*pages.router.routes, *account_pages.router.routes])
    return sorted((method, path) for method, path in found if "{" in path and path not in PUBLIC_PAGES)


def test_every_page_with_an_id_answers_another_athletes_object_with_a_404_page(
    client: TestClient, tmp_path: Path
) -> None:
    from core.models import AlertOutbox, ApiToken

    sign_up(client, "owner@example.com")
    ws = analysed_session("owner@example.com", tmp_path)
    with unit_of_work() as uow:
        token = ApiToken(user_id=ws.user_id, name="owner's", prefix="ss_", token_hash="t" * 64)
        email = AlertOutbox(
            user_id=ws.user_id, kind="cramp_risk", dedup_key="k", recipient="owner@example.com", payload={}
        )
        uow.session.add_all([token, email])
    ids = {"session_id": ws.id, "token_id": token.id, "email_id": email.id}
    client.cookies.clear()
    sign_up(client, "intruder@example.com")
    csrf = csrf_of(client.get("/sessions").text)
    routes = page_routes_with_ids()
    assert routes, "no page routes found"
    for method, path in routes:
        params = {part.strip("{}") for part in path.split("/") if part.startswith("{")}
        assert params <= ids.keys(), f"{path}: add its id kind to this test"
        url = path.format(**{k: str(v) for k, v in ids.items()})
        r = client.request(method, url, data={"csrf_token": csrf, "pre_kg": "70", "post_kg": "69"})
        assert r.status_code == 404 and "<html" in r.text, (method, path, r.status_code)


def test_in_embedded_mode_the_emails_are_readable_in_the_browser(client: TestClient) -> None:
    from alerts.relay import relay_due, sender_from_settings

    sign_up(client, "ana@example.com")
    post_form(client, "/reset", "/reset", email="ana@example.com")  # an email to this athlete
    assert relay_due(sender=sender_from_settings(get_settings())).sent == 1  # written as an .eml file
    listing = client.get("/outbox").text
    assert "Reset your sweatsync password" in listing
    email_path = re.search(r'href="(/outbox/[0-9a-f-]+)"', listing)
    assert email_path
    page = client.get(email_path.group(1)).text
    assert "read from the outbox file" in page
    assert re.search(r'<a href="http://127\.0\.0\.1:8000/reset/[^"]+">', page)


def test_too_many_requests_is_a_page_on_page_paths_and_json_on_the_api(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.settings import reset_settings_cache
    from ingest.app import create_app

    monkeypatch.setenv("SWEATSYNC_RATE_LIMIT_PER_ADDRESS", "2/minute")
    monkeypatch.setenv("SWEATSYNC_RATE_LIMIT_STORAGE_URL", "memory://")
    monkeypatch.setenv("SWEATSYNC_RATE_LIMITS_ENABLED", "true")
    reset_settings_cache()
    with TestClient(create_app()) as c:
        answers = [c.get("/signin") for _ in range(3)]
        api = c.get("/v1/sessions")
    page = answers[-1]
    assert page.status_code == 429 and page.headers["retry-after"]
    assert page.headers["content-type"].startswith("text/html") and "Wait a minute" in page.text
    assert api.status_code == 429 and api.headers["content-type"] == "application/json"


def test_the_profile_page_saves_and_shows_the_running_ftp(client: TestClient) -> None:
    sign_up(client)
    post_form(client, "/profile", "/profile", mass_kg="70", ftp_w="250", running_ftp_w="310")
    html = client.get("/profile").text
    assert 'id="f-running_ftp_w"' in html and 'value="310"' in html
    with unit_of_work() as uow:
        profile = uow.session.scalars(select(Profile)).one()
        assert (profile.ftp_w, profile.running_ftp_w) == (250, 310)  # runs use 310 W, rides 250 W


@pytest.mark.parametrize("text", ["nan", "inf", "-Infinity"])
def test_a_form_number_written_as_nan_or_inf_is_refused_with_a_sentence(
    client: TestClient, text: str
) -> None:
    sign_up(client)
    r = post_form(client, "/profile", "/profile/weights", mass_kg=text)
    assert r.status_code == 422 and "is not a number" in r.text  # type: ignore[attr-defined]
