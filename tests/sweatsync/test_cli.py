"""The command line, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fitgen import build_fit, steady_records


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWEATSYNC_")}
    env["XDG_DATA_HOME"] = str(cwd)  # the default data folder, inside the test's own
    return subprocess.run(
        [sys.executable, "-m", "sweatsync.cli", *args], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_analyze_prints_the_session_json_without_any_server(tmp_path: Path) -> None:
    path = tmp_path / "ride.fit"
    path.write_bytes(build_fit(steady_records(minutes=90, hr=150, power=210, speed_ms=9.0), sport="cycling"))
    r = run_cli("analyze", str(path), "--weight", "75", "--height", "1.8", "--sex", "m", "--ftp", "250",
                "--temp", "30", "--humidity", "40", "--json", cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr
    session = json.loads(r.stdout)
    for key in ("sport", "duration_s", "heart_rate", "power", "load", "energy", "ambient", "fluid", "sodium",
                "risk", "recommendations", "assumptions", "missing", "algorithm_version"):  # fmt: skip
        assert key in session
    assert session["ambient"]["temp_c"] == 30
    assert session["power"]["avg_w"] == 210
    assert not (tmp_path / "sweatsync").exists()  # no server, no database


def test_analyze_prints_a_readable_summary(tmp_path: Path) -> None:
    path = tmp_path / "run.fit"
    path.write_bytes(build_fit(steady_records(minutes=45, hr=160, speed_ms=3.3), sport="running"))
    r = run_cli("analyze", str(path), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "sweat" in r.stdout and "sodium" in r.stdout and "assumed" in r.stdout


def test_analyze_says_why_it_cannot_read_a_file(tmp_path: Path) -> None:
    path = tmp_path / "photo.fit"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    r = run_cli("analyze", str(path), cwd=tmp_path)
    assert r.returncode == 2
    assert "png" in r.stderr.lower()


def test_user_create_prints_a_token_once_and_refuses_a_second_account_with_the_same_email(
    tmp_path: Path,
) -> None:
    first = run_cli("user", "create", "me@example.com", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "ss_" in first.stdout
    again = run_cli("user", "create", "me@example.com", cwd=tmp_path)
    assert again.returncode == 1
    assert "already exists" in again.stderr


def test_analyze_reads_a_gzipped_file_and_refuses_a_zip_with_a_reason(tmp_path: Path) -> None:
    import gzip
    import zipfile

    fit = build_fit(steady_records(minutes=30, hr=150, speed_ms=3.0), sport="running")
    (tmp_path / "run.fit.gz").write_bytes(gzip.compress(fit))
    assert run_cli("analyze", str(tmp_path / "run.fit.gz"), "--json", cwd=tmp_path).returncode == 0
    with zipfile.ZipFile(tmp_path / "runs.zip", "w") as zf:
        zf.writestr("run.fit", fit)
    r = run_cli("analyze", str(tmp_path / "runs.zip"), cwd=tmp_path)
    assert r.returncode == 2
    assert "unzip" in r.stderr
