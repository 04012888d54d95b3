"""Outgoing webhook: one signed JSON POST per analysed session to the athlete's own HTTPS endpoint.

What the athlete (and whatever they wired it to) gets
- One call for EVERY analysed session of an athlete who set a webhook URL, whatever its cramp-risk tier, with
  the risk inside. People point webhooks at training logs, dashboards and spreadsheets: they want every
  session's numbers and can filter on `data.risk.tier` themselves. The email stays the alarm, sent only for
  the tiers the athlete chose. Unsubscribing from emails (`alerts_opt_out`) does not stop the webhook, which
  the athlete set up on purpose and stops by clearing the URL.
- Once per session. The dedup key `webhook:{session_id}` (alerts.dedup) makes a recomputation after an
  algorithm bump a no-op, as for the email (reliability.md D2); GET /v1/sessions/{id} has the current figures.
- Body, UTF-8 JSON with sorted keys (`webhook_payload`, `webhook_body`):
      {"id": "webhook:<session id>", "type": "session.analyzed", "version": 1,
       "created_at": "<ISO 8601 UTC, when it was queued>", "session_id": "<uuid>",
       "data": <the session JSON of docs/session-json.md, with `risk`, without the per-minute `series`>}
  `series` is left out to keep calls and outbox rows small; the API serves it.
- Headers: `Idempotency-Key: <id>`, the same on every retry, so a receiver can drop a retry of a delivery
  whose answer we never got (a timeout after the receiver committed); `Sweatsync-Event: session.analyzed`;
  `Sweatsync-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`. A receiver recomputes
  the HMAC over the raw body with its secret (shown by GET /v1/preferences), compares in constant time and
  rejects a `t` more than 5 minutes away from its clock: `verify_signature` is the reference.

How it is delivered
- Through the outbox, like the email: `alerts.outbox.enqueue_webhook` writes the row in the worker's
  transaction (flush only); `alerts.relay.relay_due` POSTs it with the same claim / backoff /
  permanent-failure bookkeeping.
- URL and secret are read from the user row at send time, never copied into the outbox: a rotated secret
  applies to pending retries, the secret lives in one table only, and a URL the athlete removed fails the
  row instead of being called.
- Only https:// URLs; plain http only to 127.0.0.1, ::1 or localhost and only with
  `allow_insecure_localhost=True` (tests, local development). No user:password@ in the URL. https to a
  loopback, link-local (cloud metadata), multicast or unspecified address is refused, whether the URL names it
  or its host name resolves to it at send time (the call then goes to the address checked, so the name cannot
  change its answer in between); private LAN addresses are allowed (self-hosters call their own home servers).
- No redirects are followed: a 3xx is a permanent failure (fix the URL). 2xx: delivered. 408, 429, 5xx,
  connection errors and timeouts: transient (backoff; Retry-After is honoured up to the backoff cap). Any
  other status: permanent, no retry. At most 2 KiB of a reply is read (for the error message).
- Webhook URLs often carry a token in their path, so logs, errors and the outbox `recipient` column only
  show scheme://host[:port]. httpx's own INFO line ("HTTP Request: POST <full URL>") is dropped while a
  webhook is being sent (a filter on the "httpx" logger); ours says `alerts.webhook.posted origin=...`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import math
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from alerts.dedup import webhook_key
from alerts.mail import PERMANENT, TRANSIENT

EVENT = "session.analyzed"
VERSION = 1
SIGNATURE_HEADER = "Sweatsync-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
EVENT_HEADER = "Sweatsync-Event"
SIGNATURE_TOLERANCE_S = 300
DEFAULT_TIMEOUT_S = 10.0
USER_AGENT = "sweatsync-webhook/1"
MAX_REPLY_BYTES = 2048

_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
_SIGNATURE_PART = re.compile(r"\s*(t|v1)=([^,\s]+)\s*")

log = logging.getLogger("sweatsync.alerts.webhook")
_sending = threading.local()


class _HideWebhookUrls(logging.Filter):
    """Drops httpx's records while this thread sends a webhook: they print the full URL, token and all."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_sending, "active", False)


