"""Step `inputs`: body and anchors with their sources, labelled reference values (science.md §9)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workers.physiology.profile import ResolvedInputs, resolve_inputs
from workers.physiology.steps.work import StepOut, Work

NEEDS = ("time",)


@dataclass
class InputsOut(StepOut):
    resolved: ResolvedInputs

    @property
    def mass(self) -> float:
        return float(self.resolved.mass_kg.value)


def run(w: Work) -> InputsOut:
    hr = w.time.ch["heart_rate"]
    session_hr_max = float(np.nanmax(hr)) if hr is not None else None
    resolved = resolve_inputs(w.given.athlete, w.given.activity.athlete_hints, session_hr_max)
    return InputsOut(resolved=resolved, notes=list(resolved.assumptions))
