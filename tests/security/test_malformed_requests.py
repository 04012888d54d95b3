"""Malformed requests against the real server (uvicorn on a loopback port): a 4xx with a sentence, never a
500 or a connection reset."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from support.services import ApiServer

pytestmark = pytest.mark.integration

FIT_HEAD = b"\x0e\x10\x00\x00" + b"\x00" * 4 + b".FIT" + b"\x00" * 200


@pytest.fixture
def api(
    database_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ApiServer, str]]:
    monkeypatch.setenv("SWEATSYNC_BROKER_URL", redis_url)
    from core.settings import reset_settings_cache

    reset_settings_cache()
    with ApiServer() as server:
        r = httpx.post(f"{server.url}/v1/users", json={"email": "a@example.com"})
        yield server, r.json()["token"]


def exchange(port: int, request: bytes, *, piece: int | None = None) -> tuple[int, dict[str, str]]:
    """Send raw bytes (in pieces, as a slow client would, when `piece` is set); the status and JSON."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        step = piece or len(request)
        for i in range(0, len(request), step):
            sock.sendall(request[i : i + step])
            if piece:
                time.sleep(0.0005)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 "), data[:200]
    return int(head.split()[1]), json.loads(body)


def multipart(token: str, body: bytes, boundary: bytes = b"BOUNDARY") -> bytes:
    return (
        b"POST /v1/uploads HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer " + token.encode()
        + b"\r\nContent-Type: multipart/form-data; boundary=" + boundary
        + b"\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body
    )  # fmt: skip


def part(headers: bytes, data: bytes = FIT_HEAD, boundary: bytes = b"BOUNDARY") -> bytes:
    return b"--" + boundary + b"\r\n" + headers + b"\r\n\r\n" + data + b"\r\n--" + boundary + b"--\r\n"


DISPOSITION = b'Content-Disposition: form-data; name="file"; filename="ride.fit"'
MALFORMED = {
    "a boundary other than the declared one": part(DISPOSITION, boundary=b"OTHER"),
    "a 20 KB part header": part(DISPOSITION + b"\r\nX-Padding: " + b"a" * 20_000),
    "a 10,000-character file name": part(
        b'Content-Disposition: form-data; name="file"; filename="' + b"n" * 10_000 + b'.fit"'
    ),
    "5,000 part headers": part(DISPOSITION + b"".join(b"\r\nX-H%d: v" % i for i in range(5_000))),
    "a header line without a colon": part(DISPOSITION + b"\r\nnot a header line"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_multipart_body_gets_400_with_a_sentence(api: tuple[ApiServer, str], case: str) -> None:
    server, token = api
    status, body = exchange(server.port, multipart(token, MALFORMED[case]))
    assert status == 400, body
    assert body["detail"][0].islower() and " " in body["detail"]


def test_a_10000_character_filename_query_gets_400_even_from_a_slow_client(
    api: tuple[ApiServer, str],
) -> None:
    server, token = api
    name = b"%F0%9F%98%80" * 10_000  # 10,000 characters, 120,000 bytes of request line
    request = (
        b"POST /v1/uploads?filename=" + name + b" HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer "
        + token.encode() + b"\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n"
        b"Connection: close\r\n\r\n" % len(FIT_HEAD) + FIT_HEAD
    )  # fmt: skip
    status, body = exchange(server.port, request, piece=1000)
    assert status == 400
    assert "10,000 characters" in body["detail"]


def test_a_nul_in_a_display_name_gets_422_not_500(api: tuple[ApiServer, str]) -> None:
    server, _ = api
    r = httpx.post(f"{server.url}/v1/users", json={"email": "nul@example.com", "display_name": "Ana\x00"})
    assert r.status_code == 422, r.text
    assert isinstance(r.json()["detail"], str | list)


def test_a_boundary_over_256_characters_gets_400(api: tuple[ApiServer, str]) -> None:
    server, token = api
    boundary = b"b" * 300  # found by the malformed-upload corpus (python-multipart refuses it early)
    status, body = exchange(server.port, multipart(token, part(DISPOSITION, boundary=boundary), boundary))
    assert status == 400 and "boundary" in body["detail"]


UNENCODABLE_JSON = {
    "NaN": b'{"mass_kg": NaN}',
    "Infinity": b'{"mass_kg": Infinity}',
    "overflowing number": b'{"mass_kg": 1e999}',
    "lone surrogate value": b'{"sex": "\\ud800"}',
    "lone surrogate key": b'{"\\udfff": 1}',
}


@pytest.mark.parametrize("case", list(UNENCODABLE_JSON))
@pytest.mark.parametrize(("method", "path"), [(b"PUT", b"/v1/profile"), (b"POST", b"/v1/plan")])
def test_json_the_answer_could_not_echo_back_gets_422_with_the_field_named(
    api: tuple[ApiServer, str], case: str, method: bytes, path: bytes
) -> None:
    # Python's JSON parser accepts NaN, Infinity and lone surrogates; FastAPI's own 422 echoed them and
    # could not encode its answer (a 500)
    server, token = api
    body = UNENCODABLE_JSON[case]
    request = (
        method + b" " + path + b" HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer " + token.encode()
        + b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
        + body
    )  # fmt: skip
    status, answer = exchange(server.port, request)
    assert status == 422, answer
    assert all(e["msg"] and e["loc"] for e in answer["detail"])