logging.getLogger("httpx").addFilter(_HideWebhookUrls())


class WebhookUrlError(ValueError):
    """This URL may not be called. The message says why, in words the athlete can act on."""


class WebhookError(Exception):
    """A failed delivery: the HTTP status (None when there was no answer) and whether to retry it."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        transient: bool = False,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.transient = transient
        self.retry_after_s = retry_after_s


# ---------------------------------------------------------------- URLs


def _literal_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host that is an IP literal stands for, including the forms the C resolver also
    accepts ("2852039166", "0xa9.0376.43518", "::ffff:169.254.169.254"); None for a host name."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        try:
            ip = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _is_loopback_host(host: str) -> bool:
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    ip = _literal_ip(host)
    return ip is not None and ip.is_loopback


def check_webhook_url(url: Any, *, allow_insecure_localhost: bool = False) -> str:
    """The URL itself when it may be called; otherwise WebhookUrlError saying why."""
    if not isinstance(url, str) or not url.strip():
        raise WebhookUrlError("there is no webhook URL")
    if _CONTROL.search(url) or " " in url:
        raise WebhookUrlError("the webhook URL must not contain spaces or control characters")
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - parsing it raises ValueError for a port that is not a number in range
    except ValueError:
        raise WebhookUrlError("the webhook URL has an invalid port") from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http"):
        raise WebhookUrlError("the webhook URL must start with https://")
    if not host:
        raise WebhookUrlError("the webhook URL has no host name")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlError(
            "the webhook URL must not contain a user name or password; the signature authenticates each call"
        )
    loopback = _is_loopback_host(host)
    if parts.scheme == "http":
        if allow_insecure_localhost and loopback:
            return url
        raise WebhookUrlError("the webhook URL must start with https://")
    if loopback and not allow_insecure_localhost:
        raise WebhookUrlError("the webhook URL must not point at this server (localhost)")
    ip = _literal_ip(host)
    if ip is not None and (ip.is_link_local or ip.is_multicast or ip.is_unspecified):
        raise WebhookUrlError("the webhook URL must not point at a link-local, multicast or unset address")
    return url


Resolver = Callable[[str, int], list[str]]


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for host (IPv6 zone ids dropped)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]).split("%", 1)[0] for info in infos]


def checked_address(url: str, *, allow_insecure_localhost: bool, resolve: Resolver = system_resolver) -> str:
    """The address to connect to for url's host, after checking every address its name resolves to.

    check_webhook_url sees only the text of the URL; a host name can still resolve to this server or to a
    link-local metadata address ("metadata.google.internal"). Connecting to the address checked here, not
    resolving again, keeps a name that changes its answer between check and call (DNS rebinding) out.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = _literal_ip(host)
    try:
        found = (
            [literal]
            if literal is not None
            else [ipaddress.ip_address(a) for a in resolve(host, parts.port or 443)]
        )
    except (OSError, UnicodeError, ValueError) as exc:
        raise WebhookError(f"the webhook host {host} could not be resolved ({exc})", transient=True) from exc
    if not found:
        raise WebhookError(f"the webhook host {host} has no address", transient=True)
    for ip in found:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if ip.is_loopback and not allow_insecure_localhost:
            raise WebhookUrlError(f"the webhook host {host} resolves to this server ({ip})")
        if ip.is_link_local or ip.is_multicast or ip.is_unspecified:
            raise WebhookUrlError(
                f"the webhook host {host} resolves to a link-local, multicast or unset address"
            )
    return str(found[0])


