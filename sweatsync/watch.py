"""`sweatsync watch DIR`: upload new activity files from a folder, once each, only when completely written.

Polling, so it works the same on every OS and on USB-mounted watches (no inotify). Each pass:

1. list the activity files under DIR (recursively; hidden files and folders skipped);
2. a file is *stable* once its size and mtime have not changed for `--settle` seconds;
3. a stable file is *complete* when its bytes say so: a FIT file's chain of headers ends exactly at the end
   of the file (each header's declared data size + header + 2 CRC bytes), or its last segment ends with a
   valid FIT CRC; a .gz file reaches its gzip trailer; a .zip file has its central directory; a .tcx/.gpx
   file closes its root element. A stable file that stays incomplete is left alone until it has not
   changed for `--incomplete-after` seconds (a device that died mid-write), then sent for what it is worth;
4. complete files are looked up by sha256 in the state file: already sent (under any name) means skipped;
   otherwise uploaded. 202 (new) and 200 (the server already had those bytes) count as sent; a 4xx is
   recorded as refused with the server's reason and not retried; no answer or a 5xx/408/429 keeps the file
   pending and retries with capped exponential backoff (honouring Retry-After).

The state file is rewritten atomically (temporary file + os.replace) after every upload, so a watcher killed
at any moment re-sends at most the one file in flight, and the server answers that one with 200 (same
bytes) without running anything twice.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import signal
import struct
import sys
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from sweatsync.client import (
    ACCEPTED,
    DUPLICATE,
    MISSING,
    REFUSED,
    UNREACHABLE,
    ApiClient,
    UploadResult,
    default_server,
    default_token,
    is_activity_file,
)
from workers.formats.table import format_of_name

log = logging.getLogger("sweatsync.watch")

STATE_NAME = ".sweatsync-sent.json"
STATE_VERSION = 1
FIRST_BACKOFF_S = 1.0
AUTH_CODES = frozenset({401, 403})


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "watch",
        help="upload new activity files from a folder, once each, when completely written",
        description="Watch a folder (a mounted watch's GARMIN/Activity, a sync app's export folder) and "
        "upload each new activity file (.fit, .tcx, .gpx, each also .gz, and .zip) once it is completely "
        "written. Remembers what it sent (by "
        "content, so renamed or copied files are not sent again) and retries while the server is down.",
    )
    p.add_argument("dir", type=Path, metavar="DIR")
    p.add_argument(
        "--server", default=None, metavar="URL",
        help="the sweatsync API (default: $SWEATSYNC_SERVER, else http://127.0.0.1:8000)",
    )  # fmt: skip
    p.add_argument("--token", default=None, help="the API token (default: $SWEATSYNC_TOKEN)")
    p.add_argument(
        "--state", type=Path, default=None, metavar="FILE",
        help=f"where to remember what was sent (default: DIR/{STATE_NAME}, or "
        "~/.local/state/sweatsync/ when DIR is not writable)",
    )  # fmt: skip
    p.add_argument("--interval", type=float, default=2.0, metavar="S", help="seconds between scans")
    p.add_argument(
        "--settle", type=float, default=3.0, metavar="S",
        help="a file must keep its size and mtime this long before it is read",
    )  # fmt: skip
    p.add_argument(
        "--incomplete-after", type=float, default=600.0, metavar="S",
        help="send a file that still looks unfinished after it has not changed for this long",
    )  # fmt: skip
    p.add_argument(
        "--max-backoff", type=float, default=60.0, metavar="S",
        help="longest wait between retries while the server is unreachable",
    )  # fmt: skip
    p.add_argument(
        "--once", action="store_true",
        help="send what is complete now (waiting --settle for files being written) and exit; exit code 1 "
        "when a file could not be sent",
    )  # fmt: skip
    p.set_defaults(func=cmd_watch)
    return p


# -- is the file completely written? ---------------------------------------------------------------------


def _crc16(data: bytes, crc: int = 0) -> int:
    """The FIT CRC-16 (nibble table from the FIT protocol)."""
    table = (0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
             0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400)  # fmt: skip
    for byte in data:
        tmp = table[crc & 0xF]
        crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ table[byte & 0xF]
        tmp = table[crc & 0xF]
        crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ table[(byte >> 4) & 0xF]
    return crc


def _fit_header(data: bytes, pos: int) -> tuple[int, int] | None:
    """(header size, declared data size) of a FIT header at pos, or None."""
    if len(data) - pos < 12:
        return None
    size = data[pos]
    if not (size == 12 or 14 <= size <= 64) or data[pos + 8 : pos + 12] != b".FIT":
        return None
    return size, struct.unpack_from("<I", data, pos + 4)[0]


def fit_completeness(data: bytes) -> str | None:
    """None when a FIT file (possibly chained) is completely written, else what is missing."""
    if _fit_header(data, 0) is None:
        if len(data) < 12:
            return f"only {len(data)} bytes so far, shorter than a FIT header"
        return None  # not a FIT file at all: nothing to wait for, the server will say what it is
    pos = last = 0
    while True:
        header = _fit_header(data, pos)
        if header is None:
            break
        last = pos
        end = pos + header[0] + header[1] + 2
        if end == len(data):
            return None
        if end > len(data):
            break
        pos = end
    # The declared size does not fit (a device may leave data_size 0 or wrong): accept a valid CRC at the end.
    if len(data) - last >= 14 and _crc16(data[last:]) == 0:
        return None
    header = _fit_header(data, last)
    assert header is not None
    expected = last + header[0] + header[1] + 2
    if expected > len(data):
        return f"{len(data)} of the {expected} bytes its header declares"
    return "it does not end where its header says, nor with a valid FIT checksum"


def gzip_completeness(data: bytes) -> str | None:
    if data[:2] != b"\x1f\x8b":
        return None if len(data) >= 2 else "empty so far"
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    pending = data
    try:
        while pending and not inflater.eof:
            inflater.decompress(pending, 1 << 20)  # output discarded, at most 1 MB at a time
            pending = inflater.unconsumed_tail
    except zlib.error as e:
        return f"the gzip stream is damaged or cut off ({e})"
    return None if inflater.eof else "the gzip stream has not reached its end"


def zip_completeness(path: Path) -> str | None:
    return None if zipfile.is_zipfile(path) else "the ZIP archive has no central directory yet"


def xml_completeness(data: bytes, root: str) -> str | None:
    tail = data[-4096:].rstrip(b" \t\r\n\x00").lower()
    return None if tail.endswith(f"</{root}>".encode()) else f"the {root} element is not closed yet"


def completeness(path: Path, data: bytes) -> str | None:
    """None when the file looks completely written, else why not (shown in the log)."""
    if not data:
        return "empty so far"
    found = format_of_name(path.name)
    if found is None:
        return None
    fmt, gzipped = found
    if gzipped:
        return gzip_completeness(data)
    if fmt.xml_root:
        return xml_completeness(data, fmt.xml_root.lower())
    check = _COMPLETE_BY_KIND.get(fmt.kind)
    return check(path, data) if check else None


# Binary formats each have their own end marker; XML formats close their root element (see the table).
_COMPLETE_BY_KIND: dict[str, Callable[[Path, bytes], str | None]] = {
    "fit": lambda _path, data: fit_completeness(data),
    "zip": lambda path, _data: zip_completeness(path),
}


# -- what was sent: the state file ---------------------------------------------------------------------


def default_state_path(folder: Path) -> Path:
    in_folder = folder / STATE_NAME
    if in_folder.exists() or os.access(folder, os.W_OK):
        return in_folder
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "sweatsync"
    key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:12]
    return base / f"watch-{folder.resolve().name or 'root'}-{key}.json"


class State:
    """{"files": {sha256: what became of those bytes}, "paths": {relative path: [size, mtime_ns, sha256]}}.

    `files` is the memory (by content); `paths` only spares re-hashing unchanged files after a restart."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.files: dict[str, dict[str, Any]] = {}
        self.paths: dict[str, list[Any]] = {}
        self.unsaved = False

    def load(self) -> State:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(raw, dict) or not isinstance(raw.get("files", {}), dict):
                raise ValueError("not a sweatsync watch state")
            self.files = dict(raw.get("files") or {})
            self.paths = {
                k: v for k, v in (raw.get("paths") or {}).items() if isinstance(v, list) and len(v) == 3
            }
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as e:
            aside = self.path.with_name(f"{self.path.name}.unreadable-{int(time.time())}")
            try:
                os.replace(self.path, aside)
            except OSError:
                aside = self.path
            # Safe: a file sent before is answered 200 by the server (same bytes) and recorded again.
            log.warning("state file %s is unreadable (%s); kept as %s, starting afresh", self.path, e, aside)
        return self

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f"{self.path.name}.tmp-{os.getpid()}")
        payload = {"version": STATE_VERSION, "files": self.files, "paths": self.paths}
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        _fsync_dir(self.path.parent)

    def record(self, sha: str, rel: str, size: int, mtime_ns: int, **entry: Any) -> None:
        self.files[sha] = {"name": rel, "size": size, "at": datetime.now(UTC).isoformat(timespec="seconds"),
                           **{k: v for k, v in entry.items() if v is not None}}  # fmt: skip
        self.paths[rel] = [size, mtime_ns, sha]
        self.save_or_keep()

    def save_or_keep(self) -> bool:
        """Save; on failure (the folder holding the state was unmounted, a full disk) keep it in memory and
        say so: the next call tries again, and a file re-sent meanwhile is answered 200 by the server."""
        try:
            self.save()
        except OSError as e:
            if not self.unsaved:
                log.error("cannot write the state file %s (%s); will try again", self.path, e)
            self.unsaved = True
            return False
        if self.unsaved:
            log.info("state file %s written again", self.path)
        self.unsaved = False
        return True


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- the watcher ---------------------------------------------------------------------------------------------


