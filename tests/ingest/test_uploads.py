"""POST /v1/uploads against a real database: what is refused, what is stored, and what is queued."""

from __future__ import annotations

import hashlib
import io
import uuid
import zipfile
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from core.db import unit_of_work
from core.models import Upload
from core.settings import get_settings
from fitgen import build_fit, steady_records
from ingest.app import create_app

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


@pytest.fixture
def client(database_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("SWEATSYNC_BROKER_URL", redis_url)
    monkeypatch.setenv("SWEATSYNC_MAX_UPLOAD_BYTES", str(1024 * 1024))
    from core.settings import reset_settings_cache

    reset_settings_cache()
    with TestClient(create_app()) as c:
        token = c.post("/v1/users", json={"email": "a@example.com"}).json()["token"]
        c.headers["Authorization"] = f"Bearer {token}"
        yield c


@pytest.fixture(scope="module")
def ride() -> bytes:
    return build_fit(steady_records(minutes=20, hr=150, power=200, speed_ms=9.0), sport="cycling")


def post(client: TestClient, data: bytes, name: str = "ride.fit"):  # noqa: ANN201
    return client.post("/v1/uploads", files={"file": (name, data, "application/octet-stream")})


def test_it_answers_202_and_keeps_the_exact_bytes_when_the_file_is_a_fit_file(
    client: TestClient, ride: bytes
) -> None:
    r = post(client, ride)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] == "queued"
    assert body["sha256"] == hashlib.sha256(ride).hexdigest()
    with unit_of_work() as uow:
        upload = uow.session.get(Upload, uuid.UUID(body["id"]))
        stored = get_settings().effective_raw_dir / upload.storage_key
    assert stored.read_bytes() == ride


def test_it_returns_the_existing_upload_with_200_when_the_same_bytes_come_again(
    client: TestClient, ride: bytes
) -> None:
    first = post(client, ride)
    second = post(client, ride, name="renamed.fit")
    assert (first.status_code, second.status_code) == (202, 200)
    assert first.json()["id"] == second.json()["id"]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (PNG, "png"),
        (b"hello, this is a text file\n" * 10, "not a workout file"),
        (b"%PDF-1.7\n" + b"\x00" * 100, "pdf"),
    ],
    ids=["png", "text", "pdf"],
)
def test_it_refuses_with_415_and_says_why_when_the_file_is_not_a_workout(
    client: TestClient, data: bytes, words: str
) -> None:
    r = post(client, data, name="sneaky.fit")
    assert r.status_code == 415
    assert words in r.json()["detail"].lower()
    with unit_of_work() as uow:
        assert uow.session.query(Upload).count() == 0


def test_it_refuses_an_empty_file_with_422(client: TestClient) -> None:
    r = post(client, b"")
    assert r.status_code == 422
    assert "empty" in r.json()["detail"]


def test_it_answers_413_when_the_file_is_over_the_cap_and_leaves_no_temporary_file(
    client: TestClient,
) -> None:
    big = b"\x0e\x10" + b"\x00" * (2 * 1024 * 1024)
    r = post(client, big)
    assert r.status_code == 413
    assert "upload limit" in r.json()["detail"]
    incoming = get_settings().effective_raw_dir / ".incoming"
    assert not list(incoming.glob("*")) if incoming.exists() else True


def test_it_answers_413_for_a_chunked_body_without_content_length(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"\x00" * 64 * 1024

    r = client.post(
        "/v1/uploads?filename=big.fit", content=chunks(), headers={"Content-Type": "application/octet-stream"}
    )
    assert r.status_code == 413


def test_it_accepts_a_raw_body_and_a_gzipped_fit_file(client: TestClient, ride: bytes) -> None:
    import gzip

    r = client.post(
        "/v1/uploads?filename=ride.fit.gz",
        content=gzip.compress(ride),
        headers={"Content-Type": "application/gzip"},
    )
    assert r.status_code == 202, r.text
    assert r.json()["original_name"] == "ride.fit.gz"


HOSTILE_NAMES = [
    "../../etc/passwd",
    "..\\..\\win.ini",
    "a\x00b.fit",
    "x" * 300 + ".fit",
    "CON",
    "\u202egnp.fit",
]


@pytest.mark.parametrize("index", range(len(HOSTILE_NAMES)))
def test_it_never_uses_the_client_filename_in_the_stored_path(client: TestClient, index: int) -> None:
    data = build_fit(steady_records(minutes=2 + index, hr=120), sport="running")  # distinct bytes per case
    r = post(client, data, name=HOSTILE_NAMES[index])
    assert r.status_code == 202, r.text
    with unit_of_work() as uow:
        upload = uow.session.get(Upload, uuid.UUID(r.json()["id"]))
    root = get_settings().effective_raw_dir
    assert root in (root / upload.storage_key).resolve().parents
    assert upload.storage_key == f"{upload.user_id}/{upload.id}.fit"


def test_it_refuses_a_form_with_too_many_parts(client: TestClient) -> None:
    fields = {f"f{i}": "x" for i in range(50)}
    r = client.post(
        "/v1/uploads", data=fields, files={"file": ("a.fit", b"\x0e", "application/octet-stream")}
    )
    assert r.status_code == 400
    assert "too many parts" in r.json()["detail"]


def test_it_answers_401_without_a_token(client: TestClient, ride: bytes) -> None:
    del client.headers["Authorization"]
    assert post(client, ride).status_code == 401


def test_it_accepts_a_zip_archive_for_the_worker_to_expand(client: TestClient, ride: bytes) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("ride.fit", ride)
    r = post(client, buf.getvalue(), name="export.zip")
    assert r.status_code == 202
    with unit_of_work() as uow:
        upload = uow.session.get(Upload, uuid.UUID(r.json()["id"]))
        assert upload.storage_key.endswith(".zip")
