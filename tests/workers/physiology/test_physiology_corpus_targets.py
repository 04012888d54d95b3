"""science.md §10.5 targets over the real sample corpus (../shared/fit-samples, read in place).

With an empty profile (reference athlete) and no weather: on outdoor rides and runs with ≥ 45 min moving
at 10–25 °C the median sweat rate lies in 0.6–1.5 L/h and none is below 0.2 L/h; cold sessions (< 8 °C)
with ≥ 1 h moving keep ≥ 0.15 L/h; the range contains the device's own estimate (field 178) on most files
that carry one.
`pytest -s` prints the table (file, sport, temperature, moving hours, rate, range, device estimate).
"""

from __future__ import annotations

import functools
import statistics
from pathlib import Path

import pytest

from core.result import SessionResult
from workers.activity import FitRejected
from workers.fit import parse_fit
from workers.physiology import Athlete, analyze

SAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "fit-samples"
FILES = sorted(p.name for p in SAMPLES.glob("*.fit")) if SAMPLES.is_dir() else []
RIDE_RUN = {"cycling", "running"}

pytestmark = pytest.mark.skipif(not FILES, reason="../shared/fit-samples is not there")


@functools.cache
def corpus() -> tuple[tuple[str, int, SessionResult], ...]:
    rows = []
    for name in FILES:
        try:
            parsed = parse_fit((SAMPLES / name).read_bytes())
        except FitRejected:
            continue
        rows += [(name, a.leg_index, analyze(a, Athlete())) for a in parsed.activities]
    return tuple(rows)


def moving_h(r: SessionResult) -> float:
    return (r.moving_time_s or 0.0) / 3600.0


def outdoor_ride_or_run(r: SessionResult) -> bool:
    return r.sport in RIDE_RUN and not r.indoor and r.fluid.rate_l_per_h is not None


def mild(r: SessionResult) -> bool:
    t = r.ambient.temp_c
    return outdoor_ride_or_run(r) and moving_h(r) >= 0.75 and t is not None and 10.0 <= t <= 25.0


def cold(r: SessionResult) -> bool:
    t = r.ambient.temp_c
    return outdoor_ride_or_run(r) and moving_h(r) >= 1.0 and t is not None and t < 8.0


def table() -> str:
    lines = [f"{'file':46} {'leg':>3} {'sport':9} {'°C':>5} {'mov h':>5} {'L/h':>5} {'range L':>13} device L"]
    for name, leg, r in corpus():
        f = r.fluid
        band = f"{f.sweat_l_low}–{f.sweat_l_high}" if f.sweat_l is not None else "-"
        lines.append(
            f"{name[:46]:46} {leg:>3} {(r.sport or '-')[:9]:9} {r.ambient.temp_c!s:>5} {moving_h(r):5.2f} "
            f"{f.rate_l_per_h!s:>5} {band:>13} {f.device_estimate_l!s:>8}"
        )
    return "\n".join(lines)


def test_the_corpus_table_prints_with_dash_s():
    print("\n" + table())
    assert corpus()


def test_the_median_mild_weather_ride_or_run_sweats_0_6_to_1_5_l_per_h_and_none_below_0_2():
    rates = {(n, leg): r.fluid.rate_l_per_h for n, leg, r in corpus() if mild(r)}
    assert len(rates) >= 15, rates
    median = statistics.median(v for v in rates.values() if v is not None)
    print(f"\nmild outdoor rides and runs: n={len(rates)} median={median:.3f} L/h min={min(rates.values())}")
    assert 0.6 <= median <= 1.5, rates
    assert all(v is not None and v >= 0.2 for v in rates.values()), rates


def test_the_range_contains_the_devices_own_sweat_estimate_on_most_files_that_carry_one():
    carried = [(n, leg, r.fluid) for n, leg, r in corpus() if r.fluid.device_estimate_l and r.fluid.sweat_l]
    inside = [
        (n, leg)
        for n, leg, f in carried
        if f.sweat_l_low <= f.device_estimate_l <= f.sweat_l_high  # type: ignore[operator]
    ]
    print(f"\ndevice estimates inside the range: {len(inside)} of {len(carried)}")
    assert carried and len(inside) > len(carried) / 2, carried


def test_a_multisport_files_device_sweat_is_split_into_each_legs_own_figure():
    legs = [r.fluid.device_estimate_l for n, _, r in corpus() if n == "multi_garmin-fr255_summary-first.fit"]
    assert legs == [0.187, 0.38, 0.555]  # running totals 0.187, 0.567, 1.122 L


def test_cold_sessions_of_an_hour_or_more_keep_at_least_0_15_l_per_h():
    rows = {(n, leg): r.fluid.rate_l_per_h for n, leg, r in corpus() if cold(r)}
    print(f"\ncold rides and runs: {rows}")
    assert rows, "no cold session of an hour or more in the corpus"
    assert all(rate is not None and rate >= 0.15 for rate in rows.values()), rows


def test_an_easy_cold_ride_with_long_stops_sweats_little_but_not_near_zero():
    (rate,) = [r.fluid.rate_l_per_h for n, _, r in corpus() if n == "bike_wahoo-elemnt_power_temp_6h33.fit"]
    assert rate is not None and 0.15 <= rate <= 0.4  # 2 °C, ~106 W for 3.6 h moving (0.06 L/h in 2026.12.1)
