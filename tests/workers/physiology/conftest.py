"""Builders for normalized Activities made directly with numpy (no FIT files, no I/O)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from workers.activity import Activity


def build_activity(
    seconds: float = 3600,
    *,
    step: float = 1.0,
    sport: str | None = "running",
    sub_sport: str | None = None,
    indoor: bool | None = False,
    device: dict[str, Any] | None = None,
    summary: dict[str, Any] | None = None,
    hints: dict[str, Any] | None = None,
    weather: dict[str, Any] | None = None,
    pauses: list[tuple[float, float]] | None = None,
    **channels: Any,
) -> Activity:
    """An activity sampled every `step` s for `seconds`; channel values are scalars (constant) or arrays."""
    t = np.arange(0.0, seconds + step / 2, step)
    chans: dict[str, np.ndarray | None] = {}
    for name, value in channels.items():
        if value is None:
            chans[name] = None
        elif np.isscalar(value):
            chans[name] = np.full(t.size, float(value))
        else:
            chans[name] = np.asarray(value, dtype=float)
    return Activity(
        t=t,
        start_time=datetime(2026, 7, 1, 8, 0, tzinfo=UTC),
        sport=sport,
        sub_sport=sub_sport,
        indoor=indoor,
        device=device or {},
        channels=chans,
        summary=summary or {},
        athlete_hints=hints or {},
        weather=weather,
        pauses=pauses or [],
    )


@pytest.fixture
def make_activity() -> Callable[..., Activity]:
    return build_activity
