"""process_upload as a service: claim, parse, analyse, store, hand over to alerts.

Parsing and the models run outside any transaction; the results, the upload's new status and
the alert outbox row are written in one transaction, so an email exists only for a stored
session and a stored session always has its alert decision.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from alerts import handover
from core.db import unit_of_work
from core.models import Profile, Upload, UploadStatus, WorkoutSession
from core.result import SessionResult
from core.settings import Settings
from core.storage import raw_path
from workers import archives
from workers import repository as repo
from workers.activity import Activity, FileRejected, ParseResult, readable_reason
from workers.analysis import athlete_from_profile, conditions_from_overrides
from workers.fit.parse import parse_fit_headers
from workers.formats.detect import parse_any
from workers.formats.fingerprint import activity_fingerprints
from workers.physiology import ALGORITHM_VERSION, analyze, calibration_factor
from workers.physiology.inputs import WeighIn as WeighInInput
from workers.weather import WeatherLookup, annotate, fetch_weather

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    status: str
    alerts_queued: int = 0
    enqueue: list[uuid.UUID] = field(default_factory=list)  # uploads to process next (files of a zip)


def kind_of(storage_key: str) -> str:
    """Raw files are stored as {user}/{upload}.{kind}, kind as given by sniff_kind (fit, tcx.gz, zip...)."""
    return storage_key.rsplit("/", 1)[-1].split(".", 1)[1]


def load_and_parse(settings: Settings, storage_key: str) -> ParseResult:
    data = raw_path(settings, storage_key).read_bytes()
    return parse_any(data, kind_of(storage_key), max_decompressed=settings.max_decompressed_bytes)


def analyze_stored(
    db: Session,
    activity: Activity,
    *,
    profile: Profile | None,
    user_id: uuid.UUID,
    stored: WorkoutSession | None,
    weather: WeatherLookup | None = None,
) -> SessionResult:
    """Analyse with everything the database knows: dated mass, calibration, overrides and the weigh-in, and
    the weather the worker fetched beforehand (overrides still win)."""
    when = activity.start_time
    pairs = repo.calibration_pairs(db, user_id=user_id, before=when)
    athlete = athlete_from_profile(
        profile,
        when=when,
        mass_kg=repo.mass_in_force(db, user_id=user_id, when=when),
        calibration=calibration_factor(pairs) if pairs else None,
    )
    weigh_in = repo.weigh_in_for(db, stored.id) if stored is not None else None
    result = analyze(
        activity,
        athlete,
        conditions_from_overrides((stored.overrides if stored else None) or {}),
        weigh_in=WeighInInput(weigh_in.pre_kg, weigh_in.post_kg, weigh_in.fluid_l, weigh_in.urine_l)
        if weigh_in
        else None,
        weather=weather.observation if weather else None,
    )
    if weather is not None:
        annotate(result, weather)
    return result


INTERNAL_ERROR = (
    "an internal error stopped the analysis of this file; the file is kept and the error was logged for "
    "the operator"
)


def _fail(upload_id: uuid.UUID, reason: str) -> Outcome:
    with unit_of_work() as uow:
        error = readable_reason(reason)  # whatever produced it, a stored reason never dumps raw bytes
        repo.finish_upload(uow.session, upload_id=upload_id, status=UploadStatus.FAILED, error=error)
    return Outcome(UploadStatus.FAILED)


def process_upload(upload_id: uuid.UUID, *, settings: Settings) -> Outcome:
    with repo.working_on(upload_id) as mine:  # lets a retry retake its own stale lease at once
        return _process_claimed(upload_id, settings=settings) if mine else Outcome("skipped")


def _process_claimed(upload_id: uuid.UUID, *, settings: Settings) -> Outcome:
    with unit_of_work() as uow:
        upload = repo.claim_upload(uow.session, upload_id=upload_id, lease_s=settings.task_time_limit_s + 60)
        if upload is None:
            return Outcome("skipped")
        storage_key, force, attempts = upload.storage_key, upload.force, upload.attempts
    if attempts > settings.max_attempts:
        # Poison-pill guard: each attempt that killed its worker was counted at claim time.
        return _fail(
            upload_id,
            f"the analyser stopped while reading this file {settings.max_attempts} times; "
            "the file is kept and can be re-processed once the fault is fixed",
        )
    try:
        if kind_of(storage_key) == "zip":
            return archives.expand_archive(upload_id, settings=settings)
        if not force and kind_of(storage_key) == "fit":
            repeated = _repeat_from_headers(upload_id, settings, storage_key)
            if repeated is not None:
                return repeated
        parsed = load_and_parse(settings, storage_key)
        # Asked here, before the storing transaction opens: a slow provider holds no database lock.
        weather = {a.leg_index: fetch_weather(settings, a) for a in parsed.activities}
        return _store_sessions(upload_id, parsed, force=force, weather=weather)
    except FileRejected as rejected:
        return _fail(upload_id, rejected.reason)
    except FileNotFoundError:
        return _fail(upload_id, "the stored file is missing")
    except OperationalError:
        raise  # the database is unavailable: the task retries with backoff
    except Exception:
        # A bug of ours, not a fact about the file (parser errors are FileRejected): record it and go on.
        log.exception("sweatsync.pipeline.internal_error upload_id=%s", upload_id)
        return _fail(upload_id, INTERNAL_ERROR)


DUPLICATE_REASON = (
    "this activity is already in your sessions (the same recording in another file); "
    "upload it again with force=true to analyse it anyway"
)


def _all_warnings(parsed: ParseResult) -> list[str]:
    return list(dict.fromkeys(parsed.warnings + [w for a in parsed.activities for w in a.warnings]))


def _repeat_from_headers(upload_id: uuid.UUID, settings: Settings, storage_key: str) -> Outcome | None:
    """The duplicate check before the full decode: a FIT upload whose every activity the athlete already has
    is settled from its summary messages and record timestamps (`parse_fit_headers`, which places the
    activities exactly as the full decode does), without decoding any record's values. None: decode it."""
    headers = parse_fit_headers(raw_path(settings, storage_key).read_bytes())
    if headers is None:
        return None
    with unit_of_work() as uow:
        db = uow.session
        upload = db.get(Upload, upload_id)
        assert upload is not None
        repeats = [
            repo.same_activity(db, upload=upload, fingerprint=activity_fingerprints(activity))
            for activity in headers.activities
        ]
        original = repeats[0] if repeats else None
        if original is None or None in repeats:
            return None  # something new in it: the full decode and the per-activity check decide
        repo.finish_upload(
            db,
            upload_id=upload_id,
            status=UploadStatus.DUPLICATE,
            error=DUPLICATE_REASON,
            warnings=_all_warnings(headers),
            duplicate_of=original,
        )
    return Outcome(UploadStatus.DUPLICATE)


