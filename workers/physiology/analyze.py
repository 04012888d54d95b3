"""Entry point: one normalized Activity (+ athlete, session conditions, weigh-in) → the session JSON.

Produces every key of docs/session-json.md except `risk`, `recommendations`, `id` and `upload_id`. Pure: no
I/O, no clock. See docs/science-implementation.md for the models, choices and deviations.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np

from core.result import MEASURED_TEMP_SOURCES, SessionResult
from workers.activity import Activity
from workers.physiology import ALGORITHM_VERSION, heat
from workers.physiology import energy as en
from workers.physiology import fluid as fl
from workers.physiology import load as ld
from workers.physiology import power as pw
from workers.physiology.ambient import (
    CYCLING_SPORTS,
    INDOOR_AIR_SPEED_MS,
    UNKNOWN_AIR_SPEED_MS,
    is_head_unit,
    resolve_ambient,
    resolve_indoor,
)
from workers.physiology.inputs import Athlete, Conditions, WeighIn
from workers.physiology.profile import resolve_inputs
from workers.physiology.report import assumption, missing, rnd
from workers.physiology.timebase import (
    Epochs,
    ffill_limited,
    interp_nan,
    interval_durations,
    resample_1hz,
    stopped_mask,
    time_weighted_mean,
)

RUNNING_SPORTS = frozenset({"running"})
WALKING_SPORTS = frozenset({"walking", "hiking"})
WATER_SPORTS = frozenset({"swimming"})
POWER_HOLD_S = 5.0  # a power drop-out shorter than this holds the last value; longer ones count as 0 W
MIN_COVERAGE = {"power": 0.8, "speed": 0.8, "heart_rate": 0.5}  # share of recorded time with samples
MIN_PEDALLING_SHARE = 0.05  # power above 0 W in less of its sampled time: a meter sending nothing
SODIUM_RANGE = (5.0, 150.0)


def _channel(activity: Activity, name: str, n: int, warnings: list[str]) -> np.ndarray | None:
    arr = activity.channel(name)
    if arr is None:
        return None
    arr = np.asarray(arr, dtype=float)
    if arr.size != n:
        warnings.append(f"channel {name} has {arr.size} samples for {n} timestamps and was ignored")
        return None
    return arr


def _coverage(x: np.ndarray | None, dt: np.ndarray, recorded_s: float) -> float:
    if x is None or recorded_s <= 0:
        return 0.0
    return float(dt[np.isfinite(x)].sum() / recorded_s)


def _num(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def _iso_utc(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _series(values: np.ndarray | None, digits: int) -> list[float | None] | None:
    if values is None:
        return None
    return [rnd(v, digits) for v in values.tolist()]


def analyze(
    activity: Activity,
    athlete: Athlete,
    conditions: Conditions | None = None,
    weigh_in: WeighIn | None = None,
) -> SessionResult:
    """Compute exertion, energy, ambient, fluid and sodium figures for one activity (session JSON)."""
    conditions = conditions or Conditions()
    warnings: list[str] = list(activity.warnings)
    notes: list[dict[str, Any]] = []
    gaps: list[dict[str, str]] = []
    summary = activity.summary or {}

    t = np.asarray(activity.t, dtype=float)
    n = t.size
    sport = (activity.sport or "").lower() or None
    sub_sport = (activity.sub_sport or "").lower() or None

    # --- channels and time ------------------------------------------------------------------------------
    hr = _channel(activity, "heart_rate", n, warnings)
    if hr is not None:
        hr = ld.clean_hr(hr)
        if not np.isfinite(hr).any():
            hr = None
    power = _channel(activity, "power", n, warnings)
    if power is not None:
        power = np.where(power >= 0, power, np.nan)
    speed = _channel(activity, "speed", n, warnings)
    if speed is not None:
        speed = np.where(speed >= 0, speed, np.nan)
    altitude = _channel(activity, "altitude", n, warnings)
    distance = _channel(activity, "distance", n, warnings)
    grade_ch = _channel(activity, "grade", n, warnings)
    temperature = _channel(activity, "temperature", n, warnings)
    core_temp = _channel(activity, "core_temperature", n, warnings)

    dt = interval_durations(t, activity.pauses)
    recorded_s = float(dt.sum())
    stopped = stopped_mask(t, dt, speed)
    moving = (dt > 0) & ~stopped
    moving_time_s = float(dt[moving].sum())
    duration_s = activity.duration_s
    hours = duration_s / 3600.0

    power_gap = "no power data in this file"
    if power is not None:
        sampled_s = float(dt[np.isfinite(power)].sum())
        pedalling_s = float(dt[np.nan_to_num(power, nan=0.0) > 0].sum())
        if sampled_s > 0 and pedalling_s < MIN_PEDALLING_SHARE * sampled_s:
            # e.g. a head unit writing 0 W all ride long without a paired meter: not a 0-kcal ride
            power = None
            power_gap = "the power channel is (almost) all zeros: no power meter was sending data"
            warnings.append("the power channel was ignored because it is (almost) all zeros")

    distance_m = _num(summary.get("total_distance"))
    if distance_m is None and distance is not None:
        distance_m = float(np.nanmax(distance) - np.nanmin(distance))
    if distance_m is None and speed is not None:
        distance_m = float(np.nansum(speed * dt))

    # --- athlete inputs (§9) ----------------------------------------------------------------------------
    session_hr_max = float(np.nanmax(hr)) if hr is not None else None
    inp = resolve_inputs(athlete, activity.athlete_hints, session_hr_max)
    notes.extend(inp.assumptions)
    mass = float(inp.mass_kg.value)
    height = float(inp.height_m.value)
    sex = inp.sex.value
    hr_rest = float(inp.hr_rest.value)
    hr_max = inp.hr_max.value
    lthr = inp.lthr.value
    ftp = inp.ftp_w.value

    # --- heart rate and load (§2.1–2.4) ----------------------------------------------------------------
    hr_block: dict[str, Any] = {"avg_bpm": None, "max_bpm": None}
    load: dict[str, Any] = {
        "trimp_banister": None,
        "trimp_edwards": None,
        "trimp_lucia": None,
        "hrss": None,
        "hr_intensity": None,
    }
    if hr is None:
        gaps.append(missing("heart_rate", "no heart-rate data in this file"))
        gaps.append(missing("load", "training load needs heart rate"))
    else:
        avg_hr = time_weighted_mean(hr, dt)
        hr_block = {"avg_bpm": rnd(avg_hr, 0), "max_bpm": rnd(session_hr_max, 0)}
        if hr_max is None:
            gaps.append(missing("load", "no usable maximum heart rate"))
        else:
            trimp = ld.banister_trimp(hr, dt, hr_rest, hr_max, sex)
            load["trimp_banister"] = rnd(trimp, 1)
            load["trimp_edwards"] = rnd(ld.edwards_trimp(hr, dt, hr_max), 1)
            load["hrss"] = rnd(ld.hrss(trimp, lthr, hr_rest, hr_max, sex), 1)
            load["hr_intensity"] = rnd(ld.hr_intensity(avg_hr, hr_rest, lthr), 3)
            if inp.lthr_known:
                load["trimp_lucia"] = rnd(ld.lucia_trimp(hr, dt, lthr), 1)
                notes.append(
                    assumption(
                        "load.trimp_lucia",
                        None,
                        "heuristic",
                        "Lucia TRIMP uses heuristic thresholds (VT1 ≈ 90 % of threshold heart rate, VT2 ≈ "
                        "threshold heart rate), not lab-measured ventilatory thresholds.",
                        None,
                        ["load.trimp_lucia"],
                    )
                )
            else:
                gaps.append(
                    missing("load.trimp_lucia", "needs your lactate-threshold heart rate (profile: lthr)")
                )

    # --- power (§2.5) ------------------------------------------------------------------------------------
    power_block: dict[str, Any] = {"avg_w": None, "np_w": None, "if": None, "tss": None, "work_kj": None}
    p_filled = None
    if power is None:
        gaps.append(missing("power", power_gap))
    else:
        p_filled = np.nan_to_num(ffill_limited(power, t, POWER_HOLD_S), nan=0.0)
        p1 = resample_1hz(p_filled, dt)
        np_w = pw.normalized_power(p1)
        work = pw.work_kj(p_filled, dt)
        power_block["avg_w"] = rnd(work * 1000.0 / recorded_s, 0) if recorded_s > 0 else None
        power_block["work_kj"] = rnd(work, 1)
        power_block["np_w"] = rnd(np_w, 0)
        if np_w is None:
            gaps.append(missing("power.np_w", "less than 30 s of power data"))
        elif ftp is None:
            gaps.append(missing("power.if", "needs your FTP (profile: ftp_w)"))
            gaps.append(missing("power.tss", "needs your FTP (profile: ftp_w)"))
        else:
            power_block["if"] = rnd(pw.intensity_factor(np_w, ftp), 3)
            power_block["tss"] = rnd(pw.training_stress_score(float(p1.size), np_w, ftp), 1)

    # --- energy and metabolic power per record (§2.6) ---------------------------------------------------
    is_cycling = sport in CYCLING_SPORTS
    foot = sport in RUNNING_SPORTS or sport in WALKING_SPORTS
    rest_w = en.resting_power_w(mass)
    m_rec: np.ndarray | None = None
    w_rec: np.ndarray | None = None
    kcal: float | None = None
    e_source: str | None = None
    indoor, indoor_src = resolve_indoor(conditions.indoor, activity.indoor, sub_sport)

    if (
        p_filled is not None
        and not foot
        and sport not in WATER_SPORTS
        and _coverage(power, dt, recorded_s) >= MIN_COVERAGE["power"]
    ):
        e_source = "power"
        m_rec = np.maximum(en.cycling_metabolic_power_w(p_filled), rest_w)
        w_rec = p_filled
        kcal = en.cycling_kcal(pw.work_kj(p_filled, dt))
        notes.append(
            assumption(
                "energy.gross_efficiency",
                en.GROSS_EFFICIENCY,
                "assumed",
                "Energy from power assumes a gross efficiency of 20 % (Moseley & Jeukendrup 2001).",
                None,
                ["energy", "fluid"],
            )
        )
    elif foot and speed is not None and _coverage(speed, dt, recorded_s) >= MIN_COVERAGE["speed"]:
        e_source = "speed_grade"
        speed_f = interp_nan(speed, t)
        if altitude is not None:
            dist = distance if distance is not None else np.r_[0.0, np.cumsum(speed_f[:-1] * np.diff(t))]
            grade = en.smoothed_grade(t, altitude, dist)
        elif grade_ch is not None:
            grade = np.clip(interp_nan(grade_ch, t) / 100.0, -en.MINETTI_RANGE, en.MINETTI_RANGE)
        else:
            grade = np.zeros(n)
            notes.append(
                assumption(
                    "energy.grade",
                    0.0,
                    "assumed",
                    "No altitude or grade data: level ground assumed (a treadmill incline is not recorded).",
                    None,
                    ["energy", "fluid"],
                )
            )
        m_rec = en.foot_metabolic_power_w(speed_f, grade, mass, walking_sport=sport in WALKING_SPORTS)
        w_rec = np.zeros(n)
        kcal = en.kcal_from_joules(float(np.sum(m_rec * dt)))
    elif (
        hr is not None and hr_max is not None and _coverage(hr, dt, recorded_s) >= MIN_COVERAGE["heart_rate"]
    ):
        e_source = "heart_rate"
        m_rec = en.keytel_power_w(
            interp_nan(hr, t), mass, float(inp.age.value), sex, hr_max, hr_rest, inp.vo2max.value
        )
        w_rec = en.GROSS_EFFICIENCY * m_rec if is_cycling else np.zeros(n)
        kcal = en.kcal_from_joules(float(np.sum(m_rec * dt)))
    elif _num(summary.get("total_calories")) and recorded_s > 0:
        e_source = "device"
        kcal = float(summary["total_calories"])
        m_rec = np.full(n, max(kcal * en.KJ_PER_KCAL * 1000.0 / recorded_s, rest_w))
        w_rec = en.GROSS_EFFICIENCY * m_rec if is_cycling else np.zeros(n)
        notes.append(
            assumption(
                "energy.kcal",
                round(kcal),
                "device",
                "Energy is the device's own calorie figure, spread evenly over the session.",
                None,
                ["energy", "fluid"],
            )
        )
    else:
        gaps.append(missing("energy", "no power, speed, heart-rate or device calorie data"))

    # --- ambient (§3.4) ------------------------------------------------------------------------------------
    if indoor_src == "assumed":
        notes.append(
            assumption(
                "indoor",
                False,
                "assumed",
                "The file does not say whether this was indoors: outdoor assumed.",
                "conditions.indoor",
                ["fluid"],
            )
        )
    head_unit = is_head_unit(sport, activity.device)
    amb = resolve_ambient(
        override_temp_c=conditions.temp_c,
        override_rh_pct=conditions.humidity_pct,
        weather=activity.weather,
        temperature=temperature,
        moving=moving,
        indoor=indoor,
        head_unit=head_unit,
    )
    notes.extend(amb.notes)
    clo = athlete.clothing_clo if athlete.clothing_clo is not None else heat.DEFAULT_CLO
    if athlete.clothing_clo is None:
        notes.append(
            assumption(
                "clothing_clo",
                heat.DEFAULT_CLO,
                "assumed",
                "Clothing assumed to be shorts and a T-shirt (0.3 clo). Set your usual clothing in the "
                "profile.",
                "clothing_clo",
                ["fluid", "sodium"],
            )
        )

    # --- heat balance per minute (§3.3) -------------------------------------------------------------------
    epochs = Epochs(t) if n > 1 else None
    bsa = heat.dubois_bsa(mass, height)
    sweat_ep_l = None  # per-epoch model sweat (calibrated), L
    model_raw_l = model_l = resp_l = None
    uncompensable = None
    unc_minutes = None
    v_mean = None
    v_src = None
    calibration = None
    model_ok = m_rec is not None and epochs is not None and epochs.n > 0
    if sport in WATER_SPORTS:
        model_ok = False
        gaps.append(
            missing("fluid.model", "the sweat model is a heat balance in air; it does not apply to swimming")
        )
    elif m_rec is None:
        gaps.append(missing("fluid.model", "no energy source for the heat balance"))
    elif not model_ok:
        gaps.append(missing("fluid.model", "the activity is too short"))

    if model_ok:
        assert epochs is not None and m_rec is not None and w_rec is not None
        m_ep, _ = epochs.mean(m_rec, dt)
        m_ep = np.where(np.isfinite(m_ep), m_ep, rest_w)  # paused minutes: standing at rest
        w_ep, _ = epochs.mean(w_rec, dt)
        w_ep = np.where(np.isfinite(w_ep), w_ep, 0.0)
        if conditions.air_speed_ms is not None:
            v_ep = np.full(epochs.n, max(float(conditions.air_speed_ms), heat.MIN_AIR_SPEED_MS))
            v_src = "override"
        elif indoor:
            v_ep = np.full(epochs.n, INDOOR_AIR_SPEED_MS)
            v_src = "default"
            notes.append(
                assumption(
                    "ambient.air_speed_ms",
                    INDOOR_AIR_SPEED_MS,
                    "assumed",
                    "Indoors: air speed of 1.0 m/s from a fan assumed. Enter the air speed for this session "
                    "if you used no fan or a stronger one.",
                    "conditions.air_speed_ms",
                    ["fluid", "sodium"],
                )
            )
        elif speed is not None:
            v_ep, _ = epochs.mean(interp_nan(speed, t), dt)
            v_ep = np.maximum(np.where(np.isfinite(v_ep), v_ep, 0.0), heat.MIN_AIR_SPEED_MS)
            v_src = "ground_speed"
        else:
            v_ep = np.full(epochs.n, UNKNOWN_AIR_SPEED_MS)
            v_src = "default"
            notes.append(
                assumption(
                    "ambient.air_speed_ms",
                    UNKNOWN_AIR_SPEED_MS,
                    "assumed",
                    "No speed data: relative air speed of 1.0 m/s assumed.",
                    "conditions.air_speed_ms",
                    ["fluid", "sodium"],
                )
            )
        v_mean = float(np.sum(v_ep * epochs.lengths_s) / np.sum(epochs.lengths_s))

        hb = heat.required_sweat(m_ep, w_ep, amb.temp_c, amb.humidity_pct, v_ep, bsa, clo=clo)
        swp = heat.onset_lag(hb.swreq)
        raw_ep_l = heat.water_grams(swp, epochs.lengths_s, bsa) / 1000.0
        resp_l = float(np.sum(heat.water_grams(hb.eres, epochs.lengths_s, bsa)) / 1000.0)
        model_raw_l = float(raw_ep_l.sum())
        factor = 1.0
        if athlete.calibration_factor is not None and np.isfinite(athlete.calibration_factor):
            factor = float(np.clip(athlete.calibration_factor, *fl.CALIBRATION_BOUNDS))
            calibration = factor
            notes.append(
                assumption(
                    "fluid.calibration_factor",
                    round(factor, 3),
                    "profile",
                    f"Sweat model scaled by your personal calibration ×{factor:.2f} "
                    f"(from {athlete.calibration_n} weigh-in{'s' if athlete.calibration_n != 1 else ''}).",
                    None,
                    ["fluid", "sodium"],
                )
            )
        sweat_ep_l = raw_ep_l * factor
        model_l = float(sweat_ep_l.sum())
        unc_mask = hb.uncompensable
        uncompensable = bool(unc_mask.any())
        unc_minutes = float(np.sum(epochs.lengths_s[unc_mask]) / 60.0)
        if amb.temp_c < 15:
            notes.append(
                assumption(
                    "fluid.model",
                    None,
                    "model",
                    "In cold air real skin temperature is below the model's fixed 35 °C, so the sweat "
                    "estimate is probably low.",
                    None,
                    ["fluid", "sodium"],
                )
            )

    # --- fluid (§3.1, §3.3 outputs) ------------------------------------------------------------------------
    intake, intake_src = None, None
    if conditions.fluid_intake_l is not None:
        intake, intake_src = float(conditions.fluid_intake_l), "override"
    elif weigh_in is not None:
        intake, intake_src = float(weigh_in.fluid_l), "weigh_in"
    elif _num(summary.get("fluid_consumed_ml")) is not None:
        intake, intake_src = float(summary["fluid_consumed_ml"]) / 1000.0, "device"

    device_sweat = _num(summary.get("sweat_loss_ml"))
    fluid_block: dict[str, Any] = {
        "sweat_l": None,
        "sweat_l_low": None,
        "sweat_l_high": None,
        "rate_l_per_h": None,
        "respiratory_l": rnd(resp_l, 3),
        "intake_l": rnd(intake, 3),
        "deficit_l": None,
        "body_mass_pct": None,
        "uncompensable_heat": uncompensable,
        "source": None,
        "device_estimate_l": rnd(device_sweat / 1000.0, 3) if device_sweat is not None else None,
        "model_sweat_l": rnd(model_raw_l, 3),
        "measured_sweat_l": None,
        # extra keys (not yet in docs/session-json.md)
        "intake_source": intake_src,
        "uncompensable_minutes": rnd(unc_minutes, 0),
        "calibration_factor": rnd(calibration, 3),
    }
    sweat_l = low = high = None
    if weigh_in is not None:
        raw_measured = (weigh_in.pre_kg - weigh_in.post_kg) + weigh_in.fluid_l - weigh_in.urine_l
        if raw_measured < 0:
            warnings.append("the weigh-in gives a negative sweat loss; check the weights and fluid entered")
        sweat_l = fl.measured_sweat_l(weigh_in)
        low, high = fl.measured_sweat_range_l(sweat_l)
        fluid_block["source"] = "measured"
        fluid_block["measured_sweat_l"] = rnd(sweat_l, 3)
        fluid_block["deficit_l"] = rnd(weigh_in.pre_kg - weigh_in.post_kg, 3)
        fluid_block["body_mass_pct"] = rnd(fl.body_mass_change_pct(weigh_in.pre_kg, weigh_in.post_kg), 2)
    elif model_l is not None:
        sweat_l = model_l
        low, high = fl.model_sweat_range_l(model_l, hours)
        fluid_block["source"] = "model"
        deficit = model_l + (resp_l or 0.0) - (intake or 0.0)
        fluid_block["deficit_l"] = rnd(deficit, 3)
        fluid_block["body_mass_pct"] = rnd(deficit / mass * 100.0, 2)
        if intake is None:
            notes.append(
                assumption(
                    "fluid.intake_l",
                    None,
                    "assumed",
                    "No fluid intake logged: the deficit is the 'if you drank nothing' upper bound. Log what "
                    "you drank to get your real deficit.",
                    "conditions.fluid_intake_l",
                    ["fluid.deficit_l", "fluid.body_mass_pct"],
                )
            )
    else:
        gaps.append(missing("fluid", "no weigh-in and the sweat model could not run"))
    if sweat_l is not None:
        fluid_block["sweat_l"] = rnd(sweat_l, 3)
        fluid_block["sweat_l_low"] = rnd(low, 3)
        fluid_block["sweat_l_high"] = rnd(high, 3)
        fluid_block["rate_l_per_h"] = rnd(sweat_l / hours, 3) if hours > 0 else None

    # --- sodium (§3.5) -----------------------------------------------------------------------------------
    na = _num(athlete.sweat_sodium_mmol_l)
    na_measured = na is not None and SODIUM_RANGE[0] <= na <= SODIUM_RANGE[1]
    if not na_measured:
        na = fl.SODIUM_DEFAULT_MMOL_L
        notes.append(
            assumption(
                "sweat_sodium_mmol_l",
                na,
                "assumed",
                "Sweat sodium of 40 mmol/L (920 mg/L) assumed, with a ±50 % range; a sweat test would make "
                "the sodium figure personal.",
                "sweat_sodium_mmol_l",
                ["sodium"],
            )
        )
    sodium_block: dict[str, Any] = {
        "mg": None,
        "mg_low": None,
        "mg_high": None,
        "concentration_mmol_l": rnd(na, 1),
        "concentration_source": "measured" if na_measured else "default",
    }
    if sweat_l is not None and low is not None and high is not None and na is not None:
        mg_low, mg_high = fl.sodium_range_mg(low, high, na, na_measured)
        sodium_block["mg"] = rnd(fl.sodium_mg(sweat_l, na), 0)
        sodium_block["mg_low"] = rnd(mg_low, 0)
        sodium_block["mg_high"] = rnd(mg_high, 0)
    else:
        gaps.append(missing("sodium", "needs a sweat figure"))

    # --- per-minute series for charts ---------------------------------------------------------------------
    series: dict[str, Any] = {
        "t_min": [],
        "heart_rate": None,
        "power": None,
        "fluid_l": None,
        "fluid_l_low": None,
        "fluid_l_high": None,
    }
    if epochs is not None and epochs.n > 0:
        series["t_min"] = [rnd(x, 2) for x in (epochs.end_s / 60.0).tolist()]
        if hr is not None:
            series["heart_rate"] = _series(epochs.mean(hr, dt)[0], 0)
        if p_filled is not None:
            series["power"] = _series(epochs.mean(np.where(dt > 0, p_filled, np.nan), dt)[0], 0)
        if sweat_ep_l is not None and sweat_l is not None and low is not None and high is not None:
            cum = np.cumsum(sweat_ep_l)
            if fluid_block["source"] == "measured":
                # the model's time course, scaled so that it ends at the measured loss
                frac = epochs.end_s / epochs.end_s[-1]
                total = float(cum[-1])
                cum = cum * (sweat_l / total) if total > 0 else sweat_l * frac
                lo_s = np.maximum(cum - (sweat_l - low) * frac, 0.0)
                hi_s = cum + (high - sweat_l) * frac
            else:
                half = np.maximum(
                    fl.MODEL_ERROR_L_PER_H * epochs.end_s / 3600.0, fl.MODEL_ERROR_FRACTION * cum
                )
                lo_s, hi_s = np.maximum(cum - half, 0.0), cum + half
            series["fluid_l"] = _series(cum, 3)
            series["fluid_l_low"] = _series(lo_s, 3)
            series["fluid_l_high"] = _series(hi_s, 3)

    # --- device figures, side by side ----------------------------------------------------------------------
    core_avg = _num(summary.get("avg_core_temperature"))
    core_max = _num(summary.get("max_core_temperature"))
    if core_temp is not None:
        core_avg = core_avg if core_avg is not None else time_weighted_mean(core_temp, dt)
        core_max = core_max if core_max is not None else float(np.nanmax(core_temp))
    fluid_consumed = _num(summary.get("fluid_consumed_ml"))
    device_block = {
        "np_w": rnd(_num(summary.get("normalized_power")), 0),
        "tss": rnd(_num(summary.get("training_stress_score")), 1),
        "if": rnd(_num(summary.get("intensity_factor")), 3),
        "kcal": rnd(_num(summary.get("total_calories")), 0),
        "avg_temperature_c": rnd(_num(summary.get("avg_temperature")), 1),
        "max_temperature_c": rnd(_num(summary.get("max_temperature")), 1),
        "core_temp_avg_c": rnd(core_avg, 2),
        "core_temp_max_c": rnd(core_max, 2),
        "sweat_loss_l": rnd(device_sweat / 1000.0, 3) if device_sweat is not None else None,
        "fluid_consumed_l": rnd(fluid_consumed / 1000.0, 3) if fluid_consumed is not None else None,
    }

    inputs_json = inp.as_json()
    inputs_json["vo2max"] = inp.vo2max.as_json(1)
    inputs_json["clothing_clo"] = {
        "value": rnd(clo, 2),
        "source": "profile" if athlete.clothing_clo is not None else "assumed",
    }

    return SessionResult.model_validate(
        {
            "sport": activity.sport,
            "sub_sport": activity.sub_sport,
            "indoor": indoor,
            "start_time": _iso_utc(activity.start_time),
            "duration_s": rnd(duration_s, 0),
            "moving_time_s": rnd(moving_time_s, 0),
            "distance_m": rnd(distance_m, 0),
            "partial": bool(activity.partial),
            "decoder": activity.decoder,
            "warnings": warnings,
            "heart_rate": hr_block,
            "power": power_block,
            "load": load,
            "energy": {"kcal": rnd(kcal, 0), "source": e_source},
            "ambient": {
                "temp_c": rnd(amb.temp_c, 1),
                "humidity_pct": rnd(amb.humidity_pct, 0),
                "air_speed_ms": rnd(v_mean, 2),
                "source": amb.source,
                # extra keys (not yet in docs/session-json.md)
                "humidity_source": amb.humidity_source,
                "air_speed_source": v_src,
                "confidence": amb.confidence,
                "temp_measured": amb.source in MEASURED_TEMP_SOURCES,
                "sources": {
                    "temp_c": amb.source,
                    "humidity_pct": amb.humidity_source,
                    "air_speed_ms": v_src,
                },
            },
            "fluid": fluid_block,
            "sodium": sodium_block,
            "inputs": inputs_json,
            "series": series,
            "device": device_block,
            "assumptions": notes,
            "missing": gaps,
            "algorithm_version": ALGORITHM_VERSION,
        }
    )
