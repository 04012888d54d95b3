"""The outbox relay against a REAL SMTP server (aiosmtpd on loopback) and the file outbox, on SQLite and
PostgreSQL (reliability.md R9–R11, S9). Time is advanced through `now`; nothing sleeps."""

from __future__ import annotations

import email
import logging
import random
import re
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from alerts.assess import AlertPolicy, assess
from alerts.channels import EmailChannel, WebhookChannel, channel_table
from alerts.dedup import ACCOUNT_EMAIL, CRAMP_RISK, WEBHOOK, cramp_risk_key
from alerts.mail import FileOutboxSender, SmtpSender
from alerts.outbox import enqueue_alert
from alerts.relay import RelayStats, relay_due, sender_from_settings
from alerts.render import render_cramp_alert
from alerts.risk import RiskContext
from alerts.webhook import WebhookSender
from core.db import unit_of_work
from core.models import AlertOutbox, OutboxStatus
from core.settings import Settings, SmtpConfig, reset_settings_cache

pytestmark = pytest.mark.integration

MAIL_FROM = "sweatsync <alerts@sweatsync.test>"
T0 = datetime(2025, 6, 14, 12, 0, tzinfo=UTC)
Seed = Callable[..., tuple[uuid.UUID, uuid.UUID]]
StartSmtp = Callable[[Any], int]


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


LINKS = {"unsubscribe": "https://sweatsync.example.org/u/one-click?t=abc"}


def payload_for(
    make_session: Callable[..., dict[str, Any]],
    display_name: str | None = "Ana",
    series: dict[str, Any] | None = None,
) -> dict[str, Any]:
    session = make_session(series=series) if series else make_session()
    session.update(assess(session, RiskContext(cramp_history="recent"), AlertPolicy()).as_json())
    return render_cramp_alert(
        session=session,
        user_email="ana@example.org",
        display_name=display_name,
        session_id="5f1c7a52-3d0e-4c1e-9a57-2b8f0c6d9e41",
        links=LINKS,
    )


@pytest.fixture
def add_alert(
    db_engine: Engine, seed_session: Seed, make_session: Callable[..., dict[str, Any]]
) -> Callable[..., str]:
    """add_alert(recipient=..., display_name=..., series=...) -> dedup key of a new pending row, due at T0."""

    def add(
        recipient: str | None = None, display_name: str | None = "Ana", series: dict[str, Any] | None = None
    ) -> str:
        user_id, session_id = seed_session()
        key = cramp_risk_key(session_id)
        with unit_of_work(db_engine) as uow:
            assert enqueue_alert(
                uow.session,
                user_id=user_id,
                session_id=session_id,
                kind=CRAMP_RISK,
                dedup_key=key,
                recipient=recipient or f"athlete-{session_id.hex[:8]}@example.org",
                payload=payload_for(make_session, display_name, series),
                now=T0,
            )
        return key

    return add


def row(engine: Engine, key: str) -> AlertOutbox:
    with Session(engine) as s:
        found = s.scalars(select(AlertOutbox).where(AlertOutbox.dedup_key == key)).one()
        s.expunge(found)
        return found


def smtp_sender(port: int) -> SmtpSender:
    return SmtpSender(SmtpConfig(host="127.0.0.1", port=port, timeout_s=10), local_hostname="localhost")


def relay(engine: Engine, sender: Any, now: Any, **kwargs: Any) -> RelayStats:
    kwargs.setdefault("backoff_base_s", 0.05)
    kwargs.setdefault("rng", random.Random(1234))
    return relay_due(engine=engine, sender=sender, now=now, mail_from=MAIL_FROM, **kwargs)


# ---------------------------------------------------------------- happy path


def test_it_sends_a_due_alert_once_and_marks_it_sent(
    db_engine: Engine, add_alert: Callable[..., str], smtp_server: StartSmtp, scripted_handler: Any
) -> None:
    key = add_alert(recipient="ana@example.org")
    handler = scripted_handler()
    sender = smtp_sender(smtp_server(handler))

    stats = relay(db_engine, sender, T0)
    assert (stats.claimed, stats.sent, stats.retried, stats.failed) == (1, 1, 0, 0)
    again = relay(db_engine, sender, T0 + timedelta(days=1))
    assert again.claimed == 0

    assert len(handler.accepted) == 1
    mail_from, rcpt_tos, content = handler.accepted[0]
    assert (mail_from, rcpt_tos) == ("alerts@sweatsync.test", ["ana@example.org"])
    msg = email.message_from_bytes(content, policy=policy.default)
    sent = row(db_engine, key)
    assert msg["Message-ID"] == sent.message_id == f"<{key.replace(':', '.')}@sweatsync.test>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert (sent.status, sent.attempts, sent.sent_at, sent.locked_until) == (OutboxStatus.SENT, 1, T0, None)


