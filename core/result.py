"""The session result: one typed contract for what the models compute, the database stores and the API serves.

`workers.physiology.analyze()` builds a `SessionResult`; `result.to_json()` (= `model_dump(mode="json")`, with
the JSON key `if` for the intensity factor) is what is stored in `WorkoutSession.metrics` and served by
`GET /v1/sessions/{id}`; `SessionResult.model_validate(ws.metrics)` reads a stored row back. The JSON keys are
those of docs/session-json.md. Every section accepts keys it does not know (`extra="allow"`), so rows written
by an older or newer version still validate; a figure that cannot be computed is None, never zero.

Ownership: `science` owns this module except `Risk`, `Recommendations` and anything alert-related (`alerts`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from core.models import WorkoutSession


class Part(BaseModel):
    """A section of the result: permissive on input, serialised by its JSON key names."""

    model_config = ConfigDict(
        extra="allow", validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )


# --- exertion -------------------------------------------------------------------------------------------


class HeartRate(Part):
    avg_bpm: float | None = None
    max_bpm: float | None = None


class Power(Part):
    """science.md §2.5. `if_` is the JSON key `if`."""

    avg_w: float | None = None
    np_w: float | None = None
    if_: float | None = Field(default=None, alias="if")
    tss: float | None = None
    work_kj: float | None = None
    ftp_source: str | None = None  # v2: profile_cycling | profile_running | None (HR intensity used instead)


class Load(Part):
    """science.md §2.1–2.4."""

    trimp_banister: float | None = None
    trimp_edwards: float | None = None
    trimp_lucia: float | None = None
    hrss: float | None = None
    hr_intensity: float | None = None


class Energy(Part):
    """science.md §2.6: `source` is power | speed_grade | heart_rate | device | None."""

    kcal: float | None = None
    source: str | None = None


# --- environment ----------------------------------------------------------------------------------------


class WeatherUsed(Part):
    """The weather observation the ambient step used (science.md §3.4 source 1)."""

    temp_c: float | None = None
    humidity_pct: float | None = None
    wind_ms: float | None = None
    cloud_cover_pct: float | None = None
    shortwave_w_m2: float | None = None
    provider: str | None = None
    samples: int | None = None


class WeatherLookup(Part):
    """What the weather lookup did (workers.weather, owned by `weather`): `status` is used | off |
    not_applicable (indoor, no GPS) | unavailable (provider down, slow, rate-limiting, no data yet), `reason`
    says why no observation was used, `samples` the values per rounded place and hour."""

    status: str | None = None
    reason: str | None = None
    provider: str | None = None
    samples: list[dict[str, Any]] = Field(default_factory=list)


MEASURED_TEMP_SOURCES = frozenset({"override", "weather", "weather_message", "head_unit"})


class AmbientSources(Part):
    """Where each ambient quantity came from: override | weather | weather_message | head_unit |
    ground_speed | default | unknown. `temp_c` in MEASURED_TEMP_SOURCES: measured, not assumed."""

    temp_c: str | None = None
    humidity_pct: str | None = None
    air_speed_ms: str | None = None
    wind_ms: str | None = None  # v2: "unknown" when no observation gives the wind
    solar: str | None = None  # v2: weather | clear_sky_assumed_cloud | no_gps | night | indoor


class Solar(Part):
    """science.md §10.2: the sun's share of the radiant temperature, `tr = ta + delta_mrt_c`."""

    sun_elevation_deg: float | None = None
    delta_mrt_c: float | None = None
    cloud_factor: float | None = None
    irradiance_w_m2: float | None = None  # global horizontal irradiance used
    source: str | None = None  # same vocabulary as AmbientSources.solar


class Clothing(Part):
    """science.md §10.3: insulation used and why (profile | temperature_table | default)."""

    clo: float | None = None
    source: str | None = None