def _store_activity(
    db: Session, upload: Upload, profile: Profile | None, activity: Activity, *, fingerprint: dict[str, Any],
    weather: WeatherLookup | None,
) -> WorkoutSession:  # fmt: skip
    """Analyse one activity and store it (a re-run of the same upload updates its leg in place)."""
    existing = db.query(WorkoutSession).filter_by(upload_id=upload.id, leg_index=activity.leg_index).first()
    result = analyze_stored(
        db, activity, profile=profile, user_id=upload.user_id, stored=existing, weather=weather
    )
    return repo.upsert_session(
        db,
        upload=upload,
        leg_index=activity.leg_index,
        sport=activity.sport,
        sub_sport=activity.sub_sport,
        indoor=result.indoor,
        start_time=activity.start_time,
        duration_s=result.duration_s,
        distance_m=result.distance_m,
        device_key=fingerprint["device_key"],
        metrics={**result.to_json(), "fingerprint": fingerprint},
        algorithm_version=result.algorithm_version or ALGORITHM_VERSION,
    )


def _finish_stored(
    db: Session, upload_id: uuid.UUID, parsed: ParseResult, *, repeats: list[uuid.UUID], queued: int
) -> Outcome:
    """Done, or a duplicate when every activity was already there (not analysed nor alerted twice)."""
    warnings = _all_warnings(parsed)
    if repeats and len(repeats) == len(parsed.activities):
        # ?force=true on the upload analyses it anyway.
        repo.finish_upload(
            db,
            upload_id=upload_id,
            status=UploadStatus.DUPLICATE,
            error=DUPLICATE_REASON,
            warnings=warnings,
            duplicate_of=repeats[0],
        )
        return Outcome(UploadStatus.DUPLICATE)
    if repeats:
        warnings.append(
            f"{len(repeats)} activities in this file were already in your sessions and were skipped"
        )
    repo.finish_upload(db, upload_id=upload_id, status=UploadStatus.DONE, warnings=warnings)
    return Outcome(UploadStatus.DONE, alerts_queued=queued)