def test_it_does_not_send_an_alert_before_it_is_due(
    db_engine: Engine, add_alert: Callable[..., str], smtp_server: StartSmtp, scripted_handler: Any
) -> None:
    add_alert()
    handler = scripted_handler()
    assert relay(db_engine, smtp_sender(smtp_server(handler)), T0 - timedelta(microseconds=1)).claimed == 0
    assert handler.rcpt_calls == 0


def test_the_delivered_message_carries_the_chart_inline_where_the_html_refers_to_it(
    db_engine: Engine,
    add_alert: Callable[..., str],
    smtp_server: StartSmtp,
    scripted_handler: Any,
    make_series: Callable[..., dict[str, Any]],
    png: Callable[[bytes], tuple[int, int, bytes]],
) -> None:
    key = add_alert(series=make_series())
    stored = row(db_engine, key).payload
    assert "png_b64" in stored["chart"] and "series" not in stored["chart"]  # drawn once, at queue time
    handler = scripted_handler()
    assert relay(db_engine, smtp_sender(smtp_server(handler)), T0).sent == 1
    [(_, _, content)] = handler.accepted
    msg = email.message_from_bytes(content, policy=policy.default)
    [html] = [p for p in msg.walk() if p.get_content_type() == "text/html"]
    [image] = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    [cid] = re.findall(r'src="cid:([^"]+)"', html.get_content())
    assert image["Content-ID"] == f"<{cid}>"
    assert png(image.get_content())[:2] == (600, 300)


# ---------------------------------------------------------------- R10: 421 three times, then 250


def test_it_delivers_exactly_one_message_after_three_421_replies_with_growing_backoff(
    db_engine: Engine, add_alert: Callable[..., str], smtp_server: StartSmtp, scripted_handler: Any
) -> None:
    key = add_alert()
    handler = scripted_handler(data_replies=["421 4.3.0 Try again later"] * 3)
    sender = smtp_sender(smtp_server(handler))
    base = 0.05

    now = T0
    gaps: list[float] = []
    for _ in range(10):
        relay(db_engine, sender, now, backoff_base_s=base)
        current = row(db_engine, key)
        if current.status == OutboxStatus.SENT:
            break
        assert current.status == OutboxStatus.PENDING
        assert current.last_error is not None and current.last_error.startswith("SMTP 421")
        gaps.append((current.next_attempt_at - now).total_seconds())
        # Just before the backoff has elapsed nothing is claimed; at the due time it is.
        assert relay(db_engine, sender, current.next_attempt_at - timedelta(microseconds=1)).claimed == 0
        now = current.next_attempt_at

    done = row(db_engine, key)
    assert (done.status, done.attempts) == (OutboxStatus.SENT, 4)
    assert handler.data_calls == 4
    assert len(handler.accepted) == 1
    assert len(gaps) == 3
    for attempt, gap in enumerate(gaps, start=1):
        nominal = base * 2 ** (attempt - 1)
        assert 0.8 * nominal - 1e-6 <= gap <= 1.2 * nominal + 1e-6, (attempt, gap)
    assert gaps[0] < gaps[1] < gaps[2]


def test_it_caps_the_backoff_whatever_the_number_of_attempts(
    db_engine: Engine, add_alert: Callable[..., str], smtp_server: StartSmtp, scripted_handler: Any
) -> None:
    key = add_alert()
    handler = scripted_handler(data_replies=["451 4.3.0 busy"] * 20)
    sender = smtp_sender(smtp_server(handler))
    now, gaps = T0, []
    for _ in range(6):  # nominal 1, 2, 4, 8, 16, 32 s against a cap of 4 s
        relay(db_engine, sender, now, backoff_base_s=1.0, backoff_cap_s=4.0)
        current = row(db_engine, key)
        gaps.append((current.next_attempt_at - now).total_seconds())
        now = current.next_attempt_at
    assert current.attempts == 6
    assert all(gap <= 4.0 * 1.2 + 1e-6 for gap in gaps)
    assert all(4.0 * 0.8 - 1e-6 <= gap for gap in gaps[2:])


# ---------------------------------------------------------------- R11: 550 is permanent


