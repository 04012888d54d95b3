"""Request and response bodies of the HTTP API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator


class UserCreate(BaseModel):
    email: EmailStr
    display_name: str | None = Field(default=None, max_length=200)

    @field_validator("display_name")
    @classmethod
    def _printable(cls, v: str | None) -> str | None:
        # A name goes into email headers and pages; PostgreSQL cannot even store a NUL.
        if v is not None and not v.isprintable():
            raise ValueError("the name may not contain control characters (line breaks, NUL, ...)")
        return v


class UserCreated(BaseModel):
    id: uuid.UUID
    email: str
    token: str = Field(description="Your API token. It is shown only once: keep it safe.")


class ProfileIn(BaseModel):
    """Fields you leave out keep their current value; send null to clear one."""

    model_config = ConfigDict(extra="forbid")

    mass_kg: float | None = Field(default=None, ge=20, le=300)
    height_m: float | None = Field(default=None, ge=1.0, le=2.5)
    sex: Literal["m", "f"] | None = None
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    hr_max: int | None = Field(default=None, ge=100, le=240)
    hr_rest: int | None = Field(default=None, ge=25, le=120)
    lthr: int | None = Field(default=None, ge=80, le=230)
    ftp_w: int | None = Field(default=None, ge=30, le=700)
    running_ftp_w: int | None = Field(default=None, ge=30, le=800)  # running FTP / critical power
    sweat_sodium_mmol_l: float | None = Field(default=None, ge=5, le=150)
    cramp_history: Literal["none", "ever", "recent"] | None = None
    clothing_clo: float | None = Field(default=None, ge=0.0, le=2.0)


class ProfileOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    mass_kg: float | None = None
    height_m: float | None = None
    sex: str | None = None
    birth_year: int | None = None
    hr_max: int | None = None
    hr_rest: int | None = None
    lthr: int | None = None
    ftp_w: int | None = None
    running_ftp_w: int | None = None
    sweat_sodium_mmol_l: float | None = None
    cramp_history: str = "none"
    clothing_clo: float | None = None


class PreferencesIn(BaseModel):
    """Fields you leave out keep their value."""

    model_config = ConfigDict(extra="forbid")

    alert_min_tier: Literal["high", "moderate"] | None = Field(
        default=None, description="the lowest cramp-risk tier that sends an email (high by default)"
    )
    alerts_opt_out: bool | None = Field(default=None, description="true: never email me")
    units: Literal["metric", "imperial"] | None = None
    webhook_url: str | None = Field(
        default=None, max_length=500, description="HTTPS URL to POST each session to"
    )


class PreferencesOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    alert_min_tier: str
    alerts_opt_out: bool
    units: str
    webhook_url: str | None
    webhook_secret: str | None = Field(description="Verifies the Sweatsync-Signature header of webhook calls")


class UploadOut(BaseModel):
    id: uuid.UUID
    status: str = Field(description="queued, processing, done, failed or duplicate")
    status_url: str
    original_name: str | None
    size: int
    sha256: str
    error: str | None = Field(description="Why the file could not be analysed (status failed)")
    warnings: list[str] = []
    attempts: int
    sessions: list[uuid.UUID] = []
    duplicate_of: uuid.UUID | None = Field(default=None, description="the session this file repeats")
    duplicate_url: str | None = None
    entries: list[uuid.UUID] = Field(default=[], description="for a zip: the upload of each file inside")
    archive_id: uuid.UUID | None = Field(default=None, description="the zip upload this file came from")
    created_at: datetime
    finished_at: datetime | None


class SessionSummary(BaseModel):
    id: uuid.UUID
    upload_id: uuid.UUID
    sport: str | None
    sub_sport: str | None
    start_time: datetime | None
    duration_s: float | None
    distance_m: float | None
    risk_tier: str | None
    sweat_l: float | None
    algorithm_version: str


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    session_id: uuid.UUID | None
    kind: str = Field(description="cramp_risk (email) or webhook")
    status: str = Field(description="pending, sending, sent or failed")
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class WeightIn(BaseModel):
    measured_at: datetime = Field(description="when you weighed yourself (a date or a date-time, UTC)")
    mass_kg: float = Field(ge=20, le=300)


class WeightOut(WeightIn):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID


class WeighInBody(BaseModel):
    """Nude body mass, towelled dry, right before and after the session (science.md §3.1)."""

    model_config = ConfigDict(extra="forbid")

    pre_kg: float = Field(ge=20, le=300)
    post_kg: float = Field(ge=20, le=300)
    fluid_l: float = Field(default=0.0, ge=0, le=20, description="fluid drunk during the session")
    urine_l: float = Field(default=0.0, ge=0, le=5, description="urine passed during the session")


class ConditionsIn(BaseModel):
    """Per-session overrides of what the file cannot know. Send null to drop an override."""

    model_config = ConfigDict(extra="forbid")

    temp_c: float | None = Field(default=None, ge=-40, le=55, description="air temperature")
    humidity_pct: float | None = Field(default=None, ge=0, le=100, description="relative humidity")
    indoor: bool | None = None
    air_speed_ms: float | None = Field(default=None, ge=0, le=30, description="fan or wind speed")
    fluid_intake_l: float | None = Field(
        default=None, ge=0, le=20, description="fluid drunk during the session"
    )


class Recomputing(BaseModel):
    session_id: uuid.UUID
    status: str = "recomputing"
    session_url: str


SessionJson = dict[str, Any]


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="What uses it, e.g. 'watcher on my laptop'")
    expires_in_days: int | None = Field(default=None, ge=1, le=3650, description="None: never expires")


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str = Field(description="The token's first characters, to tell tokens apart")
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The token itself. It is shown only once: keep it safe.")