class Ambient(Part):
    """science.md §3.4 and §10.2–10.4."""

    temp_c: float | None = None
    humidity_pct: float | None = None
    air_speed_ms: float | None = None
    source: str | None = None  # of the temperature (kept for v1 readers; same as sources.temp_c)
    humidity_source: str | None = None
    air_speed_source: str | None = None
    confidence: str | None = None  # high | low | assumed
    temp_measured: bool | None = None  # v2: True unless the temperature is a default (alerts §10.7)
    sources: AmbientSources | None = None  # v2
    weather: WeatherUsed | None = None  # v2: the observation used, or None
    weather_lookup: WeatherLookup | None = None  # v2: the lookup's outcome (None: not attempted)
    solar: Solar | None = None  # v2
    clothing: Clothing | None = None  # v2


class HeatBalance(Part):
    """science.md §3.3 and §10.1: session means of the heat-balance terms (v2)."""

    skin_temp_c: float | None = None
    core_temp_c_end: float | None = None
    radiant_temp_c: float | None = None
    air_speed_model_ms: float | None = None  # air speed the convection formula saw (capped, §10.4)
    ereq_w_m2: float | None = None
    emax_w_m2: float | None = None


# --- fluid and sodium -----------------------------------------------------------------------------------


class Fluid(Part):
    """science.md §3.1, §3.3 outputs. `intake_l` None means unknown (never 0)."""

    sweat_l: float | None = None
    sweat_l_low: float | None = None
    sweat_l_high: float | None = None
    rate_l_per_h: float | None = None
    respiratory_l: float | None = None
    intake_l: float | None = None
    intake_source: str | None = None
    deficit_l: float | None = None
    body_mass_pct: float | None = None
    uncompensable_heat: bool | None = None
    uncompensable_minutes: float | None = None
    source: str | None = None  # measured | model | None
    device_estimate_l: float | None = None
    model_sweat_l: float | None = None
    measured_sweat_l: float | None = None
    calibration_factor: float | None = None


class Sodium(Part):
    """science.md §3.5."""

    mg: float | None = None
    mg_low: float | None = None
    mg_high: float | None = None
    concentration_mmol_l: float | None = None
    concentration_source: str | None = None


class DataQuality(Part):
    """science.md §10.6: data that cannot be right. Alerts give no volumes when `implausible` and no risk
    points from intensity when `ftp_stale` (power) or `hr_flat` (heart rate); `reasons` are sentences for the
    athlete."""

    implausible: bool = False
    reasons: list[str] = Field(default_factory=list)
    power_spikes_dropped: int = 0
    ftp_stale: bool = False
    hr_flat: bool = False


# --- alerts (owned by `alerts`) --------------------------------------------------------------------------


class RiskReason(Part):
    factor: str | None = None
    points: int | None = None
    reason: str | None = None


class Risk(Part):
    """science.md §4.2 score (owned by `alerts`)."""

    score: int | None = None
    tier: str | None = None
    factors: dict[str, int] = Field(default_factory=dict)
    reasons: list[RiskReason] = Field(default_factory=list)


class Recommendations(Part):
    """science.md §5 and §10.7 advice (owned by `alerts`)."""

    fluid_l: float | None = None  # a volume to drink: None when intake is unknown, too large or implausible
    fluid_window_h: int | None = None  # spread fluid_l over this many hours (2–6, ≤ 1 L in any hour)
    fluid_mode: str | None = None  # replace | replace_rest | too_large | covered | unknown | withheld
    sodium_mg: float | None = None  # ≤ the estimated loss and ≤ 3,000 mg
    sodium_during_mg_per_h: int | None = None  # future long sessions: 300–600 mg/h
    overdrinking_warning: bool | None = None
    heat_guidance: Any = None
    eah_block: Any = None
    notices: list[str] = Field(default_factory=list)  # partial file, implausible recording: shown first
    messages: list[str] = Field(default_factory=list)


class Alert(Part):
    """Whether this session's event was emailed, and why not (owned by `alerts`, science.md §10.8).
    `status`: queued | not_due | below_tier | opted_out | already_alerted; `reason` is for the athlete."""

    status: str | None = None
    send: bool = False
    reason: str | None = None


class Event(Part):
    """The event this session belongs to when it has other sessions (legs of one file, gaps under 2 h).
    `risk`, `recommendations` and `alert` of every leg are the event's (owned by `alerts`)."""

    key: str | None = None
    session_ids: list[str] = Field(default_factory=list)
    legs: int | None = None
    moving_time_s: float | None = None
    sodium_mg: float | None = None


