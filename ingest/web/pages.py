"""Pages: the start page, sessions, upload, one session and its forms, email links.

Every query is scoped to the signed-in athlete: another athlete's object is a 404 page.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from starlette.datastructures import UploadFile

from core.db import unit_of_work
from core.models import CrampReport, Upload, UploadStatus, User, WeighIn, WorkoutSession
from core.result import SessionResult, stored_result
from core.settings import get_settings
from core.signing import unsign
from ingest import service
from ingest.receive import HEAD_BYTES, Received
from ingest.schemas import ConditionsIn, WeighInBody
from ingest.web import insight_pages, me_pages
from ingest.web.core import (
    PageError,
    Viewer,
    checked_form,
    form_float,
    form_str,
    redirect,
    render,
    require_user,
    viewer,
)
from ingest.web.session_view import session_view
from sweatsync.demo import DEMO_NAME, demo_gpx
from workers.activity import FileRejected
from workers.formats.detect import sniff_kind

router = APIRouter(include_in_schema=False)
router.include_router(me_pages.router)
router.include_router(insight_pages.router)
MAX_FILES_PER_FORM = 20


@router.get("/")
def home(request: Request) -> Response:
    v = viewer(request)
    if v.user is not None:
        return redirect("/sessions")
    return render(request, v, "landing.html", title="Sweat, sodium and cramp risk from your workouts")


@dataclass
class Row:
    """One line of the session list: an analysed session, or an upload still on its way (or stopped)."""

    upload: Upload
    session: WorkoutSession | None
    result: SessionResult | None = None


def _rows(user: User) -> list[Row]:
    with unit_of_work() as uow:
        db = uow.session
        uploads = list(
            db.scalars(
                select(Upload).where(Upload.user_id == user.id).order_by(Upload.created_at.desc()).limit(200)
            )
        )
        sessions = list(db.scalars(select(WorkoutSession).where(WorkoutSession.user_id == user.id)))
    by_upload: dict[uuid.UUID, list[WorkoutSession]] = {}
    for ws in sessions:
        by_upload.setdefault(ws.upload_id, []).append(ws)
    rows: list[Row] = []
    for up in uploads:
        if up.status == UploadStatus.DONE and up.storage_key.endswith(".zip"):
            continue  # an archive: its files are listed one by one
        legs = sorted(by_upload.get(up.id, []), key=lambda s: s.leg_index)
        rows += [Row(up, ws, stored_result(ws)) for ws in legs] if legs else [Row(up, None)]
    return rows


@router.get("/sessions")
def sessions_page(request: Request) -> Response:
    user, v = require_user(request)
    rows = _rows(user)
    busy = any(r.upload.status in (UploadStatus.QUEUED, UploadStatus.PROCESSING) for r in rows)
    return render(request, v, "sessions.html", rows=rows, busy=busy, title="Your sessions")


@router.get("/upload")
def upload_page(request: Request) -> Response:
    _, v = require_user(request)
    return render(
        request, v, "upload.html", title="Upload workouts", max_mb=get_settings().max_upload_bytes >> 20
    )


async def _store_one(user: User, part: UploadFile) -> dict[str, Any]:
    """Keep one uploaded file through the same service as POST /v1/uploads."""
    settings = get_settings()
    name = Path(part.filename or "upload").name[:200]
    incoming = settings.effective_raw_dir / ".incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    tmp = incoming / f"{uuid.uuid4().hex}.part"
    digest, size, head = hashlib.sha256(), 0, b""
    try:
        with tmp.open("wb") as out:
            while chunk := await part.read(1 << 20):
                size += len(chunk)
                if size > settings.max_upload_bytes:
                    return {
                        "name": name,
                        "error": f"larger than the {settings.max_upload_bytes >> 20} MB limit",
                    }
                if len(head) < HEAD_BYTES:
                    head += chunk[: HEAD_BYTES - len(head)]
                digest.update(chunk)
                out.write(chunk)
        return await _keep(user, Received(tmp, size, digest.hexdigest(), name, head))
    finally:
        tmp.unlink(missing_ok=True)


async def _keep(user: User, received: Received) -> dict[str, Any]:
    name = received.filename or "upload"
    if received.size == 0:
        return {"name": name, "error": "the file is empty"}
    try:
        kind = sniff_kind(received.head, name)
    except FileRejected as e:
        return {"name": name, "error": e.reason}
    stored = await run_in_threadpool(
        service.store_upload, settings=get_settings(), user_id=user.id, received=received, kind=kind
    )
    return {"name": name, "upload_id": str(stored.upload.id), "again": not stored.created}


@router.post("/upload/demo")
async def upload_demo(request: Request) -> Response:
    """The sample ride the package synthesizes, uploaded for the signed-in athlete."""
    user, _ = require_user(request)
    await checked_form(request)
    data = demo_gpx()
    incoming = get_settings().effective_raw_dir / ".incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    tmp = incoming / f"{uuid.uuid4().hex}.part"
    tmp.write_bytes(data)
    try:
        sha = hashlib.sha256(data).hexdigest()
        await _keep(user, Received(tmp, len(data), sha, DEMO_NAME, data[:HEAD_BYTES]))
    finally:
        tmp.unlink(missing_ok=True)
    return redirect("/sessions?uploaded=1")


@router.post("/upload")
async def upload(request: Request) -> Response:
    user, v = require_user(request)
    form = await checked_form(request)
    files = [f for f in form.getlist("file") if isinstance(f, UploadFile) and f.filename]
    wants_json = "application/json" in request.headers.get("accept", "")
    if not files:
        if wants_json:
            return JSONResponse({"error": "choose at least one file"}, 422)
        return render(
            request, v, "upload.html", 422, error="Choose at least one file.", title="Upload workouts"
        )
    if len(files) > MAX_FILES_PER_FORM:
        raise PageError(413, f"At most {MAX_FILES_PER_FORM} files at once; zip larger batches.")
    results = [await _store_one(user, f) for f in files]
    if wants_json:  # the page's script uploads one file per request to show its progress
        return JSONResponse(results[0], 200 if "error" not in results[0] else 422)
    errors = [r for r in results if "error" in r]
    if errors:
        return render(
            request,
            v,
            "upload.html",
            422,
            title="Upload workouts",
            results=results,
            error="Some files were not accepted; the others are being analysed.",
        )
    return redirect(f"/sessions?uploaded={len(results)}")


def own_session(user: User, session_id: uuid.UUID) -> WorkoutSession:
    with unit_of_work() as uow:
        ws = uow.session.scalar(
            select(WorkoutSession).where(WorkoutSession.id == session_id, WorkoutSession.user_id == user.id)
        )
    if ws is None:
        raise HTTPException(404)
    return ws


@router.get("/sessions/{session_id}")
def session_page(request: Request, session_id: uuid.UUID) -> Response:
    user, v = require_user(request)
    ws = own_session(user, session_id)
    with unit_of_work() as uow:
        weigh_in = uow.session.get(WeighIn, ws.id)
        report = uow.session.get(CrampReport, ws.id)
        upload = uow.session.get(Upload, ws.upload_id)
    return _render_session(request, v, ws, weigh_in, report, upload)


def _render_session(
    request: Request,
    v: Viewer,
    ws: WorkoutSession,
    weigh_in: WeighIn | None,
    report: CrampReport | None,
    upload: Upload | None,
    status: int = 200,
    error: str | None = None,
) -> Response:
    updated = request.query_params.get("updated")
    return render(
        request,
        v,
        "session.html",
        status,
        s=session_view(ws),
        ws=ws,
        weigh_in=weigh_in,
        report=report,
        upload=upload,
        error=error,
        updated=updated,
        overrides=ws.overrides or {},
        title=f"{(ws.sport or 'Session').capitalize()} on {ws.start_time:%d %b %Y}"
        if ws.start_time
        else "Session",
    )


@router.post("/sessions/{session_id}/weigh-in")
async def weigh_in(request: Request, session_id: uuid.UUID) -> Response:
    user, _ = require_user(request)
    form = await checked_form(request)
    pre, post = form_float(form, "pre_kg"), form_float(form, "post_kg")
    if pre is None or post is None:
        raise PageError(422, "Enter both weights, before and after, in kg.")
    try:
        body = WeighInBody(
            pre_kg=pre,
            post_kg=post,
            fluid_l=form_float(form, "fluid_l") or 0.0,
            urine_l=form_float(form, "urine_l") or 0.0,
        )
    except ValidationError as e:
        raise PageError(422, _sentence(e)) from None
    from ingest.routes import post_weigh_in

    post_weigh_in(session_id, body, user)
    return redirect(f"/sessions/{session_id}?updated=weigh-in#figures")


@router.post("/sessions/{session_id}/conditions")
async def conditions(request: Request, session_id: uuid.UUID) -> Response:
    user, _ = require_user(request)
    form = await checked_form(request)
    place = form_str(form, "indoor")
    try:
        body = ConditionsIn(
            temp_c=form_float(form, "temp_c"),
            humidity_pct=form_float(form, "humidity_pct"),
            indoor=True if place == "indoor" else False if place == "outdoor" else None,
            fluid_intake_l=form_float(form, "fluid_intake_l"),
        )
    except ValidationError as e:
        raise PageError(422, _sentence(e)) from None
    from ingest.routes import put_conditions

    put_conditions(session_id, body, user)
    return redirect(f"/sessions/{session_id}?updated=conditions#figures")


@router.post("/sessions/{session_id}/cramp")
async def cramp(request: Request, session_id: uuid.UUID) -> Response:
    user, _ = require_user(request)
    form = await checked_form(request)
    ws = own_session(user, session_id)
    cramped = form_str(form, "cramped") == "yes"
    with unit_of_work() as uow:
        row = uow.session.get(CrampReport, ws.id)
        if row is None:
            uow.session.add(CrampReport(session_id=ws.id, user_id=user.id, cramped=cramped))
        else:
            row.cramped = cramped  # the athlete corrects an earlier answer
    return redirect(f"/sessions/{session_id}?updated=cramp#cramp")


def _sentence(e: ValidationError) -> str:
    first = e.errors()[0]
    field = ".".join(str(x) for x in first.get("loc", ())) or "a value"
    return f"Check {field.replace('_', ' ')}: {first.get('msg', 'it is not valid')}."


# --- one-click links from emails (signed; the link itself is the permission) -------------------------

_ACTIONS = {
    "unsubscribe": ("Stop cramp-risk emails?", "Stop the emails"),
    "cramped": ("Did you cramp in this session?", "Yes, I cramped"),
    "no_cramp": ("Did you get through this session without cramps?", "No cramps for me"),
}


def _link(token: str) -> list[str]:
    parts = unsign(get_settings(), token)
    if not parts or parts[0] not in _ACTIONS or len(parts) < 2:
        raise HTTPException(404)
    return parts


@router.get("/links/{token}")
def link_page(request: Request, token: str) -> Response:
    parts = _link(token)
    question, button = _ACTIONS[parts[0]]
    return render(request, viewer(request), "link.html", question=question, button=button, title=question)


@router.post("/links/{token}")
def link_action(request: Request, token: str) -> Response:
    """No CSRF form token here: the signed link is the permission, and RFC 8058 one-click posts carry none."""
    parts = _link(token)
    action, user_id = parts[0], uuid.UUID(parts[1])
    with unit_of_work() as uow:
        db = uow.session
        if db.get(User, user_id) is None:
            raise HTTPException(404)
        if action == "unsubscribe":
            db.get_one(User, user_id).alerts_opt_out = True
            message, session_id = (
                "Done: no more cramp-risk emails. You can turn them back on in your profile.",
                None,
            )
        else:
            session_id = uuid.UUID(parts[2])
            ws = db.get(WorkoutSession, session_id)
            if ws is None or ws.user_id != user_id:
                raise HTTPException(404)
            if db.get(CrampReport, session_id) is None:
                db.add(CrampReport(session_id=session_id, user_id=user_id, cramped=action == "cramped"))
            message = "Thank you: your answer is recorded and will inform your future cramp-risk scores."
    return render(
        request, viewer(request), "link.html", done=message, session_id=session_id, title="Thank you"
    )
