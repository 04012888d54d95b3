"""The FastAPI app factory."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError

from ingest import web
from ingest.ratelimit import RateLimitMiddleware
from ingest.routes import router

log = logging.getLogger(__name__)


def create_app() -> FastAPI:
    # docs_url/redoc_url off: ingest.web serves /docs from files in an installed wheel (no CDN).
    app = FastAPI(
        docs_url=None,
        redoc_url=None,
        title="sweatsync",
        version="0.1.0",
        description="Upload workout FIT files; get exertion, fluid and sodium loss, and cramp-risk alerts.",
    )
    app.include_router(router)
    app.add_middleware(RateLimitMiddleware)

    @app.exception_handler(OperationalError)
    async def _database_unavailable(_: Request, exc: OperationalError) -> JSONResponse:
        # A restarting database is a temporary condition: tell clients to retry, never a 500.
        log.warning("sweatsync.api.database_unavailable: %s", exc)
        return JSONResponse(
            {"detail": "the database is unavailable; try again shortly"}, 503, {"Retry-After": "5"}
        )

    @app.exception_handler(DataError)
    async def _unstorable_value(_: Request, exc: DataError) -> JSONResponse:
        # PostgreSQL refuses some values SQLite takes (a NUL character in text, an out-of-range number):
        # that is the client's input, not a server fault.
        log.info("sweatsync.api.unstorable_value: %s", str(exc.orig).splitlines()[0] if exc.orig else exc)
        return JSONResponse(
            {"detail": "the request holds a value that cannot be stored (a NUL character, perhaps)"},
            422,
        )

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        """Liveness: the process answers. Restart it when this fails, not when a dependency is down."""
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        """Readiness: the database and the broker answer; 503 (take it out of rotation) when one does not."""
        checks = {"database": _database_ok(), "broker": _broker_ok()}
        ready = all(checks.values())
        body = {"status": "ready" if ready else "unavailable"} | {
            k: "ok" if v else "down" for k, v in checks.items()
        }
        return JSONResponse(body, 200 if ready else 503, None if ready else {"Retry-After": "5"})

    web.install(app)  # last: its error pages wrap the API's handlers above for non-API paths
    return app


def _database_ok() -> bool:
    from sqlalchemy import text

    from core.db import get_engine

    try:
        with get_engine().connect() as conn:
            conn.execute(text("select 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means not ready
        log.warning("sweatsync.api.readyz database down", exc_info=True)
        return False


def _broker_ok() -> bool:
    import redis

    from core.settings import get_settings

    url = get_settings().broker_url
    if not url:
        return False  # `sweatsync up` sets it before the API starts; no broker means uploads wait
    try:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # noqa: BLE001
        log.warning("sweatsync.api.readyz broker down", exc_info=True)
        return False


def serve(host: str, port: int, *, log_level: str = "info") -> None:
    """Run the API under uvicorn with the request-head limit from the settings."""
    import uvicorn

    from core.settings import get_settings, require_own_secret

    require_own_secret(get_settings(), host)
    # uvicorn's h11 default (16 KiB) closes the connection on a longer request head, and a client still
    # sending reads a reset, not an answer; a larger buffer lets the app refuse a 10,000-character
    # `?filename=` with a sentence.
    head = get_settings().max_request_head_bytes
    uvicorn.run(create_app(), host=host, port=port, log_level=log_level, h11_max_incomplete_event_size=head)
