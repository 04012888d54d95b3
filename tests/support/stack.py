"""A running service stack as the end-to-end tests see it: an HTTP API and the SMTP sink behind it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from support.services import Sink


@dataclass
class Stack:
    api: str
    sink: Sink
    tmp: Path
    worker_log: Path

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.api, headers=headers, timeout=30)

    def new_user(self, email: str, **profile: Any) -> str:
        with self.client() as c:
            r = c.post("/v1/users", json={"email": email})
            assert r.status_code == 201, r.text
            token = r.json()["token"]
        if profile:
            with self.client(token) as c:
                assert c.put("/v1/profile", json=profile).status_code == 200
        return token

    def wait_until_finished(self, token: str, upload_id: str, timeout_s: float = 180) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        with self.client(token) as c:
            while True:
                body = c.get(f"/v1/uploads/{upload_id}").json()
                if body["status"] in ("done", "failed", "duplicate"):
                    return body
                if time.monotonic() > deadline:
                    log = self.worker_log.read_text(errors="replace")[-3000:]
                    raise AssertionError(f"upload {upload_id} still {body['status']}; worker log:\n{log}")
                time.sleep(0.2)

    def upload(self, token: str, path: Path) -> httpx.Response:
        with self.client(token) as c, open(path, "rb") as fh:
            return c.post("/v1/uploads", files={"file": (path.name, fh, "application/octet-stream")})
