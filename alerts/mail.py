"""MIME message builder and the two transports (SMTP, .eml files), plus error classification.

- `build_message` is the one place an outbox payload becomes headers. Every header value is sanitized here
  (RFC 2047 encoded words are decoded first; then CR, LF and other control characters become spaces),
  whatever the renderer did, so user text such as a display name never injects a header (reliability.md S9).
- The Message-ID is derived from the dedup key (`message_id_for`), so a send retried after an unknown
  outcome carries the same id and is recognisable as the same message downstream.
- Plain SMTP has no idempotency: a crash after the server's 250 and before the relay's commit can send
  one duplicate. The relay logs that window as `possible_duplicate`.
- The session chart is drawn here, at send time, from the series the renderer stored in payload["chart"]
  (alerts.render explains why), and attached to the HTML as a `multipart/related` inline image. If it cannot
  be drawn, the email goes out without it: the HTML's chart block is cut out, never left as a broken image.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
import re
import smtplib
import ssl
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email import policy
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any, Protocol, cast

from alerts.chart import session_chart_png
from core.settings import SmtpConfig

log = logging.getLogger("sweatsync.alerts.mail")

TRANSIENT = "transient"
PERMANENT = "permanent"

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
_ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[^?\s]*\?[^?\s]*\?=")
_HEADER_NAME = re.compile(r"[!-9;-~]{1,76}")  # RFC 5322 field name: printable ASCII except ":"
_MSGID_LOCAL_BAD = re.compile(r"[^A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")  # dot-atom text, dots added below
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")
_FILE_BAD = re.compile(r"[^A-Za-z0-9._@+-]")
_CID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,100}@[A-Za-z0-9][A-Za-z0-9.-]{0,100}")
# The HTML template wraps the chart's <img> in these two comments, so the block can be cut out.
CHART_BLOCK = re.compile(r"<!-- sweatsync:chart -->.*?<!-- /sweatsync:chart -->\n?", re.DOTALL)
# Structural headers are set by build_message only; a payload can never override them.
RESERVED_HEADERS = frozenset(
    {
        "from", "to", "cc", "bcc", "reply-to", "sender", "subject", "date", "message-id", "mime-version",
        "content-type", "content-transfer-encoding", "content-disposition", "return-path", "received",
        "in-reply-to", "references", "resent-to", "resent-cc", "resent-bcc", "resent-from",
    }
)  # fmt: skip


class Sender(Protocol):
    def send(self, message: EmailMessage, *, recipients: Sequence[str] | None = None) -> None: ...


def _decode_encoded_words(text: str) -> str:
    """RFC 2047 encoded words decoded (nested ones too), then any `=?` left is broken apart.

    The email package decodes `=?utf-8?q?Evil=0D=0ABcc:_x?=` while building a header and writes the CR LF
    out raw, so control characters must be stripped from the decoded text, and no encoded word may survive.
    """
    for _ in range(4):  # a word may encode another word; a few rounds undo any realistic nesting
        if "=?" not in text:
            return text
        try:
            decoded = str(make_header(decode_header(text)))
        except (HeaderParseError, LookupError, UnicodeError, ValueError):  # unknown charset, bad base64
            decoded = _ENCODED_WORD.sub(" ", text)
        if decoded == text:
            break
        text = decoded
    return text.replace("=?", "= ?")


def sanitize_header(value: Any, *, max_len: int = 900) -> str:
    """One header line: encoded words decoded, then control characters (CR, LF, NUL, ...) become spaces,
    whitespace collapses."""
    text = _decode_encoded_words(str(value or ""))
    return " ".join(_CONTROL.sub(" ", text).split())[:max_len].strip()


def domain_of(address: str) -> str:
    _, addr = parseaddr(sanitize_header(address))
    local, at, domain = addr.rpartition("@")
    domain = domain.lower()
    return domain if local and at and _DOMAIN.fullmatch(domain) else "sweatsync.invalid"


def message_id_for(dedup_key: str, domain: str) -> str:
    """Deterministic Message-ID: `cramp_risk:<uuid>` at `example.org` -> `<cramp_risk.<uuid>@example.org>`."""
    local = _MSGID_LOCAL_BAD.sub(".", dedup_key).strip(".")
    if not local or len(local) > 128:
        local = hashlib.sha256(dedup_key.encode()).hexdigest()[:40]
    if not _DOMAIN.fullmatch(domain or ""):
        raise ValueError(f"not a usable Message-ID domain: {domain!r}")
    return f"<{local}@{domain}>"


def _address(display_name: Any, addr: str, what: str) -> Address:
    if not addr or addr != addr.strip() or _CONTROL.search(addr) or " " in addr:
        raise ValueError(f"invalid {what} address")
    try:
        return Address(display_name=sanitize_header(display_name, max_len=100), addr_spec=addr)
    except (ValueError, IndexError) as e:  # the email package refuses anything that is not one addr-spec
        raise ValueError(f"invalid {what} address") from e


def _chart_png(chart: Any) -> tuple[str, bytes] | None:
    """(Content-ID, PNG) for payload["chart"], or None (logged) when it is absent or cannot be drawn."""
    if not isinstance(chart, Mapping):
        return None
    cid = str(chart.get("cid") or "")
    if not _CID.fullmatch(cid):
        log.error("alerts.mail.chart_skipped reason=bad_content_id")
        return None
    try:
        stored = chart.get("png_b64")
        if isinstance(stored, str):  # drawn once when the alert was queued: never again on a retry
            png: bytes | None = base64.b64decode(stored, validate=True)
        else:  # rows queued before the PNG was stored keep their series
            png = session_chart_png(chart.get("series"), units=str(chart.get("units") or "metric"))
    except Exception:  # an email without its chart beats no email
        log.exception("alerts.mail.chart_skipped reason=render_error")
        return None
    if png is None:
        log.error("alerts.mail.chart_skipped reason=no_usable_series")
        return None
    return cid, png


def build_message(
    payload: Mapping[str, Any],
    *,
    sender: str,
    recipient: str,
    message_id: str,
    date: datetime | None = None,
) -> EmailMessage:
    """multipart/alternative (text, then HTML) with sanitized headers; the chart, when the payload has one,
    makes the HTML a multipart/related (HTML, then the inline image/png its `cid:` refers to).

    `sender` is a From value such as "sweatsync <alerts@example.org>"; `recipient` a bare address; the
    display name comes from payload["to_name"]. Extra payload["headers"] are copied unless their name is
    malformed or structural (From, To, Bcc, Subject, Message-ID, Content-*, ...).
    """
    from_name, from_addr = parseaddr(sanitize_header(sender))
    if "@" not in from_addr:
        raise ValueError("invalid sender address")
    if not re.fullmatch(r"<[^<>\s@]+@[^<>\s@]+>", message_id or ""):
        raise ValueError("Message-ID must look like <local@domain>")

    msg = EmailMessage()
    msg["From"] = _address(from_name, from_addr, "sender")
    msg["To"] = _address(payload.get("to_name"), recipient, "recipient")
    msg["Subject"] = sanitize_header(payload.get("subject"), max_len=250)
    msg["Date"] = format_datetime((date or datetime.now(UTC)).astimezone(UTC))
    msg["Message-ID"] = message_id
    headers = payload.get("headers") or {}
    for name, value in headers.items():
        name = str(name)
        if not _HEADER_NAME.fullmatch(name) or name.lower() in RESERVED_HEADERS:
            continue
        msg[name] = sanitize_header(value)
    msg.set_content(str(payload.get("text") or ""))
    if payload.get("html"):
        html = str(payload["html"])
        chart = _chart_png(payload.get("chart")) if payload.get("chart") else None
        if chart is None:
            html = CHART_BLOCK.sub("", html)
        msg.add_alternative(html, subtype="html")
        if chart is not None:
            cid, png = chart
            html_part = cast(EmailMessage, msg.get_payload()[1])  # type: ignore[index]
            html_part.add_related(
                png,
                maintype="image",
                subtype="png",
                cid=f"<{cid}>",
                disposition="inline",
                filename="session-chart.png",
            )
    return msg


def classify_error(exc: BaseException) -> str:
    """TRANSIENT (retry with backoff) or PERMANENT (mark failed, no retry).

    Transient: SMTP 4xx replies, a dropped connection, timeouts, refused/reset connections, DNS and TLS
    handshake failures and file-system errors (all OSError), and authentication failures (an operator
    fixes the credentials; `max_attempts` still bounds the retries). Permanent: SMTP 5xx replies,
    SMTP protocol errors without a reply code, and anything unrecognised (a bug does not get better
    by retrying).
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()] or [0]
        return TRANSIENT if all(400 <= c < 500 for c in codes) else PERMANENT
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return TRANSIENT
    if isinstance(exc, smtplib.SMTPResponseException):
        return PERMANENT if 500 <= exc.smtp_code < 600 else TRANSIENT
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return TRANSIENT
    if isinstance(exc, smtplib.SMTPException):
        return PERMANENT
    if isinstance(exc, OSError):  # ConnectionRefusedError, TimeoutError (= socket.timeout), gaierror, ...
        return TRANSIENT
    return PERMANENT


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        raw = exc.smtp_error
        out = f"SMTP {exc.smtp_code}: {raw.decode(errors='replace') if isinstance(raw, bytes) else raw}"
    elif isinstance(exc, smtplib.SMTPRecipientsRefused):
        out = "recipient refused: " + "; ".join(
            f"{code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
            for code, msg in exc.recipients.values()
        )
    else:
        out = f"{type(exc).__name__}: {exc}"
    return sanitize_header(out, max_len=1000)


