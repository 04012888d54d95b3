"""After a session exists: overrides, weigh-ins and dated weights recompute it, and never re-alert."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fitgen import build_fit, steady_records
from support.stack import Stack

pytestmark = pytest.mark.integration

START = datetime(2026, 7, 14, 8, 0, tzinfo=UTC)


def ride_file(tmp: Path, name: str, *, minutes: int = 150, start: datetime = START) -> Path:
    path = tmp / name
    path.write_bytes(
        build_fit(
            steady_records(minutes=minutes, hr=168, power=240, speed_ms=9.5, every_s=5),
            sport="cycling",
            start=start,
        )
    )
    return path


def analysed(stack: Stack, token: str, path: Path) -> dict[str, Any]:
    r = stack.upload(token, path)
    assert r.status_code == 202, r.text
    done = stack.wait_until_finished(token, r.json()["id"])
    assert done["status"] == "done", done
    with stack.client(token) as c:
        return c.get(f"/v1/sessions/{done['sessions'][0]}").json()


def wait_for_change(
    stack: Stack, token: str, session_id: str, changed: Any, timeout_s: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    with stack.client(token) as c:
        while True:
            body = c.get(f"/v1/sessions/{session_id}").json()
            if changed(body):
                return body
            assert time.monotonic() < deadline, body
            time.sleep(0.3)


def test_a_weigh_in_replaces_the_model_and_both_figures_are_shown(stack: Stack, tmp_path: Path) -> None:
    token = stack.new_user("weighed@example.com", mass_kg=75, height_m=1.8, sex="m", ftp_w=260)
    session = analysed(stack, token, ride_file(tmp_path, "weighed.fit"))
    assert session["fluid"]["source"] == "model"
    with stack.client(token) as c:
        r = c.post(
            f"/v1/sessions/{session['id']}/weigh-in", json={"pre_kg": 75.0, "post_kg": 73.2, "fluid_l": 0.5}
        )
    assert r.status_code == 202
    body = wait_for_change(stack, token, session["id"], lambda b: b["fluid"]["source"] == "measured")
    assert body["fluid"]["measured_sweat_l"] == pytest.approx(2.3, abs=0.05)
    assert body["fluid"]["model_sweat_l"] == pytest.approx(session["fluid"]["model_sweat_l"], rel=0.01)


def test_a_temperature_override_is_used_and_labelled(stack: Stack, tmp_path: Path) -> None:
    token = stack.new_user("hot@example.com", mass_kg=70, height_m=1.75, sex="f")
    session = analysed(stack, token, ride_file(tmp_path, "hot.fit"))
    with stack.client(token) as c:
        r = c.put(f"/v1/sessions/{session['id']}/conditions", json={"temp_c": 33, "humidity_pct": 60})
    assert r.status_code == 202
    body = wait_for_change(stack, token, session["id"], lambda b: b["ambient"]["source"] == "override")
    assert body["ambient"]["temp_c"] == 33
    assert body["fluid"]["sweat_l"] > session["fluid"]["sweat_l"]


def test_the_weight_in_force_on_the_session_date_is_used(stack: Stack, tmp_path: Path) -> None:
    token = stack.new_user("dated@example.com", mass_kg=90, height_m=1.8, sex="m")
    with stack.client(token) as c:
        for when, kg in ((START - timedelta(days=30), 80.0), (START + timedelta(days=30), 70.0)):
            assert (
                c.post(
                    "/v1/profile/weights", json={"measured_at": when.isoformat(), "mass_kg": kg}
                ).status_code
                == 201
            )
    session = analysed(stack, token, ride_file(tmp_path, "dated.fit"))
    assert session["inputs"]["mass_kg"] == {"value": 80.0, "source": "weight_history"}


def test_recomputing_a_high_risk_session_sends_no_second_email(stack: Stack, tmp_path: Path) -> None:
    token = stack.new_user(
        "again@example.com", mass_kg=75, height_m=1.8, sex="m", hr_max=185, hr_rest=50, ftp_w=220,
        cramp_history="recent",
    )  # fmt: skip

    def mine() -> int:
        return sum("again@example.com" in str(m["To"]) for m in stack.sink.messages)

    session = analysed(stack, token, ride_file(tmp_path, "again.fit", start=START + timedelta(days=2)))
    assert session["risk"]["tier"] == "high"
    deadline = time.monotonic() + 30
    while mine() < 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert mine() == 1
    with stack.client(token) as c:
        c.put(f"/v1/sessions/{session['id']}/conditions", json={"temp_c": 31})
    wait_for_change(stack, token, session["id"], lambda b: b["ambient"]["source"] == "override")
    time.sleep(2)  # give a (wrong) second email every chance to arrive
    assert mine() == 1


def test_recompute_brings_sessions_of_an_old_model_version_up_to_date(stack: Stack, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from sqlalchemy import update

    from core.db import unit_of_work
    from core.models import WorkoutSession

    token = stack.new_user("old@example.com", mass_kg=72, height_m=1.78, sex="f")
    session = analysed(stack, token, ride_file(tmp_path, "old.fit", start=START + timedelta(days=5)))
    current = session["algorithm_version"]
    with unit_of_work() as uow:  # as if an earlier release had computed it
        uow.session.execute(
            update(WorkoutSession)
            .where(WorkoutSession.id == uuid.UUID(session["id"]))
            .values(algorithm_version="2000.1.1")
        )
    env = {**os.environ}  # the test's SWEATSYNC_* point at this stack's database and broker
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "sweatsync.cli",
            "recompute",
            "--user",
            "old@example.com",
            "--since",
            "2026-01-01",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert "queued 1 session(s)" in r.stdout
    deadline = time.monotonic() + 60
    while True:
        with unit_of_work() as uow:
            version = uow.session.get(WorkoutSession, uuid.UUID(session["id"])).algorithm_version
        if version == current:
            break
        assert time.monotonic() < deadline, version
        time.sleep(0.3)


def test_reprocess_tries_failed_uploads_again(stack: Stack, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from sqlalchemy import update

    from core.db import unit_of_work
    from core.models import Upload

    token = stack.new_user("retry@example.com", mass_kg=70)
    r = stack.upload(token, ride_file(tmp_path, "retry.fit", start=START + timedelta(days=9)))
    assert stack.wait_until_finished(token, r.json()["id"])["status"] == "done"
    with unit_of_work() as uow:  # as if an internal error had failed it
        uow.session.execute(
            update(Upload).where(Upload.id == uuid.UUID(r.json()["id"])).values(status="failed", error="boom")
        )
    done = subprocess.run(
        [sys.executable, "-m", "sweatsync.cli", "reprocess", "--user", "retry@example.com"],
        env={**os.environ},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "queued 1 failed upload(s)" in done.stdout
    again = stack.wait_until_finished(token, r.json()["id"])
    assert (again["status"], again["error"], again["attempts"]) == ("done", None, 1)
