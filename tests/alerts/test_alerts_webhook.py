"""The outgoing webhook: payload, signature, URL rules, the outbox row, and delivery through the relay to a
REAL HTTP receiver on loopback (http.server in a thread), on SQLite and PostgreSQL. Time is advanced through
`now`; nothing sleeps and nothing is timed."""

from __future__ import annotations

import json
import logging
import random
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from alerts.assess import AlertPolicy, assess
from alerts.dedup import CRAMP_RISK, WEBHOOK, cramp_risk_key, webhook_key
from alerts.mail import PERMANENT, TRANSIENT, FileOutboxSender, SmtpSender
from alerts.outbox import enqueue_alert, enqueue_webhook
from alerts.relay import RelayStats, relay_due
from alerts.render import render_cramp_alert
from alerts.risk import RiskContext
from alerts.webhook import (
    EVENT,
    WebhookError,
    WebhookSender,
    WebhookUrlError,
    check_webhook_url,
    checked_address,
    classify_error,
    sign_webhook,
    url_origin,
    verify_signature,
    webhook_body,
    webhook_payload,
    webhook_sender_from_settings,
)
from core.db import unit_of_work
from core.models import AlertOutbox, OutboxStatus, User
from core.settings import Settings, SmtpConfig

MAIL_FROM = "sweatsync <alerts@sweatsync.test>"
T0 = datetime(2025, 6, 14, 12, 0, tzinfo=UTC)
SECRET = "whsec_" + "ab" * 24
SESSION_ID = "5f1c7a52-3d0e-4c1e-9a57-2b8f0c6d9e41"
Seed = Callable[..., tuple[uuid.UUID, uuid.UUID]]
MakeSession = Callable[..., dict[str, Any]]


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------- a real HTTP receiver on loopback


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers POSTs from a script of (status, headers, body) replies, then 200; records every request.

    A reply with status 0 holds the request open until `release` is set (a receiver that never answers).
    """

    replies: list[tuple[int, dict[str, str], bytes]]
    port: int = 0
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str = "/hooks/sweatsync") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def accepted(self) -> list[Received]:
        return [r for r, status in zip(self.requests, self.statuses, strict=True) if 200 <= status < 300]


def handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                status, headers, reply = receiver.replies.pop(0) if receiver.replies else (200, {}, b"ok")
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
                receiver.statuses.append(status)
            if status == 0:
                receiver.release.wait(10)
                return
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:  # keep the test output quiet
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    """receiver((503, {}, b"busy"), ...) -> a Receiver listening on 127.0.0.1, stopped after the test."""
    started: list[tuple[Receiver, ThreadingHTTPServer, threading.Thread]] = []

    def start(*replies: tuple[int, dict[str, str], bytes]) -> Receiver:
        rec = Receiver(list(replies))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(rec))
        server.daemon_threads = True
        rec.port = int(server.server_address[1])
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        started.append((rec, server, thread))
        return rec

    yield start
    for rec, server, thread in started:
        rec.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def loopback_sender(timeout_s: float = 5.0) -> WebhookSender:
    """Plain http to 127.0.0.1 allowed; proxies from the environment ignored."""
    return WebhookSender(timeout_s=timeout_s, allow_insecure_localhost=True, trust_env=False)


# ---------------------------------------------------------------- database helpers


def scored(make_session: MakeSession, **overrides: Any) -> dict[str, Any]:
    session = make_session(**overrides)
    session.update(assess(session, RiskContext(cramp_history="recent"), AlertPolicy()).as_json())
    return session


@pytest.fixture
def add_webhook(
    db_engine: Engine, seed_session: Seed, make_session: MakeSession
) -> Callable[..., tuple[str, uuid.UUID]]:
    """add_webhook(url, secret=SECRET, **session) -> (dedup key, user id) of a pending row due at T0."""

    def add(url: str, secret: str | None = SECRET, **overrides: Any) -> tuple[str, uuid.UUID]:
        user_id, session_id = seed_session(webhook_url=url, webhook_secret=secret)
        session_json = {"id": str(session_id), **scored(make_session, **overrides)}
        with unit_of_work(db_engine) as uow:
            user = uow.session.get(User, user_id)
            assert user is not None
            assert enqueue_webhook(
                uow.session,
                user=user,
                session_id=session_id,
                session_json=session_json,
                now=T0,
                allow_insecure_localhost=True,
            )
        return webhook_key(session_id), user_id

    return add


def row(engine: Engine, key: str) -> AlertOutbox:
    with Session(engine) as s:
        found = s.scalars(select(AlertOutbox).where(AlertOutbox.dedup_key == key)).one()
        s.expunge(found)
        return found


def relay(
    engine: Engine, now: datetime, *, webhook_sender: WebhookSender | None = None, **kw: Any
) -> RelayStats:
    kw.setdefault("backoff_base_s", 0.05)
    kw.setdefault("rng", random.Random(1234))
    kw.setdefault("sender", FileOutboxSender(Path("/nonexistent/never-used")))
    return relay_due(
        engine=engine, now=now, mail_from=MAIL_FROM, webhook_sender=webhook_sender or loopback_sender(), **kw
    )


# ---------------------------------------------------------------- delivery: 503, 503, then 200


@pytest.mark.integration
def test_it_delivers_exactly_once_after_two_503_replies_with_a_constant_idempotency_key(
    db_engine: Engine, add_webhook: Callable[..., tuple[str, uuid.UUID]], receiver: Callable[..., Receiver]
) -> None:
    rec = receiver((503, {}, b"busy"), (503, {}, b"still busy"))
    key, _ = add_webhook(rec.url("/hooks/sweatsync?token=abc"))
    now, gaps = T0, []
    for _ in range(10):
        relay(db_engine, now)
        current = row(db_engine, key)
        if current.status == OutboxStatus.SENT:
            break
        assert current.status == OutboxStatus.PENDING
        assert current.last_error is not None and current.last_error.startswith(
            "HTTP 503 from http://127.0.0.1"
        )
        gaps.append((current.next_attempt_at - now).total_seconds())
        assert relay(db_engine, current.next_attempt_at - timedelta(microseconds=1)).claimed == 0
        now = current.next_attempt_at

    done = row(db_engine, key)
    assert (done.status, done.attempts, done.message_id, done.last_error) == (OutboxStatus.SENT, 3, key, None)
    assert rec.statuses == [503, 503, 200]
    assert len(rec.accepted()) == 1
    assert len(gaps) == 2 and gaps[0] < gaps[1]
    assert relay(db_engine, now + timedelta(days=1)).claimed == 0

    assert {r.path for r in rec.requests} == {"/hooks/sweatsync?token=abc"}
    assert {r.headers["Idempotency-Key"] for r in rec.requests} == {key}
    assert len({r.body for r in rec.requests}) == 1  # every retry carries the same bytes
    for r in rec.requests:
        assert r.headers["Content-Type"] == "application/json"
        assert r.headers["Sweatsync-Event"] == EVENT
        assert verify_signature(r.body, SECRET, r.headers["Sweatsync-Signature"])
        assert not verify_signature(r.body, "another secret", r.headers["Sweatsync-Signature"])
    event = json.loads(rec.requests[-1].body)
    assert (event["id"], event["type"], event["session_id"]) == (key, EVENT, key.partition(":")[2])
    assert event["data"]["risk"]["tier"] == "high"


# ---------------------------------------------------------------- permanent failures


@pytest.mark.parametrize("status", [400, 404, 410])
@pytest.mark.integration
def test_a_4xx_reply_fails_the_row_after_one_attempt_and_never_retries(
    db_engine: Engine,
    add_webhook: Callable[..., tuple[str, uuid.UUID]],
    receiver: Callable[..., Receiver],
    status: int,
) -> None:
    rec = receiver((status, {"Content-Type": "text/plain"}, b"no such hook\r\nX-Injected: 1"))
    key, _ = add_webhook(rec.url())
    stats = relay(db_engine, T0)
    assert (stats.sent, stats.retried, stats.failed) == (0, 0, 1)
    for hours in (1, 24, 24 * 30):
        assert relay(db_engine, T0 + timedelta(hours=hours)).claimed == 0
    failed = row(db_engine, key)
    assert (failed.status, failed.attempts) == (OutboxStatus.FAILED, 1)
    assert failed.last_error == f"HTTP {status} from http://127.0.0.1:{rec.port}: no such hook X-Injected: 1"
    assert len(rec.requests) == 1


@pytest.mark.integration
def test_a_redirect_is_not_followed_and_fails_the_row(
    db_engine: Engine, add_webhook: Callable[..., tuple[str, uuid.UUID]], receiver: Callable[..., Receiver]
) -> None:
    elsewhere = receiver()
    rec = receiver((307, {"Location": elsewhere.url("/stolen")}, b""))
    key, _ = add_webhook(rec.url())
    assert relay(db_engine, T0).failed == 1
    failed = row(db_engine, key)
    assert failed.status == OutboxStatus.FAILED
    assert failed.last_error is not None and "redirects are not followed" in failed.last_error
    assert elsewhere.requests == []


@pytest.mark.integration
def test_a_row_whose_user_removed_the_url_is_failed_without_a_call(
    db_engine: Engine, add_webhook: Callable[..., tuple[str, uuid.UUID]], receiver: Callable[..., Receiver]
) -> None:
    rec = receiver()
    key, user_id = add_webhook(rec.url())
    with unit_of_work(db_engine) as uow:
        uow.session.execute(update(User).where(User.id == user_id).values(webhook_url=None))
    assert relay(db_engine, T0).failed == 1
    assert row(db_engine, key).last_error == "the athlete removed the webhook URL; not sent"
    assert rec.requests == []


@pytest.mark.integration
def test_a_url_changed_to_plain_http_after_queueing_is_refused_at_send_time(
    db_engine: Engine, add_webhook: Callable[..., tuple[str, uuid.UUID]], receiver: Callable[..., Receiver]
) -> None:
    rec = receiver()
    key, user_id = add_webhook(rec.url())
    with unit_of_work(db_engine) as uow:
        uow.session.execute(
            update(User).where(User.id == user_id).values(webhook_url="http://hooks.example.com/x")
        )
    assert relay(db_engine, T0).failed == 1
    assert row(db_engine, key).last_error == "refused: the webhook URL must start with https://"
    assert rec.requests == []


# ---------------------------------------------------------------- transient failures


@pytest.mark.integration
def test_a_429_is_retried_no_sooner_than_its_retry_after(
    db_engine: Engine, add_webhook: Callable[..., tuple[str, uuid.UUID]], receiver: Callable[..., Receiver]
) -> None:
    rec = receiver((429, {"Retry-After": "120"}, b"slow down"))
    key, _ = add_webhook(rec.url())
    assert relay(db_engine, T0).retried == 1
    pending = row(db_engine, key)
    assert pending.next_attempt_at == T0 + timedelta(seconds=120)
    assert relay(db_engine, T0 + timedelta(seconds=119)).claimed == 0
    assert relay(db_engine, pending.next_attempt_at).sent == 1
    assert rec.statuses == [429, 200]


@pytest.mark.integration
def test_a_retry_after_longer_than_the_backoff_cap_is_capped(
    db_engine: Engine, add_webhook: Callable[..., tuple[str, uuid.UUID]], receiver: Callable[..., Receiver]
) -> None:
    rec = receiver((503, {"Retry-After": "86400"}, b""))
    key, _ = add_webhook(rec.url())
    relay(db_engine, T0, backoff_cap_s=600)
    assert row(db_engine, key).next_attempt_at == T0 + timedelta(seconds=600)


@pytest.mark.parametrize("status", [408, 500, 503])
@pytest.mark.integration
def test_timeouts_and_server_errors_are_retried(
    db_engine: Engine,
    add_webhook: Callable[..., tuple[str, uuid.UUID]],
    receiver: Callable[..., Receiver],
    status: int,
) -> None:
    rec = receiver((status, {}, b""))
    key, _ = add_webhook(rec.url())
    assert relay(db_engine, T0).retried == 1
    assert row(db_engine, key).status == OutboxStatus.PENDING


@pytest.mark.integration
def test_a_refused_connection_is_retried_and_then_given_up_after_max_attempts(
    db_engine: Engine, add_webhook: Callable[..., tuple[str, uuid.UUID]]
) -> None:
    key, _ = add_webhook(f"http://127.0.0.1:{free_port()}/hook")
    now = T0
    for _ in range(10):
        relay(db_engine, now, max_attempts=3)
        current = row(db_engine, key)
        if current.status != OutboxStatus.PENDING:
            break
        assert current.last_error is not None and current.last_error.startswith("ConnectError")
        now = current.next_attempt_at
    assert (current.status, current.attempts) == (OutboxStatus.FAILED, 3)
    assert current.last_error is not None and current.last_error.startswith("gave up after 3 attempts")


@pytest.mark.integration
def test_a_receiver_that_does_not_answer_in_time_is_retried_and_its_retry_carries_the_same_key(
    db_engine: Engine, add_webhook: Callable[..., tuple[str, uuid.UUID]], receiver: Callable[..., Receiver]
) -> None:
    rec = receiver((0, {}, b""))  # holds the first request open
    key, _ = add_webhook(rec.url())
    assert relay(db_engine, T0, webhook_sender=loopback_sender(timeout_s=0.3)).retried == 1
    rec.release.set()
    pending = row(db_engine, key)
    assert pending.last_error is not None and pending.last_error.startswith("timed out after 0.3 s")
    assert relay(db_engine, pending.next_attempt_at).sent == 1
    # The receiver may have acted on the first call: the retry says it is the same delivery.
    assert [r.headers["Idempotency-Key"] for r in rec.requests] == [key, key]


# ---------------------------------------------------------------- secrets, routing, privacy


@pytest.mark.integration
def test_the_relay_signs_with_the_secret_the_user_has_when_it_sends(
    db_engine: Engine, add_webhook: Callable[..., tuple[str, uuid.UUID]], receiver: Callable[..., Receiver]
) -> None:
    rec = receiver()
    key, user_id = add_webhook(rec.url())
    rotated = "whsec_" + "cd" * 24
    with unit_of_work(db_engine) as uow:
        uow.session.execute(update(User).where(User.id == user_id).values(webhook_secret=rotated))
    assert relay(db_engine, T0).sent == 1
    [request] = rec.requests
    assert verify_signature(request.body, rotated, request.headers["Sweatsync-Signature"])
    assert not verify_signature(request.body, SECRET, request.headers["Sweatsync-Signature"])


@pytest.mark.integration
def test_email_and_webhook_rows_go_to_their_own_senders_in_one_pass(
    db_engine: Engine,
    seed_session: Seed,
    make_session: MakeSession,
    add_webhook: Callable[..., tuple[str, uuid.UUID]],
    receiver: Callable[..., Receiver],
    smtp_server: Callable[[Any], int],
    scripted_handler: Any,
) -> None:
    rec = receiver()
    hook_key, _ = add_webhook(rec.url())
    user_id, session_id = seed_session(email="ana@example.org")
    mail_key = cramp_risk_key(session_id)
    payload = render_cramp_alert(
        session=scored(make_session),
        user_email="ana@example.org",
        display_name="Ana",
        session_id=str(session_id),
        links={"unsubscribe": "https://sweatsync.example.org/u/one-click?t=abc"},
    )
    with unit_of_work(db_engine) as uow:
        assert enqueue_alert(
            uow.session, user_id=user_id, session_id=session_id, kind=CRAMP_RISK, dedup_key=mail_key,
            recipient="ana@example.org", payload=payload, now=T0,
        )  # fmt: skip
    handler = scripted_handler()
    port = smtp_server(handler)
    smtp = SmtpSender(SmtpConfig(host="127.0.0.1", port=port, timeout_s=10), local_hostname="localhost")

    stats = relay(db_engine, T0, sender=smtp)
    assert (stats.claimed, stats.sent) == (2, 2)
    assert len(handler.accepted) == 1 and len(rec.requests) == 1
    assert row(db_engine, mail_key).message_id == f"<cramp_risk.{session_id}@sweatsync.test>"
    assert row(db_engine, hook_key).message_id == hook_key


@pytest.mark.integration
def test_the_url_path_and_its_token_stay_out_of_the_outbox_and_the_logs(
    db_engine: Engine,
    add_webhook: Callable[..., tuple[str, uuid.UUID]],
    receiver: Callable[..., Receiver],
    caplog: pytest.LogCaptureFixture,
) -> None:
    rec = receiver((500, {}, b"oops"))
    with caplog.at_level(logging.DEBUG):
        key, _ = add_webhook(rec.url("/api/webhook/t0k3n-s3cr3t"))
        relay(db_engine, T0)
    current = row(db_engine, key)
    assert current.recipient == f"http://127.0.0.1:{rec.port}"
    assert "t0k3n" not in (current.last_error or "") and "t0k3n" not in json.dumps(current.payload)
    assert SECRET not in json.dumps(current.payload)
    messages = [r.getMessage() for r in caplog.records]
    assert any("alerts.webhook.posted origin=http://127.0.0.1" in m for m in messages)
    assert all("t0k3n" not in m for m in messages)


# ---------------------------------------------------------------- enqueue


@pytest.mark.integration
def test_every_analysed_session_queues_one_webhook_whatever_its_tier_and_email_opt_out(
    db_engine: Engine, seed_session: Seed, make_session: MakeSession
) -> None:
    user_id, session_id = seed_session(
        webhook_url="https://hooks.example.com/sweatsync", webhook_secret=SECRET, alerts_opt_out=True
    )
    low = make_session(duration_s=1800.0, power=None, load=None, fluid={"body_mass_pct": 0.5})
    low.update(assess(low, RiskContext(), AlertPolicy()).as_json())
    low["series"] = {"t_min": [1.0, 2.0], "heart_rate": [120, 121]}
    assert low["risk"]["tier"] == "low"
    for attempt in range(2):  # a recomputation queues nothing new
        with unit_of_work(db_engine) as uow:
            user = uow.session.get(User, user_id)
            assert user is not None
            inserted = enqueue_webhook(
                uow.session, user=user, session_id=session_id, session_json=low, now=T0
            )
        assert inserted is (attempt == 0)
    with Session(db_engine) as s:
        rows = s.scalars(select(AlertOutbox).where(AlertOutbox.user_id == user_id)).all()
    [queued] = rows
    assert (queued.kind, queued.dedup_key, queued.recipient) == (
        WEBHOOK,
        f"webhook:{session_id}",
        "https://hooks.example.com",
    )
    assert queued.payload["data"]["risk"]["tier"] == "low"
    assert queued.payload["created_at"] == "2025-06-14T12:00:00Z"
    assert "series" not in queued.payload["data"]


@pytest.mark.integration
def test_a_user_without_a_webhook_url_queues_nothing(
    db_engine: Engine, seed_session: Seed, make_session: MakeSession
) -> None:
    user_id, session_id = seed_session()
    with unit_of_work(db_engine) as uow:
        user = uow.session.get(User, user_id)
        assert user is not None
        assert not enqueue_webhook(
            uow.session, user=user, session_id=session_id, session_json=scored(make_session)
        )
    with Session(db_engine) as s:
        assert s.scalars(select(AlertOutbox)).all() == []


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/x", "the webhook URL must start with https://"),
        ("http://127.0.0.1:8080/x", "the webhook URL must start with https://"),
        ("ftp://hooks.example.com/x", "the webhook URL must start with https://"),
        ("https://user:pw@hooks.example.com/x", "must not contain a user name or password"),
        ("https://169.254.169.254/latest/meta-data", "must not point at a link-local"),
    ],
)
@pytest.mark.integration
def test_a_url_that_is_not_plain_https_is_refused_at_enqueue_with_a_clear_reason(
    db_engine: Engine,
    seed_session: Seed,
    make_session: MakeSession,
    caplog: pytest.LogCaptureFixture,
    url: str,
    reason: str,
) -> None:
    user_id, session_id = seed_session(webhook_url=url, webhook_secret=SECRET)
    with caplog.at_level(logging.WARNING, logger="sweatsync.alerts.outbox"), unit_of_work(db_engine) as uow:
        user = uow.session.get(User, user_id)
        assert user is not None
        assert not enqueue_webhook(
            uow.session, user=user, session_id=session_id, session_json=scored(make_session)
        )
    [record] = [r for r in caplog.records if "alerts.webhook.refused" in r.getMessage()]
    assert reason in record.getMessage() and "pw@" not in record.getMessage()
    with Session(db_engine) as s:
        assert s.scalars(select(AlertOutbox)).all() == []


@pytest.mark.integration
def test_a_user_without_a_secret_is_refused_at_enqueue(
    db_engine: Engine, seed_session: Seed, make_session: MakeSession, caplog: pytest.LogCaptureFixture
) -> None:
    user_id, session_id = seed_session(webhook_url="https://hooks.example.com/x", webhook_secret=None)
    with caplog.at_level(logging.WARNING, logger="sweatsync.alerts.outbox"), unit_of_work(db_engine) as uow:
        user = uow.session.get(User, user_id)
        assert user is not None
        assert not enqueue_webhook(
            uow.session, user=user, session_id=session_id, session_json=scored(make_session)
        )
    assert any("no webhook secret" in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------- pure parts


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    # Known answer, checked with:
    #   printf '1700000000.{"id":"webhook:x"}' | openssl dgst -sha256 -hmac whsec_test
    assert sign_webhook(b'{"id":"webhook:x"}', "whsec_test", 1700000000) == (
        "t=1700000000,v1=8e26a3e1401a79f37828adddb7af2af7c9e2cdccb06b892c62d7a70976672b71"
    )


def test_verification_rejects_a_changed_body_a_wrong_secret_a_stale_time_and_junk_headers() -> None:
    body, ts = b'{"a":1}', 1_750_000_000
    header = sign_webhook(body, SECRET, ts)
    assert verify_signature(body, SECRET, header, now=ts + 299)
    assert not verify_signature(b'{"a":2}', SECRET, header, now=ts)
    assert not verify_signature(body, SECRET + "x", header, now=ts)
    assert not verify_signature(body, SECRET, header, now=ts + 301)
    assert not verify_signature(body, SECRET, header, now=ts - 301)
    for junk in (None, "", "v1=abc", f"t={ts}", f"t=x,{header.split(',')[1]}", f"t={ts},t={ts},v1=00"):
        assert not verify_signature(body, SECRET, junk, now=ts)
    # During a secret rotation a sender may send two v1 values: either may match.
    both = f"{header},v1={sign_webhook(body, 'old secret', ts).split('v1=')[1]}"
    assert verify_signature(body, SECRET, both, now=ts) and verify_signature(body, "old secret", both, now=ts)


@pytest.mark.parametrize(
    ("url", "allow_localhost", "ok"),
    [
        ("https://hooks.example.com/sweatsync?token=abc", False, True),
        ("https://192.168.1.10:8123/api/webhook/x", False, True),  # a self-hoster's home server
        ("https://[2001:db8::1]/x", False, True),
        ("http://hooks.example.com/x", False, False),
        ("http://hooks.example.com/x", True, False),
        ("http://127.0.0.1:9000/x", False, False),
        ("http://127.0.0.1:9000/x", True, True),
        ("http://localhost:9000/x", True, True),
        ("http://[::1]:9000/x", True, True),
        ("https://localhost/x", False, False),
        ("https://127.0.0.1/x", False, False),
        ("https://169.254.169.254/", True, False),
        ("https://2852039166/", False, False),  # 169.254.169.254 written as one number
        ("https://0xa9.0xfe.0xa9.0xfe/", False, False),
        ("https://[::ffff:169.254.169.254]/", False, False),
        ("https://2130706433/", False, False),  # 127.0.0.1
        ("https://cafe.be/hook", False, True),
        ("https://0.0.0.0/", False, False),
        ("https://hooks.example.com:99999/x", False, False),
        ("https:///x", False, False),
        ("https://hooks.example.com/a b", False, False),
        ("https://hooks.example.com/\r\nX: y", False, False),
        ("javascript:alert(1)", True, False),
        ("", False, False),
    ],
)
def test_only_https_urls_are_accepted_with_plain_http_only_to_localhost_when_allowed(
    url: str, allow_localhost: bool, ok: bool
) -> None:
    if ok:
        assert check_webhook_url(url, allow_insecure_localhost=allow_localhost) == url
    else:
        with pytest.raises(WebhookUrlError):
            check_webhook_url(url, allow_insecure_localhost=allow_localhost)


def resolving_to(*addresses: str) -> Callable[[str, int], list[str]]:
    """A resolver for which every host name has these addresses (DNS is the one service tests cannot run)."""
    return lambda host, port: list(addresses)


@pytest.mark.parametrize(
    ("addresses", "why"),
    [
        (("169.254.169.254",), "link-local"),  # cloud metadata behind a friendly name
        (("127.0.0.1",), "this server"),
        (("::ffff:127.0.0.1",), "this server"),
        (("93.184.216.34", "127.0.0.2"), "this server"),  # one bad answer among good ones is enough
        (("ff02::1",), "multicast"),
    ],
)
def test_a_host_name_that_resolves_to_this_server_or_to_metadata_is_refused_at_send_time(
    addresses: tuple[str, ...], why: str
) -> None:
    with pytest.raises(WebhookUrlError, match=why):
        checked_address(
            "https://hooks.example.com/x", allow_insecure_localhost=False, resolve=resolving_to(*addresses)
        )


def test_a_host_name_on_the_lan_is_allowed_and_its_checked_address_is_the_one_called() -> None:
    got = checked_address(
        "https://nas.home/x", allow_insecure_localhost=False, resolve=resolving_to("192.168.1.5")
    )
    assert got == "192.168.1.5"


def test_a_host_name_that_does_not_resolve_is_a_transient_error() -> None:
    with pytest.raises(WebhookError) as caught:
        checked_address("https://no-such-host.invalid/x", allow_insecure_localhost=False)
    assert caught.value.transient and "could not be resolved" in str(caught.value)


@pytest.mark.integration
def test_a_named_host_is_called_at_the_address_that_was_checked_with_its_name_in_the_host_header(
    receiver: Callable[..., Receiver],
) -> None:
    rec = receiver()  # the system resolver knows no hooks.localhost: only the checked address can be called
    sender = WebhookSender(
        timeout_s=5.0, allow_insecure_localhost=True, trust_env=False, resolve=resolving_to("127.0.0.1")
    )
    status = sender.send(
        f"http://hooks.localhost:{rec.port}/hooks/x", body=b"{}", secret=SECRET, idempotency_key="k1"
    )
    assert status == 200 and rec.requests[0].headers["Host"] == f"hooks.localhost:{rec.port}"


def test_the_origin_drops_credentials_path_and_query() -> None:
    assert url_origin("https://u:p@hooks.example.com:8443/a/b?t=1#f") == "https://hooks.example.com:8443"


def test_the_payload_is_the_session_json_with_risk_and_without_series(make_session: MakeSession) -> None:
    session = scored(make_session, series={"t_min": [1.0, 2.0]})
    session["id"] = SESSION_ID.upper()
    session["fluid"]["sweat_l"] = float("nan")
    risk = session["risk"]
    payload = webhook_payload(session, risk, created_at=datetime(2025, 6, 14, 14, 0, 1, 999, tzinfo=UTC))
    assert set(payload) == {"id", "type", "version", "created_at", "session_id", "data"}
    assert payload["id"] == f"webhook:{SESSION_ID}" and payload["session_id"] == SESSION_ID
    assert (payload["type"], payload["version"], payload["created_at"]) == (EVENT, 1, "2025-06-14T14:00:01Z")
    data = payload["data"]
    assert "series" not in data and data["id"] == SESSION_ID
    assert data["risk"] == risk and data["fluid"]["sweat_l"] is None
    assert data["sodium"] == session["sodium"]
    body = webhook_body(payload)
    assert body == webhook_body(json.loads(body)) and json.loads(body) == payload
    assert body.startswith(b'{"created_at":')  # keys sorted: the same payload always gives the same bytes
    with pytest.raises(ValueError, match="id"):
        webhook_payload({"sport": "cycling"}, None)


def test_errors_are_transient_or_permanent_by_what_a_retry_could_change() -> None:
    request = httpx.Request("POST", "https://hooks.example.com/x")
    assert classify_error(WebhookError("HTTP 503", status=503, transient=True)) == TRANSIENT
    assert classify_error(WebhookError("HTTP 400", status=400)) == PERMANENT
    assert classify_error(WebhookUrlError("the webhook URL must start with https://")) == PERMANENT
    assert classify_error(httpx.ConnectError("refused", request=request)) == TRANSIENT
    assert classify_error(httpx.ReadTimeout("slow", request=request)) == TRANSIENT
    assert classify_error(httpx.UnsupportedProtocol("gopher", request=request)) == PERMANENT
    assert classify_error(ConnectionResetError()) == TRANSIENT
    assert classify_error(KeyError("bug")) == PERMANENT


def test_the_sender_from_settings_is_https_only_with_a_timeout(tmp_path: Path) -> None:
    sender = webhook_sender_from_settings(Settings(var_dir=tmp_path))
    assert (sender.timeout_s, sender.allow_insecure_localhost) == (10.0, False)
    with pytest.raises(WebhookUrlError):
        sender.send("http://127.0.0.1:1/x", body=b"{}", secret=SECRET, idempotency_key="webhook:x")
