"""Time bookkeeping shared by every model: record intervals, pauses, stops, 1 Hz resampling, minute epochs.

Convention: record i "covers" the interval [t_i, t_{i+1}); its duration `dt_i` is the part of that interval
that was recorded (not inside a timer pause, not an auto-pause gap). The last record covers nothing.
All functions are vectorized; none loops over samples.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

GAP_S = 30.0  # an interval longer than this (after removing timer pauses) is an auto-pause/drop-out gap...
GAP_MEDIAN_FACTOR = 3.0  # ...or than 3× the file's median interval, if that is larger (sparse recording)
STOP_SPEED_MS = 0.5  # below this ground speed the athlete is stopped...
STOP_MIN_S = 5.0  # ...when it lasts at least this long
EPOCH_S = 60.0  # heat-balance epoch (science.md §3.3)


def _merge_pauses(pauses: Iterable[tuple[float, float]]) -> np.ndarray:
    """Sorted, non-overlapping pauses as an (k, 2) array; empty or reversed pauses dropped."""
    arr = np.array([(float(a), float(b)) for a, b in pauses if b > a], dtype=float).reshape(-1, 2)
    if arr.shape[0] == 0:
        return arr
    arr = arr[np.argsort(arr[:, 0])]
    # merge overlaps: a pause starts a new group when it begins after every earlier pause has ended
    ends_so_far = np.maximum.accumulate(arr[:, 1])
    new_group = np.r_[True, arr[1:, 0] > ends_so_far[:-1]]
    group = np.cumsum(new_group) - 1
    starts = arr[new_group, 0]
    ends = np.full(starts.size, -np.inf)
    np.maximum.at(ends, group, arr[:, 1])
    return np.column_stack([starts, ends])


def paused_time_before(x: np.ndarray, pauses: Iterable[tuple[float, float]]) -> np.ndarray:
    """Cumulative paused seconds before each time in `x` (piecewise linear in x)."""
    merged = _merge_pauses(pauses)
    if merged.shape[0] == 0:
        return np.zeros_like(x, dtype=float)
    lengths = merged[:, 1] - merged[:, 0]
    xs = merged.reshape(-1)  # s0, e0, s1, e1, ...
    cum_end = np.cumsum(lengths)
    cum_start = cum_end - lengths
    ys = np.column_stack([cum_start, cum_end]).reshape(-1)
    return np.interp(x, xs, ys, left=0.0, right=float(cum_end[-1]))


def gap_threshold(t: np.ndarray) -> float:
    """The auto-pause gap for these timestamps: max(30 s, 3 × the median positive interval).

    Sparse recordings (open-water swims write a record every 45–60 s) would otherwise lose every interval.
    """
    d = np.diff(np.asarray(t, dtype=float))
    d = d[d > 0]
    if d.size == 0:
        return GAP_S
    return max(GAP_S, GAP_MEDIAN_FACTOR * float(np.median(d)))


def interval_durations(
    t: np.ndarray, pauses: Iterable[tuple[float, float]] = (), gap_s: float | None = None
) -> np.ndarray:
    """Recorded seconds covered by each record: Δt to the next record, minus timer pauses, 0 for gaps.

    `gap_s` defaults to `gap_threshold(t)`.
    """
    t = np.asarray(t, dtype=float)
    n = t.size
    dt = np.zeros(n)
    if n < 2:
        return dt
    if gap_s is None:
        gap_s = gap_threshold(t)
    dt[:-1] = np.clip(np.diff(t), 0.0, None)
    pauses = list(pauses)
    if pauses:
        p = paused_time_before(t, pauses)
        dt[:-1] -= np.diff(p)
        dt = np.clip(dt, 0.0, None)
    dt[dt > gap_s] = 0.0
    return dt


def stopped_mask(
    t: np.ndarray,
    dt: np.ndarray,
    speed: np.ndarray | None,
    threshold_ms: float = STOP_SPEED_MS,
    min_s: float = STOP_MIN_S,
) -> np.ndarray:
    """True for records inside a run of speed < threshold lasting at least `min_s` seconds.

    Without a speed channel nothing is "stopped". A NaN speed is not evidence of stopping.
    """
    n = np.asarray(t).size
    if speed is None or n == 0:
        return np.zeros(n, dtype=bool)
    slow = np.asarray(speed, dtype=float) < threshold_ms  # NaN compares False
    edges = np.diff(np.r_[0, slow.astype(np.int8), 0])
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)  # exclusive
    if starts.size == 0:
        return np.zeros(n, dtype=bool)
    cum_dt = np.r_[0.0, np.cumsum(dt)]
    run_s = cum_dt[ends] - cum_dt[starts]
    keep = run_s >= min_s
    marks = np.zeros(n + 1, dtype=np.int64)
    np.add.at(marks, starts[keep], 1)
    np.add.at(marks, ends[keep], -1)
    return np.cumsum(marks[:n]) > 0


def ffill_limited(x: np.ndarray, t: np.ndarray, limit_s: float) -> np.ndarray:
    """Replace NaN by the last valid value if it is at most `limit_s` seconds old; leave other NaN."""
    x = np.asarray(x, dtype=float)
    valid = np.isfinite(x)
    if valid.all() or not valid.any():
        return x.copy()
    idx = np.where(valid, np.arange(x.size), -1)
    idx = np.maximum.accumulate(idx)
    out = x.copy()
    has_prev = idx >= 0
    src = np.where(has_prev, idx, 0)
    fresh = has_prev & ((t - t[src]) <= limit_s)
    fill = ~valid & fresh
    out[fill] = x[src[fill]]
    return out


def interp_nan(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Linear interpolation over NaN samples (edges held at the nearest valid value)."""
    x = np.asarray(x, dtype=float)
    valid = np.isfinite(x)
    if valid.all() or not valid.any():
        return x.copy()
    return np.interp(t, t[valid], x[valid])


