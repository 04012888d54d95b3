"""A private PostgreSQL cluster on a loopback port of its own, so R6 can kill and restart it by pid without
touching the machine's shared server. Needs the server binaries (Debian: /usr/lib/postgresql/*/bin); as root,
the cluster runs as the `postgres` user (initdb refuses root)."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sweatsync.embedded import free_port


def server_binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


def _as_owner() -> list[str]:
    """Root may not run PostgreSQL: run its commands as `postgres` (runuser), anyone else as themselves."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def available() -> str | None:
    """None when a private cluster can be started here, else why not."""
    if server_binaries() is None:
        return "no PostgreSQL server binaries (initdb, pg_ctl)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser"
    return None


@dataclass
class PrivatePostgres:
    bin: Path
    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run([*_as_owner(), *args], check=True, capture_output=True, cwd="/")

    def start(self) -> None:
        opts = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data} -c fsync=off"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.data / "log"),
            "-w",
            "-o",
            opts,
            "start",
        )

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def kill(self) -> None:
        """kill -9 the postmaster (a crash: no shutdown checkpoint). Its backends exit on their own; the pid
        file and the socket's lock stay, naming a pid that may still "exist" (a zombie nobody reaps here),
        so they are removed: the next start must not take the crash for a running server."""
        pid = self.postmaster_pid()
        if pid:
            os.kill(pid, signal.SIGKILL)
        while subprocess.run(["pgrep", "-f", str(self.data)], capture_output=True).returncode == 0:
            time.sleep(0.1)
        for stale in [self.data / "postmaster.pid", *self.data.glob(".s.PGSQL.*")]:
            stale.unlink(missing_ok=True)

    def stop(self) -> None:
        subprocess.run(
            [*_as_owner(), str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
            cwd="/",
        )


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """initdb in a folder of its own under the system temp dir (pytest's are root-only), start, and at the
    end stop and remove it."""
    binaries = server_binaries()
    assert binaries is not None, available()
    root = Path(tempfile.mkdtemp(prefix="sweatsync-pg-"))
    data = root / "data"
    data.mkdir()
    if os.geteuid() == 0:
        root.chmod(0o755)
        shutil.chown(data, "postgres", "postgres")
    pg = PrivatePostgres(binaries, data, free_port())
    try:
        pg._run(str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        pg.start()
        yield pg
    finally:
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)
