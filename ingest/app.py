"""The FastAPI app factory."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError

from ingest.routes import router

log = logging.getLogger(__name__)


def create_app() -> FastAPI:
    app = FastAPI(
        title="sweatsync",
        version="0.1.0",
        description="Upload workout FIT files; get exertion, fluid and sodium loss, and cramp-risk alerts.",
    )
    app.include_router(router)

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
        return {"status": "ok"}

    return app


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
