"""Required sweat rate from a steady-state heat balance per 60-s epoch (science.md §3.3, §10.1, §10.4).

ISO 7933 (Predicted Heat Strain) components, vectorized over epochs. Version 2 (§10.1) replaces Shapiro's
fixed skin temperature (35 °C, still the default of `required_sweat` for the v1 worked cases) with ISO 7933's
mean skin temperature at equilibrium (`skin_temperature_course`), adds the radiant temperature (solar, §10.2)
through the operative temperature, and holds the air speed the formulas see at 4 m/s (§10.4).
Units: W, W/m² (per m² body surface area), °C, kPa, m/s, clo. Gonzalez's USARIEM equations (§3.2)
are here too, guarded so that they can only be evaluated inside their derivation domain; the service never
uses them as the athlete model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

T_SKIN_C = 35.0  # Shapiro/Gonzalez convention
H_RAD = 4.7  # W/m²K, linearised radiation (assumed)
DEFAULT_CLO = 0.3  # shorts + T-shirt
MIN_AIR_SPEED_MS = 0.3
ISO_MAX_AIR_SPEED_MS = 3.0  # v_a = min(v, 3) in the permeability corrections
STATIC_IM = 0.38  # ISO static moisture permeability index
MAX_IM = 0.9
LATENT_HEAT_J_PER_G = 2426.0  # latent heat of sweat at ~30 °C (Wenger 1972 [M]; Monteith 1972)
SWEAT_CAP_L_PER_H = 2.5  # athlete engineering bound replacing ISO's worker SWmax
W_CAP = 1.7  # at w ≥ 1.7 the efficiency formula is not used: rate = cap
ONSET_DECAY = float(np.exp(-1.0 / 10.0))  # ISO first-order sweat onset lag, per minute
AIR_SPEED_CAP_MS = 4.0  # §10.4: hc = 8.7·v^0.6 is validated to ~3 m/s; no citable whole-body athlete hc found
CORE_DECAY = float(np.exp(-1.0 / 10.0))  # ISO 7933 `const_t_eq`: core equilibrium approached per minute
SKIN_DECAY = float(np.exp(-1.0 / 3.0))  # ISO 7933 `const_t_sk`: skin temperature approached per minute
CORE_START_C = 36.8  # ISO 7933:2023 initial rectal/core temperature
NUDE_CLO, CLOTHED_CLO = 0.2, 0.6  # ISO 7933: nude equation at ≤ 0.2 clo, clothed at ≥ 0.6, linear between


def model_air_speed(v_ms: np.ndarray | float) -> np.ndarray:
    """§10.4: relative air speed as the convection/permeability formulas see it, in [0.3, 4] m/s."""
    return np.clip(np.asarray(v_ms, dtype=float), MIN_AIR_SPEED_MS, AIR_SPEED_CAP_MS)


def core_temperature_course(ma_w_m2: np.ndarray, start_c: float = CORE_START_C) -> np.ndarray:
    """ISO 7933: tcr,eq = 0.0036·M + 36.6, approached per minute with e^(−1/10) from 36.8 °C (§10.1)."""
    eq = 0.0036 * np.asarray(ma_w_m2, dtype=float) + 36.6
    out = np.empty_like(eq)
    prev = start_c
    for i, target in enumerate(eq.tolist()):  # one iteration per minute epoch
        prev = prev * CORE_DECAY + target * (1.0 - CORE_DECAY)
        out[i] = prev
    return out


def skin_temperature_equilibrium(
    ta_c: np.ndarray | float,
    tr_c: np.ndarray | float,
    pa_kpa: np.ndarray | float,
    va_ms: np.ndarray | float,
    ma_w_m2: np.ndarray | float,
    tre_c: np.ndarray | float,
    clo: float,
) -> np.ndarray:
    """ISO 7933 mean skin temperature at equilibrium (as pythermalcomfort 4.8 `models/phs.py` codes it).

    Nude: 7.191 + 0.064·ta + 0.061·tr + 0.198·pa − 0.348·va + 0.616·tre;
    clothed: 12.165 + 0.02017·ta + 0.04361·tr + 0.19354·pa − 0.25315·va + 0.005346·M + 0.51274·tre;
    linear in clo between 0.2 and 0.6 (ISO's 2.5·(clo − 0.2) weight).
    """
    ta, tr, pa, va, ma, tre = (
        np.asarray(x, dtype=float) for x in (ta_c, tr_c, pa_kpa, va_ms, ma_w_m2, tre_c)
    )
    nude = 7.191 + 0.064 * ta + 0.061 * tr + 0.198 * pa - 0.348 * va + 0.616 * tre
    clothed = (
        12.165 + 0.02017 * ta + 0.04361 * tr + 0.19354 * pa - 0.25315 * va + 0.005346 * ma + 0.51274 * tre
    )
    weight = min(max((clo - NUDE_CLO) / (CLOTHED_CLO - NUDE_CLO), 0.0), 1.0)
    return np.asarray(nude + weight * (clothed - nude))


# Skin temperature in the cold. ISO 7933's regression is fitted for 15–50 °C and M 100–450 W/m² (2004); ISO
# 11079 (cold, ta ≤ 10 °C, M 58–400 W/m²) assumes a neutral skin of 35.7 − 0.0285·M, the criterion that picks
# the clothing below 8 °C (physiology/clothing.py). Each is used inside its own domain, linear between: over
# 10–15 °C in air temperature and over 400–450 W/m² in metabolic rate (above 400 ISO 11079's line runs to
# skin temperatures below 24 °C, which no working athlete has).
ISO_11079_MAX_TA_C, ISO_7933_MIN_TA_C = 10.0, 15.0
ISO_11079_M_W_M2 = (58.0, 400.0)
ISO_7933_MAX_M_W_M2 = 450.0


def cold_skin_temperature_equilibrium(ma_w_m2: np.ndarray | float) -> np.ndarray:
    """ISO 11079 neutral mean skin temperature, 35.7 − 0.0285·M (M held to ISO 11079's 58–400 W/m²)."""
    ma = np.clip(np.asarray(ma_w_m2, dtype=float), *ISO_11079_M_W_M2)
    return np.asarray(35.7 - 0.0285 * ma)


def cold_weight(ta_c: float, ma_w_m2: np.ndarray | float) -> np.ndarray:
    """Weight of ISO 11079's skin temperature against ISO 7933's: 1 inside ISO 11079's domain (≤ 10 °C,
    M ≤ 400 W/m²), 0 from 15 °C or from 450 W/m², linear between."""
    by_air = min(max((ISO_7933_MIN_TA_C - ta_c) / (ISO_7933_MIN_TA_C - ISO_11079_MAX_TA_C), 0.0), 1.0)
    m_top = ISO_11079_M_W_M2[1]
    by_work = (ISO_7933_MAX_M_W_M2 - np.asarray(ma_w_m2, dtype=float)) / (ISO_7933_MAX_M_W_M2 - m_top)
    return np.asarray(by_air * np.clip(by_work, 0.0, 1.0))


def skin_temperature_course(tsk_eq_c: np.ndarray) -> np.ndarray:
    """ISO 7933:2023 Annex E: the first minute at equilibrium, then approached with e^(−1/3) per minute."""
    eq = np.asarray(tsk_eq_c, dtype=float)
    out = np.empty_like(eq)
    prev = float(eq[0]) if eq.size else 0.0
    for i, target in enumerate(eq.tolist()):
        prev = prev * SKIN_DECAY + target * (1.0 - SKIN_DECAY) if i else target
        out[i] = prev
    return out


def operative_temperature(ta_c: np.ndarray, tr_c: np.ndarray, v_ms: np.ndarray) -> np.ndarray:
    """to = (hc·ta + hr·tr)/(hc + hr): the single temperature the linearised dry exchange sees."""
    hc = convective_hc(v_ms)
    return np.asarray((hc * ta_c + H_RAD * tr_c) / (hc + H_RAD))


def dubois_bsa(mass_kg: float, height_m: float) -> float:
    """AD = 0.202·kg^0.425·h^0.725 m² (DuBois & DuBois 1916)."""
    return 0.202 * mass_kg**0.425 * height_m**0.725


def psat_kpa(temp_c: np.ndarray | float) -> np.ndarray:
    """Saturated vapour pressure, kPa: 0.6105·exp(17.27·T/(T+237.3))."""
    t = np.asarray(temp_c, dtype=float)
    return 0.6105 * np.exp(17.27 * t / (t + 237.3))


def convective_hc(v_ms: np.ndarray | float) -> np.ndarray:
    """ISO 7933 hc, W/m²K: 3.5 + 5.2·v for v ≤ 1 m/s, else 8.7·v^0.6 (v floored at 0.3)."""
    v = np.maximum(np.asarray(v_ms, dtype=float), MIN_AIR_SPEED_MS)
    return np.where(v <= 1.0, 3.5 + 5.2 * v, 8.7 * v**0.6)


def clothing_area_factor(clo: float) -> float:
    """fcl = 1 + 0.3·Icl."""
    return 1.0 + 0.3 * clo


def total_insulation(v_ms: np.ndarray | float, clo: float = DEFAULT_CLO) -> np.ndarray:
    """It = 0.155·Icl + 1/(fcl·(hc + hr)), m²K/W."""
    return 0.155 * clo + 1.0 / (clothing_area_factor(clo) * (convective_hc(v_ms) + H_RAD))


def dynamic_permeability(v_ms: np.ndarray | float, clo: float = DEFAULT_CLO) -> np.ndarray:
    """ISO dynamic moisture permeability im (v_a = min(v, 3); no walking-speed term)."""
    va = np.minimum(np.maximum(np.asarray(v_ms, dtype=float), MIN_AIR_SPEED_MS), ISO_MAX_AIR_SPEED_MS)
    cor_cl = np.minimum(1.0, 1.044 * np.exp((0.066 * va - 0.398) * va))
    cor_ia = np.minimum(1.0, np.exp((0.047 * va - 0.472) * va))
    cor_tot = ((0.6 - clo) * cor_ia + clo * cor_cl) / 0.6
    return np.minimum(MAX_IM, STATIC_IM * ((2.6 * cor_tot - 6.5) * cor_tot + 4.9))


STATIC_AIR_INSULATION = 0.111  # m²K/W, ISO 7933 boundary layer in still air
MAX_WALK_SPEED_MS = 0.7  # ISO 7933 default when walking speed is not given: 0.0052·(M − 58), at most 0.7


def iso_walking_speed(ma_w_m2: np.ndarray | float) -> np.ndarray:
    """ISO 7933's walking speed when none is given: 0.0052·(M − 58) m/s, at most 0.7."""
    return np.clip(0.0052 * (np.asarray(ma_w_m2, dtype=float) - 58.0), 0.0, MAX_WALK_SPEED_MS)


def iso_clothing_corrections(
    v_ms: np.ndarray | float, clo: float, walk_ms: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """ISO 7933 (CORtot, CORia): air-speed and body-movement (walking) corrections of the clothing and
    boundary-layer insulation, as pythermalcomfort 4.8 codes them (CORtot = CORcl from 0.6 clo)."""
    v = np.asarray(v_ms, dtype=float)
    walk = np.minimum(np.asarray(walk_ms, dtype=float), 1.5)  # ISO caps the walking term at 1.5 m/s
    vx = np.minimum(v, ISO_MAX_AIR_SPEED_MS)
    cor_cl = np.minimum(1.0, 1.044 * np.exp((0.066 * vx - 0.398) * vx + (0.094 * walk - 0.378) * walk))
    cor_ia = np.minimum(1.0, np.exp((0.047 * v - 0.472) * v + (0.117 * walk - 0.342) * walk))
    cor_tot = cor_cl if clo >= 0.6 else ((0.6 - clo) * cor_ia + clo * cor_cl) / 0.6
    return np.asarray(cor_tot), cor_ia


def dynamic_clothing_insulation(
    v_ms: np.ndarray | float, clo: float, walk_ms: np.ndarray | float
) -> np.ndarray:
    """ISO 7933 dynamic clothing insulation Icl,dyn = Itot,st·CORtot − CORia·Ia,st/fcl (m²K/W, ≥ 0).

    §10.3 puts 0.45–0.8 clo on athletes; ISO's static value would then overstate the insulation of kit that
    wind and movement pump through (to about half at running speeds)."""
    fcl = clothing_area_factor(clo)
    cor_tot, cor_ia = iso_clothing_corrections(v_ms, clo, walk_ms)
    i_tot_st = 0.155 * clo + STATIC_AIR_INSULATION / fcl
    return np.maximum(i_tot_st * cor_tot - cor_ia * STATIC_AIR_INSULATION / fcl, 0.0)


def respiratory_heat(ma_w_m2: np.ndarray, ta_c: np.ndarray | float, pa_kpa: np.ndarray | float):
    """ISO respiration: (Cres, Eres) in W/m². Texp = 28.56 + 0.115·Ta + 0.641·Pa."""
    ta = np.asarray(ta_c, dtype=float)
    pa = np.asarray(pa_kpa, dtype=float)
    t_exp = 28.56 + 0.115 * ta + 0.641 * pa
    cres = 0.001516 * ma_w_m2 * (t_exp - ta)
    eres = 0.00127 * ma_w_m2 * (59.34 + 0.53 * ta - 11.63 * pa)
    return cres, eres


def sweat_cap_w_m2(bsa_m2: float) -> float:
    """The 2.5 L/h cap expressed as evaporative power per m²."""
    return SWEAT_CAP_L_PER_H * 1000.0 * LATENT_HEAT_J_PER_G / 3600.0 / bsa_m2


def w_m2_to_l_per_h(x_w_m2: np.ndarray | float, bsa_m2: float) -> np.ndarray:
    """Evaporative power per m² → litres of sweat per hour (1 g ≈ 1 ml)."""
    return np.asarray(x_w_m2, dtype=float) * bsa_m2 * 3600.0 / LATENT_HEAT_J_PER_G / 1000.0


@dataclass(frozen=True)
class HeatBalance:
    """Per-epoch heat-balance terms, W/m² unless stated."""

    ma: np.ndarray
    wa: np.ndarray
    dry: np.ndarray
    cres: np.ndarray
    eres: np.ndarray
    ereq: np.ndarray  # before the Ereq ≤ 0 → 0 rule
    emax: np.ndarray
    w: np.ndarray  # required wettedness Ereq/Emax (0 when Ereq ≤ 0, inf when Emax ≤ 0)
    swreq: np.ndarray  # required sweat rate, capped, ≥ 0
    it: np.ndarray  # m²K/W
    im: np.ndarray

    @property
    def uncompensable(self) -> np.ndarray:
        """w ≥ 1: evaporation cannot balance heat production (uncompensable heat stress)."""
        return self.w >= 1.0


def _insulation_and_permeability(
    v: np.ndarray, clo: float, ma: np.ndarray, dynamic: bool, walk_ms: np.ndarray | float | None
) -> tuple[np.ndarray, np.ndarray]:
    """(It, im): §3.3 steps 4–5 (static clothing), or ISO's dynamic clothing terms (v2, §15.3 of the docs)."""
    if not dynamic:
        return total_insulation(v, clo), dynamic_permeability(v, clo)
    walk = iso_walking_speed(ma) if walk_ms is None else np.asarray(walk_ms, dtype=float) + np.zeros_like(ma)
    cor_tot, _ = iso_clothing_corrections(v, clo, walk)
    boundary = 1.0 / (clothing_area_factor(clo) * (convective_hc(v) + H_RAD))
    it = dynamic_clothing_insulation(v, clo, walk) + boundary
    return it, np.minimum(MAX_IM, STATIC_IM * ((2.6 * cor_tot - 6.5) * cor_tot + 4.9))


def _sweat_for_ereq(ereq: np.ndarray, emax: np.ndarray, bsa_m2: float) -> tuple[np.ndarray, np.ndarray]:
    """§3.3 steps 8–9: (wettedness w, required sweat rate W/m², capped, ≥ 0)."""
    positive = ereq > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(positive, np.where(emax > 0, ereq / np.where(emax > 0, emax, 1.0), np.inf), 0.0)
        r = np.where(w <= 1.0, 1.0 - w**2 / 2.0, (2.0 - w) ** 2 / 2.0)
        sw = np.where(positive & (w < W_CAP), ereq / np.where(r > 0, r, 1.0), 0.0)
    cap = sweat_cap_w_m2(bsa_m2)
    sw = np.where(positive & (w >= W_CAP), cap, np.minimum(sw, cap))
    return w, np.maximum(sw, 0.0)


def required_sweat(
    m_w: np.ndarray | float,
    w_ext_w: np.ndarray | float,
    ta_c: np.ndarray | float,
    rh_pct: np.ndarray | float,
    v_ms: np.ndarray | float,
    bsa_m2: float,
    clo: float = DEFAULT_CLO,
    tsk_c: np.ndarray | float = T_SKIN_C,
    tr_c: np.ndarray | float | None = None,
    dynamic_clothing: bool = False,
    walk_ms: np.ndarray | float | None = None,
) -> HeatBalance:
    """Steady-state required sweat rate, science.md §3.3 steps 1–9 (vectorized over epochs).

    `tsk_c` per epoch (§10.1; Psk = psat(Tsk) follows it); `tr_c` the mean radiant temperature (§10.2),
    None = equal to air temperature (v1); `dynamic_clothing` uses ISO's air-speed and movement corrections for
    the clothing's insulation and permeability (v2) instead of §3.3 steps 4–5's static insulation, with the
    body-movement term from `walk_ms` (None: ISO's default from the metabolic rate)."""
    m = np.atleast_1d(np.asarray(m_w, dtype=float))
    ma = m / bsa_m2
    wa = np.asarray(w_ext_w, dtype=float) / bsa_m2 + np.zeros_like(ma)
    ta = np.asarray(ta_c, dtype=float) + np.zeros_like(ma)
    pa = np.asarray(rh_pct, dtype=float) / 100.0 * psat_kpa(ta)
    tsk = np.asarray(tsk_c, dtype=float) + np.zeros_like(ma)
    psk = psat_kpa(tsk)
    v = np.asarray(v_ms, dtype=float) + np.zeros_like(ma)
    it, im = _insulation_and_permeability(v, clo, ma, dynamic_clothing, walk_ms)
    to = (
        ta
        if tr_c is None
        else operative_temperature(ta, np.asarray(tr_c, dtype=float) + np.zeros_like(ma), v)
    )
    dry = (tsk - to) / it
    emax = 16.7 * im * (psk - pa) / it
    cres, eres = respiratory_heat(ma, ta, pa)
    ereq = ma - wa - dry - cres - eres
    w, sw = _sweat_for_ereq(ereq, emax, bsa_m2)
    return HeatBalance(
        ma=ma,
        wa=wa,
        dry=dry,
        cres=cres,
        eres=eres,
        ereq=ereq,
        emax=emax,
        w=w,
        swreq=sw,
        it=it,
        im=im,
    )


def onset_lag(swreq_w_m2: np.ndarray, initial: float = 0.0) -> np.ndarray:
    """ISO onset lag per minute: SWp_t = SWp_{t−1}·e^(−1/10) + SWreq_t·(1 − e^(−1/10)), from 0."""
    x = np.asarray(swreq_w_m2, dtype=float)
    out = np.empty_like(x)
    prev = initial
    gain = 1.0 - ONSET_DECAY
    for i, xi in enumerate(x.tolist()):  # one iteration per minute epoch, not per sample
        prev = prev * ONSET_DECAY + xi * gain
        out[i] = prev
    return out


def water_grams(evap_w_m2: np.ndarray, seconds: np.ndarray, bsa_m2: float) -> np.ndarray:
    """Grams of water evaporated: Σ E·s·AD/λ per epoch (negative terms count as 0)."""
    return np.maximum(np.asarray(evap_w_m2, dtype=float), 0.0) * seconds * bsa_m2 / LATENT_HEAT_J_PER_G


# --- Gonzalez (USARIEM) equations: guarded, never the athlete model ------------------------------------


class OutOfDomainError(ValueError):
    """An empirical equation was asked for a prediction outside the conditions it was fitted to."""


GONZALEZ_DOMAIN: dict[str, tuple[float, float]] = {
    "ta_c": (15.0, 46.0),
    "pa_kpa": (0.27, 4.45),
    "v_ms": (0.4, 2.5),
    "ma_w_m2": (0.0, 450.0),
}
GONZALEZ_CLO_MIN = 0.6  # clothed subjects (military clothing and equipment); sports kit is outside
GONZALEZ_COOL_MAX_TA_C = 20.0


def gonzalez_domain_problems(
    ta_c: float, pa_kpa: float, v_ms: float, ma_w_m2: float, clo: float
) -> list[str]:
    """Reasons the inputs fall outside Gonzalez 2009's derivation domain (empty list = inside)."""
    d = GONZALEZ_DOMAIN
    problems = []
    for name, value in (("ta_c", ta_c), ("pa_kpa", pa_kpa), ("v_ms", v_ms), ("ma_w_m2", ma_w_m2)):
        lo, hi = d[name]
        if not lo <= value <= hi:
            problems.append(f"{name}={value:.3g} outside [{lo}, {hi}]")
    if clo < GONZALEZ_CLO_MIN:
        problems.append(f"clo={clo:.2g} below {GONZALEZ_CLO_MIN} (equations fitted to clothed soldiers)")
    return problems


def _gonzalez(intercept: float, ereq_w_m2: float, emax_w_m2: float, problems: list[str], name: str) -> float:
    if problems:
        raise OutOfDomainError(f"{name} outside its domain: " + "; ".join(problems))
    msw = intercept + 1.527 * ereq_w_m2 - 0.87 * emax_w_m2
    if msw < 0:
        raise OutOfDomainError(f"{name} returned a negative sweat rate ({msw:.0f} g/m²/h)")
    return msw


def gonzalez_pw(
    ereq_w_m2: float, emax_w_m2: float, *, ta_c: float, pa_kpa: float, v_ms: float, ma_w_m2: float, clo: float
) -> float:
    """Gonzalez 2009: PW = 147 + 1.527·Ereq − 0.87·Emax, g/m²/h (SEE < 100).

    Raises OutOfDomainError outside the derivation domain (Ta 15–46 °C, Pa 0.27–4.45 kPa, wind 0.4–2.5 m/s,
    M ≤ 450 W/m², clothed) and for a negative result.
    """
    problems = gonzalez_domain_problems(ta_c, pa_kpa, v_ms, ma_w_m2, clo)
    return _gonzalez(147.0, ereq_w_m2, emax_w_m2, problems, "Gonzalez PW")


def gonzalez_pw_cool(
    ereq_w_m2: float, emax_w_m2: float, *, ta_c: float, pa_kpa: float, v_ms: float, ma_w_m2: float, clo: float
) -> float:
    """Gonzalez 2012: PW,cool = 350 + 1.527·Ereq − 0.87·Emax, g/m²/h, for Ta < 20 °C.

    Same guard as `gonzalez_pw` plus Ta < 20 °C (the 2009 lower bound of 15 °C is kept).
    """
    problems = gonzalez_domain_problems(ta_c, pa_kpa, v_ms, ma_w_m2, clo)
    if ta_c >= GONZALEZ_COOL_MAX_TA_C:
        problems.append(f"ta_c={ta_c:.3g} not below {GONZALEZ_COOL_MAX_TA_C} (cool variant)")
    return _gonzalez(350.0, ereq_w_m2, emax_w_m2, problems, "Gonzalez PW,cool")
