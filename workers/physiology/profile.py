"""Athlete inputs with their provenance (science.md §9).

Each field comes from the profile (or a session override), else from the recording device's own profile
(labelled "device"), else from a labelled reference value ("assumed") — never a silent default. A field that
has no sensible reference (FTP) stays None and the figures that need it are reported as missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workers.physiology.inputs import Athlete
from workers.physiology.load import default_lthr
from workers.physiology.report import assumption

REFERENCE_MASS_KG = 70.0
REFERENCE_HEIGHT_M = 1.75
REFERENCE_HR_REST = 60.0
REFERENCE_AGE = 35.0  # middle of Keytel's 18–45 y derivation sample

# plausible ranges; values outside are ignored (e.g. TrainingPeaks Virtual writes age 99, gender 2)
RANGES: dict[str, tuple[float, float]] = {
    "mass_kg": (25.0, 250.0),
    "height_m": (1.0, 2.5),
    "age": (8.0, 98.0),
    "hr_max": (100.0, 240.0),
    "hr_rest": (25.0, 110.0),
    "lthr": (80.0, 230.0),
    "ftp_w": (30.0, 700.0),
    "vo2max": (15.0, 95.0),
}


@dataclass(frozen=True)
class Input:
    value: Any
    source: str  # profile | weight_history | override | device | session | assumed

    def as_json(self, digits: int | None = None) -> dict[str, Any]:
        v = self.value
        if isinstance(v, float) and digits is not None:
            v = round(v, digits)
        return {"value": v, "source": self.source}


def _num(x: Any, key: str) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    lo, hi = RANGES[key]
    return v if lo <= v <= hi else None


def _sex(x: Any) -> str | None:
    s = str(x).strip().lower() if x is not None else ""
    return {"m": "m", "male": "m", "man": "m", "f": "f", "female": "f", "woman": "f"}.get(s)


@dataclass
class ResolvedInputs:
    mass_kg: Input
    height_m: Input
    sex: Input
    age: Input
    hr_max: Input
    hr_rest: Input
    lthr: Input  # the value used for HRSS / HR intensity (may be the formula default)
    ftp_w: Input
    vo2max: Input
    lthr_known: bool  # True when LTHR came from the profile or the device (Lucia TRIMP needs it)
    assumptions: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {
            "mass_kg": self.mass_kg.as_json(1),
            "height_m": self.height_m.as_json(2),
            "sex": self.sex.as_json(),
            "age": self.age.as_json(0),
            "hr_max": self.hr_max.as_json(0),
            "hr_rest": self.hr_rest.as_json(0),
            "lthr": self.lthr.as_json(0),
            "ftp_w": self.ftp_w.as_json(0),
        }


_DEVICE_MSG = "taken from your device's user profile"
# key: (how the device note names it, what it affects)
_DEVICE_NOTE: dict[str, tuple[str, list[str]]] = {
    "mass_kg": ("Body mass {v:g} kg", ["energy", "fluid", "sodium"]),
    "height_m": ("Height {v:g} m", ["fluid", "sodium"]),
    "age": ("Age", ["energy"]),
    "hr_rest": ("Resting heart rate", ["load"]),
    "hr_max": ("Maximum heart rate", ["load", "energy"]),
    "lthr": ("Threshold heart rate", ["load"]),
    "ftp_w": ("FTP", ["power.if", "power.tss"]),
}
# key: (labelled reference value, message, what it affects) — science.md §9
_REFERENCE: dict[str, tuple[float, str, list[str]]] = {
    "mass_kg": (
        REFERENCE_MASS_KG,
        "Body mass unknown: a reference {v:g} kg was used. Add your weight to make energy, sweat and sodium "
        "figures personal.",
        ["energy", "fluid", "sodium", "body_mass_pct"],
    ),
    "height_m": (
        REFERENCE_HEIGHT_M,
        "Height unknown: a reference {v:g} m was used for body surface area. Add your height to make the "
        "sweat estimate personal.",
        ["fluid", "sodium"],
    ),
    "age": (
        REFERENCE_AGE,
        "Age unknown: {v:g} years assumed (only used by the heart-rate energy equation). Add your age to "
        "your profile.",
        ["energy"],
    ),
    "hr_rest": (
        REFERENCE_HR_REST,
        "Resting heart rate unknown: {v:g} bpm assumed. Add it to your profile for personal training load "
        "figures.",
        ["load", "energy"],
    ),
}
_SEX_UNKNOWN = (
    "Sex unknown: training load and heart-rate energy use the average of the male and female equations. Add "
    "it to your profile to use the right ones."
)


def _pick(athlete: Athlete, hints: dict[str, Any], key: str, hint_key: str) -> tuple[float | None, str]:
    """(value, source): the profile (or weight history), else the device, else (None, 'assumed')."""
    v = _num(getattr(athlete, key), key)
    if v is not None:
        history = key == "mass_kg" and athlete.mass_source == "weight_history"
        return v, "weight_history" if history else "profile"
    v = _num(hints.get(hint_key), key)
    return (v, "device") if v is not None else (None, "assumed")


def _device_note(key: str, value: float) -> dict[str, Any]:
    label, affects = _DEVICE_NOTE[key]
    return assumption(key, value, "device", f"{label.format(v=value)} {_DEVICE_MSG}.", key, affects)


def _resolve(
    athlete: Athlete,
    hints: dict[str, Any],
    key: str,
    notes: list[dict[str, Any]],
    hint_key: str | None = None,
) -> Input:
    """One input by §9's order; a reference value (if the key has one) when nothing gives it, labelled."""
    value, src = _pick(athlete, hints, key, hint_key or key)
    if src == "device" and value is not None and key in _DEVICE_NOTE:
        notes.append(_device_note(key, value))
    elif value is None and key in _REFERENCE:
        value, message, affects = _REFERENCE[key]
        notes.append(assumption(key, value, "assumed", message.format(v=value), key, affects))
    return Input(value, src if value is not None or key in _REFERENCE else "assumed")


