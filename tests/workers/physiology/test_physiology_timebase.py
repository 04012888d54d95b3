"""Time bookkeeping: intervals, pauses, gaps, stops, fills, epochs."""

import numpy as np
import pytest

from workers.physiology import timebase as tb


def test_it_takes_intervals_from_timestamps_and_gives_the_last_record_nothing():
    assert tb.interval_durations(np.array([0.0, 1.0, 3.0, 7.0])).tolist() == [1.0, 2.0, 4.0, 0.0]


def test_it_subtracts_timer_pauses_including_overlapping_ones():
    t = np.array([0.0, 100.0, 400.0, 500.0])
    # pauses 100–250 and 200–300 merge into 100–300: the interval 100→400 keeps 100 s
    dt = tb.interval_durations(t, pauses=[(200.0, 300.0), (100.0, 250.0)], gap_s=1e9)
    assert dt.tolist() == [100.0, 100.0, 100.0, 0.0]
    assert tb.paused_time_before(np.array([50.0, 150.0, 350.0]), [(100.0, 300.0)]).tolist() == [0, 50, 200]


def test_it_treats_long_unrecorded_intervals_as_auto_pause_gaps():
    dt = tb.interval_durations(np.array([0.0, 1.0, 40.0, 41.0]))
    assert dt.tolist() == [1.0, 0.0, 1.0, 0.0]


def test_it_keeps_every_interval_of_a_sparse_recording_such_as_an_open_water_swim():
    # found in the sample sweep: an FR935 open-water swim records every 45–60 s; with a fixed 30-s gap rule
    # 61 minutes became 8 recorded seconds (and 1 kcal)
    t = np.cumsum(np.r_[0.0, np.tile([45.0, 50.0, 60.0], 20)])
    assert tb.gap_threshold(t) == 150.0
    assert tb.interval_durations(t).sum() == t[-1]
    one_hz = np.r_[np.arange(100.0), 200.0 + np.arange(100.0)]  # 1-s records: a 100-s hole is still a gap
    assert tb.gap_threshold(one_hz) == tb.GAP_S and tb.interval_durations(one_hz).sum() == 198.0


def test_it_marks_stops_only_when_slow_for_at_least_5_s():
    t = np.arange(20.0)
    speed = np.full(20, 3.0)
    speed[2:5] = 0.1  # 3 s: not a stop
    speed[10:17] = 0.0  # 7 s: a stop
    stopped = tb.stopped_mask(t, tb.interval_durations(t), speed)
    assert not stopped[2:5].any() and stopped[10:17].all() and stopped.sum() == 7
    assert not tb.stopped_mask(t, tb.interval_durations(t), None).any()


def test_it_holds_values_over_short_dropouts_only():
    t = np.arange(10.0)
    x = np.array([1.0, np.nan, np.nan, 4.0, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan])
    out = tb.ffill_limited(x, t, 2.0)
    assert out[:6].tolist() == [1.0, 1.0, 1.0, 4.0, 4.0, 4.0] and np.isnan(out[6:]).all()


def test_it_builds_minute_epochs_with_a_short_last_epoch():
    ep = tb.Epochs(np.arange(0.0, 150.5, 1.0))
    assert ep.n == 3 and ep.lengths_s.tolist() == [60.0, 60.0, 30.0]
    mean, secs = ep.mean(np.arange(151.0), tb.interval_durations(np.arange(151.0)))
    assert mean[0] == pytest.approx(29.5) and secs.tolist() == [60.0, 60.0, 30.0]


def test_it_weights_means_by_time():
    assert tb.time_weighted_mean(np.array([100.0, 200.0, np.nan]), np.array([3.0, 1.0, 5.0])) == 125.0
    assert tb.time_weighted_mean(np.array([np.nan]), np.array([1.0])) is None
