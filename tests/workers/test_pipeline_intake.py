"""Beyond one FIT file: zip archives, TCX/GPX files and the same activity arriving in another file."""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.db import unit_of_work
from core.models import Upload, UploadStatus, WorkoutSession
from core.settings import get_settings
from fitgen import DEFAULT_START, build_fit, steady_records
from support.uploads import make_upload
from workers import pipeline


def run(minutes: int = 30, *, days: int = 0, serial: int | None = 12345, hr: int = 150) -> bytes:
    return build_fit(
        steady_records(minutes=minutes, hr=hr, speed_ms=3.3, every_s=5),
        sport="running",
        start=DEFAULT_START + timedelta(days=days),
        serial_number=serial,
    )


def tcx(points: int = 40) -> bytes:
    rows = "".join(
        f"<Trackpoint><Time>{DEFAULT_START + timedelta(seconds=5 * i):%Y-%m-%dT%H:%M:%SZ}</Time>"
        f"<DistanceMeters>{16.5 * i}</DistanceMeters>"
        f"<HeartRateBpm><Value>{140 + i % 5}</Value></HeartRateBpm></Trackpoint>"
        for i in range(points)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">'
        f'<Activities><Activity Sport="Running"><Id>{DEFAULT_START:%Y-%m-%dT%H:%M:%SZ}</Id>'
        f"<Lap><Track>{rows}</Track></Lap></Activity></Activities></TrainingCenterDatabase>"
    ).encode()


def process(upload_id: uuid.UUID) -> pipeline.Outcome:
    return pipeline.process_upload(upload_id, settings=get_settings())


def row(upload_id: uuid.UUID) -> Upload:
    with unit_of_work() as uow:
        upload = uow.session.get(Upload, upload_id)
        assert upload is not None
        return upload


def test_a_tcx_file_becomes_a_session(database_url: str) -> None:
    upload_id = make_upload(tcx(), suffix=".tcx")
    assert process(upload_id).status == UploadStatus.DONE
    with unit_of_work() as uow:
        [ws] = uow.session.scalars(select(WorkoutSession).where(WorkoutSession.upload_id == upload_id))
        assert ws.sport == "running"
        assert ws.metrics["heart_rate"]["avg_bpm"] > 130
        assert ws.metrics["decoder"].startswith("tcx")


def test_each_file_of_a_zip_becomes_its_own_upload_with_its_own_outcome(database_url: str) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("Activities/morning.fit", run(days=1))
        zf.writestr("Activities/evening.tcx", tcx())
        zf.writestr("photo.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 500)
        zf.writestr("__MACOSX/._morning.fit", b"junk")
    archive_id = make_upload(buf.getvalue(), suffix=".zip")

    outcome = process(archive_id)
    assert outcome.status == UploadStatus.DONE
    assert len(outcome.enqueue) == 2
    for child in outcome.enqueue:
        assert process(child).status == UploadStatus.DONE
    with unit_of_work() as uow:
        children = {
            u.original_name: u
            for u in uow.session.scalars(select(Upload).where(Upload.archive_id == archive_id))
        }
    assert set(children) == {"morning.fit", "evening.tcx", "photo.jpg"}
    assert children["morning.fit"].status == children["evening.tcx"].status == "done"
    assert children["photo.jpg"].status == "failed" and "not a workout file" in (
        children["photo.jpg"].error or ""
    )

    again = process(archive_id)  # a redelivered message creates nothing twice
    assert again.status == "skipped"


def test_the_same_recording_in_another_file_is_flagged_as_a_duplicate_and_not_analysed(
    database_url: str,
) -> None:
    first = make_upload(run(minutes=40))
    process(first)
    with unit_of_work() as uow:
        [original] = uow.session.scalars(select(WorkoutSession.id).where(WorkoutSession.upload_id == first))
    user_id = row(first).user_id
    # Same device serial and start, other bytes (e.g. exported again with another heart-rate stream).
    second = make_upload(run(minutes=40, hr=151), user_id=user_id)
    assert process(second).status == UploadStatus.DUPLICATE
    assert row(second).duplicate_of == original
    assert "already in your sessions" in (row(second).error or "")
    with unit_of_work() as uow:
        assert (
            uow.session.scalars(select(WorkoutSession).where(WorkoutSession.upload_id == second)).all() == []
        )


def test_a_duplicate_fit_file_is_settled_from_its_header_messages_before_any_full_decode(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = make_upload(run(minutes=40))
    process(first)
    second = make_upload(run(minutes=40, hr=153), user_id=row(first).user_id)

    def full_decode(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a duplicate was decoded in full")

    monkeypatch.setattr(pipeline, "load_and_parse", full_decode)
    assert process(second).status == UploadStatus.DUPLICATE
    assert row(second).duplicate_of is not None


def test_a_forced_upload_of_the_same_activity_is_analysed_anyway(database_url: str) -> None:
    first = make_upload(run(minutes=40))
    process(first)
    forced = make_upload(run(minutes=40, hr=152), user_id=row(first).user_id, force=True)
    assert process(forced).status == UploadStatus.DONE


def test_another_workout_of_the_same_athlete_a_day_later_is_not_a_duplicate(database_url: str) -> None:
    first = make_upload(run(minutes=40))
    process(first)
    later = make_upload(run(minutes=40, days=1), user_id=row(first).user_id)
    assert process(later).status == UploadStatus.DONE


def test_weigh_ins_calibrate_the_athletes_later_sessions_and_say_so(database_url: str) -> None:
    from core.models import WeighIn

    first = make_upload(run(minutes=60))
    process(first)
    user_id = row(first).user_id
    with unit_of_work() as uow:
        [ws] = uow.session.scalars(select(WorkoutSession).where(WorkoutSession.upload_id == first))
        model_l = ws.metrics["fluid"]["model_sweat_l"]
        # The scale says twice what the model said: 70 kg athlete, nothing drunk.
        uow.session.add(WeighIn(session_id=ws.id, user_id=user_id, pre_kg=70.0, post_kg=70.0 - 2 * model_l))
        first_session = ws.id
    assert pipeline.recompute_session(first_session, settings=get_settings()) == "done"

    later = make_upload(run(minutes=60, days=3), user_id=user_id)
    process(later)
    with unit_of_work() as uow:
        [ws] = uow.session.scalars(select(WorkoutSession).where(WorkoutSession.upload_id == later))
        fluid = ws.metrics["fluid"]
    assert 1.0 < fluid["calibration_factor"] < 2.0  # shrunk toward 1 with a single weigh-in
    assert fluid["sweat_l"] > fluid["model_sweat_l"]
    assert any("personal calibration" in a["message"] for a in ws.metrics["assumptions"])
