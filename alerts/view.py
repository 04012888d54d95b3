"""The figures the advice rules read from a session result, in one place. Pure.

Reading them once, by name, keeps the rules in alerts.recommend and alerts.risk free of key lookups: a
renamed field fails here, loudly, instead of turning into a silent None in an email.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from alerts import fmt

# Temperature sources that are a measurement (or the athlete's own entry), never a default.
MEASURED_TEMP_SOURCES = frozenset({"override", "weather", "weather_message", "head_unit"})
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
    implausible: bool = False
    ftp_stale: bool = False
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


def _temp_measured(ambient: Mapping[str, Any]) -> bool:
    flag = ambient.get("temp_measured")
    if isinstance(flag, bool):
        return flag
    sources = fmt.section(ambient, "sources")
    source = sources.get("temp_c") or ambient.get("source")
    return source in MEASURED_TEMP_SOURCES


def _finite(value: Any) -> float | None:
    number = fmt.as_number(value)
    return number if number is not None and math.isfinite(number) else None


def advice_facts(session: Mapping[str, Any]) -> AdviceFacts:
    """The figures of one session JSON (docs/session-json.md) that the advice and the score read."""
    num = _finite
    fluid, sodium = fmt.section(session, "fluid"), fmt.section(session, "sodium")
    ambient, quality = fmt.section(session, "ambient"), fmt.section(session, "data_quality")
    listed = quality.get("reasons")
    reasons = [str(r) for r in listed] if isinstance(listed, list) else []
    duration = num(session.get("duration_s"))
    implausible = quality.get("implausible") is True
    if duration is not None and duration > MAX_PLAUSIBLE_S and not implausible:
        # science.md §10.6, checked here too: a 27-h recording once asked for 16.9 L.
        implausible, reasons = True, [*reasons, "the recording lasts more than 24 hours"]
    return AdviceFacts(
        duration_s=duration,
        moving_time_s=num(session.get("moving_time_s")),
        partial=session.get("partial") is True,
        sweat_l=num(fluid.get("sweat_l")),
        sweat_low=num(fluid.get("sweat_l_low")),
        sweat_high=num(fluid.get("sweat_l_high")),
        respiratory_l=num(fluid.get("respiratory_l")),
        intake_l=num(fluid.get("intake_l")),
        deficit_l=num(fluid.get("deficit_l")),
        body_mass_pct=num(fluid.get("body_mass_pct")),
        measured=fluid.get("source") == "measured",
        uncompensable_minutes=num(fluid.get("uncompensable_minutes")),
        temp_c=num(ambient.get("temp_c")),
        temp_measured=_temp_measured(ambient),
        sodium_mg=num(sodium.get("mg")),
        sodium_low=num(sodium.get("mg_low")),
        sodium_high=num(sodium.get("mg_high")),
        concentration=num(sodium.get("concentration_mmol_l")),
        implausible=implausible,
        ftp_stale=quality.get("ftp_stale") is True,
        quality_reasons=tuple(reasons),
    )
