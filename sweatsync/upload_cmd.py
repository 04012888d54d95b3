"""`sweatsync upload PATH...`: send files, folders and globs to a sweatsync server and show what became
of each one.

Progress goes to stderr (a bar on a terminal, one line per file otherwise); the result table goes to
stdout. The exit code is 1 when any file was refused, failed, could not be sent or was still being
analysed when the wait ran out; 2 for a usage error (no token, nothing to upload); 0 otherwise.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

from sweatsync.client import (
    ACCEPTED,
    DUPLICATE,
    MISSING,
    NOT_OK,
    ApiClient,
    UploadResult,
    conclude,
    default_server,
    default_token,
    is_activity_file,
)

_GLOB_CHARS = frozenset("*?[")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "upload",
        help="upload activity files to a sweatsync server and show the result of each",
        description="Upload files, folders (recursively: .fit, .fit.gz, .tcx, .gpx, .zip) and globs. "
        "Prints a table: the session(s) made from each file, 'duplicate' when the server already had "
        "those bytes, or the reason it was refused or failed. Exits 1 when any file did not make it.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="a file, a folder or a glob ('runs/**/*.fit')")
    p.add_argument(
        "--server",
        default=None,
        metavar="URL",
        help="the sweatsync API (default: $SWEATSYNC_SERVER, else http://127.0.0.1:8000)",
    )
    p.add_argument("--token", default=None, help="the API token (default: $SWEATSYNC_TOKEN)")
    p.add_argument(
        "--wait",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="wait for the analysis and show the session ids (default); --no-wait stops once accepted",
    )
    p.add_argument(
        "--timeout", type=float, default=300.0, metavar="S", help="how long to wait for the analysis"
    )
    p.set_defaults(func=cmd_upload)
    return p


# -- which files -----------------------------------------------------------------------------------------


def expand_paths(args: Iterable[str]) -> tuple[list[Path], list[str]]:
    """(files to upload in order, arguments that matched nothing).

    A file named on the command line is sent whatever its name; a folder is searched recursively for
    activity files (hidden files and folders skipped); a glob keeps the activity files it matches."""
    files: list[Path] = []
    unmatched: list[str] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            files.append(path)

    for arg in args:
        path = Path(arg).expanduser()
        found: list[Path] = []
        if path.is_dir():
            found = _folder_files(path)
        elif path.is_file():
            found = [path]
        elif _GLOB_CHARS & set(arg):
            for match in sorted(glob.glob(os.path.expanduser(arg), recursive=True)):
                m = Path(match)
                if m.is_dir():
                    found += _folder_files(m)
                elif m.is_file() and is_activity_file(m):
                    found.append(m)
        if not found:
            unmatched.append(arg)
        for f in found:
            add(f)
    return files, unmatched


def _folder_files(folder: Path) -> list[Path]:
    out = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out += [Path(root) / n for n in sorted(names) if is_activity_file(Path(n))]
    return out


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# -- progress on stderr ------------------------------------------------------------------------------


class Progress:
    """A hand-rolled bar on a terminal; one plain line per step when stderr is a file or a pipe."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = max(total, 1)
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._drawn = False

    def step(self, done: int, label: str, note: str = "") -> None:
        if self.tty:
            width = 24
            filled = round(width * done / self.total)
            bar = "#" * filled + "." * (width - filled)
            text = f"[{bar}] {done}/{self.total} {label}"
            cols = _terminal_columns()
            self.stream.write("\r" + text[: cols - 1].ljust(cols - 1))
            self._drawn = True
        else:
            self.stream.write(f"{done}/{self.total} {label}" + (f": {note}" if note else "") + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self._drawn:
            self.stream.write("\r" + " " * (_terminal_columns() - 1) + "\r")
            self.stream.flush()
            self._drawn = False


def _terminal_columns() -> int:
    try:
        columns = os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError):
        return 80
    return columns if columns >= 20 else 80


# -- the table on stdout -------------------------------------------------------------------------------


def _detail(result: UploadResult) -> str:
    if result.outcome in NOT_OK:
        return result.reason or ""
    parts = []
    if result.sessions:
        parts.append(", ".join(result.sessions))
    elif result.reason:  # e.g. a duplicate of an upload that failed
        parts.append(result.reason)
    elif result.upload_id:
        parts.append(f"upload {result.upload_id} ({result.status})")
    if result.warnings:
        parts.append("warnings: " + "; ".join(result.warnings))
    return " | ".join(parts)


def format_table(results: Sequence[UploadResult]) -> str:
    rows = [("FILE", "RESULT", "SESSIONS OR REASON")]
    rows += [(_display(r.path), r.outcome, _detail(r)) for r in results]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    return "\n".join(f"{a.ljust(w0)}  {b.ljust(w1)}  {c}".rstrip() for a, b, c in rows)


def _summary(results: Sequence[UploadResult]) -> str:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    parts = ", ".join(f"{n} {outcome}" for outcome, n in counts.items())
    return f"{len(results)} file(s): {parts}"


# -- the command ------------------------------------------------------------------------------------------


def cmd_upload(args: argparse.Namespace) -> int:
    server = args.server or default_server()
    token = args.token or default_token()
    if not token:
        sys.stderr.write("no API token: pass --token or set SWEATSYNC_TOKEN (see `sweatsync user create`)\n")
        return 2
    files, unmatched = expand_paths(args.paths)
    if not files and not unmatched:
        sys.stderr.write("nothing to upload\n")
        return 2
    results = [UploadResult(Path(arg), MISSING, reason="no such file, or no activity files there")
               for arg in unmatched]  # fmt: skip
    with ApiClient(server, token) as api:
        results += upload_all(api, files)
        if args.wait:
            wait_all(api, results, timeout_s=args.timeout)
    sys.stdout.write(format_table(results) + "\n" + _summary(results) + "\n")
    sys.stdout.flush()
    return 1 if any(r.outcome in NOT_OK for r in results) else 0


def upload_all(api: ApiClient, files: Sequence[Path]) -> list[UploadResult]:
    progress = Progress(len(files))
    results = []
    try:
        for i, path in enumerate(files):
            if progress.tty:
                progress.step(i, f"uploading {path.name}")
            result = api.upload(path)
            results.append(result)
            if not progress.tty:
                progress.step(i + 1, f"uploaded {path.name}", result.outcome)
        if progress.tty:
            progress.step(len(files), "uploaded")
    finally:
        progress.close()
    return results


def wait_all(api: ApiClient, results: Sequence[UploadResult], *, timeout_s: float) -> None:
    """Poll every accepted upload (all at once, round by round) until each is done or failed."""
    waiting = [r for r in results if r.upload_id and r.outcome in (ACCEPTED, DUPLICATE) and not r.finished]
    errors: dict[int, str | None] = {}
    if waiting:
        progress = Progress(len(waiting))
        label = "waiting for the analysis"
        done = 0
        deadline = time.monotonic() + timeout_s
        delay = 0.2
        try:
            if progress.tty:
                progress.step(0, label)
            while waiting and time.monotonic() < deadline:
                time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
                delay = min(delay * 1.5, 2.0)
                for r in waiting:
                    errors[id(r)] = api.refresh(r)
                for r in waiting:
                    if r.finished:
                        done += 1
                        if not progress.tty:
                            progress.step(done, f"analysed {r.path.name}", r.status or "")
                waiting = [r for r in waiting if not r.finished]
                if progress.tty:
                    progress.step(done, label)
        finally:
            progress.close()
    for r in results:
        conclude(r, timeout_s=timeout_s, last_error=errors.get(id(r)))
