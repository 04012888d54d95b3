"""The session chart: a 600×300 RGB PNG, deterministic, drawn from whatever the series holds.

The golden PNGs are compared by their decoded pixels (not their bytes, which depend on the zlib build).
After an intended change to the drawing, regenerate and LOOK at them:
    UPDATE_GOLDEN=1 /work/venv/bin/pytest tests/alerts/test_alerts_chart.py
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from alerts.chart import (
    BAND_ALPHA,
    COLOURS,
    HEIGHT,
    LEFT,
    MAX_POINTS,
    RIGHT,
    WIDTH,
    chart_series,
    session_chart_png,
)

GOLDEN = Path(__file__).parent / "golden"
MakeSeries = Callable[..., dict[str, Any]]
Decode = Callable[[bytes], tuple[int, int, bytes]]

# Two panels: plot areas are rows 20..127 (heart rate or power) and 154..261 (fluid), columns 40..585.
TOP_PLOT = slice(20, 128)
FLUID_PLOT = slice(154, 262)
PLOT_W = WIDTH - LEFT - RIGHT


def pixels(data: bytes | None, decode: Decode) -> np.ndarray:
    assert data is not None
    width, height, rgb = decode(data)
    return np.frombuffer(rgb, dtype=np.uint8).reshape(height, width, 3)


def near(img: np.ndarray, colour: tuple[int, int, int], tolerance: int = 24) -> np.ndarray:
    return np.abs(img.astype(int) - np.asarray(colour)).max(axis=-1) <= tolerance


def x_of(minute: float, t_end: float) -> int:
    return LEFT + int(minute / t_end * PLOT_W)


def check_golden_png(name: str, data: bytes, decode: Decode) -> None:
    path = GOLDEN / f"{name}.png"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_bytes(data)
    assert path.exists(), f"missing golden file {path}; run with UPDATE_GOLDEN=1"
    assert decode(data) == decode(path.read_bytes()), f"{path.name} differs; UPDATE_GOLDEN=1, then look at it"


# ---------------------------------------------------------------- format and determinism


def test_it_draws_a_600_by_300_rgb_png(make_series: MakeSeries, png: Decode) -> None:
    data = session_chart_png(make_series())
    assert data is not None and data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height, rgb = png(data)
    assert (width, height, len(rgb)) == (WIDTH, HEIGHT, WIDTH * HEIGHT * 3) == (600, 300, 540_000)
    assert len(data) < 40_000  # small enough to inline in every alert


def test_the_same_series_gives_the_same_bytes(make_series: MakeSeries) -> None:
    series = make_series()
    assert session_chart_png(series) == session_chart_png(json.loads(json.dumps(series)))
    assert session_chart_png(series, units="imperial") == session_chart_png(series, units="imperial")


def test_the_heart_rate_chart_matches_the_golden_pixels(make_series: MakeSeries, png: Decode) -> None:
    check_golden_png("session_chart_heart_rate_metric", session_chart_png(make_series()), png)


def test_the_power_chart_in_imperial_units_matches_the_golden_pixels(
    make_series: MakeSeries, png: Decode
) -> None:
    series = make_series(minutes=95, sweat_l=1.3, low_l=0.9, high_l=1.7, heart_rate=False)
    check_golden_png("session_chart_power_imperial", session_chart_png(series, units="imperial"), png)


def test_the_stored_series_draws_the_same_chart_as_the_session_series(make_series: MakeSeries) -> None:
    series = make_series()
    stored = chart_series(series)
    assert stored is not None
    assert session_chart_png(json.loads(json.dumps(stored))) == session_chart_png(series)
    assert chart_series(stored) == stored


# ---------------------------------------------------------------- what is drawn


def test_it_draws_heart_rate_on_top_and_fluid_loss_with_its_band_below(
    make_series: MakeSeries, png: Decode
) -> None:
    img = pixels(session_chart_png(make_series()), png)
    assert near(img[TOP_PLOT], COLOURS["heart_rate"]).sum() > 500
    assert near(img[FLUID_PLOT], COLOURS["heart_rate"]).sum() == 0
    assert near(img[FLUID_PLOT], COLOURS["fluid_l"]).sum() > 500
    band = tuple(round(255 - BAND_ALPHA * (255 - c)) for c in COLOURS["fluid_l"])
    # late in the session the band is ~1.6 L wide: well clear of the line at row ~190
    assert near(img[178:184, 570:580], band, tolerance=2).all()
    assert (img[0:3, :] == 255).all() and (img[:, -3:] == 255).all()  # white margins


def test_it_draws_power_when_there_is_no_heart_rate(make_series: MakeSeries, png: Decode) -> None:
    img = pixels(session_chart_png(make_series(heart_rate=False)), png)
    assert near(img[TOP_PLOT], COLOURS["power"]).sum() > 500
    assert near(img, COLOURS["heart_rate"]).sum() == 0


def test_heart_rate_wins_over_power_when_both_are_there(make_series: MakeSeries, png: Decode) -> None:
    stored = chart_series(make_series())
    assert stored is not None and "heart_rate" in stored and "power" not in stored
    img = pixels(session_chart_png(make_series()), png)
    assert near(img, COLOURS["power"]).sum() == 0


def test_missing_points_leave_a_gap_in_the_line(make_series: MakeSeries, png: Decode) -> None:
    series = make_series()
    series["heart_rate"][99:119] = [None] * 20  # minutes 100..119
    img = pixels(session_chart_png(series), png)

    def reddish(block: np.ndarray) -> int:  # any trace of the red line, even faint anti-aliasing
        return int((block[..., 0].astype(int) - block[..., 1] > 40).sum())

    assert reddish(img[TOP_PLOT, x_of(101, 252) : x_of(118, 252)]) == 0
    assert reddish(img[TOP_PLOT, x_of(80, 252) : x_of(97, 252)]) > 20


def test_it_draws_one_full_height_panel_when_only_fluid_is_known(
    make_series: MakeSeries, png: Decode
) -> None:
    img = pixels(session_chart_png(make_series(heart_rate=False, power=False)), png)
    assert near(img[TOP_PLOT], COLOURS["fluid_l"]).sum() > 100  # the fluid panel now starts at the top
    assert near(img, COLOURS["heart_rate"]).sum() == near(img, COLOURS["power"]).sum() == 0


def test_it_draws_the_signal_alone_when_there_is_no_fluid_estimate(
    make_series: MakeSeries, png: Decode
) -> None:
    series = make_series()
    for key in ("fluid_l", "fluid_l_low", "fluid_l_high"):
        series[key] = None
    img = pixels(session_chart_png(series), png)
    assert near(img[FLUID_PLOT], COLOURS["heart_rate"]).sum() > 100
    assert near(img, COLOURS["fluid_l"]).sum() == 0


def test_imperial_units_change_the_fluid_axis_not_the_heart_rate_panel(
    make_series: MakeSeries, png: Decode
) -> None:
    metric = pixels(session_chart_png(make_series()), png)
    imperial = pixels(session_chart_png(make_series(), units="imperial"), png)
    assert (metric[:135] == imperial[:135]).all()
    assert (metric[135:] != imperial[135:]).any()
    with pytest.raises(ValueError, match="units"):
        session_chart_png(make_series(), units="furlongs")


# ---------------------------------------------------------------- nothing, or odd data


@pytest.mark.parametrize(
    "series",
    [
        None,
        {},
        "t_min",
        {"t_min": []},
        {"t_min": [1.0], "heart_rate": [140], "fluid_l": [0.1]},
        {"t_min": [1.0, 2.0, 3.0]},
        {"t_min": [1.0, 2.0, 3.0], "heart_rate": [None, None, None], "fluid_l": None},
        {"t_min": [1.0, 2.0, 3.0], "heart_rate": [150, None, None], "power": [None, 200, None]},
        {"t_min": [None, None], "heart_rate": [150, 151]},
        {"t_min": "1,2,3", "heart_rate": [150, 151, 152]},
        {"t_min": [0.0, 0.0], "heart_rate": [150, 151]},
        {"t_min": [1.0, 2.0], "heart_rate": [0, -5]},
    ],
)
def test_there_is_no_chart_without_a_usable_series(series: Any) -> None:
    assert chart_series(series) is None
    assert session_chart_png(series) is None


def test_it_survives_nulls_strings_booleans_non_finite_numbers_and_ragged_lists(png: Decode) -> None:
    series = {
        "t_min": [1, 2, "3", None, 5, 6, float("nan"), 8, 9, 10],
        "heart_rate": [140, True, 142, 143, float("inf"), "x", 146, None, 148],  # one short
        "power": {"not": "a list"},
        "fluid_l": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2],  # two long
        "fluid_l_low": [0.05] * 10,
        "fluid_l_high": None,
    }
    stored = chart_series(series)
    assert stored is not None
    assert stored["t_min"] == [1, 2, 5, 6, 8, 9, 10]
    assert stored["heart_rate"] == [140, None, None, None, None, 148, None]
    assert "power" not in stored and "fluid_l_high" not in stored
    width, height, _ = png(session_chart_png(series) or b"")
    assert (width, height) == (600, 300)


def test_rows_are_sorted_by_time(make_series: MakeSeries) -> None:
    series = make_series(minutes=30)
    shuffled = {key: list(reversed(values)) for key, values in series.items()}
    assert chart_series(shuffled) == chart_series(series)
    assert session_chart_png(shuffled) == session_chart_png(series)


def test_a_very_long_session_is_thinned_to_max_points_keeping_both_ends(make_series: MakeSeries) -> None:
    series = make_series(minutes=3 * MAX_POINTS)
    stored = chart_series(series)
    assert stored is not None
    assert len(stored["t_min"]) == MAX_POINTS
    assert stored["t_min"][0] == 1 and stored["t_min"][-1] == 3 * MAX_POINTS
    assert len(json.dumps(stored)) < 60_000
    assert session_chart_png(series) is not None


@pytest.mark.parametrize("minutes", [2, 5, 59, 61, 600])
def test_short_flat_and_long_sessions_all_render(minutes: int, png: Decode) -> None:
    series = {
        "t_min": [float(m) for m in range(1, minutes + 1)],
        "heart_rate": [150] * minutes,  # a flat line
        "fluid_l": [0.0] * minutes,  # nothing lost (yet)
        "fluid_l_low": [0.0] * minutes,
        "fluid_l_high": [round(0.01 * m, 3) for m in range(1, minutes + 1)],
    }
    width, height, _ = png(session_chart_png(series) or b"")
    assert (width, height) == (600, 300)


def test_minutes_may_be_fractional_and_start_at_zero(png: Decode) -> None:
    t = [round(0.5 * i, 2) for i in range(0, 121)]
    series = {
        "t_min": t,
        "power": [round(200 + 50 * math.sin(x)) for x in t],
        "fluid_l": [0.01 * x for x in t],
    }
    assert chart_series(series) is not None
    assert png(session_chart_png(series) or b"")[:2] == (600, 300)
