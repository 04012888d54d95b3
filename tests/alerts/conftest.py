"""Fixtures for the alerts tests: session JSON builder, databases (SQLite file and PostgreSQL), SMTP sink.

DB setup lives in ONE fixture, `db_engine`, so it can later be swapped for the project's Alembic-migrated
SQLite/PostgreSQL fixtures in tests/conftest.py.
"""

from __future__ import annotations

import copy
import math
import os
import socket
import struct
import uuid
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from core.db import make_engine, unit_of_work
from core.models import Base, Upload, User, WorkoutSession

PG_ADMIN_URL = os.environ.get("SWEATSYNC_ALERTS_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Unique per test run: several worktrees run these tests against the same server at once.
PG_DB_NAME = f"sweatsync_alerts_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
MAIL_FROM = "sweatsync <alerts@sweatsync.test>"
T0 = datetime(2025, 6, 14, 12, 0, tzinfo=UTC)


# Sections the result contract always has: `power=None` means a session JSON without that section.
SECTIONS = frozenset(
    {
        "heart_rate",
        "power",
        "load",
        "energy",
        "ambient",
        "fluid",
        "sodium",
        "data_quality",
        "device",
        "inputs",
    }
    | {"series"}
)


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if value is None and key in SECTIONS:
            out.pop(key, None)  # read back through the contract as all unknown
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


BASE_SESSION: dict[str, Any] = {
    "sport": "cycling",
    "sub_sport": "road",
    "indoor": False,
    "start_time": "2025-06-14T07:02:00Z",
    "duration_s": 15120.0,
    "moving_time_s": 14900.0,
    "distance_m": 121400.0,
    "heart_rate": {"avg_bpm": 148, "max_bpm": 176},
    "power": {"avg_w": 205, "np_w": 224, "if": 0.86, "tss": 311, "work_kj": 3100},
    "load": {"trimp_banister": 260, "hrss": 290, "hr_intensity": 0.82},
    "energy": {"kcal": 3700, "source": "power"},
    "ambient": {"temp_c": 31.0, "humidity_pct": 45, "air_speed_ms": 8.1, "source": "weather_message"},
    "fluid": {
        "sweat_l": 3.40,
        "sweat_l_low": 2.60,
        "sweat_l_high": 4.20,
        "rate_l_per_h": 0.81,
        "respiratory_l": 0.30,
        "intake_l": 1.50,
        "deficit_l": 2.20,
        "body_mass_pct": 2.9,
        "uncompensable_heat": False,
        "source": "model",
    },
    "sodium": {
        "mg": 3128.0,
        "mg_low": 1564.0,
        "mg_high": 4692.0,
        "concentration_mmol_l": 40.0,
        "concentration_source": "default",
    },
    "inputs": {
        "mass_kg": {"value": 75.0, "source": "profile"},
        "height_m": {"value": 1.75, "source": "assumed"},
        "sex": {"value": "m", "source": "profile"},
        "ftp_w": {"value": 260, "source": "profile"},
    },
    "assumptions": [
        {
            "field": "height_m",
            "value": 1.75,
            "message": "Height assumed to be 1.75 m: add yours to your profile.",
        },
    ],
    "missing": [],
    "algorithm_version": "1.0.0",
}


@pytest.fixture
def make_session() -> Callable[..., dict[str, Any]]:
    """make_session(fluid={"intake_l": None}, duration_s=3600) -> a session JSON dict (deep-merged)."""

    def build(**overrides: Any) -> dict[str, Any]:
        session = _merge(BASE_SESSION, overrides)
        duration, moving = session.get("duration_s"), session.get("moving_time_s")
        if "moving_time_s" not in overrides and isinstance(duration, float) and isinstance(moving, float):
            session["moving_time_s"] = min(moving, duration)  # a shorter session moved for no longer
        return session

    return build


# ---------------------------------------------------------------- databases


def _pg_admin() -> Engine | None:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 2})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        engine.dispose()
        return None
    return engine


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str | None]:
    """A throwaway database for these tests, or None when PostgreSQL is not reachable."""
    admin = _pg_admin()
    if admin is None:
        yield None
        return
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB_NAME}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{PG_DB_NAME}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=PG_DB_NAME).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB_NAME}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_engine(request: pytest.FixtureRequest, tmp_path: Any, pg_url: str | None) -> Iterator[Engine]:
    """A fresh schema on a temporary SQLite file, and on PostgreSQL when it is reachable."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'alerts.db'}")
    else:
        if pg_url is None:
            pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}")
        engine = make_engine(pg_url)
        Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    try:
        yield engine
    finally:
        if request.param == "postgresql":
            Base.metadata.drop_all(engine)
        engine.dispose()


@pytest.fixture
def seed_session(db_engine: Engine) -> Callable[..., tuple[uuid.UUID, uuid.UUID]]:
    """seed_session(email=..., **user_fields) -> (user_id, session_id), committed."""

    def seed(email: str | None = None, **user_fields: Any) -> tuple[uuid.UUID, uuid.UUID]:
        email = email or f"athlete-{uuid.uuid4().hex[:8]}@example.org"
        with unit_of_work(db_engine) as uow:
            user = User(email=email, token_hash=uuid.uuid4().hex * 2, **user_fields)
            uow.session.add(user)
            uow.session.flush()
            upload = Upload(
                user_id=user.id, sha256=uuid.uuid4().hex * 2, size=1, storage_key=f"{user.id}/x.fit"
            )
            uow.session.add(upload)
            uow.session.flush()
            ws = WorkoutSession(
                user_id=user.id, upload_id=upload.id, metrics={}, algorithm_version="1.0.0", start_time=T0
            )
            uow.session.add(ws)
            uow.session.flush()
            return user.id, ws.id

    return seed


# ---------------------------------------------------------------- SMTP sink


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ScriptedHandler:
    """aiosmtpd handler: replies from a script, records what it accepted.

    - rcpt_reply: if set, every RCPT gets it (e.g. "550 5.1.1 No such user").
    - data_replies: consumed one per DATA; when empty, "250 OK".
    """

    def __init__(self, *, rcpt_reply: str | None = None, data_replies: list[str] | None = None) -> None:
        self.rcpt_reply = rcpt_reply
        self.data_replies = list(data_replies or [])
        self.rcpt_calls = 0
        self.data_calls = 0
        self.accepted: list[tuple[str, list[str], bytes]] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        self.rcpt_calls += 1
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_calls += 1
        reply = self.data_replies.pop(0) if self.data_replies else "250 OK"
        if reply.startswith("250"):
            self.accepted.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        return reply


@pytest.fixture
def smtp_server() -> Iterator[Callable[[ScriptedHandler], int]]:
    """smtp_server(handler) -> port of a real aiosmtpd server on 127.0.0.1, stopped after the test."""
    controllers: list[Controller] = []

    def start(handler: ScriptedHandler) -> int:
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        return port

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def scripted_handler() -> type[ScriptedHandler]:
    return ScriptedHandler


# ---------------------------------------------------------------- per-minute series and PNG decoding


def session_series(
    minutes: int = 252,
    *,
    sweat_l: float = 3.4,
    low_l: float = 2.6,
    high_l: float = 4.2,
    heart_rate: bool = True,
    power: bool = True,
) -> dict[str, Any]:
    """A deterministic `series` block as workers/physiology writes it: one row per minute, rounded."""
    t = [float(m) for m in range(1, minutes + 1)]
    frac = [m / minutes for m in t]
    # sweat rate climbs a little as the athlete warms up: loss ~ frac^1.1, ending exactly at sweat_l
    fluid = [round(sweat_l * f**1.1, 3) for f in frac]
    hr = [round(118 + 30 * (1 - math.exp(-m / 12)) + 6 * math.sin(m / 9)) for m in t]
    watts = [round(205 + 35 * math.sin(m / 11) + 15 * math.sin(m / 3)) for m in t]
    low = [round(max(x - (sweat_l - low_l) * f, 0.0), 3) for x, f in zip(fluid, frac, strict=True)]
    high = [round(x + (high_l - sweat_l) * f, 3) for x, f in zip(fluid, frac, strict=True)]
    return {
        "t_min": t,
        "heart_rate": hr if heart_rate else None,
        "power": watts if power else None,
        "fluid_l": fluid,
        "fluid_l_low": low,
        "fluid_l_high": high,
    }


@pytest.fixture
def make_series() -> Callable[..., dict[str, Any]]:
    """make_series(minutes=252, sweat_l=3.4, low_l=2.6, high_l=4.2, heart_rate=True, power=True)."""
    return session_series


def decode_png(data: bytes) -> tuple[int, int, bytes]:
    """(width, height, RGB bytes) of an 8-bit RGB PNG, checking the signature and every chunk's CRC.

    Handles the row filters None and Up (alerts.chart writes None); anything else fails the test.
    """
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(tag + body), f"bad CRC in {tag!r}"
        if tag == b"IHDR":
            header = body
        elif tag == b"IDAT":
            idat += body
        pos += 12 + length
        if tag == b"IEND":
            break
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, colour, interlace) == (8, 2, 0), "expected 8-bit RGB, not interlaced"
    raw = zlib.decompress(idat)
    stride = width * 3
    assert len(raw) == height * (stride + 1)
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        assert kind in (0, 2), f"row filter {kind} not handled by this decoder"
        if kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        rows.append(line)
        previous = line
    return width, height, b"".join(rows)


@pytest.fixture
def png() -> Callable[[bytes], tuple[int, int, bytes]]:
    """png(data) -> (width, height, RGB bytes): a strict decoder for the charts (see decode_png)."""
    return decode_png