@dataclass
class Tracked:
    size: int
    mtime_ns: int
    since: float  # monotonic time this size and mtime were first seen
    sha: str | None = None
    problem: str | None = None  # why it is not complete, as last judged (for this size and mtime)
    judged: bool = False
    done: bool = False  # sent, refused, or the same bytes as a file handled before
    said_waiting: bool = False


class Watcher:
    def __init__(
        self,
        folder: Path,
        api: ApiClient,
        state: State,
        *,
        settle_s: float = 3.0,
        incomplete_after_s: float = 600.0,
        max_backoff_s: float = 60.0,
    ) -> None:
        self.folder = folder
        self.api = api
        self.state = state
        self.settle_s = settle_s
        self.incomplete_after_s = max(incomplete_after_s, settle_s)
        self.max_backoff_s = max(max_backoff_s, FIRST_BACKOFF_S)
        self.tracked: dict[str, Tracked] = {}
        self.backoff_s = FIRST_BACKOFF_S
        self.next_try = 0.0  # monotonic time before which the server is not asked again
        self.server_down = False
        self.folder_gone = False

    # Scanning ----------------------------------------------------------------------------------------

    def _files(self) -> Iterator[tuple[str, Path]]:
        for root, dirs, names in os.walk(self.folder):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(names):
                path = Path(root) / name
                if is_activity_file(path):
                    yield path.relative_to(self.folder).as_posix(), path

    def scan(self, now: float) -> None:
        present: set[str] = set()
        if self.folder.is_dir() == self.folder_gone:
            self.folder_gone = not self.folder_gone
            if self.folder_gone:
                log.warning("%s is not there (unplugged?); waiting for it to come back", self.folder)
            else:
                log.info("%s is back", self.folder)
        for rel, path in self._files():
            try:
                st = path.stat()
            except OSError:
                continue
            present.add(rel)
            t = self.tracked.get(rel)
            if t is not None and (t.size, t.mtime_ns) == (st.st_size, st.st_mtime_ns):
                continue
            t = Tracked(st.st_size, st.st_mtime_ns, since=now)
            known = self.state.paths.get(rel)
            if known and known[:2] == [st.st_size, st.st_mtime_ns] and known[2] in self.state.files:
                t.sha, t.done = known[2], True
            self.tracked[rel] = t
        for rel in set(self.tracked) - present:
            del self.tracked[rel]

    def _judge(self, rel: str, t: Tracked) -> None:
        """Read a stable file once per size and mtime: hash it, decide whether it is complete."""
        path = self.folder / rel
        data = path.read_bytes()
        t.sha = hashlib.sha256(data).hexdigest()
        t.problem = completeness(path, data)
        t.judged = True
        if t.sha in self.state.files:
            entry = self.state.files[t.sha]
            t.done = True
            self.state.paths[rel] = [t.size, t.mtime_ns, t.sha]
            if entry.get("name") != rel:
                log.info("skipped %s: the same bytes as %s, already %s", rel, entry.get("name"),
                         entry.get("outcome"))  # fmt: skip

    def ready(self, now: float) -> list[str]:
        """Stable, complete files not sent yet, oldest first."""
        out = []
        for rel, t in self.tracked.items():
            if t.done or now - t.since < self.settle_s:
                continue
            if not t.judged:
                try:
                    self._judge(rel, t)
                except OSError as e:
                    log.warning("cannot read %s: %s", rel, e)
                    continue
                if t.done:
                    continue
            if t.problem:
                if now - t.since >= self.incomplete_after_s and t.size > 0:
                    log.warning("sending %s although it looks unfinished (%s): unchanged for %.0f s",
                                rel, t.problem, now - t.since)  # fmt: skip
                    t.problem = None
                else:
                    if not t.said_waiting:
                        log.info("waiting for %s to be completely written: %s", rel, t.problem)
                        t.said_waiting = True
                    continue
            out.append(rel)
        return sorted(out, key=lambda r: (self.tracked[r].mtime_ns, r))

    def pending(self) -> list[str]:
        return [rel for rel, t in self.tracked.items() if not t.done]

    # Sending -----------------------------------------------------------------------------------------

    def send(self, rel: str) -> UploadResult | None:
        """Upload one ready file and record the outcome; None when the file changed since it was judged."""
        t = self.tracked[rel]
        path = self.folder / rel
        try:
            data = path.read_bytes()
            st = path.stat()
        except OSError as e:
            log.warning("cannot read %s: %s", rel, e)
            self.tracked.pop(rel, None)
            return None
        if (st.st_size, st.st_mtime_ns) != (t.size, t.mtime_ns) or hashlib.sha256(data).hexdigest() != t.sha:
            self.tracked.pop(rel, None)  # written to again: start over with the new size and mtime
            return None
        result = self.api.upload(path, data)
        code = result.status_code
        if result.outcome in (ACCEPTED, DUPLICATE):
            self.state.record(t.sha or "", rel, t.size, t.mtime_ns, outcome="sent", status=code,
                              upload_id=result.upload_id)  # fmt: skip
            t.done = True
            if code == 200:
                log.info("sent %s: the server already had it (200, upload %s)", rel, result.upload_id)
            else:
                log.info("sent %s (202, upload %s)", rel, result.upload_id)
        elif result.outcome == REFUSED and code not in AUTH_CODES:
            self.state.record(t.sha or "", rel, t.size, t.mtime_ns, outcome="refused", status=code,
                              reason=result.reason)  # fmt: skip
            t.done = True
            log.warning("refused %s (%s): %s", rel, code, result.reason)
        elif result.outcome == MISSING:
            log.warning("cannot read %s: %s", rel, result.reason)
            self.tracked.pop(rel, None)
        return result

    def _server_trouble(self, now: float, result: UploadResult) -> None:
        delay = min(max(self.backoff_s, result.retry_after_s or 0.0), self.max_backoff_s)
        self.next_try = now + delay
        self.backoff_s = min(self.backoff_s * 2, self.max_backoff_s)
        self.server_down = True
        what = "the server refused the token" if result.status_code in AUTH_CODES else "server unreachable"
        log.warning("%s (%s); %d file(s) pending, retrying in %.0f s", what, result.reason,
                    len(self.pending()), delay)  # fmt: skip

    def step(self) -> bool:
        """One pass; False when the server could not take a file (it stays pending)."""
        now = time.monotonic()
        self.scan(now)
        if self.state.unsaved:
            self.state.save_or_keep()
        if now < self.next_try:
            return False
        for rel in self.ready(now):
            result = self.send(rel)
            if result is None:
                continue
            if result.outcome == UNREACHABLE or result.status_code in AUTH_CODES:
                self._server_trouble(time.monotonic(), result)
                return False
            if self.server_down:
                log.info("the server is back")
                self.server_down = False
            self.backoff_s = FIRST_BACKOFF_S
        return True

    def run(self, stop: threading.Event, *, interval_s: float, once: bool = False) -> int:
        while not stop.is_set():
            delivered = self.step()
            if once:
                if not delivered:
                    log.error("stopping: the server could not take %d file(s)", len(self.pending()))
                    return 1
                if not self._settling(time.monotonic()):
                    left = self.pending()
                    for rel in left:
                        log.warning("not sent: %s (%s)", rel, self.tracked[rel].problem or "still changing")
                    return 1 if left else 0
            stop.wait(min(interval_s, self.settle_s / 2) if once else interval_s)
        return 0

    def _settling(self, now: float) -> bool:
        return any(not t.done and now - t.since < self.settle_s for t in self.tracked.values())


