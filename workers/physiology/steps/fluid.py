"""Step `fluid`: sweat loss, its range and rate, respiratory water, intake and deficit (science.md §3.1:
measured loss overrides the model; §3.3 outputs). Rate per moving hour; `intake_l` None means unknown."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.result import Fluid
from workers.physiology import fluid as fl
from workers.physiology.report import assumption, missing, num, rnd
from workers.physiology.steps.work import StepOut, Work

NEEDS = ("time", "inputs", "heat")
NO_INTAKE = (
    "No fluid intake logged: the deficit is the 'if you drank nothing' upper bound. Log what you drank to "
    "get your real deficit."
)


@dataclass
class FluidOut(StepOut):
    fluid: Fluid = field(default_factory=Fluid)
    sweat_l: float | None = None
    low: float | None = None
    high: float | None = None


def _intake(w: Work) -> tuple[float | None, str | None]:
    g = w.given
    if g.conditions.fluid_intake_l is not None:
        return float(g.conditions.fluid_intake_l), "override"
    if g.weigh_in is not None:
        return float(g.weigh_in.fluid_l), "weigh_in"
    device_ml = num(w.summary.get("fluid_consumed_ml"))
    return (device_ml / 1000.0, "device") if device_ml is not None else (None, None)


def _measured(w: Work, out: FluidOut) -> None:
    wi = w.given.weigh_in
    assert wi is not None
    if (wi.pre_kg - wi.post_kg) + wi.fluid_l - wi.urine_l < 0:
        out.warnings.append("the weigh-in gives a negative sweat loss; check the weights and fluid entered")
    out.sweat_l = fl.measured_sweat_l(wi)
    out.low, out.high = fl.measured_sweat_range_l(out.sweat_l)
    f = out.fluid
    f.source, f.measured_sweat_l = "measured", rnd(out.sweat_l, 3)
    f.deficit_l = rnd(wi.pre_kg - wi.post_kg, 3)
    f.body_mass_pct = rnd(fl.body_mass_change_pct(wi.pre_kg, wi.post_kg), 2)


def _modelled(w: Work, model_l: float, intake: float | None, out: FluidOut) -> None:
    out.sweat_l = model_l
    out.low, out.high = fl.model_sweat_range_l(model_l, w.time.hours)
    deficit = model_l + (w.heat.respiratory_l or 0.0) - (intake or 0.0)
    out.fluid.source = "model"
    out.fluid.deficit_l = rnd(deficit, 3)
    out.fluid.body_mass_pct = rnd(deficit / w.inputs.mass * 100.0, 2)
    if intake is None:
        out.notes.append(
            assumption(
                "fluid.intake_l",
                None,
                "assumed",
                NO_INTAKE,
                "conditions.fluid_intake_l",
                ["fluid.deficit_l", "fluid.body_mass_pct"],
            )
        )


def run(w: Work) -> FluidOut:
    h = w.heat
    intake, intake_src = _intake(w)
    device_ml = num(w.summary.get("sweat_loss_ml"))
    out = FluidOut()
    out.fluid = Fluid(
        respiratory_l=rnd(h.respiratory_l, 3),
        intake_l=rnd(intake, 3),
        intake_source=intake_src,
        uncompensable_heat=h.uncompensable,
        uncompensable_minutes=rnd(h.uncompensable_minutes, 0),
        device_estimate_l=rnd(device_ml / 1000.0, 3) if device_ml is not None else None,
        model_sweat_l=rnd(h.model_raw_l, 3),
        calibration_factor=rnd(h.calibration, 3),
    )
    if w.given.weigh_in is not None:
        _measured(w, out)
    elif h.model_l is not None:
        _modelled(w, h.model_l, intake, out)
    else:
        out.gaps.append(missing("fluid", "no weigh-in and the sweat model could not run"))
        return out
    assert out.sweat_l is not None
    hours = w.time.moving_hours
    out.fluid.sweat_l, out.fluid.sweat_l_low, out.fluid.sweat_l_high = (
        rnd(out.sweat_l, 3),
        rnd(out.low, 3),
        rnd(out.high, 3),
    )
    out.fluid.rate_l_per_h = rnd(out.sweat_l / hours, 3) if hours > 0 else None
    return out