def _resolve_sex(athlete: Athlete, hints: dict[str, Any], notes: list[dict[str, Any]]) -> Input:
    sex = _sex(athlete.sex)
    if sex is not None:
        return Input(sex, "profile")
    sex = _sex(hints.get("sex"))
    if sex is not None:
        notes.append(assumption("sex", sex, "device", f"Sex {_DEVICE_MSG}.", "sex", ["load", "energy"]))
        return Input(sex, "device")
    notes.append(assumption("sex", None, "assumed", _SEX_UNKNOWN, "sex", ["load", "energy"]))
    return Input(None, "assumed")


def _resolve_hr_max(
    athlete: Athlete, hints: dict[str, Any], hr_rest: float, session_hr_max: float | None, notes: list
) -> Input:
    hr_max, src = _pick(athlete, hints, "hr_max", "hr_max")
    if src == "device" and hr_max is not None:
        notes.append(_device_note("hr_max", hr_max))
    elif hr_max is None and session_hr_max is not None and session_hr_max > hr_rest:
        hr_max, src = float(session_hr_max), "session"
        notes.append(
            assumption(
                "hr_max",
                hr_max,
                "session",
                f"Maximum heart rate unknown: this session's own maximum ({hr_max:.0f} bpm) was used, which "
                "is usually below your true maximum and overstates intensity. Add your maximum heart rate to "
                "your profile.",
                "hr_max",
                ["load", "energy"],
            )
        )
    if hr_max is not None and hr_max <= hr_rest:
        hr_max, src = None, "assumed"
    if hr_max is not None and session_hr_max is not None and session_hr_max > hr_max + 2 and src != "session":
        notes.append(
            assumption(
                "hr_max",
                hr_max,
                src,
                f"This session reached {session_hr_max:.0f} bpm, above your maximum of {hr_max:.0f} bpm; "
                "consider updating it (heart rate above the maximum counts as 100 % of reserve).",
                "hr_max",
                ["load"],
            )
        )
    return Input(hr_max, src if hr_max is not None else "assumed")


def _resolve_lthr(
    athlete: Athlete, hints: dict[str, Any], hr_rest: float, hr_max: float | None, notes: list
) -> tuple[Input, bool]:
    lthr, src = _pick(athlete, hints, "lthr", "lthr")
    known = lthr is not None
    if src == "device" and lthr is not None:
        notes.append(_device_note("lthr", lthr))
    elif lthr is None and hr_max is not None:
        lthr = default_lthr(hr_rest, hr_max)
        notes.append(
            assumption(
                "lthr",
                round(lthr, 0),
                "assumed",
                f"Threshold heart rate unknown: {lthr:.0f} bpm assumed (resting + 85 % of heart-rate "
                "reserve). Add your lactate-threshold heart rate for personal load and intensity figures.",
                "lthr",
                ["load.hrss", "load.hr_intensity"],
            )
        )
    return Input(lthr, src if lthr is not None else "assumed"), known


def resolve_inputs(
    athlete: Athlete, hints: dict[str, Any] | None, session_hr_max: float | None
) -> ResolvedInputs:
    """Resolve every body input with its source, collecting `assumptions` entries for non-profile values."""
    hints = hints or {}
    notes: list[dict[str, Any]] = []
    mass = _resolve(athlete, hints, "mass_kg", notes, "weight_kg")
    height = _resolve(athlete, hints, "height_m", notes)
    sex = _resolve_sex(athlete, hints, notes)
    age = _resolve(athlete, hints, "age", notes)
    hr_rest = _resolve(athlete, hints, "hr_rest", notes)
    rest = float(hr_rest.value)
    hr_max = _resolve_hr_max(athlete, hints, rest, session_hr_max, notes)
    lthr, lthr_known = _resolve_lthr(athlete, hints, rest, hr_max.value, notes)
    ftp = _resolve(athlete, hints, "ftp_w", notes)
    vo2 = _resolve(athlete, hints, "vo2max", notes)
    return ResolvedInputs(
        mass_kg=mass,
        height_m=height,
        sex=sex,
        age=age,
        hr_max=hr_max,
        hr_rest=hr_rest,
        lthr=lthr,
        ftp_w=ftp,
        vo2max=vo2,
        lthr_known=lthr_known,
        assumptions=notes,
    )
