"""The figures the advice rules read from a session result, in one place. Pure.

Every section is read through the typed result contract (core.result) and its attributes, once: the rules in
alerts.recommend and alerts.risk read `AdviceFacts`, never string keys, so a renamed field is a type error
here instead of a silent None in an email.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import ValidationError

from alerts import fmt
from core.result import (
    MEASURED_TEMP_SOURCES,
    Ambient,
    DataQuality,
    Fluid,
    Load,
    Part,
    Power,
    SessionResult,
    Sodium,
)

log = logging.getLogger("sweatsync.alerts.view")

MAX_PLAUSIBLE_S = 24 * 3600


@dataclass(frozen=True)
class AdviceFacts:
    duration_s: float | None = None
    moving_time_s: float | None = None
    partial: bool = False
    sweat_l: float | None = None
    sweat_low: float | None = None
    sweat_high: float | None = None
    respiratory_l: float | None = None
    intake_l: float | None = None
    deficit_l: float | None = None
    body_mass_pct: float | None = None
    measured: bool = False  # the fluid figures come from a weigh-in
    uncompensable_minutes: float | None = None
    temp_c: float | None = None
    temp_measured: bool = False
    sodium_mg: float | None = None
    sodium_low: float | None = None
    sodium_high: float | None = None
    concentration: float | None = None
    power_if: float | None = None
    power_tss: float | None = None
    hr_intensity: float | None = None
    hrss: float | None = None
    implausible: bool = False
    ftp_stale: bool = False
    hr_flat: bool = False
    quality_reasons: tuple[str, ...] = field(default_factory=tuple)

    @property
    def loss_l(self) -> float | None:
        """Sweat plus breath: what left the body."""
        if self.sweat_l is None:
            return None
        return round(self.sweat_l + (self.respiratory_l or 0.0), 9)  # 2.4 + 0.3 is 2.7, not 2.6999…

    @property
    def intake_known(self) -> bool:
        """Only a logged intake or a weigh-in turns the model's loss into a deficit (§10.7)."""
        return self.measured or self.intake_l is not None

    @property
    def scored_duration_s(self) -> float | None:
        """Duration points count moving time (§10.7); elapsed time only when moving time is unknown."""
        return self.moving_time_s if self.moving_time_s is not None else self.duration_s


def _temp_measured(ambient: Ambient) -> bool:
    if ambient.temp_measured is not None:
        return ambient.temp_measured
    source = (ambient.sources.temp_c if ambient.sources else None) or ambient.source
    return source in MEASURED_TEMP_SOURCES


def _finite(value: Any) -> float | None:
    number = fmt.as_number(value)
    return number if number is not None and math.isfinite(number) else None


_P = TypeVar("_P", bound=Part)


def _part(session: Mapping[str, Any] | SessionResult, name: str, model: type[_P]) -> _P:
    """One section read through the result contract (core.result); a malformed one reads as all unknown."""
    if isinstance(session, SessionResult):
        value = getattr(session, name)
        return value if isinstance(value, model) else model()
    try:
        return model.model_validate(fmt.section(session, name))
    except ValidationError:
        log.warning("alerts.view.malformed_section section=%s", name)
        return model()


def advice_facts(session: Mapping[str, Any] | SessionResult) -> AdviceFacts:
    """The figures of a session result (or its JSON, docs/session-json.md) that the advice and score read."""
    num = _finite
    fluid, sodium = _part(session, "fluid", Fluid), _part(session, "sodium", Sodium)
    ambient, quality = _part(session, "ambient", Ambient), _part(session, "data_quality", DataQuality)
    power, load = _part(session, "power", Power), _part(session, "load", Load)
    if isinstance(session, SessionResult):
        raw_duration, raw_moving, partial = session.duration_s, session.moving_time_s, session.partial
    else:  # a stored JSON: its top-level figures read as numbers or unknown
        raw_duration, raw_moving = session.get("duration_s"), session.get("moving_time_s")
        partial = session.get("partial") is True
    reasons = list(quality.reasons)
    duration = num(raw_duration)
    implausible = quality.implausible
    if duration is not None and duration > MAX_PLAUSIBLE_S and not implausible:
        # science.md §10.6, checked here too: a 27-h recording once asked for 16.9 L.
        implausible, reasons = True, [*reasons, "the recording lasts more than 24 hours"]
    return AdviceFacts(
        duration_s=duration,
        moving_time_s=num(raw_moving),
        partial=partial,
        sweat_l=num(fluid.sweat_l),
        sweat_low=num(fluid.sweat_l_low),
        sweat_high=num(fluid.sweat_l_high),
        respiratory_l=num(fluid.respiratory_l),
        intake_l=num(fluid.intake_l),
        deficit_l=num(fluid.deficit_l),
        body_mass_pct=num(fluid.body_mass_pct),
        measured=fluid.source == "measured",
        uncompensable_minutes=num(fluid.uncompensable_minutes),
        temp_c=num(ambient.temp_c),
        temp_measured=_temp_measured(ambient),
        sodium_mg=num(sodium.mg),
        sodium_low=num(sodium.mg_low),
        sodium_high=num(sodium.mg_high),
        concentration=num(sodium.concentration_mmol_l),
        power_if=num(power.if_),
        power_tss=num(power.tss),
        hr_intensity=num(load.hr_intensity),
        hrss=num(load.hrss),
        implausible=implausible,
        ftp_stale=quality.ftp_stale,
        hr_flat=quality.hr_flat,
        quality_reasons=tuple(reasons),
    )
