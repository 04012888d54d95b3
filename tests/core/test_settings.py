"""Settings come from SWEATSYNC_* variables; the SMTP URL carries host, port, TLS mode and credentials."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings, parse_smtp_url


def test_it_defaults_to_sqlite_raw_files_and_the_outbox_under_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SWEATSYNC_DATABASE_URL", raising=False)
    s = Settings(var_dir=Path("/srv/ss"))
    assert s.effective_database_url == "sqlite:////srv/ss/sweatsync.db"
    assert s.effective_raw_dir == Path("/srv/ss/raw")
    assert s.effective_outbox_dir == Path("/srv/ss/outbox")
    assert s.smtp is None


def test_it_reads_every_setting_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWEATSYNC_DATABASE_URL", "postgresql://u@db/x")
    monkeypatch.setenv("SWEATSYNC_MAX_UPLOAD_BYTES", "1000")
    monkeypatch.setenv("SWEATSYNC_PUBLIC_BASE_URL", "https://sweat.example.com/")
    monkeypatch.setenv("SWEATSYNC_SECRET_KEY", "a-real-secret")
    s = Settings()
    assert s.effective_database_url == "postgresql://u@db/x"
    assert s.max_upload_bytes == 1000
    assert s.public_base_url == "https://sweat.example.com"


def test_it_hides_the_smtp_password_and_secret_key_from_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWEATSYNC_SMTP_URL", "smtp://me:hunter2@mail:587")
    monkeypatch.setenv("SWEATSYNC_SECRET_KEY", "s3cret")
    text = repr(Settings())
    assert "hunter2" not in text and "s3cret" not in text


@pytest.mark.parametrize(
    ("url", "host", "port", "tls", "starttls", "user", "password"),
    [
        ("smtp://mail.example.com", "mail.example.com", 25, False, False, None, None),
        ("smtp://u%40x:p%3Aw@mail:587?starttls=1", "mail", 587, False, True, "u@x", "p:w"),
        ("smtps://u:p@mail", "mail", 465, True, False, "u", "p"),
        ("smtp://mailpit:1025", "mailpit", 1025, False, False, None, None),
    ],
)
def test_it_parses_an_smtp_url(
    url: str, host: str, port: int, tls: bool, starttls: bool, user: str | None, password: str | None
) -> None:
    cfg = parse_smtp_url(url)
    assert (cfg.host, cfg.port, cfg.use_tls, cfg.starttls, cfg.username, cfg.password) == (
        host, port, tls, starttls, user, password,
    )  # fmt: skip


def test_it_refuses_an_smtp_url_with_another_scheme() -> None:
    with pytest.raises(ValueError, match="smtp://"):
        parse_smtp_url("http://mail")


def test_it_refuses_the_development_secret_on_a_public_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SWEATSYNC_SECRET_KEY", raising=False)
    with pytest.raises(ValueError, match="SWEATSYNC_SECRET_KEY must be set"):
        Settings(public_base_url="https://sweat.example.com")
    assert Settings(public_base_url="https://sweat.example.com", secret_key="a-real-one").public_base_url
    assert Settings(public_base_url="http://127.0.0.1:8000").public_base_url
