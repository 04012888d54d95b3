"""Header injection through RFC 2047 encoded words: no header is added to the sent message or the .eml."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from alerts.mail import FileOutboxSender, SmtpSender, build_message, sanitize_header
from core.settings import parse_smtp_url
from support.services import smtp_server

ENCODED_INJECTIONS = [
    "=?utf-8?q?Evil=0D=0ABcc:_x@evil.example?=",
    "=?UTF-8?Q?Evil=0ABcc:_x@evil.example?=",
    "=?utf-8?b?RXZpbA0KQmNjOiB4QGV2aWwuZXhhbXBsZQ==?=",  # base64 of "Evil\r\nBcc: x@evil.example"
    "Ana =?utf-8?q?=0D=0A=0D=0AInjected_body?= Smith",
    # An encoded word whose decoded text is another encoded word.
    "=?utf-8?q?=3D=3Futf-8=3Fq=3FEvil=3D0D=3D0ABcc=3A=5Fx=40evil.example=3F=3D?=",
    "=?x-unknown-charset?q?Evil=0D=0ABcc:_x@evil.example?=",
]
PAYLOAD: dict[str, Any] = {"subject": "High cramp-risk profile", "text": "body\n", "html": "<p>body</p>"}


def build(**payload: Any) -> EmailMessage:
    return build_message(
        {**PAYLOAD, **payload},
        sender="sweatsync <alerts@sweatsync.test>",
        recipient="ana@example.org",
        message_id="<cramp_risk.1@sweatsync.test>",
    )


def assert_no_injected_header(raw: bytes) -> None:
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg.get_all("Bcc") is None
    assert b"\nBcc:" not in raw and b"\nbcc:" not in raw.lower()
    assert [a.addr_spec for a in msg["To"].addresses] == ["ana@example.org"]
    assert msg.get_content_type() == "multipart/alternative"


@pytest.mark.parametrize("name", ENCODED_INJECTIONS)
def test_an_encoded_word_display_name_injects_no_header(name: str) -> None:
    assert_no_injected_header(build(to_name=name).as_bytes(policy=policy.SMTP))


@pytest.mark.parametrize("subject", ENCODED_INJECTIONS)
def test_an_encoded_word_subject_injects_no_header(subject: str) -> None:
    assert_no_injected_header(build(subject=subject).as_bytes(policy=policy.SMTP))


def test_an_encoded_word_display_name_injects_no_header_into_the_outbox_file(tmp_path: Path) -> None:
    outbox = FileOutboxSender(tmp_path)
    message = build(to_name=ENCODED_INJECTIONS[0], subject=ENCODED_INJECTIONS[2])
    outbox.send(message)
    assert_no_injected_header(outbox.path_for(message).read_bytes())


@pytest.mark.integration
def test_an_encoded_word_display_name_injects_no_header_into_the_smtp_sent_message() -> None:
    with smtp_server() as (url, sink):
        for name in ENCODED_INJECTIONS:
            SmtpSender(parse_smtp_url(url)).send(build(to_name=name), recipients=["ana@example.org"])
        received = sink.wait_for(len(ENCODED_INJECTIONS))
    assert len(received) == len(ENCODED_INJECTIONS)
    for msg in received:
        assert msg.get_all("Bcc") is None
        assert [a.addr_spec for a in msg["To"].addresses] == ["ana@example.org"]


def test_a_decoded_display_name_keeps_its_readable_text() -> None:
    assert sanitize_header("=?utf-8?q?Jos=C3=A9_M=C3=BCller?=") == "José Müller"
    assert sanitize_header("José Müller") == "José Müller"
    assert "=?" not in sanitize_header(ENCODED_INJECTIONS[4])
