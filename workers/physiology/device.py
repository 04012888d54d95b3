"""The device's own figures (science.md §1 `session` fields; §10.6 for the sweat field 178).

Garmin's estimated sweat loss (session field 178) is a running total across the legs of a multisport file:
a leg's own figure is the difference from the previous leg that carried one.
"""

from __future__ import annotations

from collections.abc import Sequence


def per_leg_from_running_totals(totals: Sequence[float | None]) -> list[float | None]:
    """Each leg's share of a running total (None stays None). Totals that ever decrease are not running
    totals: they are returned unchanged."""
    known = [x for x in totals if x is not None]
    if len(known) < 2 or any(b < a for a, b in zip(known, known[1:], strict=False)):
        return list(totals)
    out: list[float | None] = []
    previous = 0.0
    for x in totals:
        if x is None:
            out.append(None)
            continue
        out.append(x - previous)
        previous = x
    return out
