"""What every page shares: templates, the signed-in viewer, CSRF, and redirects to sign in.

CSRF: every visitor gets a random `ss_csrf` cookie (SameSite=Lax, HttpOnly); each form carries
HMAC(secret, that cookie + the session cookie). A cross-site form can neither read the cookie nor
compute the MAC; signing in changes the session cookie, so tokens from before do not carry over.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.datastructures import FormData

from core.db import unit_of_work
from core.models import User
from core.settings import get_settings
from ingest import accounts

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
_URL = re.compile(r"https?://[^\s<>\"']+")


def linkify(text: str) -> Markup:
    """Plain email text as HTML: escaped, with its links clickable and its line breaks kept."""
    escaped = str(escape(text))
    linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
    return Markup(linked.replace("\n", "<br>\n"))  # noqa: S704 - built from escaped text


templates.env.filters["linkify"] = linkify
SESSION_COOKIE = "ss_session"
CSRF_COOKIE = "ss_csrf"


class SignInRequired(Exception):
    """Raised by pages that need a signed-in athlete; answered with a redirect to /signin?next=..."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class PageError(Exception):
    """A page that cannot be shown; answered with an HTML page of that status and this sentence."""

    def __init__(self, status: int, message: str) -> None:
        self.status, self.message = status, message


class CsrfRejected(PageError):
    def __init__(self) -> None:
        super().__init__(
            403, "This form had expired or came from another site. Go back, reload the page and try again."
        )


@dataclass
class Viewer:
    user: User | None
    csrf: str
    new_csrf_cookie: str | None  # set on the response when the visitor had none


def secure_cookies() -> bool:
    return get_settings().public_base_url.startswith("https://")


def _csrf_for(csrf_cookie: str, session_cookie: str | None) -> str:
    key = get_settings().secret_key.get_secret_value().encode()
    msg = f"csrf:{csrf_cookie}:{session_cookie or ''}".encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def viewer(request: Request) -> Viewer:
    cookie = request.cookies.get(CSRF_COOKIE)
    fresh = None
    if not cookie or len(cookie) > 100:
        cookie = fresh = secrets.token_urlsafe(24)
        # Forms posted in this same response cycle read the new cookie from request.state.
    request.state.csrf_cookie = cookie
    session_cookie = request.cookies.get(SESSION_COOKIE)
    user = None
    if session_cookie:
        with unit_of_work() as uow:
            user = accounts.session_user(uow.session, session_cookie)
    return Viewer(user=user, csrf=_csrf_for(cookie, session_cookie), new_csrf_cookie=fresh)


def require_user(request: Request) -> tuple[User, Viewer]:
    v = viewer(request)
    if v.user is None:
        raise SignInRequired(_here(request))
    return v.user, v


def _here(request: Request) -> str:
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query else path


def safe_next(value: str | None) -> str:
    """Only a path on this site: an open redirect would make sign-in phishing easy."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/sessions"
    parts = urlsplit(value)
    return "/sessions" if parts.scheme or parts.netloc else value


def signin_url(next_path: str) -> str:
    return f"/signin?next={quote(next_path, safe='')}"


async def checked_form(request: Request) -> FormData:
    """The posted form when its CSRF token matches this visitor's cookies; CsrfRejected otherwise."""
    form = await request.form()
    sent = str(form.get("csrf_token") or "")
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not sent:
        raise CsrfRejected()
    expected = _csrf_for(cookie, request.cookies.get(SESSION_COOKIE))
    if not hmac.compare_digest(sent, expected):
        raise CsrfRejected()
    return form


def render(request: Request, v: Viewer, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    settings = get_settings()
    response = templates.TemplateResponse(
        request,
        name,
        {
            "user": v.user,
            "csrf": v.csrf,
            "embedded": settings.smtp_url is None,
            "signup_open": settings.signup_open,
            **ctx,
        },
        status_code=status,
    )
    if v.new_csrf_cookie:
        set_csrf_cookie(response, v.new_csrf_cookie)
    return response


def set_csrf_cookie(response: Response, value: str) -> None:
    response.set_cookie(
        CSRF_COOKIE, value, httponly=True, samesite="lax", secure=secure_cookies(), max_age=60 * 60 * 24 * 30
    )


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def form_str(form: FormData, name: str, max_len: int = 500) -> str:
    value = form.get(name)
    return str(value).strip()[:max_len] if isinstance(value, str) else ""


def form_float(form: FormData, name: str) -> float | None:
    text = form_str(form, name, 40).replace(",", ".")
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):  # float() reads "nan" and "inf", which no form field means
        raise PageError(422, f"“{text}” is not a number; write it with digits, e.g. 21.5.")
    return number
