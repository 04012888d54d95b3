"""Pure glue between stored profiles/overrides and the physiology models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.models import Profile
from workers.physiology.inputs import Athlete, Conditions


def athlete_from_profile(
    profile: Profile | None,
    *,
    when: datetime | None,
    mass_kg: float | None = None,
    calibration: tuple[float, int] | None = None,
) -> Athlete:
    """The athlete as of the session: `mass_kg` from the dated weight history wins over the profile."""
    factor, n = calibration if calibration and calibration[1] > 0 else (None, 0)
    mass_source = "weight_history" if mass_kg is not None else None
    if profile is None:
        return Athlete(mass_kg=mass_kg, mass_source=mass_source, calibration_factor=factor, calibration_n=n)
    age = None
    if profile.birth_year:
        age = (when.year if when else datetime.now().astimezone().year) - profile.birth_year
    return Athlete(
        mass_kg=mass_kg if mass_kg is not None else profile.mass_kg,
        height_m=profile.height_m,
        sex=profile.sex,
        age=age,
        hr_max=profile.hr_max,
        hr_rest=profile.hr_rest,
        lthr=profile.lthr,
        ftp_w=profile.ftp_w,
        running_ftp_w=profile.running_ftp_w,
        sweat_sodium_mmol_l=profile.sweat_sodium_mmol_l,
        clothing_clo=profile.clothing_clo,
        calibration_factor=factor,
        calibration_n=n,
        mass_source=mass_source,
    )


def conditions_from_overrides(overrides: dict[str, Any]) -> Conditions:
    return Conditions(
        temp_c=overrides.get("temp_c"),
        humidity_pct=overrides.get("humidity_pct"),
        indoor=overrides.get("indoor"),
        air_speed_ms=overrides.get("air_speed_ms"),
        fluid_intake_l=overrides.get("fluid_intake_l"),
    )
