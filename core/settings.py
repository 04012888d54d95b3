"""One typed settings object, read from SWEATSYNC_* environment variables.

The embedded defaults (SQLite under ./var, a broker the service starts itself, a file outbox)
and the production stack (PostgreSQL, Redis, SMTP) differ only in these values.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "dev-secret-change-me"  # noqa: S105 - the known development value, refused in public
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "testserver"}
# Keys published in this repository's history or docs (the compose file once fell back to the second one).
KNOWN_SECRET_KEYS = frozenset({DEV_SECRET_KEY, "change-me-in-production", "change-me", "changeme", "secret"})


class SmtpConfig(BaseModel):
    """Parsed form of SWEATSYNC_SMTP_URL: smtp://user:pass@host:587?starttls=1 or smtps://host:465."""

    host: str
    port: int
    username: str | None = None
    password: str | None = Field(default=None, repr=False)
    use_tls: bool = False  # implicit TLS (smtps)
    starttls: bool = False
    timeout_s: float = 10.0


def parse_smtp_url(url: str) -> SmtpConfig:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError(f"SMTP URL must start with smtp:// or smtps://, got {parts.scheme!r}")
    query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
    truthy = ("1", "true", "yes", "on")
    use_tls = parts.scheme == "smtps" or query.get("tls") in truthy
    return SmtpConfig(
        host=parts.hostname or "localhost",
        port=parts.port or (465 if use_tls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=use_tls,
        starttls=not use_tls and query.get("starttls") in truthy,
        timeout_s=float(query.get("timeout", 10)),
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWEATSYNC_", env_ignore_empty=True, extra="ignore")

    # One fixed place per machine account, so `sweatsync up` and `sweatsync user ...` run from any folder
    # find the same database (a relative ./var gave each working directory its own).
    var_dir: Path = Field(default_factory=lambda: default_var_dir())
    # None means: derived from var_dir (SQLite file, raw-file folder, outbox folder).
    database_url: str | None = None
    # None means: `sweatsync up` starts its own redis-server on a private port.
    broker_url: str | None = None
    # None means: emails are written as .eml files to outbox_dir.
    smtp_url: SecretStr | None = None
    raw_dir: Path | None = None
    outbox_dir: Path | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    max_upload_bytes: int = 25 * 1024 * 1024
    # Request limits (429 + Retry-After; `limits` notation: "100/minute"). Counted in Redis so they hold
    # across API processes: this URL, else the broker's Redis, else in memory. rate_limits_enabled=false
    # only for load tests.
    rate_limit_storage_url: str | None = None
    rate_limit_per_address: str = "600/minute"
    rate_limit_per_token: str = "300/minute"  # noqa: S105 - a rate, not a secret
    rate_limit_uploads_per_token: str = "100/minute"  # noqa: S105
    # POSTs to sign-in, sign-up, password reset, invitations and POST /v1/users, per address.
    rate_limit_account_forms: str = "20/minute"
    rate_limits_enabled: bool = True
    # Uploads of one user waiting for a worker (queued or processing); more answer 429.
    max_waiting_uploads_per_user: int = 100
    # Request line plus headers (uvicorn/h11 buffer); longer ones are dropped by the server.
    max_request_head_bytes: int = 256 * 1024
    # Hard cap on a decompressed .fit.gz (a 100 KB gzip can expand to gigabytes).
    max_decompressed_bytes: int = 100 * 1024 * 1024
    # A .zip upload: at most this many files, each file and all together under max_decompressed_bytes.
    max_zip_entries: int = 200
    mail_from: str = "sweatsync <alerts@sweatsync.localhost>"
    # Signs one-click links and hashes API tokens. Set it in production.
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)
    # Celery time limits for one upload (FIT parsers must never hold a worker forever).
    task_soft_time_limit_s: int = 240
    task_time_limit_s: int = 300
    broker_visibility_timeout_s: int = 900
    max_attempts: int = 3
    # Sweeper: uploads queued this long are re-enqueued (processing ones when their lease ran out).
    # stuck_after_s <= sweep_interval_s: an upload whose message was lost is sent within two sweeps.
    stuck_after_s: int = 60
    sweep_interval_s: float = 60.0
    webhook_timeout_s: float = 10.0
    # Lets tests deliver webhooks to a plain-http server on loopback; never set it in production.
    webhook_allow_insecure_localhost: bool = False
    relay_interval_s: float = 10.0
    # Weather at the session's place and time (science.md §3.4 source 1), fetched by the worker.
    # OFF by default: when on, a rounded location (weather_place_round_deg) and the session's hours leave
    # the server for the provider. Nothing else does (no user, no file, no track).
    weather_enabled: bool = False
    weather_provider: Literal["none", "open-meteo"] = "open-meteo"
    # Open-Meteo's historical archive endpoint (no key needed); a mirror or self-hosted instance works too.
    weather_base_url: str = "https://archive-api.open-meteo.com/v1/archive"
    # Hours the archive has not filled yet (it lags a few days) are asked here, Open-Meteo's forecast API,
    # which keeps the recent past; "none" asks the archive only (a later recompute then picks them up).
    weather_recent_url: str = "https://api.open-meteo.com/v1/forecast"
    weather_timeout_s: float = 5.0  # per request (connect, read)
    weather_attempts: int = 3  # per request, on connect errors, timeouts, 429 and 5xx
    # All retries of one request, Retry-After waits included, stop after this; longer Retry-After: give up.
    weather_retry_budget_s: float = 15.0
    # The place sent (and cached) is rounded to this grid: 0.1 degree is about 11 km, the archive's own scale.
    weather_place_round_deg: float = Field(default=0.1, gt=0, le=1)
    # Alerts (science.md §10.8): only sessions that ended this many hours before their analysis are emailed
    # as "act now"; older ones (a watch folder's history, a late import) are analysed and listed only.
    alert_window_h: float = 24.0
    # The outbox relay: rows per batch, retry backoff (exponential from base, capped), attempts before a row
    # is marked failed, and how long a claimed row stays locked to one relay.
    relay_batch_size: int = 50
    relay_backoff_base_s: float = 30.0
    relay_backoff_cap_s: float = 3600.0
    relay_max_attempts: int = 10
    relay_lock_s: float = 120.0
    # web (accounts): None = open sign-up only while the service is on loopback (a personal install);
    # a public server is invitation/CLI only unless this is set to true.
    open_signup: bool | None = None
    web_session_days: int = 14

    @field_validator("rate_limit_per_address", "rate_limit_per_token", "rate_limit_uploads_per_token")
    @classmethod
    def _rate(cls, v: str) -> str:
        from limits import parse

        parse(v)  # "100/minute", "5 per 2 minutes"; a typo fails at start, not at the first request
        return v

    @field_validator("public_base_url")
    @classmethod
    def _strip_slash(cls, v: str) -> str:
        return v.rstrip("/")

    @model_validator(mode="after")
    def _no_default_secret_in_public(self) -> Settings:
        # The development key signs one-click links; anyone could forge them on a public server.
        host = urlsplit(self.public_base_url).hostname or ""
        if self.secret_key.get_secret_value() in KNOWN_SECRET_KEYS and host not in LOOPBACK_HOSTS:
            raise ValueError(
                f"SWEATSYNC_SECRET_KEY must be set when the service is public ({self.public_base_url})"
            )
        return self

    @field_validator("var_dir")
    @classmethod
    def _absolute_var_dir(cls, v: Path) -> Path:
        return v.expanduser().resolve()

    @property
    def signup_open(self) -> bool:
        if self.open_signup is not None:
            return self.open_signup
        return (urlsplit(self.public_base_url).hostname or "") in LOOPBACK_HOSTS

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'sweatsync.db').resolve()}"

    @property
    def effective_raw_dir(self) -> Path:
        return (self.raw_dir or self.var_dir / "raw").resolve()

    @property
    def effective_outbox_dir(self) -> Path:
        return (self.outbox_dir or self.var_dir / "outbox").resolve()

    @property
    def weather_active(self) -> bool:
        return self.weather_enabled and self.weather_provider != "none"

    @property
    def smtp(self) -> SmtpConfig | None:
        return parse_smtp_url(self.smtp_url.get_secret_value()) if self.smtp_url else None


def require_own_secret(settings: Settings, bind_host: str) -> None:
    """A server reachable from other machines must sign with a key of its own, whatever its public URL says
    (compose sets a loopback URL and listens on 0.0.0.0)."""
    if settings.secret_key.get_secret_value() in KNOWN_SECRET_KEYS and bind_host not in LOOPBACK_HOSTS:
        raise ValueError(
            f"SWEATSYNC_SECRET_KEY must be set to a secret of your own when the API listens on {bind_host} "
            "(for example the output of `openssl rand -hex 32`); the development key is public"
        )


def default_var_dir() -> Path:
    """$XDG_DATA_HOME/sweatsync, else ~/.local/share/sweatsync."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "sweatsync"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    """Tests and `sweatsync up` change the environment; forget the cached object."""
    get_settings.cache_clear()
