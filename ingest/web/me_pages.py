"""The athlete's own settings: profile, dated weights, alert preferences, API tokens, and (embedded mode)
the emails the service wrote to its outbox folder.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select

from alerts.mail import file_name_for
from alerts.webhook import WebhookUrlError, check_webhook_url
from core.db import unit_of_work
from core.models import AlertOutbox, ApiToken, BodyWeight, Profile, User
from core.settings import get_settings
from ingest.auth import issue_token, token_is_live
from ingest.schemas import ProfileIn
from ingest.web.core import PageError, checked_form, form_float, form_str, redirect, render, require_user

router = APIRouter(include_in_schema=False)

_INT_FIELDS = {"birth_year", "hr_max", "hr_rest", "lthr", "ftp_w", "running_ftp_w"}
_FLOAT_FIELDS = {"mass_kg", "height_m", "sweat_sodium_mmol_l", "clothing_clo"}


def _profile_context(user: User) -> dict[str, Any]:
    with unit_of_work() as uow:
        db = uow.session
        profile = db.get(Profile, user.id)
        me = db.get_one(User, user.id)
        weights = list(
            db.scalars(
                select(BodyWeight)
                .where(BodyWeight.user_id == user.id)
                .order_by(BodyWeight.measured_at.desc())
            )
        )
        tokens = list(
            db.scalars(
                select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc())
            )
        )
    now = datetime.now(UTC)
    return {
        "profile": profile,
        "me": me,
        "weights": weights,
        "tokens": tokens,
        "live": lambda t: token_is_live(t, now),
    }


@router.get("/profile")
def profile_page(request: Request) -> Response:
    user, v = require_user(request)
    return render(
        request,
        v,
        "profile.html",
        title="Your profile",
        welcome=request.query_params.get("welcome"),
        saved=request.query_params.get("saved"),
        **_profile_context(user),
    )


@router.post("/profile")
async def save_profile(request: Request) -> Response:
    user, _ = require_user(request)
    form = await checked_form(request)
    values: dict[str, Any] = {}
    for name in _INT_FIELDS | _FLOAT_FIELDS:
        number = form_float(form, name)
        values[name] = int(number) if number is not None and name in _INT_FIELDS else number
    values["sex"] = form_str(form, "sex") or None
    values["cramp_history"] = form_str(form, "cramp_history") or "none"
    try:
        body = ProfileIn(**values)
    except ValidationError as e:
        first = e.errors()[0]
        raise PageError(422, f"Check {first['loc'][0]}: {first['msg']}.") from None
    with unit_of_work() as uow:
        profile = uow.session.get(Profile, user.id) or Profile(user_id=user.id)
        for key, value in body.model_dump().items():
            setattr(profile, key, value)
        uow.session.add(profile)
    return redirect("/profile?saved=profile#profile")


@router.post("/profile/weights")
async def add_weight(request: Request) -> Response:
    user, _ = require_user(request)
    form = await checked_form(request)
    mass = form_float(form, "mass_kg")
    try:
        day = datetime.fromisoformat(form_str(form, "measured_at") or datetime.now(UTC).date().isoformat())
    except ValueError:
        raise PageError(422, "Write the date as YYYY-MM-DD.") from None
    if mass is None or not 20 <= mass <= 300:
        raise PageError(422, "Enter a weight between 20 and 300 kg.")
    when = day if day.tzinfo else day.replace(tzinfo=UTC)
    with unit_of_work() as uow:
        row = uow.session.scalar(
            select(BodyWeight).where(BodyWeight.user_id == user.id, BodyWeight.measured_at == when)
        ) or BodyWeight(user_id=user.id, measured_at=when)
        row.mass_kg = mass
        uow.session.add(row)
    return redirect("/profile?saved=weight#weights")


@router.post("/profile/preferences")
async def save_preferences(request: Request) -> Response:
    user, _ = require_user(request)
    form = await checked_form(request)
    tier = form_str(form, "alert_min_tier")
    units = form_str(form, "units")
    url = form_str(form, "webhook_url", 500) or None
    if tier not in ("high", "moderate") or units not in ("metric", "imperial"):
        raise PageError(422, "Choose one of the offered options.")
    if url:
        try:
            check_webhook_url(url, allow_insecure_localhost=get_settings().webhook_allow_insecure_localhost)
        except WebhookUrlError as e:
            raise PageError(422, f"That webhook address cannot be used: {e}.") from None
    with unit_of_work() as uow:
        me = uow.session.get_one(User, user.id)
        me.alert_min_tier, me.units, me.webhook_url = tier, units, url
        me.alerts_opt_out = form.get("alerts_opt_out") == "on"
        if url and not me.webhook_secret:
            me.webhook_secret = secrets.token_hex(24)
    return redirect("/profile?saved=preferences#alerts")


@router.post("/profile/tokens")
async def create_token(request: Request) -> Response:
    user, v = require_user(request)
    form = await checked_form(request)
    days = form_float(form, "expires_in_days")
    if days is not None and not 1 <= days <= 3650:
        raise PageError(422, "An expiry is between 1 and 3650 days; leave it empty for none.")
    with unit_of_work() as uow:
        row, token = issue_token(
            uow.session,
            user_id=user.id,
            name=form_str(form, "name", 100) or "token",
            expires_in_days=int(days) if days else None,
        )
        name = row.name
    return render(
        request,
        v,
        "profile.html",
        title="Your profile",
        new_token=token,
        new_token_name=name,
        **_profile_context(user),
    )


@router.post("/profile/tokens/{token_id}/revoke")
async def revoke_token(request: Request, token_id: uuid.UUID) -> Response:
    user, _ = require_user(request)
    await checked_form(request)
    with unit_of_work() as uow:
        row = uow.session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
        if row is None:
            raise HTTPException(404)
        row.revoked_at = row.revoked_at or datetime.now(UTC)
    return redirect("/profile?saved=revoked#tokens")


# --- the outbox, readable in the browser when emails are files (embedded mode) ------------------------


def _own_emails(user: User) -> list[AlertOutbox]:
    with unit_of_work() as uow:
        return list(
            uow.session.scalars(
                select(AlertOutbox)
                .where(AlertOutbox.user_id == user.id, AlertOutbox.kind != "webhook")
                .order_by(AlertOutbox.created_at.desc())
                .limit(100)
            )
        )


def _require_embedded() -> None:
    if get_settings().smtp_url is not None:
        raise PageError(404, "This server sends emails through SMTP; they are in your mailbox.")


@router.get("/outbox")
def outbox_page(request: Request) -> Response:
    user, v = require_user(request)
    _require_embedded()
    return render(request, v, "outbox.html", emails=_own_emails(user), title="Emails to you")


def _read_eml(message_id: str | None) -> EmailMessage | None:
    """The .eml the file outbox wrote for this message (alerts.mail names it after the Message-ID)."""
    if not message_id:
        return None
    path = get_settings().effective_outbox_dir / file_name_for(message_id)
    if not path.is_file():
        return None
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())


@router.get("/outbox/{email_id}")
def outbox_email(request: Request, email_id: uuid.UUID) -> Response:
    user, v = require_user(request)
    _require_embedded()
    with unit_of_work() as uow:
        row = uow.session.scalar(
            select(AlertOutbox).where(AlertOutbox.id == email_id, AlertOutbox.user_id == user.id)
        )
    if row is None or row.kind == "webhook":
        raise HTTPException(404)
    sent = _read_eml(row.message_id) if row.status == "sent" else None
    text = row.payload.get("text") or ""
    if sent is not None:
        body = sent.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else text
    return render(
        request,
        v,
        "outbox_email.html",
        email=row,
        text=text,
        title=str(row.payload.get("subject") or "Email"),
        sent_file=sent is not None,
    )
