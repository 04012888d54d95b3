"""The athlete's web pages, served by the same app as the API (server-rendered, Jinja2)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ingest.errors import validation_response
from ingest.web.core import HERE, PageError, SignInRequired, redirect, render, signin_url, viewer
from ingest.web.pagestatus import JsonToPageMiddleware

log = logging.getLogger("sweatsync.web")

_MESSAGES = {
    401: "Sign in to see this page.",
    403: "You are not allowed to do that.",
    404: "There is nothing here. The link may be mistyped, or the page belongs to another account.",
    405: "That page cannot be used this way. Go back and use its buttons.",
    413: "That was too large for this server.",
    422: "Some of what you sent could not be read. Go back and check the form.",
    429: "Too many requests in a short time. Wait a minute and try again.",
}


def _is_api(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/v1/") or path in ("/healthz", "/readyz", "/openapi.json")


def error_page(request: Request, status: int, message: str | None = None) -> Response:
    return render(
        request,
        viewer(request),
        "error.html",
        status,
        status_code=status,
        message=message or _MESSAGES.get(status, "Something went wrong with that request."),
        title="Not found" if status == 404 else "Sorry",
    )


def _pages_for_api_handlers(app: FastAPI) -> None:
    """The API's own handlers (database down: 503, unstorable value: 422) answer JSON; a page path gets
    the same status as a page."""
    for exc_class, handler in list(app.exception_handlers.items()):
        if exc_class in (StarletteHTTPException, RequestValidationError) or not isinstance(exc_class, type):
            continue

        async def as_page(request: Request, exc: Exception, _api: Any = handler) -> Response:
            answer: Response = await _api(request, exc)
            if _is_api(request):
                return answer
            retry = answer.headers.get("Retry-After")
            message = "The service is briefly unavailable. Try again in a few seconds." if retry else None
            page = error_page(request, answer.status_code, message)
            if retry:
                page.headers["Retry-After"] = retry
            return page

        app.exception_handlers[exc_class] = as_page


def install(app: FastAPI) -> None:
    """Add the pages, their static files and HTML error pages (API paths keep their JSON errors)."""
    from ingest.web import account_pages, docs, pages

    docs.install(app)  # before /static: its /static/swagger mount must match first
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(account_pages.router)
    app.include_router(pages.router)

    _pages_for_api_handlers(app)
    app.add_middleware(JsonToPageMiddleware)  # outermost: wraps the rate limiter's JSON 429

    @app.exception_handler(SignInRequired)
    async def _sign_in(_: Request, exc: SignInRequired) -> Response:
        return redirect(signin_url(exc.next_path))

    @app.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError) -> Response:
        return error_page(request, exc.status, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request):
            return await http_exception_handler(request, exc)
        return error_page(request, exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if _is_api(request):
            return validation_response(exc)
        # A malformed id in a page URL names nothing: the same page as any other missing thing.
        return error_page(request, 404)