@pytest.mark.parametrize("stage", ["rcpt", "data"])
def test_a_550_marks_the_alert_failed_after_one_attempt_with_no_retry(
    db_engine: Engine,
    add_alert: Callable[..., str],
    smtp_server: StartSmtp,
    scripted_handler: Any,
    stage: str,
) -> None:
    key = add_alert()
    reply = "550 5.1.1 Mailbox unavailable"
    handler = (
        scripted_handler(rcpt_reply=reply) if stage == "rcpt" else scripted_handler(data_replies=[reply] * 5)
    )
    sender = smtp_sender(smtp_server(handler))

    stats = relay(db_engine, sender, T0)
    assert (stats.sent, stats.retried, stats.failed) == (0, 0, 1)
    for hours in (1, 24, 24 * 30):
        assert relay(db_engine, sender, T0 + timedelta(hours=hours)).claimed == 0

    failed = row(db_engine, key)
    assert (failed.status, failed.attempts) == (OutboxStatus.FAILED, 1)
    assert failed.last_error is not None and "550" in failed.last_error
    assert handler.rcpt_calls == 1
    assert handler.accepted == []


# ---------------------------------------------------------------- connection refused is transient


def test_a_refused_connection_is_retried_later(db_engine: Engine, add_alert: Callable[..., str]) -> None:
    key = add_alert()
    sender = smtp_sender(free_port())  # nothing listens there
    stats = relay(db_engine, sender, T0)
    assert (stats.sent, stats.retried, stats.failed) == (0, 1, 0)
    current = row(db_engine, key)
    assert (current.status, current.attempts) == (OutboxStatus.PENDING, 1)
    assert current.last_error is not None and "ConnectionRefusedError" in current.last_error
    assert T0 < current.next_attempt_at <= T0 + timedelta(seconds=0.05 * 1.2 + 1e-6)


def test_it_gives_up_after_max_attempts_of_transient_errors(
    db_engine: Engine, add_alert: Callable[..., str]
) -> None:
    key = add_alert()
    sender = smtp_sender(free_port())
    now = T0
    for _ in range(10):
        relay(db_engine, sender, now, max_attempts=3)
        current = row(db_engine, key)
        if current.status != OutboxStatus.PENDING:
            break
        now = current.next_attempt_at
    assert (current.status, current.attempts) == (OutboxStatus.FAILED, 3)
    assert current.last_error is not None and current.last_error.startswith("gave up after 3 attempts")


def test_a_refused_connection_delivers_once_the_server_is_back(
    db_engine: Engine, add_alert: Callable[..., str], smtp_server: StartSmtp, scripted_handler: Any
) -> None:
    key = add_alert()
    handler = scripted_handler()
    port = free_port()
    relay(db_engine, smtp_sender(port), T0)
    assert row(db_engine, key).status == OutboxStatus.PENDING
    # The server comes up on a port of its own; the relay's next run (with the settings fixed) delivers.
    sender = smtp_sender(smtp_server(handler))
    relay(db_engine, sender, row(db_engine, key).next_attempt_at)
    assert (row(db_engine, key).status, len(handler.accepted)) == (OutboxStatus.SENT, 1)


# ---------------------------------------------------------------- R9: a relay that died mid-send


def simulate_crash_after_claim(engine: Engine, key: str, *, locked_until: Any) -> None:
    """The row as a killed relay leaves it: claimed (sending, attempts+1), lock set, never marked."""
    with unit_of_work(engine) as uow:
        uow.session.execute(
            update(AlertOutbox)
            .where(AlertOutbox.dedup_key == key)
            .values(status=OutboxStatus.SENDING, attempts=AlertOutbox.attempts + 1, locked_until=locked_until)
        )


