"""Sign up, sign in, sign out, password reset and invitations."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from core.db import unit_of_work
from core.models import User
from core.settings import get_settings
from ingest import accounts
from ingest.web.core import (
    SESSION_COOKIE,
    checked_form,
    form_str,
    redirect,
    render,
    safe_next,
    secure_cookies,
    viewer,
)

router = APIRouter(include_in_schema=False)


def _signed_in(response: Response, cookie: str) -> Response:
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(),
        max_age=get_settings().web_session_days * 86400,
    )
    return response


@router.get("/signin")
def signin_page(request: Request, next: str | None = None) -> Response:
    v = viewer(request)
    if v.user is not None:
        return redirect(safe_next(next))
    return render(request, v, "signin.html", next=safe_next(next), title="Sign in")


@router.post("/signin")
async def signin(request: Request) -> Response:
    form = await checked_form(request)
    email, password = form_str(form, "email", 320), str(form.get("password") or "")
    next_path = safe_next(form_str(form, "next"))
    with unit_of_work() as uow:
        user = accounts.authenticate(uow.session, email=email, password=password)
        cookie = accounts.start_session(uow.session, user.id) if user else None
    if cookie is None:
        v = viewer(request)
        return render(
            request,
            v,
            "signin.html",
            401,
            next=next_path,
            email=email,
            title="Sign in",
            error="That email and password do not match an account. Check both, or reset your password.",
        )
    return _signed_in(redirect(next_path), cookie)


@router.get("/signup")
def signup_page(request: Request) -> Response:
    v = viewer(request)
    if v.user is not None:
        return redirect("/sessions")
    return render(request, v, "signup.html", title="Create an account")


@router.post("/signup")
async def signup(request: Request) -> Response:
    form = await checked_form(request)
    v = viewer(request)
    if not get_settings().signup_open:
        return render(request, v, "signup.html", 403, title="Create an account")
    email, name = form_str(form, "email", 320), form_str(form, "display_name", 200)
    try:
        with unit_of_work() as uow:
            user = accounts.create_account(
                uow.session, email=email, password=str(form.get("password") or ""), display_name=name
            )
            cookie = accounts.start_session(uow.session, user.id)
    except accounts.AccountError as e:
        return render(
            request,
            v,
            "signup.html",
            422,
            error=str(e),
            email=email,
            display_name=name,
            title="Create an account",
        )
    return _signed_in(redirect("/profile?welcome=1"), cookie)


@router.post("/signout")
async def signout(request: Request) -> Response:
    await checked_form(request)
    with unit_of_work() as uow:
        accounts.end_session(uow.session, request.cookies.get(SESSION_COOKIE))
    response = redirect("/signin?signed_out=1")
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/reset")
def reset_request_page(request: Request) -> Response:
    return render(request, viewer(request), "reset_request.html", title="Reset your password")


@router.post("/reset")
async def reset_request(request: Request) -> Response:
    form = await checked_form(request)
    email = accounts.normalise_email(form_str(form, "email", 320))
    with unit_of_work() as uow:
        user = uow.session.scalar(select(User).where(User.email == email))
        if user is not None:
            accounts.queue_account_email(uow.session, user=user, purpose="reset")
    # The same answer whether or not the account exists: the page must not reveal who has one.
    return render(request, viewer(request), "reset_request.html", sent=True, title="Reset your password")


def _choose_password_page(request: Request, token: str, purpose: str) -> Response:
    with unit_of_work() as uow:
        ok = accounts.open_account_link(uow.session, token, purpose) is not None
    return render(
        request,
        viewer(request),
        "choose_password.html",
        200 if ok else 404,
        ok=ok,
        purpose=purpose,
        title="Choose your password",
    )


async def _choose_password(request: Request, token: str, purpose: str) -> Response:
    form = await checked_form(request)
    try:
        with unit_of_work() as uow:
            user = accounts.redeem_account_link(uow.session, token, purpose, str(form.get("password") or ""))
            cookie = accounts.start_session(uow.session, user.id)
    except accounts.AccountError as e:
        return render(
            request,
            viewer(request),
            "choose_password.html",
            422,
            ok=True,
            purpose=purpose,
            error=str(e),
            title="Choose your password",
        )
    return _signed_in(redirect("/sessions"), cookie)


@router.get("/reset/{token}")
def reset_page(request: Request, token: str) -> Response:
    return _choose_password_page(request, token, "reset")


@router.post("/reset/{token}")
async def reset_password(request: Request, token: str) -> Response:
    return await _choose_password(request, token, "reset")


@router.get("/invite/{token}")
def invite_page(request: Request, token: str) -> Response:
    return _choose_password_page(request, token, "invite")


@router.post("/invite/{token}")
async def accept_invite(request: Request, token: str) -> Response:
    return await _choose_password(request, token, "invite")
