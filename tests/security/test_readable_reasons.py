"""A failure reason is a sentence for the athlete: never a dump of the file's raw bytes or numbers."""

from __future__ import annotations

import re
import uuid

import pytest

from core.db import unit_of_work
from core.models import Upload, UploadStatus
from core.settings import get_settings
from support.hostile import fit_with_array_file_type
from support.uploads import make_upload
from workers import pipeline
from workers.activity import MAX_REASON_CHARS, FitRejected, readable_reason
from workers.fit import parse_fit

NUMBER_RUN = re.compile(r"(\d+\s*,\s*){3,}")


def test_a_fit_file_type_read_as_an_array_is_refused_without_dumping_it() -> None:
    with pytest.raises(FitRejected) as refused:
        parse_fit(fit_with_array_file_type())
    assert refused.value.reason.startswith("not an activity file")
    assert not NUMBER_RUN.search(refused.value.reason)
    assert len(refused.value.reason) <= MAX_REASON_CHARS


def test_the_failed_upload_shows_a_readable_reason(database_url: str) -> None:
    upload_id = make_upload(fit_with_array_file_type())
    assert pipeline.process_upload(upload_id, settings=get_settings()).status == UploadStatus.FAILED
    with unit_of_work() as uow:
        upload = uow.session.get(Upload, uuid.UUID(str(upload_id)))
        assert upload is not None
        error = upload.error or ""
    assert error.startswith("not an activity file")
    assert not NUMBER_RUN.search(error) and len(error) <= MAX_REASON_CHARS


@pytest.mark.parametrize(
    "raw",
    [
        "bad chunk b'\\x00\\x01\\xff' here",
        'bad chunk b"\\x00\\x01" here',
        "bad value bytearray(b'\\x00\\x01') here",
        "field (4, 0, 22, 59, 4, 0, 22, 59, ...",
        "escaped \\x00\\x01\\x02\\x03 bytes",
        "control\x00\x1b[31m characters\r\nBcc: x",
        "x" * 5000,
    ],
)
def test_raw_data_in_a_reason_becomes_words(raw: str) -> None:
    text = readable_reason(raw)
    assert "\\x" not in text and not NUMBER_RUN.search(text)
    assert text.isprintable() and len(text) <= MAX_REASON_CHARS


def test_ordinary_reasons_are_left_as_they_are() -> None:
    for reason in [
        "the club's ride could not be read",
        "too little data to be an activity (3 track points)",
        "the file is larger than the 25 MB upload limit",
    ]:
        assert readable_reason(reason) == reason