def test_it_reclaims_an_alert_whose_relay_died_and_logs_a_possible_duplicate(
    db_engine: Engine,
    add_alert: Callable[..., str],
    smtp_server: StartSmtp,
    scripted_handler: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = add_alert()
    simulate_crash_after_claim(db_engine, key, locked_until=T0 + timedelta(minutes=2))
    handler = scripted_handler()
    sender = smtp_sender(smtp_server(handler))

    assert relay(db_engine, sender, T0 + timedelta(minutes=1)).claimed == 0  # still locked: hands off
    with caplog.at_level(logging.WARNING, logger="sweatsync.alerts.relay"):
        stats = relay(db_engine, sender, T0 + timedelta(minutes=3))
    assert (stats.reclaimed, stats.sent) == (1, 1)
    assert any("possible_duplicate=true" in r.getMessage() and key in r.getMessage() for r in caplog.records)
    done = row(db_engine, key)
    assert (done.status, done.attempts) == (OutboxStatus.SENT, 2)
    assert len(handler.accepted) == 1


def test_a_row_that_keeps_killing_the_relay_is_failed_not_looped(
    db_engine: Engine, add_alert: Callable[..., str], smtp_server: StartSmtp, scripted_handler: Any
) -> None:
    key = add_alert()
    with unit_of_work(db_engine) as uow:
        uow.session.execute(
            update(AlertOutbox)
            .where(AlertOutbox.dedup_key == key)
            .values(status=OutboxStatus.SENDING, attempts=3, locked_until=T0)
        )
    handler = scripted_handler()
    stats = relay(db_engine, smtp_sender(smtp_server(handler)), T0 + timedelta(minutes=5), max_attempts=3)
    assert (stats.failed, stats.sent) == (1, 0)
    assert row(db_engine, key).status == OutboxStatus.FAILED
    assert handler.rcpt_calls == 0


# ---------------------------------------------------------------- file outbox


def test_a_retry_to_the_file_outbox_after_a_crash_writes_no_second_file(
    db_engine: Engine, add_alert: Callable[..., str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key = add_alert()
    outbox = tmp_path / "outbox"
    sender = FileOutboxSender(outbox)
    assert relay(db_engine, sender, T0).sent == 1
    first = sorted(outbox.iterdir())
    assert len(first) == 1

    # The relay wrote the file, then died before its "sent" commit: the row is still sending.
    with unit_of_work(db_engine) as uow:
        uow.session.execute(
            update(AlertOutbox)
            .where(AlertOutbox.dedup_key == key)
            .values(status=OutboxStatus.SENDING, locked_until=T0 + timedelta(minutes=2), sent_at=None)
        )
    with caplog.at_level(logging.WARNING, logger="sweatsync.alerts.relay"):
        stats = relay(db_engine, sender, T0 + timedelta(minutes=3))
    assert (stats.reclaimed, stats.sent) == (1, 1)
    assert sorted(outbox.iterdir()) == first
    parsed = email.message_from_bytes(first[0].read_bytes(), policy=policy.default)
    assert parsed["Message-ID"] == row(db_engine, key).message_id


# ---------------------------------------------------------------- S9: no header injection on the wire


def test_a_display_name_with_crlf_bcc_injects_nothing_at_the_smtp_server(
    db_engine: Engine, add_alert: Callable[..., str], smtp_server: StartSmtp, scripted_handler: Any
) -> None:
    add_alert(recipient="eve@example.org", display_name="Eve\r\nBcc: victim@example.org")
    handler = scripted_handler()
    assert relay(db_engine, smtp_sender(smtp_server(handler)), T0).sent == 1
    [(_, rcpt_tos, content)] = handler.accepted
    assert rcpt_tos == ["eve@example.org"]
    msg = email.message_from_bytes(content, policy=policy.default)
    assert msg.get_all("Bcc") is None
    assert [a.addr_spec for a in msg["To"].addresses] == ["eve@example.org"]
    assert b"\nBcc:" not in content


def test_a_recipient_with_an_injected_header_is_failed_permanently_and_never_sent(
    db_engine: Engine, add_alert: Callable[..., str], smtp_server: StartSmtp, scripted_handler: Any
) -> None:
    key = add_alert(recipient="eve@example.org\r\nBcc: victim@example.org")
    handler = scripted_handler()
    stats = relay(db_engine, smtp_sender(smtp_server(handler)), T0)
    assert (stats.failed, stats.sent) == (1, 0)
    assert row(db_engine, key).status == OutboxStatus.FAILED
    assert handler.rcpt_calls == 0


# ---------------------------------------------------------------- concurrency


def test_concurrent_relays_send_every_alert_exactly_once(
    db_engine: Engine, add_alert: Callable[..., str], smtp_server: StartSmtp, scripted_handler: Any
) -> None:
    keys = [add_alert() for _ in range(12)]
    handler = scripted_handler()
    sender = smtp_sender(smtp_server(handler))
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def run() -> None:
        try:
            start.wait()
            for _ in range(6):
                relay(db_engine, sender, T0, limit=3)
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    ids = [email.message_from_bytes(c, policy=policy.default)["Message-ID"] for _, _, c in handler.accepted]
    assert sorted(ids) == sorted(f"<{k.replace(':', '.')}@sweatsync.test>" for k in keys)
    assert all(row(db_engine, k).status == OutboxStatus.SENT for k in keys)


def test_on_postgresql_a_relay_skips_rows_another_relay_has_locked(
    db_engine: Engine, add_alert: Callable[..., str], smtp_server: StartSmtp, scripted_handler: Any
) -> None:
    if db_engine.dialect.name != "postgresql":
        pytest.skip("row locks (FOR UPDATE SKIP LOCKED) exist on PostgreSQL only")
    locked, free = add_alert(), add_alert()
    handler = scripted_handler()
    sender = smtp_sender(smtp_server(handler))
    with db_engine.connect() as other:
        tx = other.begin()
        other.execute(text("SELECT id FROM alert_outbox WHERE dedup_key = :k FOR UPDATE"), {"k": locked})
        stats = relay(db_engine, sender, T0)
        tx.rollback()
    assert (stats.claimed, stats.sent) == (1, 1)
    assert row(db_engine, free).status == OutboxStatus.SENT
    assert row(db_engine, locked).status == OutboxStatus.PENDING
    assert relay(db_engine, sender, T0).sent == 1


# ---------------------------------------------------------------- wiring


def test_it_picks_smtp_when_a_url_is_set_and_the_file_outbox_otherwise(tmp_path: Path) -> None:
    smtp = sender_from_settings(Settings(smtp_url="smtps://u:p@mail.example.org", var_dir=tmp_path))
    assert isinstance(smtp, SmtpSender)
    assert (smtp.config.host, smtp.config.port, smtp.config.use_tls) == ("mail.example.org", 465, True)
    files = sender_from_settings(Settings(var_dir=tmp_path))
    assert isinstance(files, FileOutboxSender)
    assert files.directory == (tmp_path / "outbox").resolve()


# ---------------------------------------------------------------- channels and tuning


def test_every_outbox_kind_has_exactly_one_channel() -> None:
    channels = channel_table(
        EmailChannel(FileOutboxSender(Path(".")), mail_from=MAIL_FROM), WebhookChannel(WebhookSender)
    )
    assert set(channels) == {CRAMP_RISK, ACCOUNT_EMAIL, WEBHOOK}
    assert channels[ACCOUNT_EMAIL] is channels[CRAMP_RISK]  # reset and invitation emails go by email
    assert channels[WEBHOOK].message_id("webhook:abc") == "webhook:abc"  # its Idempotency-Key
    assert channels[CRAMP_RISK].message_id("cramp_risk:abc") == "<cramp_risk.abc@sweatsync.test>"


def test_a_row_of_a_kind_no_channel_delivers_fails_with_a_sentence_and_is_never_sent(
    db_engine: Engine, seed_session: Seed, smtp_server: StartSmtp, scripted_handler: Any
) -> None:
    user_id, session_id = seed_session()
    with unit_of_work(db_engine) as uow:
        enqueue_alert(
            uow.session, user_id=user_id, session_id=session_id, kind="carrier_pigeon",
            dedup_key=f"carrier_pigeon:{session_id}", recipient="x@example.org", payload={}, now=T0,
        )  # fmt: skip
    handler = scripted_handler()
    stats = relay(db_engine, smtp_sender(smtp_server(handler)), T0)
    assert (stats.sent, stats.failed, handler.rcpt_calls) == (0, 1, 0)
    failed = row(db_engine, f"carrier_pigeon:{session_id}")
    assert failed.status == OutboxStatus.FAILED
    assert failed.last_error == "no channel delivers outbox rows of kind 'carrier_pigeon'"


def test_the_relay_takes_its_attempts_and_backoff_from_the_settings(
    db_engine: Engine,
    add_alert: Callable[..., str],
    smtp_server: StartSmtp,
    scripted_handler: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SWEATSYNC_RELAY_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("SWEATSYNC_RELAY_BACKOFF_BASE_S", "7")
    reset_settings_cache()
    try:
        key = add_alert()
        sender = smtp_sender(smtp_server(scripted_handler(data_replies=["451 4.3.0 busy"] * 5)))
        relay_due(engine=db_engine, sender=sender, now=T0, mail_from=MAIL_FROM, rng=random.Random(1))
        first = row(db_engine, key)
        assert 7 * 0.8 <= (first.next_attempt_at - T0).total_seconds() <= 7 * 1.2
        relay_due(engine=db_engine, sender=sender, now=first.next_attempt_at, mail_from=MAIL_FROM)
        assert row(db_engine, key).status == OutboxStatus.FAILED  # gave up after 2 attempts, as set
    finally:
        monkeypatch.undo()
        reset_settings_cache()
