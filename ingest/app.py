"""The FastAPI app factory."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

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

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
