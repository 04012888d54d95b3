"""Post-session recommendations: the safety rules of science.md §5 and the hard limits of §10.7. Pure: no I/O.

Every volume and amount comes from alerts.limits, which holds the limits and is property-tested:
1. Fluid is never more than the estimated deficit, never more than 1.0 L in any hour, spread over a window
   that grows with the volume (2–6 h), and no email names more than 3 L. Unknown intake gives the sweat loss
   and "replace the rest" wording, never a volume as if nothing was drunk.
2. If body mass rose during the session (measured), or logged intake covered the estimated loss, the advice is
   "no extra fluid" (`fluid_l` = 0.0) and the overdrinking warning is on.
3. Sodium after: at most the estimated loss and 3,000 mg; during future sessions 300–600 mg/h (never above
   900), always with food or a sports drink.
4. The EAH block (§5.7) is always part of the result.
5. Heat guidance needs a measured temperature: ≥ 30 °C, or ≥ 10 uncompensable minutes.
6. An implausible recording (§10.6) gets no volumes at all, and the advice says why.
The cramp text follows §10.9: cramp is multifactorial, with neuromuscular fatigue the leading explanation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alerts import fmt, limits
from alerts.limits import cap_fluid
from alerts.view import AdviceFacts, advice_facts
from core.result import Recommendations, Risk, SessionResult

__all__ = ["EAH_BLOCK", "cap_fluid", "recommend"]

FUTURE_SODIUM_MIN_DURATION_S = 2 * 3600
SALTY_SWEAT_MMOL_L = 60.0
USUAL_DURING = f"{limits.SODIUM_DURING_LOW_MG_H}–{limits.SODIUM_DURING_HIGH_MG_H} mg per hour"

EAH_BLOCK = (
    "Drinking too much is dangerous too. Exercise-associated hyponatraemia (EAH) is low blood sodium "
    "(below 135 mmol/L) during exercise or up to 24 hours after it, and its main cause is drinking more than "
    "you lose. Drink to thirst; if you weigh more after exercise than before, you drank too much. The risk "
    "is higher for women, lighter athletes, people taking anti-inflammatory painkillers (NSAIDs such as "
    "ibuprofen) and in events over 4 hours. Get urgent medical care for confusion, a severe headache, "
    "vomiting, or weight gain after exercise."
)

CAUSES = (
    "About cramps: exercise-associated muscle cramp is multifactorial. Neuromuscular fatigue (tired muscles "
    "late in a long or hard effort) is the leading explanation; fluid and sodium loss may contribute for "
    "some athletes. That is why this alert weighs how hard and how long you went above how much you sweated."
)

FOOD = (
    "Food: salty foods such as broth, salted snacks or pretzels, bread and cheese supply sodium. Bananas, "
    "spinach and whole grains supply potassium and magnesium and are good recovery nutrition, but they are "
    "not a cramp cure: sweat holds little potassium, and no food or supplement has been shown to prevent "
    "cramps reliably."
)

STRETCH = (
    "If a cramp strikes, gently stretch the cramping muscle (calf, hamstrings or quadriceps) and hold the "
    "stretch until it eases. Stretching your calves, quads and hamstrings before and after exercise is "
    "widely recommended and low-risk, though the evidence that it prevents cramps is limited."
)

PROFESSIONAL = (
    "See a doctor or physiotherapist if your cramps are frequent or keep coming back despite these measures, "
    "affect your whole body or are severe, or happen at rest or at night. Also get checked if you notice "
    "muscle weakness, dark or cola-coloured urine or muscle swelling (possible muscle breakdown, "
    "rhabdomyolysis), if you have started a new medicine (for example a β2-agonist asthma inhaler, a "
    "diuretic or a statin), or if you have a known illness."
)

URGENT = (
    "Get urgent medical care for confusion, a severe headache, vomiting, or weight gain after exercise: "
    "these can be signs of low blood sodium (EAH)."
)

TOO_LARGE = (
    "Fluid: your estimated fluid loss is larger than the 3 L we would ever suggest in one go. Do not try "
    "to drink it back quickly: drink to thirst over the rest of the day with salty food, weigh yourself, and "
    "seek medical advice if you feel unwell (dizzy, confused, sick or with a headache)."
)

PARTIAL = (
    "This file looks incomplete (the recording was cut short or damaged), so these figures cover only the "
    "part that was recorded."
)


def _overdrinking(f: AdviceFacts) -> tuple[bool, str]:
    mass_rose = f.measured and f.body_mass_pct is not None and f.body_mass_pct < 0
    covered = f.intake_l is not None and (
        (f.loss_l is not None and f.intake_l >= f.loss_l) or (f.deficit_l is not None and f.deficit_l <= 0)
    )
    if mass_rose:
        return (
            True,
            "you weighed more after the session than before, which means you drank more than you lost",
        )
    if covered:
        return True, "what you logged drinking is as much as or more than your estimated loss"
    return False, ""


def _replace_rest(f: AdviceFacts, units: str) -> str:
    if f.loss_l is None or f.loss_l > limits.FLUID_MAX_PER_EMAIL_L:
        return TOO_LARGE + " You did not log what you drank during the session."
    shown = cap_fluid(f.loss_l)
    return (
        f"Fluid: you lost about {fmt.litres(shown, units)} in sweat and breath. You did not log what you "
        "drank, so subtract what you drank during the session and replace the rest over the next few "
        f"hours, no more than {fmt.litres(limits.FLUID_MAX_PER_HOUR_L, units)} in any hour, with meals; "
        "let thirst guide you and do not force it."
    )


def _fluid(f: AdviceFacts, units: str) -> tuple[dict[str, Any], bool, list[str]]:
    over, because = _overdrinking(f)
    if over and not f.implausible:
        msg = (
            f"No extra fluid: {because}. Drink only to thirst for the rest of the day, and see the warning "
            "about drinking too much."
        )
        return {"fluid_l": 0.0, "fluid_window_h": None, "fluid_mode": limits.COVERED}, True, [msg]
    # Without a known intake the figure that matters is the loss itself (the athlete subtracts their drinks).
    basis = f.deficit_l if f.intake_known else f.loss_l
    plan = limits.fluid_plan(deficit_l=basis, intake_known=f.intake_known, implausible=f.implausible)
    out = {"fluid_l": plan.volume_l, "fluid_window_h": plan.window_h, "fluid_mode": plan.mode}
    if plan.mode == limits.WITHHELD:
        return out, False, ["Fluid: drink to thirst (no volume is suggested for this recording, see above)."]
    if plan.mode == limits.UNKNOWN:
        return (
            out,
            False,
            ["Fluid: we could not estimate your fluid loss for this session, so drink to thirst."],
        )
    if plan.mode == limits.REPLACE_REST:
        return out, False, [_replace_rest(f, units)]
    if plan.mode == limits.TOO_LARGE:
        unlogged = "" if f.intake_known else " You did not log what you drank during the session."
        return out, False, [TOO_LARGE + unlogged]
    if plan.mode == limits.COVERED:
        small = fmt.litres(max(f.deficit_l or 0.0, 0.0), units, 2)
        msg = f"Fluid: your estimated fluid deficit is small ({small}), so no extra fluid is needed; "
        msg += "drink to thirst."
        return out, False, [msg]
    assert plan.volume_l is not None and plan.window_h is not None
    text = (
        f"Fluid: drink up to {fmt.litres(plan.volume_l, units)} over the next {plan.window_h} hours "
        f"(no more than {fmt.litres(limits.FLUID_MAX_PER_HOUR_L, units)} in any hour), spread over meals, "
        "and let thirst guide you; do not force it. That is no more than your estimated fluid deficit"
    )
    if f.sweat_low is not None and f.sweat_high is not None and f.sweat_high <= limits.FLUID_MAX_PER_EMAIL_L:
        likely = fmt.litres_range(f.sweat_low, f.sweat_high, units)
        text += f", and the sweat loss behind it is uncertain (likely {likely})"
    return out, False, [text + "."]


def _sodium(f: AdviceFacts, overdrinking: bool) -> tuple[int | None, list[str]]:
    if f.implausible:
        return None, ["Sodium: salt your recovery meal to taste (no amount is suggested for this recording)."]
    target = limits.sodium_after_mg(f.sodium_mg)
    if target is None:
        return None, ["Sodium: we could not estimate your sodium loss; salt your recovery meal to taste."]
    if target == 0:
        return 0, ["Sodium: your estimated sodium loss is small; salt your recovery meal to taste."]
    capped = f.sodium_mg is not None and f.sodium_mg > limits.SODIUM_AFTER_MAX_MG
    if capped:
        head = (
            f"Sodium: aim for up to {fmt.mg(target)} over the rest of the day, from salty food and drinks; "
            "your estimated loss was larger, but more than that at once is not advised"
        )
    else:
        likely = ""
        if (
            f.sodium_low is not None
            and f.sodium_high is not None
            and f.sodium_high <= limits.SODIUM_AFTER_MAX_MG
        ):
            likely = f" (likely {fmt.mg_range(f.sodium_low, f.sodium_high)})"
        head = f"Sodium: aim for roughly {fmt.mg(target)}{likely}, about what you lost in sweat"
    if overdrinking:
        return target, [f"{head}, from salty food rather than from extra drinks."]
    return target, [
        f"{head}. A rehydration drink with 40–60 mmol/L of sodium (about 0.9–1.4 g per litre) helps your "
        "body keep the fluid; most sports drinks hold less (about 460–690 mg per litre)."
    ]


def _future(f: AdviceFacts, risk: Risk) -> tuple[int | None, list[str]]:
    factors = risk.factors
    long_session = f.duration_s is not None and f.duration_s > FUTURE_SODIUM_MIN_DURATION_S
    salty = f.concentration is not None and f.concentration >= SALTY_SWEAT_MMOL_L
    if f.implausible or not (long_session or salty or (factors.get("sodium") or 0) > 0):
        return None, []
    hours = f.duration_s / 3600.0 if f.duration_s else None
    per_hour = limits.sodium_during_mg_per_h(f.sodium_mg, hours)
    return per_hour, [
        "Next time: in sessions longer than 2 hours you could take about "
        f"{fmt.mg(per_hour)} of sodium per hour (the usual range is {USUAL_DURING}), "
        "with food or a sports drink. Never pair it with forced drinking, and know that there is no proof "
        "that it prevents cramps."
    ]


def _heat(f: AdviceFacts, units: str) -> str | None:
    hot, sustained = limits.heat_evidence(
        temp_c=f.temp_c, temp_measured=f.temp_measured, uncompensable_minutes=f.uncompensable_minutes
    )
    if not (hot or sustained):
        return None
    causes = []
    if hot and f.temp_c is not None:
        causes.append(f"it was hot ({fmt.temperature(f.temp_c, units)}, measured)")
    if sustained and f.uncompensable_minutes is not None:
        causes.append(
            f"for about {f.uncompensable_minutes:.0f} minutes your body could not lose heat as fast as it "
            "made it, even by sweating"
        )
    return (
        f"Heat: {' and '.join(causes)}. If you still feel hot, cool down: shade, a cool shower or wet "
        "towels. In hot sessions, slow down and seek shade."
    )


def _why_withheld(f: AdviceFacts) -> list[str]:
    if not f.implausible:
        return []
    why = "; ".join(r.rstrip(".") for r in f.quality_reasons) or "the recording looks implausible"
    return [
        f"This recording cannot be right ({why}), so its figures are shown for what they are worth but no "
        "volume to drink or amount of sodium is suggested."
    ]


def recommend(
    session: Mapping[str, Any] | SessionResult, risk: Risk, *, units: str = "metric"
) -> Recommendations:
    """Recommendations for one session result (or its JSON) and its risk (science.md §5 and §10.7).

    `notices` say what is wrong with the recording (partial file, implausible data) and come first wherever
    it is shown. `units` only changes how volumes and temperatures are written in the messages, never the
    numbers.
    """
    fmt.check_units(units)
    f = advice_facts(session)
    fluid, overdrinking, fluid_msgs = _fluid(f, units)
    sodium_mg, sodium_msgs = _sodium(f, overdrinking)
    during, future_msgs = _future(f, risk)
    heat = _heat(f, units)
    notices = [*([PARTIAL] if f.partial else []), *_why_withheld(f)]
    messages = [
        *fluid_msgs,
        *sodium_msgs,
        *([heat] if heat else []),
        *future_msgs,
        CAUSES,
        STRETCH,
        FOOD,
        PROFESSIONAL,
        URGENT,
    ]
    return Recommendations(
        **fluid,
        sodium_mg=sodium_mg,
        sodium_during_mg_per_h=during,
        overdrinking_warning=overdrinking,
        heat_guidance=heat,
        eah_block=EAH_BLOCK,
        notices=notices,
        messages=messages,
    )
