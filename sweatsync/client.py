"""A small client for the sweatsync HTTP API, used by `sweatsync upload` and `sweatsync watch`.

    with ApiClient("http://127.0.0.1:8000", token) as api:
        result = api.upload(Path("ride.fit"))          # one POST /v1/uploads, classified
        result = api.wait(result, timeout_s=120)       # poll GET /v1/uploads/{id} until done or failed

Every call answers an `UploadResult` instead of raising: the outcome says what happened in words a table
can show. Only `UNREACHABLE` is worth retrying later (no answer, or a 5xx/408/429 answer); a 4xx answer is
a refusal with the server's reason.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from workers.formats.table import EXTENSIONS

DEFAULT_SERVER = "http://127.0.0.1:8000"

# What the folder scanners pick up: every format the server accepts, so a new row in the table is sent
# too; the server sniffs the bytes and answers 415 with a reason for anything else.
ACTIVITY_SUFFIXES = EXTENSIONS  # the one table of formats (workers/formats/table.py)

# Outcomes
ACCEPTED = "accepted"  # 202, not waited for
SESSION = "session"  # analysed: one session (or several for a multisport file)
DUPLICATE = "duplicate"  # 200: the server already had these bytes
REFUSED = "refused"  # 4xx with the server's reason
FAILED = "failed"  # accepted, then the analysis ended `failed` with a reason
TIMEOUT = "timeout"  # accepted, still queued/processing when the wait ran out
UNREACHABLE = "unreachable"  # no answer, or a temporary server error: retry later
MISSING = "missing"  # the local file could not be read

NOT_OK = frozenset({REFUSED, FAILED, TIMEOUT, UNREACHABLE, MISSING})
# 4xx answers that are about the moment, not the file.
_RETRYABLE_4XX = frozenset({408, 425, 429})


def default_server() -> str:
    return os.environ.get("SWEATSYNC_SERVER") or DEFAULT_SERVER


def default_token() -> str | None:
    return os.environ.get("SWEATSYNC_TOKEN") or None


def is_activity_file(path: Path) -> bool:
    name = path.name.lower()
    return not name.startswith(".") and name.endswith(ACTIVITY_SUFFIXES)


@dataclass
class UploadResult:
    path: Path
    outcome: str
    status_code: int | None = None
    upload_id: str | None = None
    status: str | None = None  # the upload's status on the server: queued|processing|done|failed
    sessions: list[str] = field(default_factory=list)
    reason: str | None = None  # why it was refused, failed or could not be sent
    warnings: list[str] = field(default_factory=list)
    retry_after_s: float | None = None  # from a Retry-After header on a temporary refusal
    sha256: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome not in NOT_OK

    @property
    def retryable(self) -> bool:
        return self.outcome == UNREACHABLE

    @property
    def finished(self) -> bool:
        """The server is done with it (done, failed, or any later status this client does not know)."""
        return self.status is not None and self.status not in ("queued", "processing")


def _detail(response: httpx.Response) -> str:
    """The server's reason, from FastAPI's {"detail": ...} (a string, or a list of validation errors)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str) and detail:
        return detail
    if isinstance(detail, list) and detail:
        return "; ".join(
            str(item.get("msg", item)) if isinstance(item, dict) else str(item) for item in detail
        )
    text = response.text.strip()
    return f"HTTP {response.status_code}" + (f": {text[:200]}" if text else "")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class ApiClient:
    """Bearer-token client with timeouts; one connection pool for many files."""

    def __init__(
        self,
        server: str,
        token: str | None,
        *,
        connect_timeout_s: float = 10.0,
        timeout_s: float = 120.0,
    ) -> None:
        self.server = server.rstrip("/")
        headers = {"User-Agent": "sweatsync-cli", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.server,
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
            follow_redirects=False,
        )

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- uploading -----------------------------------------------------------------------------------

    def upload(self, path: Path, data: bytes | None = None) -> UploadResult:
        """POST the file (or `data`, the bytes already read from it) as multipart field `file`."""
        path = Path(path)
        try:
            if data is None:
                with open(path, "rb") as fh:
                    response = self._post(path.name, fh)
            else:
                response = self._post(path.name, data)
        except OSError as e:
            return UploadResult(path, MISSING, reason=f"cannot read the file: {e.strerror or e}")
        except httpx.HTTPError as e:
            return UploadResult(path, UNREACHABLE, reason=_transport_reason(self.server, e))
        return self._classify_post(path, response)

    def _post(self, name: str, content: Any) -> httpx.Response:
        return self._http.post("/v1/uploads", files={"file": (name, content, "application/octet-stream")})

    def _classify_post(self, path: Path, response: httpx.Response) -> UploadResult:
        code = response.status_code
        if code in (200, 202):
            try:
                body = response.json()
            except ValueError:
                return UploadResult(path, UNREACHABLE, code, reason="the server's answer is not JSON")
            result = UploadResult(path, DUPLICATE if code == 200 else ACCEPTED, code)
            _apply_body(result, body)
            if code == 200 and result.status == "failed":
                result.reason = _failed_before(result.reason)
            return result
        if code >= 500 or code in _RETRYABLE_4XX:
            return UploadResult(
                path, UNREACHABLE, code, reason=f"the server answered {code}: {_detail(response)}",
                retry_after_s=_retry_after(response),
            )  # fmt: skip
        return UploadResult(path, REFUSED, code, reason=_detail(response))

    # -- waiting for the analysis --------------------------------------------------------------------

    def status(self, upload_id: str) -> dict[str, Any]:
        """GET /v1/uploads/{id}; raises httpx.HTTPError when the server cannot be asked."""
        response = self._http.get(f"/v1/uploads/{upload_id}")
        response.raise_for_status()
        return dict(response.json())

    def refresh(self, result: UploadResult) -> str | None:
        """Ask the server for the upload's current status; None when it answered, else why it could not."""
        if result.upload_id is None:
            return None
        try:
            _apply_body(result, self.status(result.upload_id))
        except httpx.HTTPError as e:  # e.g. the API restarting while we wait: the caller keeps asking
            return _transport_reason(self.server, e)
        return None

    def wait(self, result: UploadResult, *, timeout_s: float = 300.0) -> UploadResult:
        """Poll the upload until it is done or failed, then classify it (see `conclude`)."""
        if result.upload_id is None or result.outcome not in (ACCEPTED, DUPLICATE):
            return result
        deadline = time.monotonic() + timeout_s
        delay = 0.2
        last_error: str | None = None
        while not result.finished and time.monotonic() < deadline:
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 1.5, 2.0)
            last_error = self.refresh(result)
        return conclude(result, timeout_s=timeout_s, last_error=last_error)


