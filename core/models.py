"""SQLAlchemy 2 models. Portable across SQLite and PostgreSQL (UUID, JSON, tz-aware times)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class TZDateTime(TypeDecorator[datetime]):
    """Refuses naive datetimes; always hands back UTC-aware ones (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise TypeError("tzinfo is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {datetime: TZDateTime, dict[str, Any]: JSON, uuid.UUID: Uuid}


class UploadStatus:
    QUEUED = "queued"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"
    DUPLICATE = "duplicate"  # the same activity is already a session (see duplicate_of)


class OutboxStatus:
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    # Before 0003 the one API token lived here; tokens are now rows of api_tokens (kept nullable, unused).
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # argon2id hash; None for an account created by the CLI or an invitation until a password is chosen.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    alert_min_tier: Mapped[str] = mapped_column(String(16), default="high")
    alerts_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    units: Mapped[str] = mapped_column(String(16), default="metric")
    # Optional outgoing webhook (HTTPS); the secret signs each delivery (HMAC-SHA256).
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    profile: Mapped[Profile | None] = relationship(back_populates="user", uselist=False)


class Profile(Base):
    __tablename__ = "profiles"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    mass_kg: Mapped[float | None] = mapped_column(Float)
    height_m: Mapped[float | None] = mapped_column(Float)
    sex: Mapped[str | None] = mapped_column(String(1))  # "m" or "f"
    birth_year: Mapped[int | None] = mapped_column(Integer)
    hr_max: Mapped[int | None] = mapped_column(Integer)
    hr_rest: Mapped[int | None] = mapped_column(Integer)
    lthr: Mapped[int | None] = mapped_column(Integer)
    ftp_w: Mapped[int | None] = mapped_column(Integer)
    running_ftp_w: Mapped[int | None] = mapped_column(Integer)  # running FTP / critical power (science §10.6)
    sweat_sodium_mmol_l: Mapped[float | None] = mapped_column(Float)
    cramp_history: Mapped[str] = mapped_column(String(16), default="none")  # none|ever|recent
    clothing_clo: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(back_populates="profile")


class Upload(Base):
    __tablename__ = "uploads"
    __table_args__ = (UniqueConstraint("user_id", "sha256", name="uq_uploads_user_sha256"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    original_name: Mapped[str | None] = mapped_column(String(255))
    # Path relative to the raw-file directory: {user_id}/{upload_id}.fit[.gz]
    storage_key: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=UploadStatus.QUEUED, index=True)
    error: Mapped[str | None] = mapped_column(Text)
    warnings: Mapped[list[Any] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Who holds the processing lease: a redelivered task may take over when the lease ran out,
    # or at once when the holder was a process on this host that no longer exists.
    # The athlete asked to analyse it even if it repeats an existing activity.
    force: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Set for uploads that came out of a .zip upload.
    archive_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("uploads.id", ondelete="SET NULL", name="fk_uploads_archive_id")
    )
    # The session this upload repeats. No foreign key: uploads and sessions would reference each other.
    duplicate_of: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    worker_pid: Mapped[int | None] = mapped_column(Integer)
    worker_host: Mapped[str | None] = mapped_column(String(255))
    locked_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()

    sessions: Mapped[list[WorkoutSession]] = relationship(back_populates="upload")


class WorkoutSession(Base):
    """One analysed activity (one leg of a multisport file is one session)."""

    __tablename__ = "sessions"
    __table_args__ = (UniqueConstraint("upload_id", "leg_index", name="uq_sessions_upload_leg"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    upload_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("uploads.id", ondelete="CASCADE"))
    leg_index: Mapped[int] = mapped_column(Integer, default=0)
    sport: Mapped[str | None] = mapped_column(String(64))
    sub_sport: Mapped[str | None] = mapped_column(String(64))
    indoor: Mapped[bool | None] = mapped_column(Boolean)
    start_time: Mapped[datetime | None] = mapped_column(index=True)
    # Manufacturer, product, serial and start second: the same recording in another file has the same key.
    device_key: Mapped[str | None] = mapped_column(String(200), index=True)
    duration_s: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[float | None] = mapped_column(Float)
    # The whole session JSON (see README "Session JSON"): numbers, inputs, assumptions, ranges.
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Per-session overrides of ambient conditions and intake (science.md §3.4).
    overrides: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    algorithm_version: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    upload: Mapped[Upload] = relationship(back_populates="sessions")


class AlertOutbox(Base):
    """Transactional outbox: one row per (session, alert kind), guaranteed by dedup_key UNIQUE."""

    __tablename__ = "alert_outbox"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32))
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient: Mapped[str] = mapped_column(String(320))
    # Rendered message: subject, text, html, headers. Rendering happens once, at enqueue time.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column()
    message_id: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()


class CrampReport(Base):
    """The athlete's answer to "did you cramp?" for one session; feeds the history factor."""

    __tablename__ = "cramp_reports"

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    cramped: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BodyWeight(Base):
    """Dated weight history: the mass in force on a session's date is the one used."""

    __tablename__ = "body_weights"
    __table_args__ = (UniqueConstraint("user_id", "measured_at", name="uq_body_weights_user_time"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    measured_at: Mapped[datetime] = mapped_column()
    mass_kg: Mapped[float] = mapped_column(Float)


class WeighIn(Base):
    """Nude body mass before and after one session: the measured sweat loss (science.md §3.1)."""

    __tablename__ = "weigh_ins"

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    pre_kg: Mapped[float] = mapped_column(Float)
    post_kg: Mapped[float] = mapped_column(Float)
    fluid_l: Mapped[float] = mapped_column(Float, default=0.0)
    urine_l: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WeatherCache(Base):
    """One provider's hourly observation at a rounded place, kept so a recompute or a club of riders on the
    same ride costs one call. Places are stored in 1e-4 degree units so the key never compares floats."""

    __tablename__ = "weather_cache"
    __table_args__ = (
        UniqueConstraint("provider", "lat_e4", "lon_e4", "hour", name="uq_weather_cache_place_hour"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(40))
    lat_e4: Mapped[int] = mapped_column(Integer)
    lon_e4: Mapped[int] = mapped_column(Integer)
    hour: Mapped[datetime] = mapped_column()  # UTC, on the hour
    temp_c: Mapped[float | None] = mapped_column(Float)
    humidity_pct: Mapped[float | None] = mapped_column(Float)
    wind_ms: Mapped[float | None] = mapped_column(Float)
    cloud_cover_pct: Mapped[float | None] = mapped_column(Float)
    shortwave_w_m2: Mapped[float | None] = mapped_column(Float)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """A named API token: shown once, stored as an HMAC-SHA256 hash, revocable, optionally expiring."""

    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # The first characters of the token, so the athlete can tell tokens apart; not enough to use one.
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()


class WebSession(Base):
    """A signed-in browser. The cookie holds a random id; only its SHA-256 is stored, so sign-out is real."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()


class AccountLink(Base):
    """A one-time emailed link: password reset or invitation. Stored hashed; used once; expires."""

    __tablename__ = "account_links"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # "reset" | "invite"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
