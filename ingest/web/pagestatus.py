"""Answers made before the app is reached (the rate limiter's 429) are JSON; a page path gets a page."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ingest.web.core import templates

_API_PREFIXES = ("/v1/", "/healthz", "/readyz", "/openapi.json", "/static/")


class JsonToPageMiddleware:
    """Pure ASGI: for a page path, a 429 JSON answer from an inner middleware becomes an HTML page
    (same status and headers such as Retry-After); everything else passes through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path or path.startswith(_API_PREFIXES):
            await self.app(scope, receive, send)
            return
        replacing = False

        async def send_page(message: Message) -> None:
            nonlocal replacing
            if message["type"] == "http.response.start" and message["status"] == 429:
                replacing = True
                body = _too_many_page()
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() == b"retry-after"]
                headers += [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ]
                await send({"type": "http.response.start", "status": 429, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            if replacing:
                return  # the JSON body is dropped
            await send(message)

        await self.app(scope, receive, send_page)


def _too_many_page() -> bytes:
    html = templates.env.get_template("error.html").render(
        user=None, csrf="", embedded=False, signup_open=False, status_code=429, title="Sorry",
        message="Too many requests from here in a short time. Wait a minute, then try again.",
    )  # fmt: skip
    return html.encode()