def _pinned(url: str, address: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """(url with the checked address for its host, the Host header, httpx extensions): TLS still checks the
    certificate against the host name, through SNI."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    extensions: dict[str, Any] = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    return parts._replace(netloc=netloc).geturl(), {"Host": parts.netloc}, extensions


def url_origin(url: str) -> str:
    """scheme://host[:port] of a URL, without user info, path or query: what logs may show."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}"[:320]


# ---------------------------------------------------------------- payload and signature


def _json_safe(value: Any) -> Any:
    """JSON types only: NaN/inf become null, UUIDs and dates strings, tuples lists, mapping keys strings."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _iso_utc(when: datetime | None) -> str | None:
    if when is None:
        return None
    if when.tzinfo is None:
        raise ValueError("created_at must be timezone-aware")
    return when.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def webhook_payload(
    session_json: Mapping[str, Any],
    risk: Mapping[str, Any] | None,
    *,
    session_id: uuid.UUID | str | None = None,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """The event for one analysed session (pure). `session_id` defaults to session_json["id"]."""
    sid = session_id if session_id is not None else session_json.get("id")
    if sid is None:
        raise ValueError("the session JSON has no id; pass session_id")
    key = webhook_key(sid)
    canonical = key.partition(":")[2]
    data = {k: v for k, v in session_json.items() if k != "series"}
    data["id"] = canonical
    data["risk"] = dict(risk) if isinstance(risk, Mapping) else None
    return _json_safe(
        {
            "id": key,
            "type": EVENT,
            "version": VERSION,
            "created_at": _iso_utc(created_at),
            "session_id": canonical,
            "data": data,
        }
    )


def webhook_body(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes signed and sent: compact UTF-8 JSON, keys sorted (same payload, same bytes)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8")


def _mac(body: bytes, secret: str, timestamp: int) -> str:
    return hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign_webhook(body: bytes, secret: str, timestamp: int) -> str:
    """The `Sweatsync-Signature` header value: `t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`."""
    if not secret:
        raise ValueError("a webhook secret is required to sign")
    ts = int(timestamp)
    return f"t={ts},v1={_mac(body, secret, ts)}"


def verify_signature(
    body: bytes,
    secret: str,
    header: str | None,
    *,
    now: float | None = None,
    tolerance_s: float = SIGNATURE_TOLERANCE_S,
) -> bool:
    """What a receiver does: True when one `v1` matches the raw body and `t` is within the tolerance."""
    if not header or not secret:
        return False
    stamps: list[str] = []
    macs: list[str] = []
    for part in header.split(","):
        m = _SIGNATURE_PART.fullmatch(part)
        if m is None:
            continue
        (stamps if m.group(1) == "t" else macs).append(m.group(2))
    if len(stamps) != 1 or not stamps[0].isdigit() or not macs:
        return False
    ts = int(stamps[0])
    if abs((time.time() if now is None else now) - ts) > tolerance_s:
        return False
    expected = _mac(body, secret, ts)
    return any(hmac.compare_digest(expected, candidate) for candidate in macs)


# ---------------------------------------------------------------- errors


def _transient_status(status: int) -> bool:
    return status in (408, 429) or 500 <= status <= 599


def _retry_after_s(value: str | None, now: float) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def _clean(text: str, max_len: int = 300) -> str:
    return " ".join(_CONTROL.sub(" ", text).split())[:max_len]


def _read_some(response: httpx.Response) -> bytes:
    """At most MAX_REPLY_BYTES of an error reply, for the error message; b"" if reading it fails."""
    reply = b""
    try:
        for chunk in response.iter_bytes():
            reply += chunk
            if len(reply) >= MAX_REPLY_BYTES:
                break
    except httpx.HTTPError:
        pass
    return reply[:MAX_REPLY_BYTES]


def classify_error(exc: BaseException) -> str:
    """TRANSIENT (retry with backoff) or PERMANENT (mark failed). WebhookSender raises WebhookError and
    WebhookUrlError only; anything else is a bug, which retrying does not fix, except OSError."""
    if isinstance(exc, WebhookError):
        return TRANSIENT if exc.transient else PERMANENT
    if isinstance(exc, WebhookUrlError):
        return PERMANENT
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        return PERMANENT
    if isinstance(exc, httpx.TransportError | OSError):
        return TRANSIENT
    return PERMANENT


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, WebhookUrlError):
        return _clean(f"refused: {exc}", 1000)
    return _clean(str(exc) if isinstance(exc, WebhookError) else f"{type(exc).__name__}: {exc}", 1000)


# ---------------------------------------------------------------- sender


class WebhookSender:
    """POSTs one signed body per call; a new connection each time (calls are rare), no redirects, a timeout.

    `send` returns the 2xx status, or raises WebhookUrlError (refused URL) or WebhookError (with `transient`
    and, for 429/503, `retry_after_s`). The signature's timestamp is the wall clock at the call.
    """

    def __init__(
        self,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        allow_insecure_localhost: bool = False,
        trust_env: bool = True,
        clock: Callable[[], float] = time.time,
        resolve: Resolver = system_resolver,
    ) -> None:
        self.resolve = resolve  # the system's; tests give names that resolve where they choose
        self.timeout_s = timeout_s
        self.allow_insecure_localhost = allow_insecure_localhost
        self.trust_env = trust_env  # HTTPS_PROXY / NO_PROXY from the environment, as httpx does by default
        self.clock = clock

    def send(self, url: str, *, body: bytes, secret: str, idempotency_key: str, event: str = EVENT) -> int:
        check_webhook_url(url, allow_insecure_localhost=self.allow_insecure_localhost)
        if not secret:
            raise WebhookError("the athlete has no webhook secret to sign with")
        where = url_origin(url)
        address = checked_address(
            url, allow_insecure_localhost=self.allow_insecure_localhost, resolve=self.resolve
        )
        target, host_header, extensions = _pinned(url, address)
        headers = host_header | {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            IDEMPOTENCY_HEADER: idempotency_key,
            EVENT_HEADER: event,
            SIGNATURE_HEADER: sign_webhook(body, secret, int(self.clock())),
        }
        client = httpx.Client(timeout=self.timeout_s, follow_redirects=False, trust_env=self.trust_env)
        _sending.active = True
        try:
            with (
                client,
                client.stream(
                    "POST", target, content=body, headers=headers, extensions=extensions
                ) as response,
            ):
                reply = b""
                # A 2xx status line is the receipt: its body is not read, so a receiver that accepted the
                # call and then stalls while sending a body cannot turn the delivery into a retry.
                if not 200 <= response.status_code <= 299:
                    reply = _read_some(response)
        except httpx.TimeoutException as exc:
            message = f"timed out after {self.timeout_s:g} s ({type(exc).__name__}) at {where}"
            raise WebhookError(message, transient=True) from exc
        except (httpx.UnsupportedProtocol, httpx.LocalProtocolError) as exc:
            raise WebhookError(f"{type(exc).__name__} at {where}") from exc
        except (httpx.TransportError, OSError) as exc:  # ConnectError, ReadError, RemoteProtocolError, ...
            detail = _clean(str(exc).replace(url, where).replace(target, where))
            raise WebhookError(f"{type(exc).__name__}: {detail} at {where}", transient=True) from exc
        finally:
            _sending.active = False
        status = response.status_code
        log.info("alerts.webhook.posted origin=%s status=%d key=%s", where, status, idempotency_key)
        if 200 <= status <= 299:
            return status
        excerpt = _clean(reply.decode("utf-8", errors="replace"))
        message = f"HTTP {status} from {where}" + (f": {excerpt}" if excerpt else "")
        if 300 <= status <= 399:
            message += " (redirects are not followed: set the final URL)"
        transient = _transient_status(status)
        retry_after = _retry_after_s(response.headers.get("Retry-After"), self.clock()) if transient else None
        raise WebhookError(message, status=status, transient=transient, retry_after_s=retry_after)


def webhook_sender_from_settings(settings: Any) -> WebhookSender:
    """Settings.webhook_timeout_s (default 10 s) and Settings.webhook_allow_insecure_localhost (False)."""
    return WebhookSender(
        timeout_s=settings.webhook_timeout_s,
        allow_insecure_localhost=settings.webhook_allow_insecure_localhost,
    )
