"""A loopback stand-in for Open-Meteo's historical archive, answering in its documented format.

Format recorded from https://open-meteo.com/en/docs/historical-weather-api ("JSON Return Object" and
"Errors"): a JSON object with latitude, longitude, generationtime_ms, utc_offset_seconds, timezone,
timezone_abbreviation, elevation, `hourly` ({"time": ["2022-07-01T00:00", ...], <variable>: [...]}) and
`hourly_units`; a bad request answers HTTP 400 with {"error": true, "reason": "..."}. With timezone=GMT the
times are UTC; the archive returns null where it has no data yet.

Each request takes the next answer from `script` (then `default`): "ok", "null" (documented shape, null
values), "slow" (holds the answer until the test ends, past any client timeout), or (status, headers, body).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Answer = str | tuple[int, dict[str, str], Any]


class FakeArchive:
    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.script: deque[Answer] = deque()
        self.default: Answer = "ok"
        self.recent_requests: list[dict[str, str]] = []
        self.recent_default: Answer = "ok"
        self.temp_c = 27.5
        self.humidity_pct = 64.0
        self.wind_ms = 3.2
        self.cloud_cover_pct = 25.0
        self.shortwave_w_m2 = 610.0
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.url = ""
        self.recent_url = ""

    def wait_for_requests(self, count: int, timeout_s: float = 60) -> None:
        """Wait on state, not time: the server may see a request after the client gave up on it."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if len(self.requests) >= count:
                return
            time.sleep(0.05)
        raise AssertionError(f"{len(self.requests)} requests seen, {count} expected")

    def next_answer(self, query: dict[str, str], path: str = "/v1/archive") -> Answer:
        with self.lock:
            if path.endswith("/forecast"):
                self.recent_requests.append(query)
                return self.recent_default
            self.requests.append(query)
            return self.script.popleft() if self.script else self.default

    def documented_body(self, query: dict[str, str], *, nulls: bool = False) -> dict[str, Any]:
        start = date.fromisoformat(query["start_date"])
        end = date.fromisoformat(query["end_date"])
        hours = int(((end - start).days + 1) * 24)
        first = datetime(start.year, start.month, start.day)
        times = [(first + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M") for h in range(hours)]
        wanted = query.get("hourly", "").split(",")
        values = {
            "temperature_2m": self.temp_c,
            "relative_humidity_2m": self.humidity_pct,
            "wind_speed_10m": self.wind_ms,
            "cloud_cover": self.cloud_cover_pct,
            "shortwave_radiation": self.shortwave_w_m2,
        }
        units = {
            "temperature_2m": "°C",
            "relative_humidity_2m": "%",
            "wind_speed_10m": "m/s" if query.get("wind_speed_unit") == "ms" else "km/h",
            "cloud_cover": "%",
            "shortwave_radiation": "W/m²",
        }
        hourly: dict[str, Any] = {"time": times}
        for name in wanted:
            if name in values:
                hourly[name] = [None if nulls else values[name]] * hours
        return {
            "latitude": float(query["latitude"]) + 0.02,  # the grid cell's centre, not the point asked
            "longitude": float(query["longitude"]) - 0.01,
            "generationtime_ms": 0.61,
            "utc_offset_seconds": 0,
            "timezone": "GMT",
            "timezone_abbreviation": "GMT",
            "elevation": 38.0,
            "hourly_units": {"time": "iso8601", **{k: units[k] for k in wanted if k in units}},
            "hourly": hourly,
        }


def _handler(archive: FakeArchive) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
            pass

        def _send(self, status: int, headers: dict[str, str], body: Any) -> None:
            data = json.dumps(body).encode() if not isinstance(body, bytes) else body
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            answer = archive.next_answer(query, parts.path)
            try:
                if answer == "drop":
                    self.close_connection = True
                    return
                if answer == "slow":
                    archive.release.wait(30)
                    answer = "ok"
                if answer in ("ok", "null"):
                    if "start_date" not in query or "latitude" not in query:
                        self._send(400, {}, {"error": True, "reason": "Parameter 'start_date' is required"})
                        return
                    self._send(200, {}, archive.documented_body(query, nulls=answer == "null"))
                    return
                assert isinstance(answer, tuple)
                self._send(*answer)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up first (timeouts)

    return Handler


@contextmanager
def fake_open_meteo() -> Iterator[FakeArchive]:
    archive = FakeArchive()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(archive))
    server.daemon_threads = True
    archive.url = f"http://127.0.0.1:{server.server_address[1]}/v1/archive"
    archive.recent_url = f"http://127.0.0.1:{server.server_address[1]}/v1/forecast"
    thread = threading.Thread(target=server.serve_forever, name="fake-open-meteo", daemon=True)
    thread.start()
    try:
        yield archive
    finally:
        archive.release.set()
        server.shutdown()
        server.server_close()
        thread.join(10)
