"""No deployment runs on a published secret key: compose refuses to start without one, and so does the API
when it listens beyond loopback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from core.settings import DEV_SECRET_KEY, Settings, require_own_secret

REPO = Path(__file__).resolve().parents[2]


def test_compose_has_no_fallback_secret_key_and_refuses_to_start_without_one() -> None:
    env = yaml.safe_load((REPO / "docker-compose.yml").read_text())["x-sweatsync-env"]
    value = env["SWEATSYNC_SECRET_KEY"]
    assert re.fullmatch(r"\$\{SWEATSYNC_SECRET_KEY:\?[^}]+\}", value), value


@pytest.mark.parametrize("key", [DEV_SECRET_KEY, "change-me-in-production"])
def test_a_published_key_is_refused_on_a_public_url(key: str) -> None:
    with pytest.raises(ValueError, match="SWEATSYNC_SECRET_KEY"):
        Settings(public_base_url="https://sweat.example.com", secret_key=key)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10"])
def test_a_published_key_is_refused_when_the_api_listens_beyond_loopback(host: str) -> None:
    with pytest.raises(ValueError, match="SWEATSYNC_SECRET_KEY must be set"):
        require_own_secret(Settings(secret_key=DEV_SECRET_KEY), host)
    with pytest.raises(ValueError, match="SWEATSYNC_SECRET_KEY must be set"):
        require_own_secret(Settings(secret_key="change-me-in-production"), host)
    require_own_secret(Settings(secret_key="d41d8cd98f00b204e9800998ecf8427e"), host)


def test_the_development_key_is_fine_on_loopback() -> None:
    require_own_secret(Settings(secret_key=DEV_SECRET_KEY), "127.0.0.1")


def test_sweatsync_api_on_all_interfaces_exits_with_a_sentence_without_a_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWEATSYNC_")}
    env["SWEATSYNC_VAR_DIR"] = str(tmp_path)
    run = subprocess.run(
        [sys.executable, "-m", "sweatsync.cli", "api", "--host", "0.0.0.0", "--port", "1"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 1
    assert "SWEATSYNC_SECRET_KEY must be set" in run.stderr
