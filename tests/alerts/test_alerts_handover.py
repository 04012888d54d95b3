"""The hand-over on real databases: one email per event, never a second one, and none for old sessions."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from alerts.handover import assess_and_queue
from core.db import unit_of_work
from core.models import AlertOutbox, Profile, Upload, User, WorkoutSession

pytestmark = pytest.mark.integration

NOW = datetime(2026, 6, 14, 18, 0, tzinfo=UTC)
RACE = NOW - timedelta(hours=10)  # 08:00, the race ended about 4 h 40 min later
MakeSession = Callable[..., dict[str, Any]]


def new_user(engine: Engine, cramp_history: str | None = None, **fields: Any) -> uuid.UUID:
    with unit_of_work(engine) as uow:
        user = User(email=f"a-{uuid.uuid4().hex[:8]}@example.org", token_hash=uuid.uuid4().hex * 2, **fields)
        uow.session.add(user)
        uow.session.flush()
        uow.session.add(Profile(user_id=user.id, cramp_history=cramp_history))
        return user.id


def store(
    engine: Engine, user_id: uuid.UUID, legs: list[tuple[datetime, dict[str, Any]]], *, now: datetime = NOW
) -> list[uuid.UUID]:
    """Store the legs of one upload and hand them over as the pipeline does, in one transaction."""
    with unit_of_work(engine) as uow:
        db = uow.session
        user = db.get(User, user_id)
        assert user is not None
        upload = Upload(user_id=user_id, sha256=uuid.uuid4().hex * 2, size=1, storage_key=f"{user_id}/x.fit")
        db.add(upload)
        db.flush()
        rows = []
        for index, (start, metrics) in enumerate(legs):
            ws = WorkoutSession(
                user_id=user_id, upload_id=upload.id, leg_index=index, start_time=start,
                duration_s=metrics["duration_s"], metrics=metrics, algorithm_version="2",
            )  # fmt: skip
            db.add(ws)
            rows.append(ws)
        db.flush()
        assess_and_queue(db, user=user, profile=db.get(Profile, user_id), sessions=rows, now=now)
        return [ws.id for ws in rows]


def emails(engine: Engine, user_id: uuid.UUID) -> list[AlertOutbox]:
    with unit_of_work(engine) as uow:
        rows = uow.session.scalars(
            select(AlertOutbox).where(AlertOutbox.user_id == user_id, AlertOutbox.kind == "cramp_risk")
        )
        return list(rows)


def metrics_of(engine: Engine, session_id: uuid.UUID) -> dict[str, Any]:
    with unit_of_work(engine) as uow:
        ws = uow.session.get(WorkoutSession, session_id)
        assert ws is not None
        return dict(ws.metrics)


def bike_and_run(make_session: MakeSession) -> list[tuple[datetime, dict[str, Any]]]:
    # Each leg alone: duration +1, intensity +1 or +2 — moderate; the race as a whole: high.
    bike = make_session(
        start_time=RACE.isoformat(), duration_s=3 * 3600.0, moving_time_s=3 * 3600.0, power={"if": 0.78},
        sodium={"mg": 1800.0}, fluid={"intake_l": 1.0}, series=None,
    )  # fmt: skip
    run_start = RACE + timedelta(hours=3, minutes=5)
    run = make_session(
        sport="running", start_time=run_start.isoformat(), duration_s=1.5 * 3600, moving_time_s=1.5 * 3600,
        power=None, load={"hr_intensity": 0.86}, sodium={"mg": 1400.0}, fluid={"intake_l": 0.5}, series=None,
    )  # fmt: skip
    return [(RACE, bike), (run_start, run)]


def test_the_legs_of_one_multisport_file_are_scored_as_one_event_and_emailed_once(
    db_engine: Engine, make_session: MakeSession
) -> None:
    user_id = new_user(db_engine, cramp_history=None)
    bike_id, run_id = store(db_engine, user_id, bike_and_run(make_session))
    [email] = emails(db_engine, user_id)
    assert email.dedup_key == f"cramp_risk:{bike_id}"
    bike, run = metrics_of(db_engine, bike_id), metrics_of(db_engine, run_id)
    assert bike["risk"] == run["risk"] and bike["risk"]["tier"] == "high"
    assert bike["risk"]["factors"]["duration"] == 2  # 4 h 30 min moving in all
    assert bike["event"]["session_ids"] == [str(bike_id), str(run_id)]
    assert bike["event"]["sodium_mg"] == 3200.0
    assert run["alert"]["status"] == "queued"


def test_a_leg_uploaded_later_joins_the_event_and_never_sends_a_second_email(
    db_engine: Engine, make_session: MakeSession
) -> None:
    user_id = new_user(db_engine, cramp_history=None, alert_min_tier="moderate")
    (bike_start, bike), (run_start, run) = bike_and_run(make_session)
    [bike_id] = store(
        db_engine, user_id, [(bike_start, bike)], now=bike_start + timedelta(hours=3, minutes=10)
    )
    assert len(emails(db_engine, user_id)) == 1  # the bike alone was moderate, and this athlete wants those
    [run_id] = store(db_engine, user_id, [(run_start, run)])
    assert len(emails(db_engine, user_id)) == 1
    run_metrics = metrics_of(db_engine, run_id)
    assert run_metrics["alert"]["status"] == "already_alerted"
    assert run_metrics["event"]["session_ids"] == [str(bike_id), str(run_id)]


def test_recomputing_an_event_never_sends_a_second_email(
    db_engine: Engine, make_session: MakeSession
) -> None:
    user_id = new_user(db_engine, cramp_history=None)
    ids = store(db_engine, user_id, bike_and_run(make_session))
    for _ in range(2):
        with unit_of_work(db_engine) as uow:
            user = uow.session.get(User, user_id)
            rows = [uow.session.get(WorkoutSession, i) for i in ids]
            assert user is not None and all(rows)
            profile = uow.session.get(Profile, user_id)
            assess_and_queue(uow.session, user=user, profile=profile, workout_session=rows[1], now=NOW)
    assert len(emails(db_engine, user_id)) == 1


def test_an_old_high_risk_session_is_analysed_and_listed_but_never_emailed(
    db_engine: Engine, make_session: MakeSession
) -> None:
    user_id = new_user(db_engine, cramp_history="recent")
    start = datetime(2019, 5, 1, 7, 0, tzinfo=UTC)
    session = make_session(start_time=start.isoformat(), series=None)
    [session_id] = store(db_engine, user_id, [(start, session)])
    assert emails(db_engine, user_id) == []
    stored = metrics_of(db_engine, session_id)
    assert stored["risk"]["tier"] == "high"
    assert stored["alert"]["status"] == "not_due"
    assert "listed here and not emailed" in stored["alert"]["reason"]
    with unit_of_work(db_engine) as uow:
        assert uow.session.scalar(select(func.count()).select_from(WorkoutSession)) >= 1


def test_two_legs_of_one_event_handed_over_at_the_same_moment_send_one_email(
    db_engine: Engine, make_session: MakeSession
) -> None:
    # Each leg alone is worth an email to this athlete (moderate tier); arriving together, they are one event.
    user_id = new_user(db_engine, alert_min_tier="moderate")
    legs = bike_and_run(make_session)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def hand_over(leg: tuple[datetime, dict[str, Any]]) -> None:
        barrier.wait()
        try:
            store(db_engine, user_id, [leg])
        except BaseException as exc:  # collected, not swallowed: the test fails below
            errors.append(exc)

    threads = [threading.Thread(target=hand_over, args=(leg,)) for leg in legs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(emails(db_engine, user_id)) == 1
