"""What the steps share: the given inputs, and the typed output each step adds under its own name.

A step reads `work.<name>` only for names it declares in `needs` (steps/__init__.py checks the order), and
returns one `StepOut` subclass; it never mutates another step's output. `notes` become `assumptions[]`,
`gaps` become `missing[]`, `warnings` the result's `warnings[]`, in step order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workers.activity import Activity
from workers.physiology.inputs import Athlete, Conditions, WeatherObservation, WeighIn

if TYPE_CHECKING:
    from workers.physiology.steps.ambient import AmbientOut
    from workers.physiology.steps.clothing import ClothingOut
    from workers.physiology.steps.device import DeviceOut
    from workers.physiology.steps.energy import EnergyOut
    from workers.physiology.steps.fluid import FluidOut
    from workers.physiology.steps.heat_balance import HeatOut
    from workers.physiology.steps.inputs import InputsOut
    from workers.physiology.steps.load import LoadOut
    from workers.physiology.steps.power import PowerOut
    from workers.physiology.steps.quality import QualityOut
    from workers.physiology.steps.series import SeriesOut
    from workers.physiology.steps.sodium import SodiumOut
    from workers.physiology.steps.solar import SolarOut
    from workers.physiology.steps.timebase import TimeOut


@dataclass
class StepOut:
    notes: list[dict[str, Any]] = field(default_factory=list, kw_only=True)
    gaps: list[dict[str, str]] = field(default_factory=list, kw_only=True)
    warnings: list[str] = field(default_factory=list, kw_only=True)


@dataclass(frozen=True)
class Given:
    activity: Activity
    athlete: Athlete
    conditions: Conditions
    weigh_in: WeighIn | None
    weather: WeatherObservation | None


class Work:
    """The given inputs plus one attribute per step, set by the driver in the declared order."""

    time: TimeOut
    inputs: InputsOut
    load: LoadOut
    power: PowerOut
    quality: QualityOut
    energy: EnergyOut
    ambient: AmbientOut
    clothing: ClothingOut
    solar: SolarOut
    heat: HeatOut
    fluid: FluidOut
    sodium: SodiumOut
    series: SeriesOut
    device: DeviceOut

    def __init__(self, given: Given) -> None:
        self.given = given

    @property
    def summary(self) -> dict[str, Any]:
        return self.given.activity.summary or {}