def time_weighted_mean(x: np.ndarray, dt: np.ndarray) -> float | None:
    """Mean of x weighted by the recorded seconds of each record, ignoring NaN; None without data."""
    x = np.asarray(x, dtype=float)
    w = np.where(np.isfinite(x), dt, 0.0)
    total = float(w.sum())
    if total <= 0:
        return None
    return float(np.sum(np.where(w > 0, x, 0.0) * w) / total)


def resample_1hz(x: np.ndarray, dt: np.ndarray) -> np.ndarray:
    """Sample-and-hold `x` onto a 1 Hz grid of recorded time only (pauses and gaps are squeezed out)."""
    cum = np.r_[0.0, np.cumsum(dt)]
    total = cum[-1]
    if total < 1:
        return np.zeros(0)
    k = np.arange(int(np.floor(total + 1e-9)), dtype=float)
    idx = np.searchsorted(cum, k, side="right") - 1
    idx = np.clip(idx, 0, np.asarray(x).size - 1)
    return np.asarray(x, dtype=float)[idx]


class Epochs:
    """Fixed 60-s epochs over the elapsed timeline [t_0, t_end]."""

    def __init__(self, t: np.ndarray, epoch_s: float = EPOCH_S) -> None:
        t = np.asarray(t, dtype=float)
        self.epoch_s = epoch_s
        duration = float(t[-1] - t[0]) if t.size > 1 else 0.0
        self.n = int(np.ceil(duration / epoch_s - 1e-9)) if duration > 0 else 0
        self.index = np.clip(
            ((t - (t[0] if t.size else 0.0)) // epoch_s).astype(np.int64), 0, max(self.n - 1, 0)
        )
        lengths = np.full(self.n, epoch_s)
        if self.n:
            lengths[-1] = duration - epoch_s * (self.n - 1)
        self.lengths_s = lengths
        self.end_s = np.cumsum(lengths)

    def sum(self, values: np.ndarray) -> np.ndarray:
        """Per-epoch sum of per-record values (NaN count as 0)."""
        v = np.where(np.isfinite(values), values, 0.0)
        return np.bincount(self.index, weights=v, minlength=self.n)[: self.n]

    def mean(self, x: np.ndarray, dt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-epoch time-weighted mean of x (NaN where no valid data) and the seconds behind it."""
        x = np.asarray(x, dtype=float)
        w = np.where(np.isfinite(x), dt, 0.0)
        secs = self.sum(w)
        tot = self.sum(np.where(w > 0, x, 0.0) * w)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(secs > 0, tot / np.where(secs > 0, secs, 1.0), np.nan)
        return mean, secs
