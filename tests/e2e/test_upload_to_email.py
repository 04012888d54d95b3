"""The whole path with real parts: HTTP upload, Redis, a Celery worker process, the database, SMTP."""

from __future__ import annotations

import pytest

from support.services import SAMPLES
from support.stack import Stack

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/fit-samples is not there"),
]

HOT_RIDE = "bike_garmin-edge530_power_temp_2h50.fit"


def test_a_high_risk_ride_ends_as_a_session_and_one_email_with_the_same_numbers(stack: Stack) -> None:
    token = stack.new_user(
        "rider@example.com", mass_kg=84, height_m=1.80, sex="m", birth_year=1982,
        hr_max=186, hr_rest=55, lthr=165, ftp_w=230, cramp_history="recent",
    )  # fmt: skip
    before = len(stack.sink.messages)

    r = stack.upload(token, SAMPLES / HOT_RIDE)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status_url"].endswith(f"/v1/uploads/{body['id']}")

    finished = stack.wait_until_finished(token, body["id"])
    assert finished["status"] == "done", finished
    [session_id] = finished["sessions"]
    with stack.client(token) as c:
        session = c.get(f"/v1/sessions/{session_id}").json()
    assert session["risk"]["tier"] == "high", session["risk"]

    [email] = stack.sink.wait_for(before + 1)[before:]
    assert "high" in email["Subject"].lower()
    text = email.get_body(preferencelist=("plain",)).get_content()
    fluid, sodium = session["fluid"], session["sodium"]
    for figure in (f"{fluid['sweat_l']:.1f}", f"{sodium['mg']:,.0f}", str(session["risk"]["score"])):
        assert figure in text, f"{figure!r} from GET /v1/sessions/{session_id} is not in the email:\n{text}"


def test_the_same_bytes_uploaded_again_return_the_existing_upload_and_run_nothing_twice(stack: Stack) -> None:
    token = stack.new_user("twice@example.com", mass_kg=70)
    first = stack.upload(token, SAMPLES / "run_coros_power_49min.fit")
    assert first.status_code == 202
    second = stack.upload(token, SAMPLES / "run_coros_power_49min.fit")
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    done = stack.wait_until_finished(token, first.json()["id"])
    assert done["attempts"] == 1


def test_another_users_upload_and_session_answer_404(stack: Stack) -> None:
    owner = stack.new_user("owner@example.com")
    other = stack.new_user("other@example.com")
    r = stack.upload(owner, SAMPLES / "bike_onelap_indoor_12min.fit")
    done = stack.wait_until_finished(owner, r.json()["id"])
    with stack.client(other) as c:
        assert c.get(f"/v1/uploads/{done['id']}").status_code == 404
        for session_id in done["sessions"]:
            assert c.get(f"/v1/sessions/{session_id}").status_code == 404
        assert c.get("/v1/sessions").json() == []


def test_every_sample_file_ends_as_a_session_or_a_failed_upload_with_a_reason(stack: Stack) -> None:
    token = stack.new_user("everything@example.com", mass_kg=72, height_m=1.76, sex="f")
    ids = {}
    for path in sorted(SAMPLES.glob("*.fit")):
        r = stack.upload(token, path)
        if r.status_code in (415, 422):  # refused at the door (empty, not FIT): said why, nothing queued
            assert r.json()["detail"], path.name
            continue
        assert r.status_code in (200, 202), (path.name, r.text)
        ids[path.name] = r.json()["id"]
    outcomes = {name: stack.wait_until_finished(token, upload_id) for name, upload_id in ids.items()}
    for name, body in outcomes.items():
        if body["status"] == "failed":
            assert body["error"] and len(body["error"]) > 10, (name, body)
        elif body["status"] == "duplicate":  # e.g. the SDK's damaged copies of one recording
            assert body["duplicate_of"] and body["duplicate_url"], (name, body)
        else:
            assert body["sessions"], (name, body)
    assert sum(body["status"] == "done" for body in outcomes.values()) >= 35