class SmtpSender:
    """One SMTP connection per message: implicit TLS (smtps) or STARTTLS, optional login, a timeout."""

    def __init__(
        self,
        config: SmtpConfig,
        *,
        local_hostname: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.config = config
        self.local_hostname = local_hostname
        self.ssl_context = ssl_context

    def _context(self) -> ssl.SSLContext:
        """Made once and only for TLS: loading the system's CA bundle costs ~30 ms of CPU per call."""
        if self.ssl_context is None:
            self.ssl_context = ssl.create_default_context()
        return self.ssl_context

    def send(self, message: EmailMessage, *, recipients: Sequence[str] | None = None) -> None:
        cfg = self.config
        client: smtplib.SMTP
        if cfg.use_tls:
            client = smtplib.SMTP_SSL(
                cfg.host,
                cfg.port,
                local_hostname=self.local_hostname,
                timeout=cfg.timeout_s,
                context=self._context(),
            )
        else:
            client = smtplib.SMTP(
                cfg.host, cfg.port, local_hostname=self.local_hostname, timeout=cfg.timeout_s
            )
        try:
            if cfg.starttls:
                client.starttls(context=self._context())
            if cfg.username:
                client.login(cfg.username, cfg.password or "")
            # Explicit envelope recipients: even a forged header could not add one.
            refused = client.send_message(message, to_addrs=list(recipients) if recipients else None)
            if refused:
                raise smtplib.SMTPRecipientsRefused(refused)
        finally:
            # Once the server said 250 the message is out: a failing QUIT must not turn that into a retry.
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()


def file_name_for(message_id: str) -> str:
    """Same Message-ID -> same file name, safe on any file system: `<a:b@c>` -> `a_b@c-<hash>.eml`."""
    core = message_id.strip().strip("<>")
    name = _FILE_BAD.sub("_", core).lstrip(".")
    if name != core or not name or len(name) > 180:
        name = f"{name[:160]}-{hashlib.sha256(message_id.encode()).hexdigest()[:12]}"
    return f"{name}.eml"


class FileOutboxSender:
    """Writes each message to `<dir>/<message-id>.eml`, atomically (tmp file, fsync, os.replace).

    Idempotent: the file name depends only on the Message-ID, so a retried send replaces the file
    instead of adding a second one.
    """

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    def path_for(self, message: EmailMessage) -> Path:
        message_id = message.get("Message-ID")
        if not message_id:
            raise ValueError("message has no Message-ID")
        return self.directory / file_name_for(str(message_id))

    def send(self, message: EmailMessage, *, recipients: Sequence[str] | None = None) -> None:
        final = self.path_for(message)
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / f".{final.name}.{uuid.uuid4().hex}.tmp"
        data = message.as_bytes(policy=policy.SMTP)
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        with contextlib.suppress(OSError):  # make the rename durable where the platform allows it
            fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