# --- device, inputs, series, notes ----------------------------------------------------------------------


class Device(Part):
    """The device's own figures, shown side by side (never used as ours without saying so)."""

    np_w: float | None = None
    tss: float | None = None
    if_: float | None = Field(default=None, alias="if")
    kcal: float | None = None
    avg_temperature_c: float | None = None
    max_temperature_c: float | None = None
    core_temp_avg_c: float | None = None
    core_temp_max_c: float | None = None
    sweat_loss_l: float | None = None
    fluid_consumed_l: float | None = None


class InputValue(Part):
    value: Any = None
    source: str | None = None


class Inputs(Part):
    """science.md §9: each athlete input with where it came from."""

    mass_kg: InputValue = Field(default_factory=InputValue)
    height_m: InputValue = Field(default_factory=InputValue)
    sex: InputValue = Field(default_factory=InputValue)
    age: InputValue = Field(default_factory=InputValue)
    hr_max: InputValue = Field(default_factory=InputValue)
    hr_rest: InputValue = Field(default_factory=InputValue)
    lthr: InputValue = Field(default_factory=InputValue)
    ftp_w: InputValue = Field(default_factory=InputValue)
    vo2max: InputValue = Field(default_factory=InputValue)
    clothing_clo: InputValue = Field(default_factory=InputValue)


class Series(Part):
    t_min: list[float | None] = Field(default_factory=list)
    heart_rate: list[float | None] | None = None
    power: list[float | None] | None = None
    speed_kmh: list[float | None] | None = None  # web charts
    temperature_c: list[float | None] | None = None  # the device's sensor as recorded; web charts
    fluid_l: list[float | None] | None = None
    fluid_l_low: list[float | None] | None = None
    fluid_l_high: list[float | None] | None = None


class Assumption(Part):
    field: str
    value: Any = None
    source: str | None = None
    message: str = ""
    personalize_with: str | None = None
    affects: list[str] = Field(default_factory=list)


class Missing(Part):
    figure: str
    reason: str


class SessionResult(Part):
    """One analysed activity (a leg of a multisport file is one result). See docs/session-json.md."""

    sport: str | None = None
    sub_sport: str | None = None
    indoor: bool | None = None
    start_time: str | None = None  # ISO 8601 UTC, "Z"
    duration_s: float | None = None
    moving_time_s: float | None = None
    distance_m: float | None = None
    partial: bool = False
    decoder: str | None = None
    warnings: list[str] = Field(default_factory=list)
    heart_rate: HeartRate = Field(default_factory=HeartRate)
    power: Power = Field(default_factory=Power)
    load: Load = Field(default_factory=Load)
    energy: Energy = Field(default_factory=Energy)
    ambient: Ambient = Field(default_factory=Ambient)
    heat: HeatBalance | None = None  # v2
    fluid: Fluid = Field(default_factory=Fluid)
    sodium: Sodium = Field(default_factory=Sodium)
    data_quality: DataQuality = Field(default_factory=DataQuality)
    risk: Risk | None = None
    recommendations: Recommendations | None = None
    alert: Alert | None = None
    event: Event | None = None
    device: Device = Field(default_factory=Device)
    inputs: Inputs = Field(default_factory=Inputs)
    series: Series = Field(default_factory=Series)
    assumptions: list[Assumption] = Field(default_factory=list)
    missing: list[Missing] = Field(default_factory=list)
    algorithm_version: str | None = None

    def to_json(self) -> dict[str, Any]:
        """What is stored in WorkoutSession.metrics and served (docs/session-json.md)."""
        return self.model_dump(mode="json")


def stored_result(ws: WorkoutSession) -> SessionResult:
    """A stored session's result, read back through the contract."""
    return SessionResult.model_validate(ws.metrics or {})


def served_json(ws: WorkoutSession) -> dict[str, Any]:
    """The API's session object: the stored result with its `id` and `upload_id` first."""
    return {"id": str(ws.id), "upload_id": str(ws.upload_id), **stored_result(ws).to_json()}