def conclude(result: UploadResult, *, timeout_s: float, last_error: str | None = None) -> UploadResult:
    """Turn an accepted upload into session, failed or timeout from its last known status.

    A duplicate stays a duplicate (with the earlier upload's sessions, or the reason it failed)."""
    if result.outcome == DUPLICATE:
        if result.status == "failed":
            result.reason = _failed_before(result.reason)
        return result
    if result.outcome != ACCEPTED:
        return result
    if result.status == "done" and result.sessions:
        result.outcome = SESSION
    elif result.status in ("done", "failed"):
        result.outcome = FAILED
        result.reason = result.reason or "the analysis ended without a session and without a reason"
    elif result.finished:  # a status newer than this client: show it as it is
        result.outcome = DUPLICATE if result.status == "duplicate" else str(result.status)
    else:
        result.outcome = TIMEOUT
        result.reason = f"still {result.status or 'queued'} after waiting {timeout_s:g} s" + (
            f" ({last_error})" if last_error else ""
        )
    return result


def _failed_before(reason: str | None) -> str:
    prefix = "uploaded before, and that upload failed"
    if reason and reason.startswith(prefix):
        return reason
    return f"{prefix}: {reason or 'no reason given'}"


def _apply_body(result: UploadResult, body: dict[str, Any]) -> None:
    result.upload_id = str(body.get("id") or result.upload_id or "") or None
    result.status = body.get("status", result.status)
    result.sessions = [str(s) for s in body.get("sessions") or []]
    result.warnings = [str(w) for w in body.get("warnings") or []]
    result.sha256 = body.get("sha256") or result.sha256
    if body.get("error"):
        result.reason = str(body["error"])


def _transport_reason(server: str, error: httpx.HTTPError) -> str:
    if isinstance(error, httpx.ConnectError):
        return f"cannot connect to {server}"
    if isinstance(error, httpx.TimeoutException):
        return f"{server} did not answer in time"
    if isinstance(error, httpx.HTTPStatusError):
        return f"the server answered {error.response.status_code}: {_detail(error.response)}"
    return f"{server}: {type(error).__name__}: {error}"
