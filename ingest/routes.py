"""HTTP routes. Every query is scoped to the caller: another user's object answers 404."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.webhook import WebhookUrlError, check_webhook_url
from core.db import UnitOfWork, unit_of_work
from core.models import (
    AlertOutbox,
    ApiToken,
    BodyWeight,
    CrampReport,
    Profile,
    Upload,
    User,
    WeighIn,
    WorkoutSession,
)
from core.result import served_json, stored_result
from core.settings import get_settings
from core.signing import unsign
from ingest import service
from ingest.auth import CurrentUser, issue_token
from ingest.plan import PlanIn, PlanOut, plan_session
from ingest.receive import receive_upload
from ingest.schemas import (
    AlertOut,
    ConditionsIn,
    PreferencesIn,
    PreferencesOut,
    ProfileIn,
    ProfileOut,
    Recomputing,
    SessionJson,
    SessionSummary,
    TokenCreate,
    TokenCreated,
    TokenOut,
    UploadOut,
    UserCreate,
    UserCreated,
    WeighInBody,
    WeightIn,
    WeightOut,
)
from workers.activity import FileRejected
from workers.formats.detect import sniff_kind

router = APIRouter(prefix="/v1")

NOT_FOUND = "not found"


@router.post("/users", status_code=status.HTTP_201_CREATED, response_model=UserCreated, tags=["users"])
def create_user(body: UserCreate) -> UserCreated:
    """Create an account when the server allows open sign-up. The API token is shown only once."""
    if not get_settings().signup_open:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "sign-up is closed on this server: ask its operator for an invitation",
        )
    try:
        with unit_of_work() as uow:
            user, token = service.create_user(uow.session, email=body.email, display_name=body.display_name)
    except service.EmailTaken:
        raise HTTPException(status.HTTP_409_CONFLICT, "an account with this email already exists") from None
    return UserCreated(id=user.id, email=user.email, token=token)


@router.get("/tokens", response_model=list[TokenOut], tags=["users"])
def list_tokens(user: CurrentUser) -> Any:
    """Your API tokens, newest first, revoked ones included (with when)."""
    with unit_of_work() as uow:
        rows = uow.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc())
        )
        return [TokenOut.model_validate(r) for r in rows]


@router.post("/tokens", status_code=status.HTTP_201_CREATED, response_model=TokenCreated, tags=["users"])
def create_token(body: TokenCreate, user: CurrentUser) -> Any:
    """A new named token, optionally expiring. The token is in this answer only."""
    with unit_of_work() as uow:
        row, token = issue_token(
            uow.session, user_id=user.id, name=body.name, expires_in_days=body.expires_in_days
        )
        return TokenCreated(**TokenOut.model_validate(row).model_dump(), token=token)


@router.delete("/tokens/{token_id}", response_model=TokenOut, tags=["users"])
def revoke_token(token_id: uuid.UUID, user: CurrentUser) -> Any:
    """Revoke one of your tokens: it answers 401 from the next request on."""
    with unit_of_work() as uow:
        row = uow.session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
        row.revoked_at = row.revoked_at or datetime.now(UTC)
        uow.session.flush()
        return TokenOut.model_validate(row)


@router.get("/profile", response_model=ProfileOut, tags=["profile"])
def get_profile(user: CurrentUser) -> Any:
    with unit_of_work() as uow:
        return uow.session.get(Profile, user.id) or ProfileOut()


@router.put("/profile", response_model=ProfileOut, tags=["profile"])
def put_profile(body: ProfileIn, user: CurrentUser) -> Any:
    """Set profile fields. Fields left out keep their value. Sessions analysed later use them."""
    with unit_of_work() as uow:
        profile = uow.session.get(Profile, user.id)
        if profile is None:
            profile = Profile(user_id=user.id)
            uow.session.add(profile)
        for key, value in body.model_dump(exclude_unset=True).items():
            setattr(profile, key, "none" if key == "cramp_history" and value is None else value)
        uow.session.flush()
        return ProfileOut.model_validate(profile)


@router.get("/preferences", response_model=PreferencesOut, tags=["profile"])
def get_preferences(user: CurrentUser) -> Any:
    return PreferencesOut.model_validate(user)


@router.put("/preferences", response_model=PreferencesOut, tags=["profile"])
def put_preferences(body: PreferencesIn, user: CurrentUser) -> Any:
    """Which tier emails you (high or moderate), opt-out, units, and an optional HTTPS webhook."""
    changes = body.model_dump(exclude_unset=True)
    url = changes.get("webhook_url")
    if url:
        try:
            check_webhook_url(url)
        except WebhookUrlError as e:
            raise HTTPException(422, str(e)) from None
    with unit_of_work() as uow:
        row = uow.session.get(User, user.id)
        assert row is not None
        for key, value in changes.items():
            setattr(row, key, value)
        if url and not row.webhook_secret:
            row.webhook_secret = secrets.token_hex(24)
        uow.session.flush()
        return PreferencesOut.model_validate(row)


def _upload_out(upload: Upload, session_ids: list[uuid.UUID], entries: list[uuid.UUID]) -> UploadOut:
    base = get_settings().public_base_url
    return UploadOut(
        id=upload.id,
        status=upload.status,
        status_url=f"{base}/v1/uploads/{upload.id}",
        original_name=upload.original_name,
        size=upload.size,
        sha256=upload.sha256,
        error=upload.error,
        warnings=list(upload.warnings or []),
        attempts=upload.attempts,
        sessions=session_ids,
        duplicate_of=upload.duplicate_of,
        duplicate_url=f"{base}/v1/sessions/{upload.duplicate_of}" if upload.duplicate_of else None,
        entries=entries,
        archive_id=upload.archive_id,
        created_at=upload.created_at,
        finished_at=upload.finished_at,
    )


@router.post(
    "/uploads",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=UploadOut,
    tags=["uploads"],
    responses={200: {"model": UploadOut, "description": "The same file was uploaded before"}},
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            }
        }
    },
)
async def create_upload(
    request: Request, response: Response, user: CurrentUser, force: bool = False
) -> UploadOut:
    """Upload a workout file: .fit, .tcx, .gpx (each also .gz) or a .zip of them (multipart field `file`,
    or the raw body with `?filename=`).

    Answers 202 with the upload's status URL; the analysis runs in a worker. The same bytes uploaded
    again answer 200 with the existing upload and run nothing twice. The same activity in another file
    ends as `duplicate` with a link to the original session, unless `?force=true`. Each file of a zip
    becomes its own upload, listed under `entries`.
    """
    settings = get_settings()
    cap = settings.max_waiting_uploads_per_user
    await run_in_threadpool(service.check_waiting_uploads, user_id=user.id, cap=cap)
    received = await receive_upload(
        request, cap=settings.max_upload_bytes, incoming_dir=settings.effective_raw_dir / ".incoming"
    )
    try:
        try:
            kind = sniff_kind(received.head, received.filename)
        except FileRejected as e:
            raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, e.reason) from None
        stored = await run_in_threadpool(
            service.store_upload,
            settings=settings,
            user_id=user.id,
            received=received,
            kind=kind,
            force=force,
        )
    finally:
        received.tmp_path.unlink(missing_ok=True)
    if not stored.created:
        response.status_code = status.HTTP_200_OK
    return await run_in_threadpool(_load_upload_out, user.id, stored.upload.id)


def _load_upload_out(user_id: uuid.UUID, upload_id: uuid.UUID) -> UploadOut:
    with unit_of_work() as uow:
        upload = uow.session.scalar(select(Upload).where(Upload.id == upload_id, Upload.user_id == user_id))
        if upload is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
        ids = list(
            uow.session.scalars(
                select(WorkoutSession.id)
                .where(WorkoutSession.upload_id == upload_id)
                .order_by(WorkoutSession.leg_index)
            )
        )
        entries = list(
            uow.session.scalars(
                select(Upload.id).where(Upload.archive_id == upload_id).order_by(Upload.created_at)
            )
        )
        return _upload_out(upload, ids, entries)


@router.get("/uploads/{upload_id}", response_model=UploadOut, tags=["uploads"])
def get_upload(upload_id: uuid.UUID, user: CurrentUser) -> UploadOut:
    return _load_upload_out(user.id, upload_id)


@router.get("/sessions", response_model=list[SessionSummary], tags=["sessions"])
def list_sessions(user: CurrentUser, limit: int = 50, offset: int = 0) -> list[SessionSummary]:
    with unit_of_work() as uow:
        rows = uow.session.scalars(
            select(WorkoutSession)
            .where(WorkoutSession.user_id == user.id)
            .order_by(WorkoutSession.start_time.desc(), WorkoutSession.leg_index)
            .limit(min(max(limit, 1), 500))
            .offset(max(offset, 0))
        )
        return [
            SessionSummary(
                id=ws.id,
                upload_id=ws.upload_id,
                sport=ws.sport,
                sub_sport=ws.sub_sport,
                start_time=ws.start_time,
                duration_s=ws.duration_s,
                distance_m=ws.distance_m,
                risk_tier=result.risk.tier if result.risk else None,
                sweat_l=result.fluid.sweat_l,
                algorithm_version=ws.algorithm_version,
            )
            for ws in rows
            for result in [stored_result(ws)]
        ]


@router.get("/sessions/{session_id}", tags=["sessions"])
def get_session(session_id: uuid.UUID, user: CurrentUser) -> SessionJson:
    """Every number with its inputs, assumptions and range (see docs/session-json.md)."""
    with unit_of_work() as uow:
        return served_json(_own_session(uow.session, user, session_id))


@router.post("/plan", response_model=PlanOut, tags=["sessions"])
def plan(body: PlanIn, user: CurrentUser) -> PlanOut:
    """Expected sweat and sodium loss for a planned session, and a drinking and sodium plan per hour
    (at most 1.0 L/h, never more than the loss, at most 3 L named; sodium 300–600 mg/h). Your weigh-ins
    calibrate it; `calibration` says how."""
    with unit_of_work() as uow:
        return plan_session(uow.session, user_id=user.id, plan=body)


@router.get("/alerts", response_model=list[AlertOut], tags=["sessions"])
def list_alerts(user: CurrentUser, limit: int = 50) -> Any:
    """Emails and webhook calls for your sessions, with their delivery status and the last error."""
    with unit_of_work() as uow:
        rows = uow.session.scalars(
            select(AlertOutbox)
            .where(AlertOutbox.user_id == user.id)
            .order_by(AlertOutbox.created_at.desc())
            .limit(min(max(limit, 1), 500))
        )
        return [AlertOut.model_validate(r) for r in rows]


def _own_session(db: Session, user: User, session_id: uuid.UUID) -> WorkoutSession:
    ws = db.scalar(
        select(WorkoutSession).where(WorkoutSession.id == session_id, WorkoutSession.user_id == user.id)
    )
    if ws is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return ws


def _recompute_after_commit(uow: UnitOfWork, session_id: uuid.UUID) -> Recomputing:
    uow.after_commit(lambda: service.enqueue_recompute(session_id))
    return Recomputing(
        session_id=session_id, session_url=f"{get_settings().public_base_url}/v1/sessions/{session_id}"
    )


@router.put(
    "/sessions/{session_id}/conditions", status_code=202, response_model=Recomputing, tags=["sessions"]
)
def put_conditions(session_id: uuid.UUID, body: ConditionsIn, user: CurrentUser) -> Recomputing:
    """Override air temperature, humidity, indoor/outdoor, fan speed or fluid drunk, then recompute."""
    with unit_of_work() as uow:
        ws = _own_session(uow.session, user, session_id)
        merged = {**(ws.overrides or {}), **body.model_dump(exclude_unset=True)}
        ws.overrides = {k: v for k, v in merged.items() if v is not None}
        return _recompute_after_commit(uow, ws.id)


@router.post(
    "/sessions/{session_id}/weigh-in", status_code=202, response_model=Recomputing, tags=["sessions"]
)
def post_weigh_in(session_id: uuid.UUID, body: WeighInBody, user: CurrentUser) -> Recomputing:
    """Record a measured sweat loss; it overrides the model for this session and calibrates later ones."""
    with unit_of_work() as uow:
        ws = _own_session(uow.session, user, session_id)
        row = uow.session.get(WeighIn, ws.id) or WeighIn(session_id=ws.id, user_id=user.id)
        for key, value in body.model_dump().items():
            setattr(row, key, value)
        uow.session.add(row)
        return _recompute_after_commit(uow, ws.id)


@router.post("/profile/weights", status_code=201, response_model=WeightOut, tags=["profile"])
def post_weight(body: WeightIn, user: CurrentUser) -> Any:
    """Add a dated weight. Each session uses the latest weight at or before its start."""
    when = body.measured_at if body.measured_at.tzinfo else body.measured_at.replace(tzinfo=UTC)
    with unit_of_work() as uow:
        row = uow.session.scalar(
            select(BodyWeight).where(BodyWeight.user_id == user.id, BodyWeight.measured_at == when)
        )
        row = row or BodyWeight(user_id=user.id, measured_at=when)
        row.mass_kg = body.mass_kg
        uow.session.add(row)
        uow.session.flush()
        return WeightOut.model_validate(row)


@router.get("/profile/weights", response_model=list[WeightOut], tags=["profile"])
def list_weights(user: CurrentUser) -> Any:
    with unit_of_work() as uow:
        rows = uow.session.scalars(
            select(BodyWeight).where(BodyWeight.user_id == user.id).order_by(BodyWeight.measured_at)
        )
        return [WeightOut.model_validate(r) for r in rows]


# One-click links from emails. GET shows a confirmation button (mail scanners prefetch GETs);
# POST acts (RFC 8058 one-click unsubscribe posts "List-Unsubscribe=One-Click").
_ACTIONS = {
    "unsubscribe": "Stop cramp-risk emails",
    "cramped": "Yes, I cramped in this session",
    "no_cramp": "No, I did not cramp in this session",
}


@router.get("/links/{token}", response_class=HTMLResponse, include_in_schema=False)
def confirm_link(token: str) -> HTMLResponse:
    parts = unsign(get_settings(), token)
    if not parts or parts[0] not in _ACTIONS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return HTMLResponse(
        f"<!doctype html><title>sweatsync</title><form method=post>"
        f"<button type=submit>{_ACTIONS[parts[0]]}</button></form>"
    )


@router.post("/links/{token}", include_in_schema=False)
def follow_link(token: str) -> dict[str, str]:
    parts = unsign(get_settings(), token)
    if not parts or parts[0] not in _ACTIONS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    action, user_id = parts[0], uuid.UUID(parts[1])
    with unit_of_work() as uow:
        db = uow.session
        user = db.get(User, user_id)
        if user is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
        if action == "unsubscribe":
            user.alerts_opt_out = True
            return {"result": "unsubscribed from cramp-risk emails"}
        session_id = uuid.UUID(parts[2])
        ws = db.get(WorkoutSession, session_id)
        if ws is None or ws.user_id != user_id:
            raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
        if db.get(CrampReport, session_id) is not None:
            return {"result": "already recorded"}
        db.add(CrampReport(session_id=session_id, user_id=user_id, cramped=action == "cramped"))
        return {"result": "recorded, thank you"}
