"""API error bodies that are always valid JSON, whatever the client sent."""

from __future__ import annotations

import math
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


def _safe(value: Any) -> Any:
    """A JSON-encodable copy: a lone surrogate becomes U+FFFD, an infinite or NaN number its name."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, list | tuple):
        return [_safe(v) for v in value]
    return value


def validation_response(exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 shape (`detail`: type, loc, msg per error) without echoing the input back.

    FastAPI's own handler returns each error's `input`: a NaN, an infinity (Python's JSON parser accepts
    both) or a lone surrogate there cannot be encoded, and the answer became a 500.
    """
    detail = [
        {"type": _safe(e.get("type")), "loc": _safe(list(e.get("loc", ()))), "msg": _safe(e.get("msg"))}
        for e in exc.errors()
    ]
    return JSONResponse({"detail": detail}, 422)
