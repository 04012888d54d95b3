"""Message building (headers, injection, Message-ID), error classification, and the file outbox."""

from __future__ import annotations

import base64
import email
import errno
import logging
import re
import smtplib
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from alerts.assess import AlertPolicy, assess
from alerts.dedup import cramp_risk_key
from alerts.mail import (
    PERMANENT,
    TRANSIENT,
    FileOutboxSender,
    build_message,
    classify_error,
    domain_of,
    file_name_for,
    message_id_for,
)
from alerts.render import render_cramp_alert
from alerts.risk import RiskContext

SESSION_ID = "5f1c7a52-3d0e-4c1e-9a57-2b8f0c6d9e41"
SENDER = "sweatsync <alerts@sweatsync.test>"
DATE = datetime(2025, 6, 14, 12, 0, tzinfo=UTC)
PAYLOAD: dict[str, Any] = {
    "subject": "High cramp-risk profile after your 4 h 12 min ride on 2025-06-14",
    "text": "Hi Ana,\n\nplain body\n",
    "html": "<p>Hi Ana,</p>",
    "headers": {
        "List-Unsubscribe": "<https://sweatsync.example.org/u/one-click?t=abc>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    },
    "to_name": "Ana Šimić",
}


def build(payload: dict[str, Any] | None = None, **kwargs: Any) -> EmailMessage:
    args: dict[str, Any] = {
        "sender": SENDER,
        "recipient": "ana@example.org",
        "message_id": message_id_for(cramp_risk_key(SESSION_ID), "sweatsync.test"),
        "date": DATE,
    }
    args.update(kwargs)
    return build_message(payload or PAYLOAD, **args)


def reparse(message: EmailMessage) -> EmailMessage:
    """What a receiving server sees: the message's bytes, parsed again."""
    parsed = email.message_from_bytes(message.as_bytes(policy=policy.SMTP), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


# ---------------------------------------------------------------- dedup keys and Message-IDs


def test_the_dedup_key_is_built_from_the_session_id_alone() -> None:
    assert cramp_risk_key(SESSION_ID) == f"cramp_risk:{SESSION_ID}"
    assert cramp_risk_key(SESSION_ID.upper()) == cramp_risk_key(SESSION_ID.replace("-", ""))


def test_the_message_id_is_derived_deterministically_from_the_dedup_key() -> None:
    key = cramp_risk_key(SESSION_ID)
    assert message_id_for(key, "sweatsync.test") == f"<cramp_risk.{SESSION_ID}@sweatsync.test>"
    assert message_id_for(key, "sweatsync.test") == message_id_for(key, "sweatsync.test")
    assert message_id_for(key, "a.test") != message_id_for(cramp_risk_key(SESSION_ID[:-1] + "0"), "a.test")


def test_the_message_id_domain_comes_from_the_sender_address() -> None:
    assert domain_of("sweatsync <alerts@Mail.Example.org>") == "mail.example.org"
    assert domain_of("not an address") == "sweatsync.invalid"


# ---------------------------------------------------------------- structure


def test_it_builds_a_multipart_alternative_with_text_first_then_html() -> None:
    msg = reparse(build())
    assert msg.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in msg.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert msg.get_body(("plain",)).get_content().splitlines() == ["Hi Ana,", "", "plain body"]


def test_it_sets_from_to_subject_date_message_id_and_the_unsubscribe_headers() -> None:
    msg = reparse(build())
    assert msg["From"] == "sweatsync <alerts@sweatsync.test>"
    assert msg["To"].addresses[0].addr_spec == "ana@example.org"
    assert msg["To"].addresses[0].display_name == "Ana Šimić"
    assert msg["Subject"] == PAYLOAD["subject"]
    assert msg["Date"].datetime == DATE
    assert msg["Message-ID"] == f"<cramp_risk.{SESSION_ID}@sweatsync.test>"
    assert msg["List-Unsubscribe"] == "<https://sweatsync.example.org/u/one-click?t=abc>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


# ---------------------------------------------------------------- the inline chart


def rendered(make_session: Callable[..., dict[str, Any]], **session: Any) -> dict[str, Any]:
    scored = make_session(**session)
    scored.update(assess(scored, RiskContext(cramp_history="recent"), AlertPolicy()).as_json())
    return render_cramp_alert(
        session=scored,
        user_email="ana@example.org",
        display_name="Ana",
        session_id=SESSION_ID,
        links={"unsubscribe": "https://sweatsync.example.org/u/one-click?t=abc"},
    )


def test_the_chart_is_an_inline_png_whose_content_id_matches_the_cid_in_the_html(
    make_session: Callable[..., dict[str, Any]],
    make_series: Callable[..., dict[str, Any]],
    png: Callable[[bytes], tuple[int, int, bytes]],
) -> None:
    payload = rendered(make_session, series=make_series())
    msg = reparse(build(payload))
    assert msg.get_content_type() == "multipart/alternative"
    text, related = list(msg.iter_parts())
    assert text.get_content_type() == "text/plain"
    assert text.get_content().replace("\r\n", "\n") == payload["text"]  # the text part is untouched
    assert related.get_content_type() == "multipart/related"
    html, image = list(related.iter_parts())
    assert html.get_content_type() == "text/html"
    assert image.get_content_type() == "image/png"
    assert image.get_content_disposition() == "inline"
    cids = re.findall(r'src="cid:([^"]+)"', html.get_content())
    assert cids == [payload["chart"]["cid"]]
    assert image["Content-ID"] == f"<{cids[0]}>"
    assert png(image.get_content())[:2] == (600, 300)
    assert msg.get_body(("html", "plain")).get_content_type() == "text/html"


def test_a_retried_send_attaches_the_same_chart_bytes(
    make_session: Callable[..., dict[str, Any]], make_series: Callable[..., dict[str, Any]]
) -> None:
    payload = rendered(make_session, series=make_series())

    def image(msg: EmailMessage) -> bytes:
        [part] = [p for p in reparse(msg).walk() if p.get_content_type() == "image/png"]
        return part.get_content()

    assert image(build(payload)) == image(build(payload))
    # The bytes are the ones drawn when the alert was queued: sending draws nothing.
    assert image(build(payload)) == base64.b64decode(payload["chart"]["png_b64"])


def test_without_a_series_the_email_has_no_image_and_still_renders(
    make_session: Callable[..., dict[str, Any]],
) -> None:
    payload = rendered(make_session)
    msg = reparse(build(payload))
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    html = msg.get_body(("html",)).get_content()
    assert "<img" not in html and "cid:" not in html
    assert "Why you got this" in html


@pytest.mark.parametrize(
    "chart",
    [
        {"cid": "session-chart.x@sweatsync", "units": "metric", "series": {"t_min": []}},
        {"cid": "session-chart.x@sweatsync", "units": "cubits", "series": None},
        {"cid": "bad cid>\r\nBcc: x@y", "units": "metric", "series": None},
        "not a mapping",
    ],
)
def test_a_chart_that_cannot_be_drawn_is_cut_out_of_the_html_never_shown_broken(
    make_session: Callable[..., dict[str, Any]],
    make_series: Callable[..., dict[str, Any]],
    chart: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    payload = rendered(make_session, series=make_series())
    if isinstance(chart, dict) and chart["series"] is None:
        chart = {**chart, "series": make_series()}  # a row queued before the PNG was stored
    with caplog.at_level(logging.ERROR, logger="sweatsync.alerts.mail"):
        msg = reparse(build({**payload, "chart": chart}))
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    html = msg.get_body(("html",)).get_content()
    assert "<img" not in html and "cid:" not in html and "sweatsync:chart" not in html
    assert "Your session" in html and "Why you got this" in html
    assert msg.get_all("Bcc") is None
    if isinstance(chart, dict):
        assert any("alerts.mail.chart_skipped" in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------- header injection (S9)

INJECTIONS = [
    "Eve\r\nBcc: victim@example.org",
    "Eve\nBcc: victim@example.org",
    "Eve\rBcc: victim@example.org",
    "Eve\r\n\r\nInjected body",
    "Eve\x00\x0bBcc: victim@example.org",
    "Eve\u2028Bcc: victim@example.org",
]


@pytest.mark.parametrize("name", INJECTIONS)
def test_a_display_name_with_line_breaks_injects_no_header(name: str) -> None:
    raw = build({**PAYLOAD, "to_name": name}).as_bytes(policy=policy.SMTP)
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg.get_all("Bcc") is None
    assert len(msg.get_all("To")) == 1
    assert [a.addr_spec for a in msg["To"].addresses] == ["ana@example.org"]
    assert b"\r\nBcc:" not in raw and b"\nBcc:" not in raw
    # The would-be header or body text stays inside the display name, on the To line.
    assert msg["To"].addresses[0].display_name.startswith("Eve ")
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]


@pytest.mark.parametrize("subject", INJECTIONS)
def test_a_subject_with_line_breaks_injects_no_header(subject: str) -> None:
    msg = reparse(build({**PAYLOAD, "subject": subject}))
    assert msg.get_all("Bcc") is None
    assert "\n" not in msg["Subject"] and "\r" not in msg["Subject"]


def test_payload_headers_cannot_override_structural_headers_or_smuggle_new_ones() -> None:
    headers = {
        "Bcc": "victim@example.org",
        "To": "victim@example.org",
        "From": "ceo@example.org",
        "X-Evil\r\nBcc": "victim@example.org",
        "X-Note": "ok\r\nBcc: victim@example.org",
        "List-Unsubscribe": "<https://x.example/u>",
    }
    msg = reparse(build({**PAYLOAD, "headers": headers}))
    assert msg.get_all("Bcc") is None
    assert [a.addr_spec for a in msg["To"].addresses] == ["ana@example.org"]
    assert msg["From"] == SENDER
    assert msg["X-Note"] == "ok Bcc: victim@example.org"
    assert msg["List-Unsubscribe"] == "<https://x.example/u>"


@pytest.mark.parametrize(
    "recipient",
    [
        "ana@example.org\r\nBcc: victim@example.org",
        "ana@example.org, victim@example.org",
        "",
        "not-an-address",
    ],
)
def test_it_refuses_a_recipient_that_is_not_exactly_one_address(recipient: str) -> None:
    with pytest.raises(ValueError):
        build(recipient=recipient)


def test_it_refuses_a_malformed_message_id() -> None:
    with pytest.raises(ValueError):
        build(message_id="<a@b>\r\nBcc: victim@example.org")


# ---------------------------------------------------------------- error classification


@pytest.mark.parametrize(
    "exc",
    [
        smtplib.SMTPDataError(421, b"4.3.0 try again later"),
        smtplib.SMTPSenderRefused(451, b"4.4.1 temporary", "alerts@sweatsync.test"),
        smtplib.SMTPRecipientsRefused({"a@example.org": (450, b"4.2.1 mailbox busy")}),
        smtplib.SMTPConnectError(421, b"too many connections"),
        smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
        smtplib.SMTPAuthenticationError(535, b"5.7.8 bad credentials"),
        ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
        ConnectionResetError(errno.ECONNRESET, "reset"),
        TimeoutError("timed out"),
        socket.gaierror(-2, "Name or service not known"),
        OSError(errno.ENETUNREACH, "Network is unreachable"),
    ],
)
def test_it_classifies_4xx_replies_disconnects_timeouts_and_connect_errors_as_transient(
    exc: BaseException,
) -> None:
    assert classify_error(exc) == TRANSIENT


@pytest.mark.parametrize(
    "exc",
    [
        smtplib.SMTPDataError(550, b"5.7.1 rejected"),
        smtplib.SMTPDataError(554, b"5.6.0 message content rejected"),
        smtplib.SMTPSenderRefused(553, b"5.1.8 bad sender", "alerts@sweatsync.test"),
        smtplib.SMTPRecipientsRefused({"a@example.org": (550, b"5.1.1 no such user")}),
        smtplib.SMTPNotSupportedError("STARTTLS extension not supported by server."),
        ValueError("invalid recipient address"),
        KeyError("subject"),
    ],
)
def test_it_classifies_5xx_replies_and_unknown_errors_as_permanent(exc: BaseException) -> None:
    assert classify_error(exc) == PERMANENT


# ---------------------------------------------------------------- file outbox


def test_the_file_outbox_writes_one_eml_named_after_the_message_id(tmp_path: Path) -> None:
    FileOutboxSender(tmp_path).send(build())
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [f"cramp_risk.{SESSION_ID}@sweatsync.test.eml"]
    parsed = email.message_from_bytes((tmp_path / files[0]).read_bytes(), policy=policy.default)
    assert parsed["Message-ID"] == f"<cramp_risk.{SESSION_ID}@sweatsync.test>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_retried_file_send_writes_no_second_file(tmp_path: Path) -> None:
    sender = FileOutboxSender(tmp_path)
    for _ in range(3):
        sender.send(build())
    assert len(list(tmp_path.iterdir())) == 1  # no duplicate, and no temporary file left behind


def test_the_file_outbox_creates_its_folder_and_keeps_distinct_messages_apart(tmp_path: Path) -> None:
    outbox = tmp_path / "var" / "outbox"
    sender = FileOutboxSender(outbox)
    sender.send(build())
    sender.send(build(message_id=message_id_for(cramp_risk_key(SESSION_ID[:-1] + "0"), "sweatsync.test")))
    assert len(list(outbox.glob("*.eml"))) == 2


def test_file_names_are_safe_and_stable_for_any_message_id() -> None:
    assert file_name_for("<../../etc/passwd@x>") == file_name_for("<../../etc/passwd@x>")
    for message_id in ("<../../etc/passwd@x>", "<a/b\\c:d@x>", "<" + "a" * 400 + "@x>", "<...@x>"):
        name = file_name_for(message_id)
        assert "/" not in name and "\\" not in name and not name.startswith(".")
        assert name.endswith(".eml") and len(name) <= 200
    assert file_name_for("<a:b@x>") != file_name_for("<a_b@x>")


def test_the_file_outbox_cleans_up_its_temporary_file_when_the_write_fails(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.mkdir()
    target = blocker / file_name_for(f"<cramp_risk.{SESSION_ID}@sweatsync.test>")
    target.mkdir()  # a directory where the file should go: os.replace fails
    with pytest.raises(OSError) as info:
        FileOutboxSender(blocker).send(build())
    assert classify_error(info.value) == TRANSIENT
    assert [p.name for p in blocker.iterdir()] == [target.name]
