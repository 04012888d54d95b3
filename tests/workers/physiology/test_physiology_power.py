"""Power metrics: NP, IF, TSS, work (science.md §2.5)."""

import numpy as np
import pytest

from workers.physiology import energy as en
from workers.physiology import power as pw
from workers.physiology.timebase import interval_durations, resample_1hz


def test_it_gives_np_equal_to_power_for_a_steady_ride():
    # 1 h at 200 W, FTP 250: NP 200, IF 0.8, TSS = 1 h · 0.8² · 100 = 64 [Allen & Coggan]
    p = np.full(3600, 200.0)
    np_w = pw.normalized_power(p)
    assert np_w == pytest.approx(200.0)
    assert pw.intensity_factor(np_w, 250.0) == pytest.approx(0.8)
    assert pw.training_stress_score(3600, np_w, 250.0) == pytest.approx(64.0)


def test_it_raises_np_above_average_for_surges():
    # 30 s at 400 W / 30 s at 0 W: the trailing 30-s mean is a triangle wave 0..400,
    # mean(x⁴) of a triangle = A⁴/5 → NP = 400/5^¼ = 267.5 W (average power 200 W)
    p = np.tile(np.r_[np.full(30, 400.0), np.zeros(30)], 60)
    assert pw.normalized_power(p) == pytest.approx(267.5, rel=0.005)


def test_it_drops_the_first_29_samples():
    assert pw.normalized_power(np.full(29, 100.0)) is None
    assert pw.normalized_power(np.full(30, 100.0)) == pytest.approx(100.0)
    # one spike in the first second still counts in the first full window only
    p = np.r_[300.0, np.full(29, 0.0)]
    assert pw.normalized_power(p) == pytest.approx(10.0)


def test_it_keeps_zeros_while_moving():
    p = np.r_[np.full(1800, 200.0), np.zeros(600), np.full(1800, 200.0)]
    assert pw.normalized_power(p) < 195.0


def test_it_excludes_auto_pause_gaps_from_np_and_duration():
    # 10 min at 200 W, a 5-min gap with no records (auto-pause), 10 min at 200 W
    t = np.r_[np.arange(600.0), 900.0 + np.arange(600.0)]
    p = np.full(t.size, 200.0)
    dt = interval_durations(t)
    p1 = resample_1hz(p, dt)
    assert p1.size == 1198  # 2 × 599 s: the record before the gap and the last record cover nothing
    assert pw.normalized_power(p1) == pytest.approx(200.0)


def test_it_excludes_timer_pauses_from_np():
    t = np.arange(1500.0)
    p = np.r_[np.full(600, 200.0), np.zeros(300), np.full(600, 200.0)]
    dt = interval_durations(t, pauses=[(600.0, 900.0)])
    assert dt.sum() == pytest.approx(1199.0)
    assert pw.normalized_power(resample_1hz(p, dt)) == pytest.approx(200.0)


def test_it_resamples_smart_recording_to_1hz():
    t = np.arange(0.0, 3600.0, 5.0)
    p = np.full(t.size, 250.0)
    p1 = resample_1hz(p, interval_durations(t))
    assert p1.size == 3595
    assert pw.normalized_power(p1) == pytest.approx(250.0)


def test_it_computes_work_and_energy_with_gross_efficiency_020():
    # 200 W for 1 h = 720 kJ; EE = 720/(4.184·0.20) = 860.4 kcal [Moseley & Jeukendrup 2001]
    work = pw.work_kj(np.full(3601, 200.0), interval_durations(np.arange(3601.0)))
    assert work == pytest.approx(720.0)
    assert en.cycling_kcal(work) == pytest.approx(860.42, abs=0.01)


def test_it_needs_ftp_for_if_and_tss():
    assert pw.intensity_factor(200.0, None) is None
    assert pw.training_stress_score(3600, 200.0, None) is None
