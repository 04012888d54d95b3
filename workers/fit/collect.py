"""Collects the neutral message stream of one FIT segment into columns and a few small message lists.

Record values go straight into per-channel Python lists (one append per channel per record, None for a
missing value); they become float64 arrays with NaN only when an activity is built. Nothing here depends on
which decoder produced the messages.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np

# Global message numbers.
FILE_ID = 0
USER_PROFILE = 3
ZONES_TARGET = 7
SPORT = 12
SESSION = 18
RECORD = 20
EVENT = 21
WEATHER_CONDITIONS = 128
HR = 132
FIELD_DESCRIPTION = 206
DEVELOPER_DATA_ID = 207
TIME_IN_ZONE = 216

TIMESTAMP = 253

# Record columns: name -> field numbers tried in order (enhanced_* first).
RECORD_FIELDS: dict[str, tuple[int, ...]] = {
    "heart_rate": (3,),
    "power": (7,),
    "speed": (73, 6),
    "altitude": (78, 2),
    "temperature": (13,),
    "cadence": (4,),
    "distance": (5,),
    "grade": (9,),
    "core_temperature": (139,),
    "position_lat": (0,),
    "position_long": (1,),
}
# Developer-field roles that can feed a record channel.
DEV_ROLES = ("dev_core_temperature", "dev_skin_temperature", "dev_power")

_RECORD_MESG_NAMES = (RECORD, "record")


@dataclass
class DevField:
    app: str  # application id (UUID) or another stable key for the developer
    name: str
    units: str | None
    native_mesg: Any
    native_field: int | None
    scale: float | None
    offset: float | None

    def convert(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return value
        if self.scale:
            value = value / self.scale
        if self.offset:
            value = value - self.offset
        return value


def _dev_role(field: DevField) -> str | None:
    name = field.name.strip().lower()
    on_record = field.native_mesg in _RECORD_MESG_NAMES or field.native_mesg is None
    if not on_record:
        return None
    if name == "core_temperature" or field.native_field == 139:
        return "dev_core_temperature"
    if name == "skin_temperature":
        return "dev_skin_temperature"
    if name == "power" or field.native_field == 7:
        return "dev_power"
    return None


def _app_key(fields: dict[int, Any], index: Any) -> str:
    for num in (1, 0):  # application_id, then developer_id
        value = fields.get(num)
        if isinstance(value, tuple | list | bytes) and len(value) == 16:
            try:
                raw = bytes(int(b) & 0xFF for b in value)
            except (TypeError, ValueError):
                continue
            if any(raw):
                return str(uuid.UUID(bytes=raw))
            return "00000000-0000-0000-0000-000000000000"
    return f"developer-data-index-{index}"


class SegmentData:
    """Sink for one segment's messages (see decoders.Sink)."""

    def __init__(self) -> None:
        self.messages = 0
        self.file_ids: list[dict[int, Any]] = []
        self.sports: list[dict[int, Any]] = []
        self.sessions: list[tuple[dict[int, Any], dict[tuple[int, int], Any] | None]] = []
        self.events: list[tuple[int, Any, Any]] = []
        self.hr: list[dict[int, Any]] = []
        self.user_profiles: list[dict[int, Any]] = []
        self.zones_targets: list[dict[int, Any]] = []
        self.time_in_zones: list[dict[int, Any]] = []
        self.weather: list[dict[int, Any]] = []
        self.dev_apps: dict[Any, str] = {}
        self.dev_fields: dict[tuple[int, int], DevField] = {}
        self._dev_roles: dict[tuple[int, int], str] = {}
        self.untimed_records = 0
        self.ts: Any = []  # FIT seconds: a list of ints, or a float64 array from add_records
        self.columns: dict[str, Any] = {  # lists, or float64 arrays from add_records
            name: [] for name in (*RECORD_FIELDS, *DEV_ROLES)
        }
        self._handlers = {
            FILE_ID: self.file_ids.append,
            SPORT: self.sports.append,
            HR: self.hr.append,
            USER_PROFILE: self.user_profiles.append,
            ZONES_TARGET: self.zones_targets.append,
            TIME_IN_ZONE: self.time_in_zones.append,
            WEATHER_CONDITIONS: self.weather.append,
        }
        cols = self.columns
        self._appenders = tuple((cols[name].append, nums) for name, nums in RECORD_FIELDS.items())
        self._dev_appenders = tuple(cols[name].append for name in DEV_ROLES)

    @property
    def records(self) -> int:
        return len(self.ts)

    @property
    def dev_roles(self) -> dict[tuple[int, int], str]:
        """Developer fields (developer index, field number) that feed a record channel, by role."""
        return self._dev_roles

    def add_records(self, ts: np.ndarray, columns: dict[str, np.ndarray], untimed: int) -> None:
        """Record columns decoded in bulk (the fast path): the same values `message` would have appended,
        as float64 arrays with NaN for a missing value. Only for a segment whose records all come this way."""
        if len(self.ts):
            raise ValueError("records were already collected one by one")
        self.ts = ts
        self.columns = {name: columns[name] for name in self.columns}
        self.untimed_records += untimed
        self.messages += int(ts.size) + untimed

    def message(self, mesg_num: int, fields: dict[int, Any], dev: dict[tuple[int, int], Any] | None) -> None:
        self.messages += 1
        if mesg_num == RECORD:
            self._record(fields, dev)
            return
        handler = self._handlers.get(mesg_num)
        if handler is not None:
            handler(fields)
        elif mesg_num == SESSION:
            self.sessions.append((fields, dev))
        elif mesg_num == EVENT:
            ts = fields.get(TIMESTAMP)
            if isinstance(ts, int):
                self.events.append((ts, fields.get(0), fields.get(1)))
        elif mesg_num == DEVELOPER_DATA_ID:
            index = fields.get(3)
            self.dev_apps[index] = _app_key(fields, index)
        elif mesg_num == FIELD_DESCRIPTION:
            self._field_description(fields)

    def _field_description(self, fields: dict[int, Any]) -> None:
        index, num = fields.get(0), fields.get(1)
        if index is None or num is None:
            return
        name = fields.get(3)
        if isinstance(name, bytes):
            name = name.decode("utf-8", "replace")
        native = fields.get(15)
        scale, offset = fields.get(6), fields.get(7)
        field = DevField(
            app=self.dev_apps.get(index, f"developer-data-index-{index}"),
            name=str(name) if name is not None else f"field_{num}",
            units=fields.get(8) if isinstance(fields.get(8), str) else None,
            native_mesg=fields.get(14),
            native_field=native if isinstance(native, int) else None,
            scale=float(scale) if isinstance(scale, int | float) and scale not in (0, 1) else None,
            offset=float(offset) if isinstance(offset, int | float) and offset else None,
        )
        self.dev_fields[(index, num)] = field
        role = _dev_role(field)
        if role:
            self._dev_roles[(index, num)] = role
        else:
            self._dev_roles.pop((index, num), None)

    def _record(self, fields: dict[int, Any], dev: dict[tuple[int, int], Any] | None) -> None:
        ts = fields.get(TIMESTAMP)
        if not isinstance(ts, int):
            self.untimed_records += 1
            return
        self.ts.append(ts)
        get = fields.get
        for append, nums in self._appenders:
            value = get(nums[0])
            if value is None and len(nums) > 1:
                value = get(nums[1])
            append(value)
        core = skin = power = None
        if dev:
            roles = self._dev_roles
            for key, value in dev.items():
                role = roles.get(key)
                if role is None or value is None:
                    continue
                value = self.dev_fields[key].convert(value)
                if role == "dev_core_temperature":
                    core = value if core is None else core
                elif role == "dev_skin_temperature":
                    skin = value if skin is None else skin
                else:
                    power = value if power is None else power
        core_append, skin_append, power_append = self._dev_appenders
        core_append(core)
        skin_append(skin)
        power_append(power)

    def named_dev_values(self, dev: dict[tuple[int, int], Any] | None) -> dict[tuple[str, str], Any]:
        """Developer values of one message keyed by (application id, field name)."""
        out: dict[tuple[str, str], Any] = {}
        for key, value in (dev or {}).items():
            field = self.dev_fields.get(key)
            if field is not None and value is not None:
                out[(field.app, field.name)] = field.convert(value)
        return out
