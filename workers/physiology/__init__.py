"""Physiology models: training load, energy, heat balance, sweat and sodium (pure functions, no I/O).

See /docs/science-implementation.md. `analyze()` is the entry point that produces the session JSON.
"""

ALGORITHM_VERSION = "2026.12.4"  # v2 (science.md §10); .2 cold clothing; .3 cold skin (ISO 11079); .4 hr_flat

from workers.physiology.analyze import analyze  # noqa: E402
from workers.physiology.fluid import calibration_factor  # noqa: E402
from workers.physiology.inputs import Athlete, Conditions, WeighIn  # noqa: E402

__all__ = ["ALGORITHM_VERSION", "Athlete", "Conditions", "WeighIn", "analyze", "calibration_factor"]
