"""Signed one-click links (unsubscribe, "I cramped"): HMAC over stable ids, no database lookup."""

from __future__ import annotations

import base64
import hashlib
import hmac

from core.settings import Settings


def _mac(settings: Settings, message: str) -> str:
    key = settings.secret_key.get_secret_value().encode()
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(settings: Settings, *parts: str) -> str:
    message = ":".join(parts)
    return f"{base64.urlsafe_b64encode(message.encode()).decode().rstrip('=')}.{_mac(settings, message)}"


def unsign(settings: Settings, token: str) -> list[str] | None:
    try:
        body, mac = token.split(".", 1)
        message = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    if not hmac.compare_digest(mac, _mac(settings, message)):
        return None
    return message.split(":")
