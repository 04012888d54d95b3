"""The model as small named steps, run in a declared order (after GoldenCheetah's metric registry: each step
names what it needs; the order is checked once, at import).

Each step module has `NEEDS` and `run(work) -> <Step>Out`, a pure function of the given inputs and the outputs
of the steps it needs. The table below is the order; docs/science-implementation.md maps each line of
science.md §2, §3 and §10 to its step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from workers.physiology.steps import (
    ambient,
    clothing,
    device,
    energy,
    fluid,
    heat_balance,
    inputs,
    load,
    power,
    quality,
    series,
    sodium,
    solar,
    timebase,
)
from workers.physiology.steps.work import StepOut, Work


@dataclass(frozen=True)
class Step:
    name: str  # the Work attribute it provides
    needs: tuple[str, ...]
    run: Callable[[Work], StepOut]
    section: str  # science.md


def _step(name: str, module: ModuleType, section: str) -> Step:
    return Step(name, tuple(module.NEEDS), module.run, section)


STEPS: tuple[Step, ...] = (
    _step("time", timebase, "§1, §2.5 pauses, §10.6 power spikes"),
    _step("inputs", inputs, "§9"),
    _step("load", load, "§2.1–2.4"),
    _step("power", power, "§2.5, §10.6 running power"),
    _step("quality", quality, "§10.6"),
    _step("energy", energy, "§2.6, §10.6 rowing and swimming"),
    _step("ambient", ambient, "§3.3 step 3, §3.4, §10.4 wind"),
    _step("clothing", clothing, "§3.3 step 4, §10.3"),
    _step("solar", solar, "§10.2"),
    _step("heat", heat_balance, "§3.3 steps 1–11, §10.1, §10.4"),
    _step("fluid", fluid, "§3.1, §3.3 outputs"),
    _step("sodium", sodium, "§3.5"),
    _step("series", series, "§3.3 range over time"),
    _step("device", device, "§1 session fields, §10.6 field 178"),
)


def check_order(steps: tuple[Step, ...]) -> None:
    """Every step needs only what an earlier step provides; every name is provided once."""
    seen: set[str] = set()
    for step in steps:
        unmet = [n for n in step.needs if n not in seen]
        if unmet or step.name in seen:
            raise RuntimeError(f"step {step.name!r} runs before {unmet or 'itself'}")
        seen.add(step.name)


check_order(STEPS)


def run_steps(work: Work) -> Work:
    for step in STEPS:
        setattr(work, step.name, step.run(work))
    return work
