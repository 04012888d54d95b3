"""The production stack and the docs say the same as the code: one set of SWEATSYNC_* settings drives both."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from core.settings import Settings

REPO = Path(__file__).resolve().parents[1]
SETTING_NAMES = {f"SWEATSYNC_{name.upper()}" for name in Settings.model_fields}


def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_compose_runs_redis_with_an_append_only_file_postgres_the_api_workers_beat_and_a_mail_catcher() -> (
    None
):
    services = compose()["services"]
    assert {"redis", "postgres", "api", "worker", "beat", "mailpit"} <= set(services)
    assert "--appendonly" in services["redis"]["command"] and "yes" in services["redis"]["command"]
    assert "noeviction" in services["redis"]["command"]


def test_every_service_is_started_again_when_it_exits_on_its_own() -> None:
    services = compose()["services"]
    policies = {name: svc.get("restart") for name, svc in services.items()}
    assert policies == dict.fromkeys(services, "unless-stopped")


def test_every_variable_compose_sets_is_a_setting_the_code_reads() -> None:
    env = compose()["x-sweatsync-env"]
    assert set(env) <= SETTING_NAMES, set(env) - SETTING_NAMES
    assert env["SWEATSYNC_DATABASE_URL"].startswith("postgresql://")
    assert env["SWEATSYNC_BROKER_URL"].startswith("redis://")
    assert env["SWEATSYNC_SMTP_URL"].startswith("smtp://mailpit")


def test_the_readme_documents_every_user_facing_setting() -> None:
    documented = set(re.findall(r"`(SWEATSYNC_[A-Z_]+)`", (REPO / "README.md").read_text()))
    internal = {
        "SWEATSYNC_WEBHOOK_ALLOW_INSECURE_LOCALHOST",
        "SWEATSYNC_SWEEP_INTERVAL_S",
        "SWEATSYNC_RELAY_INTERVAL_S",
    }
    assert SETTING_NAMES - internal <= documented, SETTING_NAMES - internal - documented


def test_the_image_contains_every_package() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    for package in ("core", "ingest", "workers", "alerts", "sweatsync"):
        assert f"COPY {package} {package}" in dockerfile
