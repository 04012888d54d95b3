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


def resolve_inputs(
    athlete: Athlete, hints: dict[str, Any] | None, session_hr_max: float | None
) -> ResolvedInputs:
    """Resolve every body input with its source, collecting `assumptions` entries for non-profile values."""
    hints = hints or {}
    notes: list[dict[str, Any]] = []

    def pick(key: str, hint_key: str | None = None) -> tuple[float | None, str]:
        v = _num(getattr(athlete, key), key)
        if v is not None:
            return v, (
                "weight_history"
                if key == "mass_kg" and athlete.mass_source == "weight_history"
                else "profile"
            )
        v = _num(hints.get(hint_key or key), key)
        if v is not None:
            return v, "device"
        return None, "assumed"

    # mass
    mass, src = pick("mass_kg", "weight_kg")
    if src == "device":
        notes.append(
            assumption(
                "mass_kg",
                mass,
                "device",
                f"Body mass {mass:g} kg {_DEVICE_MSG}.",
                "mass_kg",
                ["energy", "fluid", "sodium"],
            )
        )
    elif mass is None:
        mass = REFERENCE_MASS_KG
        notes.append(
            assumption(
                "mass_kg",
                mass,
                "assumed",
                f"Body mass unknown: a reference {mass:g} kg was used. Add your weight to make energy, sweat "
                "and sodium figures personal.",
                "mass_kg",
                ["energy", "fluid", "sodium", "body_mass_pct"],
            )
        )
    mass_in = Input(mass, src)

    height, src = pick("height_m")
    if src == "device":
        notes.append(
            assumption(
                "height_m",
                height,
                "device",
                f"Height {height:g} m {_DEVICE_MSG}.",
                "height_m",
                ["fluid", "sodium"],
            )
        )
    elif height is None:
        height = REFERENCE_HEIGHT_M
        notes.append(
            assumption(
                "height_m",
                height,
                "assumed",
                f"Height unknown: a reference {height:g} m was used for body surface area. Add your height "
                "to make the sweat estimate personal.",
                "height_m",
                ["fluid", "sodium"],
            )
        )
    height_in = Input(height, src)

    sex = _sex(athlete.sex)
    sex_src = "profile"
    if sex is None:
        sex = _sex(hints.get("sex"))
        sex_src = "device"
        if sex is not None:
            notes.append(assumption("sex", sex, "device", f"Sex {_DEVICE_MSG}.", "sex", ["load", "energy"]))
    if sex is None:
        sex_src = "assumed"
        notes.append(
            assumption(
                "sex",
                None,
                "assumed",
                "Sex unknown: training load and heart-rate energy use the average of the male and female "
                "equations. Add it to your profile to use the right ones.",
                "sex",
                ["load", "energy"],
            )
        )
    sex_in = Input(sex, sex_src)

    age, src = pick("age")
    if src == "device":
        notes.append(assumption("age", age, "device", f"Age {_DEVICE_MSG}.", "age", ["energy"]))
    elif age is None:
        age = REFERENCE_AGE
        notes.append(
            assumption(
                "age",
                age,
                "assumed",
                f"Age unknown: {age:g} years assumed (only used by the heart-rate energy equation). Add your "
                "age to your profile.",
                "age",
                ["energy"],
            )
        )
    age_in = Input(age, src)

    hr_rest, src = pick("hr_rest")
    if src == "device":
        notes.append(
            assumption(
                "hr_rest", hr_rest, "device", f"Resting heart rate {_DEVICE_MSG}.", "hr_rest", ["load"]
            )
        )
    elif hr_rest is None:
        hr_rest = REFERENCE_HR_REST
        notes.append(
            assumption(
                "hr_rest",
                hr_rest,
                "assumed",
                f"Resting heart rate unknown: {hr_rest:g} bpm assumed. Add it to your profile for personal "
                "training load figures.",
                "hr_rest",
                ["load", "energy"],
            )
        )
    assert hr_rest is not None  # the reference value above fills a missing one
    hr_rest_in = Input(hr_rest, src)

    hr_max, src = pick("hr_max")
    if src == "device":
        notes.append(
            assumption(
                "hr_max", hr_max, "device", f"Maximum heart rate {_DEVICE_MSG}.", "hr_max", ["load", "energy"]
            )
        )
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
    hr_max_in = Input(hr_max, src if hr_max is not None else "assumed")

    lthr, src = pick("lthr")
    lthr_known = lthr is not None
    if src == "device":
        notes.append(
            assumption("lthr", lthr, "device", f"Threshold heart rate {_DEVICE_MSG}.", "lthr", ["load"])
        )
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
    lthr_in = Input(lthr, src if lthr is not None else "assumed")

    ftp, src = pick("ftp_w", "ftp_w")
    if src == "device":
        notes.append(
            assumption("ftp_w", ftp, "device", f"FTP {_DEVICE_MSG}.", "ftp_w", ["power.if", "power.tss"])
        )
    ftp_in = Input(ftp, src if ftp is not None else "assumed")

    vo2, src = pick("vo2max")
    vo2_in = Input(vo2, src if vo2 is not None else "assumed")

    return ResolvedInputs(
        mass_kg=mass_in,
        height_m=height_in,
        sex=sex_in,
        age=age_in,
        hr_max=hr_max_in,
        hr_rest=hr_rest_in,
        lthr=lthr_in,
        ftp_w=ftp_in,
        vo2max=vo2_in,
        lthr_known=lthr_known,
        assumptions=notes,
    )
