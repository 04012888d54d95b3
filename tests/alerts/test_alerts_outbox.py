"""The transactional outbox insert, on SQLite and PostgreSQL: one row per dedup key, flush only."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from alerts.assess import AlertPolicy, assess
from alerts.dedup import CRAMP_RISK, cramp_risk_key
from alerts.outbox import enqueue_alert, enqueue_cramp_alert
from alerts.risk import RiskContext
from core.db import unit_of_work
from core.models import AlertOutbox, OutboxStatus, User

pytestmark = pytest.mark.integration

Seed = Callable[..., tuple[uuid.UUID, uuid.UUID]]
PAYLOAD = {"subject": "s", "text": "t", "html": "<p>h</p>", "headers": {}}
LINKS = {"unsubscribe": "https://sweatsync.example.org/u/one-click?t=abc"}


def enqueue(engine: Engine, user_id: uuid.UUID, session_id: uuid.UUID, payload: dict[str, Any]) -> bool:
    with unit_of_work(engine) as uow:
        return enqueue_alert(
            uow.session,
            user_id=user_id,
            session_id=session_id,
            kind=CRAMP_RISK,
            dedup_key=cramp_risk_key(session_id),
            recipient="ana@example.org",
            payload=payload,
        )


def rows(engine: Engine) -> list[AlertOutbox]:
    with Session(engine) as s:
        return list(s.scalars(select(AlertOutbox)))


def test_it_inserts_one_pending_row_and_reports_it(db_engine: Engine, seed_session: Seed) -> None:
    user_id, session_id = seed_session()
    assert enqueue(db_engine, user_id, session_id, PAYLOAD) is True
    [row] = rows(db_engine)
    assert (row.status, row.attempts, row.kind) == (OutboxStatus.PENDING, 0, "cramp_risk")
    assert row.dedup_key == f"cramp_risk:{session_id}"
    assert row.payload == PAYLOAD
    assert row.next_attempt_at.tzinfo is not None


def test_recomputing_a_session_never_enqueues_a_second_alert(db_engine: Engine, seed_session: Seed) -> None:
    user_id, session_id = seed_session()
    assert enqueue(db_engine, user_id, session_id, PAYLOAD) is True
    # Reprocessing after an algorithm_version bump renders a different email: still no second row.
    assert enqueue(db_engine, user_id, session_id, {**PAYLOAD, "subject": "v2"}) is False
    [row] = rows(db_engine)
    assert row.payload["subject"] == "s"


def test_it_only_flushes_so_a_rolled_back_transaction_leaves_no_alert(
    db_engine: Engine, seed_session: Seed
) -> None:
    user_id, session_id = seed_session()
    with Session(db_engine) as s:
        assert enqueue_alert(
            s,
            user_id=user_id,
            session_id=session_id,
            kind=CRAMP_RISK,
            dedup_key=cramp_risk_key(session_id),
            recipient="ana@example.org",
            payload=PAYLOAD,
        )
        s.rollback()
    assert rows(db_engine) == []


def test_concurrent_enqueues_of_the_same_session_leave_exactly_one_row(
    db_engine: Engine, seed_session: Seed
) -> None:
    user_id, session_id = seed_session()
    results: list[bool] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def worker() -> None:
        try:
            start.wait()
            results.append(enqueue(db_engine, user_id, session_id, PAYLOAD))
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == [False] * 5 + [True]
    with Session(db_engine) as s:
        assert s.scalar(select(func.count()).select_from(AlertOutbox)) == 1


# ---------------------------------------------------------------- the worker's hand-over


@pytest.mark.parametrize(
    ("history", "min_tier", "opted_out", "expected"),
    [
        ("recent", "high", False, True),  # 3 + 4 = 7: high
        ("recent", "high", True, False),  # opted out
        ("none", "high", False, False),  # 4: moderate, below the user's minimum
        ("none", "moderate", False, True),
    ],
)
def test_it_enqueues_a_rendered_cramp_alert_only_when_the_user_wants_that_tier(
    db_engine: Engine,
    seed_session: Seed,
    make_session: Callable[..., dict[str, Any]],
    history: str,
    min_tier: str,
    opted_out: bool,
    expected: bool,
) -> None:
    user_id, session_id = seed_session(alert_min_tier=min_tier, alerts_opt_out=opted_out)
    # 2 h 30 min at 0.86: duration +1, intensity +2, sodium 3,128 mg +1, fluid 1.5% +0 = 4 before history.
    session_json = make_session(duration_s=9000.0, moving_time_s=9000.0, fluid={"body_mass_pct": 1.5})
    session_json.update(assess(session_json, RiskContext(cramp_history=history), AlertPolicy()).as_json())
    with unit_of_work(db_engine) as uow:
        user = uow.session.get(User, user_id)
        assert user is not None
        inserted = enqueue_cramp_alert(
            uow.session, user=user, session_id=session_id, session_json=session_json, links=LINKS
        )
    assert inserted is expected
    found = rows(db_engine)
    assert len(found) == int(expected)
    if expected:
        assert found[0].recipient == user.email
        assert found[0].payload["headers"]["List-Unsubscribe"] == f"<{LINKS['unsubscribe']}>"
        assert found[0].payload["subject"].lower().startswith(session_json["risk"]["tier"])
