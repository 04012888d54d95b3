"""Post-session recommendations and the hard safety rules of science.md §5. Pure: no I/O.

Hard rules (each one has its own test):
1. Fluid is never more than 100% of the estimated deficit (`fluid.deficit_l`) and never negative. We are
   stricter than the 125–150% replacement in ACSM/Shirreffs because our deficit is an estimate and
   overdrinking causes exercise-associated hyponatraemia (EAH).
2. If body mass rose during the session (measured), or logged intake covered the estimated loss, the advice is
   "no extra fluid" (`fluid_l` = 0.0) and the overdrinking warning is on.
3. The EAH block (§5.7) is always part of the result.
4. Heat guidance appears when the heat balance was uncompensable (w ≥ 1) or the air was 30 °C or hotter.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from alerts import fmt

HEAT_TEMP_C = 30.0
FUTURE_SODIUM_MIN_DURATION_S = 2 * 3600
SALTY_SWEAT_MMOL_L = 60.0

EAH_BLOCK = (
    "Drinking too much is dangerous too. Exercise-associated hyponatraemia (EAH) is low blood sodium "
    "(below 135 mmol/L) during exercise or up to 24 hours after it, and its main cause is drinking more than "
    "you lose. Drink to thirst; if you weigh more after exercise than before, you drank too much. The risk "
    "is higher for women, lighter athletes, people taking anti-inflammatory painkillers (NSAIDs such as "
    "ibuprofen) and in events over 4 hours. Get urgent medical care for confusion, a severe headache, "
    "vomiting, or weight gain after exercise."
)

FOOD = (
    "Food: broth, salted snacks or pretzels, bread and cheese supply sodium. Bananas, spinach and whole "
    "grains supply potassium and magnesium and are good recovery nutrition, but they are not a cramp cure: "
    "sweat holds little potassium, and no food or supplement has been shown to prevent cramps reliably."
)

STRETCH = (
    "If a cramp strikes, gently stretch the cramping muscle (calf, hamstrings or quadriceps) and hold the "
    "stretch until it eases. Evidence that stretching prevents cramps is weak."
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


def cap_fluid(deficit_l: float) -> float:
    """The deficit rounded DOWN to 0.1 L, never above the deficit itself and never below 0."""
    if deficit_l <= 0:
        return 0.0
    tenth = Decimal(deficit_l).quantize(Decimal("0.1"), rounding=ROUND_FLOOR)
    value = float(tenth)
    if value > deficit_l:  # the float nearest to n/10 can sit a hair above the deficit
        value = float(tenth - Decimal("0.1"))
    return max(0.0, value)


def _fluid(session: Mapping[str, Any], units: str) -> tuple[float | None, bool, list[str]]:
    fluid = fmt.section(session, "fluid")
    deficit = fmt.as_number(fluid.get("deficit_l"))
    sweat = fmt.as_number(fluid.get("sweat_l"))
    respiratory = fmt.as_number(fluid.get("respiratory_l")) or 0.0
    intake = fmt.as_number(fluid.get("intake_l"))
    pct = fmt.as_number(fluid.get("body_mass_pct"))
    measured = fluid.get("source") == "measured"

    loss = sweat + respiratory if sweat is not None else None
    mass_rose = measured and pct is not None and pct < 0
    intake_covered = intake is not None and (
        (loss is not None and intake >= loss) or (deficit is not None and deficit <= 0)
    )
    if mass_rose or intake_covered:
        if mass_rose:
            because = (
                "you weighed more after the session than before, which means you drank more than you lost"
            )
        elif loss is not None and intake is not None:
            because = (
                f"you logged {fmt.litres(intake, units)} of drinks, as much as or more than your estimated "
                f"loss of {fmt.litres(loss, units)}"
            )
        else:
            because = "what you logged drinking covers your estimated loss"
        return (
            0.0,
            True,
            [
                f"No extra fluid: {because}. Drink only to thirst for the rest of the day, and see the "
                "warning about drinking too much."
            ],
        )

    if deficit is None:
        return (
            None,
            False,
            ["Fluid: we could not estimate your fluid loss for this session, so drink to thirst."],
        )

    amount = cap_fluid(deficit)
    if amount <= 0:
        return (
            0.0,
            False,
            [
                f"Fluid: your estimated fluid deficit is small ({fmt.litres(max(deficit, 0.0), units, 2)}), "
                "so no extra fluid is needed; drink to thirst."
            ],
        )
    text = (
        f"Fluid: drink up to {fmt.litres(amount, units)} over the next 2–4 hours, spread over meals, and "
        "let thirst guide you; do not force it. That is no more than your estimated fluid deficit"
    )
    low, high = fmt.as_number(fluid.get("sweat_l_low")), fmt.as_number(fluid.get("sweat_l_high"))
    if low is not None and high is not None:
        text += f", and the sweat loss behind it is uncertain (likely {fmt.litres_range(low, high, units)})"
    text += "."
    if intake is None:
        text += (
            " You did not log what you drank, so this assumes you drank nothing during the session: "
            "subtract whatever you did drink."
        )
    return amount, False, [text]


def _sodium(session: Mapping[str, Any], overdrinking: bool) -> tuple[int | None, list[str]]:
    sodium = fmt.section(session, "sodium")
    na = fmt.as_number(sodium.get("mg"))
    if na is None:
        return None, ["Sodium: we could not estimate your sodium loss; salt your recovery meal to taste."]
    target = max(0, int(round(max(na, 0.0) / 50.0)) * 50)
    low, high = fmt.as_number(sodium.get("mg_low")), fmt.as_number(sodium.get("mg_high"))
    likely = f" (likely {fmt.mg_range(low, high)})" if low is not None and high is not None else ""
    if overdrinking:
        return target, [
            f"Sodium: aim for roughly {fmt.mg(target)}{likely}, about what you lost in sweat, from salty "
            "food rather than from extra drinks."
        ]
    return target, [
        f"Sodium: aim for roughly {fmt.mg(target)}{likely}, about what you lost in sweat, from food plus "
        "drinks. A rehydration drink with 40–60 mmol/L of sodium (about 0.9–1.4 g per litre) helps your body "
        "keep the fluid; most sports drinks hold less (about 460–690 mg per litre)."
    ]


def _future(session: Mapping[str, Any], risk: Mapping[str, Any]) -> list[str]:
    duration_s = fmt.as_number(session.get("duration_s"))
    sodium = fmt.section(session, "sodium")
    na = fmt.as_number(sodium.get("mg"))
    concentration = fmt.as_number(sodium.get("concentration_mmol_l"))
    factors = fmt.section(risk, "factors")
    long_session = duration_s is not None and duration_s > FUTURE_SODIUM_MIN_DURATION_S
    salty = concentration is not None and concentration >= SALTY_SWEAT_MMOL_L
    if not (long_session or salty or (factors.get("sodium") or 0) > 0):
        return []
    per_hour = ""
    if na is not None and duration_s:
        per_hour = f" (this session: about {fmt.mg(round(na / (duration_s / 3600.0), -1))} per hour)"
    return [
        "Next time: in sessions longer than 2 hours you could take some sodium during exercise, sized to "
        f"your estimated losses{per_hour}. Never pair it with forced drinking, and know that there is "
        "no proof that it prevents cramps."
    ]


def _heat(session: Mapping[str, Any], units: str) -> str | None:
    fluid = fmt.section(session, "fluid")
    temp = fmt.as_number(fmt.section(session, "ambient").get("temp_c"))
    hot = temp is not None and temp >= HEAT_TEMP_C
    uncompensable = fluid.get("uncompensable_heat") is True
    if not (hot or uncompensable):
        return None
    causes = []
    if temp is not None and hot:
        causes.append(f"it was hot ({fmt.temperature(temp, units)})")
    if uncompensable:
        causes.append("your body could not lose heat as fast as it made it, even by sweating")
    return (
        f"Heat: {' and '.join(causes)}. Cool down now: shade, a cool shower or wet towels. In hot sessions, "
        "slow down and seek shade."
    )


def recommend(
    session: Mapping[str, Any], risk: Mapping[str, Any], *, units: str = "metric"
) -> dict[str, Any]:
    """Recommendations for one session JSON and its risk result (science.md §5).

    Returns {"fluid_l", "sodium_mg", "overdrinking_warning", "heat_guidance", "eah_block", "messages"}.
    `units` only changes how volumes and temperatures are written in the messages, never the numbers.
    """
    fmt.check_units(units)
    fluid_l, overdrinking, fluid_msgs = _fluid(session, units)
    sodium_mg, sodium_msgs = _sodium(session, overdrinking)
    heat = _heat(session, units)
    messages = [*fluid_msgs, *sodium_msgs, *_future(session, risk), FOOD, STRETCH, PROFESSIONAL, URGENT]
    if heat:
        messages.insert(2, heat)
    return {
        "fluid_l": fluid_l,
        "sodium_mg": sodium_mg,
        "overdrinking_warning": overdrinking,
        "heat_guidance": heat,
        "eah_block": EAH_BLOCK,
        "messages": messages,
    }
