"""The normalized activity: what every decoder produces and every model consumes.

Per-record channels are float64 numpy arrays aligned on `t` (seconds since the first record);
a channel the file does not carry is None, a missing sample inside a carried channel is NaN.
Nothing here does I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

CHANNELS = (
    "heart_rate",  # bpm
    "power",  # W
    "speed",  # m/s (enhanced_speed preferred)
    "altitude",  # m (enhanced_altitude preferred)
    "temperature",  # degC, device sensor (biased, see science.md 3.4)
    "cadence",  # rpm / spm
    "distance",  # m, cumulative
    "grade",  # %, some devices
    "core_temperature",  # degC (native field 139 or CORE developer field)
    "skin_temperature",  # degC (CORE developer field)
)


@dataclass
class Activity:
    """One activity (one leg of a multisport file)."""

    t: np.ndarray  # seconds since start_time, monotonic non-decreasing
    start_time: datetime | None = None  # UTC, tz-aware
    sport: str | None = None
    sub_sport: str | None = None
    indoor: bool | None = None  # from sport/sub_sport; None when the file cannot tell
    device: dict[str, Any] = field(default_factory=dict)  # manufacturer, product, serial_number
    # Channel arrays, keyed by the names in CHANNELS; absent key or None = not recorded.
    channels: dict[str, np.ndarray | None] = field(default_factory=dict)
    # The file's own summary (session message), for cross-checks and device estimates:
    # total_timer_time, total_elapsed_time, total_distance, total_calories, avg_heart_rate,
    # max_heart_rate, avg_power, normalized_power, avg_temperature, sweat_loss_ml (field 178),
    # fluid_consumed_ml (field 179; per leg, see physiology/device.py), avg_core_temperature,
    # start_lat/start_lon (first GPS fix, degrees), ...
    summary: dict[str, Any] = field(default_factory=dict)
    # Athlete data the device carries (user_profile, zones_target, time_in_zone): weight_kg,
    # sex, age, height_m, hr_rest, hr_max, lthr, ftp_w. Used only as labelled fallbacks.
    athlete_hints: dict[str, Any] = field(default_factory=dict)
    # GPS track in degrees, aligned on `t` (NaN where a record has no fix); None when the file has no fix.
    lat: np.ndarray | None = None
    lon: np.ndarray | None = None
    # FIT weather_conditions message, if present: temperature_c, relative_humidity_pct, wind_speed_ms.
    weather: dict[str, Any] | None = None
    # Timer pauses: list of (start_t, end_t) in seconds, from FIT timer events.
    pauses: list[tuple[float, float]] = field(default_factory=list)
    partial: bool = False  # records before a fault were kept; the fault is in warnings
    warnings: list[str] = field(default_factory=list)
    decoder: str = "fitparse"  # which decoder produced this activity
    leg_index: int = 0

    def channel(self, name: str) -> np.ndarray | None:
        arr = self.channels.get(name)
        if arr is None or arr.size == 0 or bool(np.all(np.isnan(arr))):
            return None
        return arr

    @property
    def duration_s(self) -> float:
        return float(self.t[-1] - self.t[0]) if self.t.size > 1 else 0.0


MAX_REASON_CHARS = 300
# What a decoder may echo from a hostile file: bytes literals, long runs of numbers (a field read as an
# array), escaped bytes. None of it means anything to the athlete.
_RAW_DATA = re.compile(
    r"""(?<!\w)b'(?:[^'\\]|\\.)*'?|(?<!\w)b"(?:[^"\\]|\\.)*"?|bytearray\([^)]{0,2000}\)?"""
    r"""|[(\[](?:\s*-?\d+(?:\.\d+)?\s*,){3,}[\d\s,.\u2026-]*[)\]]?"""
    r"""|(?:\\x[0-9a-fA-F]{2}){3,}"""
)


def readable_reason(reason: object) -> str:
    """A refusal reason fit to show: raw data replaced by words, one line, at most MAX_REASON_CHARS."""
    text = _RAW_DATA.sub("(unreadable data)", str(reason))
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    if len(text) > MAX_REASON_CHARS:
        text = text[: MAX_REASON_CHARS - 1].rstrip() + "\u2026"
    return text or "the file could not be read"


class FileRejected(Exception):
    """A file of any format (FIT, TCX, GPX, gzip, zip, or none of them) cannot become a session. `reason` is
    written for the athlete, not a developer (and made readable here, whatever a parser put in it)."""

    def __init__(self, reason: str) -> None:
        self.reason = readable_reason(reason)
        super().__init__(self.reason)


class FitRejected(FileRejected):
    """A FIT file cannot become a session (raised by the FIT decoder, workers.fit)."""


@dataclass
class ParseResult:
    activities: list[Activity]
    file_type: str = "activity"
    warnings: list[str] = field(default_factory=list)
    decoder: str = "fitparse"
