"""The routes an app or router serves, as (method, path): for tests that hold every route to a rule."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def served_routes(routes: Iterable[Any]) -> set[tuple[str, str]]:
    """(method, path) of every route, included routers walked with their prefixes; mounts (static files),
    HEAD and OPTIONS left out."""
    found: set[tuple[str, str]] = set()
    for route in routes:
        if hasattr(route, "effective_route_contexts"):  # an included router (FastAPI >= 0.16x)
            for ctx in route.effective_route_contexts():
                found.update((m, ctx.path) for m in ctx.methods or ())
        elif getattr(route, "methods", None):  # a route; a Mount has no methods
            found.update((m, route.path) for m in route.methods)
    return {(m, p) for m, p in found if m not in ("HEAD", "OPTIONS")}