# -- the command --------------------------------------------------------------------------------------------


def cmd_watch(args: argparse.Namespace) -> int:
    if not logging.getLogger().handlers and not log.handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
        logging.getLogger("httpx").setLevel(logging.WARNING)  # our own line per event is enough
    folder: Path = args.dir.expanduser()
    if not folder.is_dir():
        log.error("%s is not a folder", folder)
        return 2
    token = args.token or default_token()
    if not token:
        log.error("no API token: pass --token or set SWEATSYNC_TOKEN (see `sweatsync user create`)")
        return 2
    server = args.server or default_server()
    state = State(args.state or default_state_path(folder)).load()
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        if not stop.is_set():
            log.info("%s received: stopping after the current file", signal.Signals(signum).name)
        stop.set()

    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[sig] = signal.signal(sig, _stop)
        except ValueError:  # not the main thread: the caller handles signals
            pass
    log.info("watching %s, sending to %s; %d file(s) already recorded in %s", folder, server,
             len(state.files), state.path)  # fmt: skip
    try:
        with ApiClient(server, token, timeout_s=120.0) as api:
            watcher = Watcher(
                folder, api, state, settle_s=args.settle, incomplete_after_s=args.incomplete_after,
                max_backoff_s=args.max_backoff,
            )  # fmt: skip
            code = watcher.run(stop, interval_s=args.interval, once=args.once)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("stopped")
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m sweatsync.watch DIR ...`, the same as `sweatsync watch DIR ...`."""
    parser = argparse.ArgumentParser(prog="sweatsync")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["watch", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
