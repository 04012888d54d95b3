"""Accounts: argon2 passwords, server-side sessions that sign-out really ends, CSRF on every form,
password reset and invitations through the outbox, and the open sign-up setting."""

from __future__ import annotations

import re
from typing import Literal

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select
from web.conftest import csrf_of, post_form, sign_up

from core.db import unit_of_work
from core.models import AlertOutbox, User, WebSession
from core.settings import reset_settings_cache
from ingest import accounts


def test_it_stores_an_argon2id_hash_never_the_password(client: TestClient) -> None:
    sign_up(client, "ana@example.com", "correct horse")
    with unit_of_work() as uow:
        user = uow.session.scalar(select(User).where(User.email == "ana@example.com"))
        assert user is not None and user.password_hash is not None
        assert user.password_hash.startswith("$argon2id$")
        assert "correct horse" not in user.password_hash


def test_it_signs_in_with_the_right_password_and_goes_back_to_the_page_asked_for(client: TestClient) -> None:
    sign_up(client)
    client.cookies.delete("ss_session")
    assert client.get("/sessions").headers["location"] == "/signin?next=%2Fsessions"
    r = post_form(
        client, "/signin", "/signin", email="ANA@example.com", password="correct horse", next="/trends"
    )
    assert r.status_code == 303 and r.headers["location"] == "/trends"
    assert client.get("/trends").status_code == 200


def test_it_refuses_a_wrong_password_and_an_unknown_email_with_the_same_sentence(client: TestClient) -> None:
    sign_up(client)
    client.cookies.delete("ss_session")
    wrong = post_form(client, "/signin", "/signin", email="ana@example.com", password="wrong password")
    unknown = post_form(client, "/signin", "/signin", email="bob@example.com", password="wrong password")
    assert wrong.status_code == unknown.status_code == 401
    sentence = "That email and password do not match an account."
    assert sentence in wrong.text and sentence in unknown.text


def test_an_unknown_email_still_costs_one_argon2_verification(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            checked.append(str(hash))
            return super().verify(hash, password)

    monkeypatch.setattr(accounts, "_hasher", Counting())
    with unit_of_work() as uow:
        assert accounts.authenticate(uow.session, email="nobody@example.com", password="x" * 10) is None
    assert len(checked) == 1 and checked[0].startswith("$argon2id$")


def test_sign_out_ends_the_session_on_the_server_not_just_in_the_browser(client: TestClient) -> None:
    sign_up(client)
    stolen = client.cookies.get("ss_session")
    r = post_form(client, "/sessions", "/signout")
    assert r.status_code == 303
    with unit_of_work() as uow:
        assert uow.session.scalars(select(WebSession)).all() == []
    client.cookies.set("ss_session", stolen or "")
    assert client.get("/sessions").status_code == 303  # the old cookie signs no one in


@pytest.mark.parametrize(
    "action",
    ["/signin", "/signup", "/signout", "/reset", "/profile", "/profile/tokens", "/plan", "/upload"],
)
def test_every_form_refuses_a_post_without_the_csrf_token(client: TestClient, action: str) -> None:
    sign_up(client)
    r = client.post(action, data={"email": "x@example.com", "password": "whatever12", "name": "t"})
    assert r.status_code == 403
    assert "came from another site" in r.text and "<html" in r.text


def test_a_csrf_token_from_another_visitor_is_refused(client: TestClient, database_url: str) -> None:
    sign_up(client)
    other = TestClient(client.app, follow_redirects=False)
    foreign = csrf_of(other.get("/signin").text)
    r = client.post("/profile/tokens", data={"csrf_token": foreign, "name": "stolen"})
    assert r.status_code == 403


def test_sign_up_is_closed_on_a_public_server_unless_the_setting_opens_it(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWEATSYNC_PUBLIC_BASE_URL", "https://sweat.example.org")
    monkeypatch.setenv("SWEATSYNC_SECRET_KEY", "a-real-secret-for-this-test-only")
    reset_settings_cache()
    page = client.get("/signup").text
    assert "Sign-up is closed" in page and 'name="password"' not in page
    assert client.post("/v1/users", json={"email": "eve@example.com"}).status_code == 403
    monkeypatch.setenv("SWEATSYNC_OPEN_SIGNUP", "true")
    reset_settings_cache()
    assert client.post("/v1/users", json={"email": "eve@example.com"}).status_code == 201


def test_a_password_reset_link_is_emailed_works_once_and_signs_out_everywhere(client: TestClient) -> None:
    sign_up(client, "ana@example.com", "old password")
    other_browser = client.cookies.get("ss_session")
    client.cookies.delete("ss_session")
    r = post_form(client, "/reset", "/reset", email="ana@example.com")
    assert "an email with a link" in r.text
    with unit_of_work() as uow:
        email = uow.session.scalars(select(AlertOutbox).where(AlertOutbox.kind == "account_email")).one()
    link = re.search(r"http://127\.0\.0\.1:8000(/reset/\S+)", email.payload["text"])
    assert link
    r = post_form(client, link.group(1), link.group(1), password="new password")
    assert r.status_code == 303
    again = post_form(client, "/reset", link.group(1), password="another one")
    assert again.status_code == 422 and "expired or was already used" in again.text
    with unit_of_work() as uow:
        assert accounts.session_user(uow.session, other_browser) is None
        assert accounts.authenticate(uow.session, email="ana@example.com", password="new password")


def test_a_reset_for_an_unknown_email_answers_the_same_and_sends_nothing(client: TestClient) -> None:
    r = post_form(client, "/reset", "/reset", email="nobody@example.com")
    assert r.status_code == 200 and "an email with a link" in r.text
    with unit_of_work() as uow:
        assert uow.session.scalars(select(AlertOutbox)).all() == []


def test_an_invitation_lets_the_invited_athlete_choose_a_password(client: TestClient) -> None:
    with unit_of_work() as uow:
        user = accounts.create_account(uow.session, email="inv@example.com")
        url = accounts.queue_account_email(uow.session, user=user, purpose="invite")
    path = url.removeprefix("http://127.0.0.1:8000")
    assert "Welcome" in client.get(path).text
    assert post_form(client, path, path, password="short").status_code == 422
    assert post_form(client, path, path, password="long enough").status_code == 303
    assert client.get("/sessions").status_code == 200


def test_a_tampered_or_unknown_link_is_a_page_not_an_error(client: TestClient) -> None:
    r = client.get("/reset/not-a-real-token")
    assert r.status_code == 404 and "expired or was already used" in r.text


def test_the_relay_delivers_the_reset_email_over_smtp(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alerts.relay import relay_due, sender_from_settings
    from core.settings import get_settings
    from support.services import smtp_server

    sign_up(client, "ana@example.com")
    client.cookies.delete("ss_session")
    post_form(client, "/reset", "/reset", email="ana@example.com")
    with smtp_server() as (smtp_url, sink):
        monkeypatch.setenv("SWEATSYNC_SMTP_URL", smtp_url)
        reset_settings_cache()
        stats = relay_due(sender=sender_from_settings(get_settings()))
        assert stats.sent == 1
        [message] = sink.wait_for(1)
    assert message["To"].addresses[0].addr_spec == "ana@example.com"
    assert "/reset/" in message.get_body(preferencelist=("plain",)).get_content()
