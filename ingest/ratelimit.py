"""Request limits per client address and per API token, answered with 429 and Retry-After.

The counters live where `SWEATSYNC_RATE_LIMIT_STORAGE_URL` says, by default the broker's Redis (the embedded
mode starts its own), through the `limits` library's moving-window strategy, so they hold across several API
processes and restarts; `memory://` only when there is no Redis at all. If the counter store is unreachable
the request goes through (logged): a limit must never turn into an outage.

Rules, all from the settings: every request counts against its address; a request with a bearer token also
against that token (keyed by a hash, never the token itself); `POST /v1/uploads` also against the token's
upload limit. The per-user cap on uploads waiting in the queue is checked by the upload route.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

import anyio
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from core.settings import Settings, get_settings

log = logging.getLogger(__name__)

EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})  # probes must never be limited
# Forms that take a password or send an email: guessing and mail-bombing get a much tighter budget.
ACCOUNT_FORMS = ("/signin", "/signup", "/reset", "/invite/", "/v1/users")


@dataclass(frozen=True)
class Rule:
    item: RateLimitItem
    key: str
    what: str  # "requests from your address", for the sentence


def _token_key(scope: Scope) -> str | None:
    for name, value in scope.get("headers") or ():
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return hashlib.sha256(token.strip().encode()).hexdigest()[:32]
    return None


def rules_for(scope: Scope, settings: Settings) -> list[Rule]:
    address = (scope.get("client") or ("unknown",))[0]
    rules = [Rule(parse(settings.rate_limit_per_address), f"addr:{address}", "requests from your address")]
    path = scope.get("path", "")
    if scope.get("method") == "POST" and path.startswith(ACCOUNT_FORMS):
        rules.append(
            Rule(parse(settings.rate_limit_account_forms), f"account:{address}", "account attempts")
        )
    token = _token_key(scope)
    if token is not None:
        rules.append(Rule(parse(settings.rate_limit_per_token), f"token:{token}", "requests with this token"))
        if scope.get("method") == "POST" and scope.get("path", "").rstrip("/") == "/v1/uploads":
            rules.append(
                Rule(
                    parse(settings.rate_limit_uploads_per_token), f"upload:{token}", "uploads with this token"
                )
            )
    return rules


class RateLimiter:
    def __init__(self) -> None:
        self._by_url: dict[str, MovingWindowRateLimiter] = {}

    def _limiter(self, settings: Settings) -> MovingWindowRateLimiter:
        url = settings.rate_limit_storage_url or settings.broker_url or "memory://"
        limiter = self._by_url.get(url)
        if limiter is None:
            options = {} if url.startswith("memory") else {"socket_timeout": 1, "socket_connect_timeout": 1}
            limiter = MovingWindowRateLimiter(storage_from_string(url, **options))
            self._by_url[url] = limiter
        return limiter

    def check(self, rules: list[Rule], settings: Settings) -> tuple[Rule, int] | None:
        """The first rule the request breaks, with the seconds until it may retry; None when it may pass."""
        try:
            limiter = self._limiter(settings)
            for rule in rules:
                if not limiter.hit(rule.item, "sweatsync", rule.key):
                    reset = limiter.get_window_stats(rule.item, "sweatsync", rule.key).reset_time
                    return rule, max(1, math.ceil(reset - time.time()))
        except Exception:  # noqa: BLE001 - the counter store is down: serve rather than refuse everyone
            log.warning("sweatsync.api.rate_limit_unavailable", exc_info=True)
        return None


def too_many(rule: Rule, retry_after: int) -> JSONResponse:
    item = rule.item
    per = item.GRANULARITY.name if item.multiples == 1 else f"{item.multiples} {item.GRANULARITY.name}s"
    amount = item.amount
    return JSONResponse(
        {"detail": f"too many {rule.what}: at most {amount} per {per}; try again in {retry_after} s"},
        429,
        {"Retry-After": str(retry_after)},
    )


class RateLimitMiddleware:
    """Pure ASGI (never buffers a body), so an upload stream passes through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.limiter = RateLimiter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        settings = get_settings()
        if scope["type"] != "http" or not settings.rate_limits_enabled or scope.get("path") in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        refused = await anyio.to_thread.run_sync(self.limiter.check, rules_for(scope, settings), settings)
        if refused is not None:
            await too_many(*refused)(scope, receive, send)
            return
        await self.app(scope, receive, send)
