"""One event, one email, through the running service with a real SMTP server (science.md §10.8, §10.9)."""

from __future__ import annotations

import time

import pytest

from support.services import SAMPLES
from support.stack import Stack

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/fit-samples is not there"),
]

TRIATHLON = "multi_garmin-fr935_triathlon_9h32.fit"


def test_a_triathlon_file_is_one_event_with_one_email_carrying_the_cramp_advice(stack: Stack) -> None:
    token = stack.new_user(
        "tri@example.com", mass_kg=70, height_m=1.75, sex="m", birth_year=1985, hr_max=185, hr_rest=50,
        cramp_history="recent",
    )  # fmt: skip
    before = len(stack.sink.messages)
    r = stack.upload(token, SAMPLES / TRIATHLON)
    assert r.status_code == 202, r.text
    finished = stack.wait_until_finished(token, r.json()["id"])
    assert finished["status"] == "done", finished
    legs = finished["sessions"]
    assert len(legs) >= 2
    with stack.client(token) as c:
        sessions = [c.get(f"/v1/sessions/{sid}").json() for sid in legs]
    assert all(s["event"]["session_ids"] == legs for s in sessions)
    assert len({s["risk"]["score"] for s in sessions}) == 1  # scored once, as a whole
    assert sessions[0]["risk"]["tier"] == "high"

    [email] = stack.sink.wait_for(before + 1)[before:]
    time.sleep(2)  # give a (wrong) second email, one per leg, every chance to arrive
    mine = [m for m in stack.sink.messages[before:] if "tri@example.com" in str(m["To"])]
    assert len(mine) == 1
    text = " ".join(email.get_body(preferencelist=("plain",)).get_content().split())
    for phrase in (
        "multisport event",
        "multifactorial",
        "gently stretch the cramping muscle",
        "calves, quads and hamstrings before and after exercise",
        "Bananas, spinach and whole grains",
        "at rest or at night",
    ):
        assert phrase in text, phrase
    assert "drink up to" not in text  # nothing was logged about drinking: no volume as if nothing was drunk