def _store_sessions(
    upload_id: uuid.UUID, parsed: ParseResult, *, force: bool, weather: dict[int, WeatherLookup] | None = None
) -> Outcome:
    """Analyse each activity and store it with its alert decision, in one transaction."""
    with unit_of_work() as uow:
        db = uow.session
        upload = db.get(Upload, upload_id)
        assert upload is not None
        user, profile = repo.get_user_and_profile(db, upload.user_id)
        repeats: list[uuid.UUID] = []
        stored: list[WorkoutSession] = []
        for activity in parsed.activities:
            fingerprint = activity_fingerprints(activity)
            original = None if force else repo.same_activity(db, upload=upload, fingerprint=fingerprint)
            if original is not None:
                repeats.append(original)
                continue
            lookup = (weather or {}).get(activity.leg_index)
            ws = _store_activity(db, upload, profile, activity, fingerprint=fingerprint, weather=lookup)
            stored.append(ws)
        # After every leg is stored: the legs of one file are one event, scored and alerted once (§10.8).
        queued = handover.assess_and_queue(db, user=user, profile=profile, sessions=stored)
        outcome = _finish_stored(db, upload_id, parsed, repeats=repeats, queued=queued)
    return outcome


def recompute_session(session_id: uuid.UUID, *, settings: Settings) -> str:
    """Re-run the current models on a stored session; the alert dedup key keeps it from re-alerting."""
    with unit_of_work() as uow:
        ws = uow.session.get(WorkoutSession, session_id)
        if ws is None:
            return "missing"
        storage_key = ws.upload.storage_key
        leg_index = ws.leg_index
        indoor_override = (ws.overrides or {}).get("indoor")
    parsed = load_and_parse(settings, storage_key)
    activity = next((a for a in parsed.activities if a.leg_index == leg_index), None)
    if activity is None:
        return "missing"
    # Outside any transaction, like an upload: a recompute picks up weather the archive lacked before.
    weather = fetch_weather(settings, activity, indoor_override=indoor_override)
    with unit_of_work() as uow:
        db = uow.session
        ws = db.get(WorkoutSession, session_id)
        assert ws is not None
        user, profile = repo.get_user_and_profile(db, ws.user_id)
        result = analyze_stored(db, activity, profile=profile, user_id=ws.user_id, stored=ws, weather=weather)
        fingerprint = (ws.metrics or {}).get("fingerprint")  # the duplicate check still needs it
        ws.metrics = {**result.to_json(), **({"fingerprint": fingerprint} if fingerprint else {})}
        ws.algorithm_version = result.algorithm_version or ALGORITHM_VERSION
        ws.indoor = result.indoor
        db.flush()
        handover.assess_and_queue(db, user=user, profile=profile, workout_session=ws)
    return "done"
