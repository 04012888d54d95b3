"""Scenarios of the email relay (reliability.md §5 R9–R11): the relay killed mid-send, an SMTP server that
answers 421 three times, one that answers 550. A real SMTP server (aiosmtpd) on loopback counts what arrives;
the relay is the worker's own beat task, as in production."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
from sqlalchemy import select

from chaos.stack import Chaos, Result, chaos_stack, duplicates, wait
from core.db import unit_of_work
from core.models import AlertOutbox
from fitgen import DEFAULT_START, build_fit, steady_records
from support.services import Sink, smtp_server

# The athlete of the e2e high-risk ride: a 2.5-h ride at 31 °C above FTP scores high for them.
HOT_PROFILE = {
    "mass_kg": 84,
    "height_m": 1.80,
    "sex": "m",
    "birth_year": 1982,
    "hr_max": 186,
    "hr_rest": 55,
    "lthr": 165,
    "ftp_w": 230,
    "cramp_history": "recent",
}
RELAY = {
    "relay_interval_s": "1",
    "relay_backoff_base_s": "1",
    "relay_lock_s": "5",
    "alert_window_h": "1000000",
}  # old start dates stand in for fresh sessions


def hot_ride(i: int) -> bytes:
    records = steady_records(150, hr=165, speed_ms=8.5, power=240, temp_c=31, every_s=5)
    return build_fit(records, sport="cycling", start=DEFAULT_START + timedelta(days=i))


@dataclass
class GateSink(Sink):
    """A Sink that holds each recipient (before any message data) while `closed`: a relay killed there has
    sent nothing. Records when each DATA attempt arrived."""

    closed: bool = False
    held: int = 0
    data_at: list[float] = field(default_factory=list)

    async def handle_RCPT(
        self,
        server: object,
        session: object,
        envelope: Any,
        address: str,  # noqa: N802
        rcpt_options: list[str],
    ) -> str:
        self.held += self.closed
        while self.closed:
            await asyncio.sleep(0.05)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.data_at.append(time.monotonic())
        return await super().handle_DATA(server, session, envelope)


@contextmanager
def mail_stack(tmp: Path, sink: Sink) -> Iterator[tuple[Chaos, Sink, int]]:
    """A stack whose relay sends to `sink`; yields it with the SMTP server's port."""
    with smtp_server(sink) as (smtp_url, _), chaos_stack(tmp, smtp_url=smtp_url, **RELAY) as stack:
        httpx.put(
            f"{stack.api}/v1/profile", headers={"Authorization": f"Bearer {stack.token}"}, json=HOT_PROFILE
        )
        yield stack, sink, int(smtp_url.rsplit(":", 1)[1])


def outbox() -> list[AlertOutbox]:
    with unit_of_work() as uow:
        rows = list(uow.session.scalars(select(AlertOutbox)))
        uow.session.expunge_all()
        return rows


def queue_hot_rides(stack: Chaos, count: int, first: int) -> None:
    """Upload `count` high-risk rides before a worker runs: their analyses are queued ahead of any relay
    task, so a single worker child analyses them all before it first talks to the SMTP server."""
    for i in range(count):
        stack.upload(f"hot{first + i}.fit", hot_ride(first + i))


def wait_for_alerts(count: int) -> None:
    wait(lambda: len(outbox()) == count, "the high-risk rides queue their alerts")


def sending_process(worker_pid: int, smtp_port: int) -> psutil.Process:
    """The worker's child connected to the SMTP server: the relay at work (not the beat process)."""
    for child in psutil.Process(worker_pid).children(recursive=True):
        if any(c.raddr and c.raddr.port == smtp_port for c in child.net_connections(kind="tcp")):
            return child
    raise AssertionError("no worker process is connected to the SMTP server")


def r9_relay_killed(tmp: Path, alerts: int = 5, kills: int = 3) -> Result:
    """kill -9 the worker process that runs the relay while it waits on the SMTP server, `kills` times,
    then let mail through: every alert arrives exactly once."""
    with mail_stack(tmp, GateSink(closed=True)) as (stack, sink, port):
        assert isinstance(sink, GateSink)
        queue_hot_rides(stack, alerts, 1300)
        with stack.worker(concurrency=1, name="r9") as proc:
            wait_for_alerts(alerts)
            started = time.monotonic()
            for k in range(kills):
                wait(lambda k=k: sink.held > k, f"R9: the relay holds at the SMTP server ({k + 1})")
                sending_process(proc.pid, port).kill()
            sink.closed = False
            wait(lambda: all(r.status == "sent" for r in outbox()), "R9: every alert sent after the kills")
        received = [m["Message-ID"] for m in sink.messages]
        lost = alerts - len(set(received))
        return Result(
            "R9 kill -9 relay mid-send",
            alerts,
            lost,
            len(received) - len(set(received)) + duplicates(),
            stack.five_xx,
            time.monotonic() - started,
            stack.memory.peak_mb,
            f"{kills} kills before DATA (a kill after the 250: tests/alerts, possible_duplicate)",
        )


def r10_smtp_421(tmp: Path) -> Result:
    """The SMTP server answers 421 three times, then 250: delivered on attempt 4, with growing gaps."""
    with mail_stack(tmp, GateSink(replies=["421 4.3.0 Try again later"] * 3)) as (stack, sink, _port):
        assert isinstance(sink, GateSink)
        queue_hot_rides(stack, 1, 1400)
        with stack.worker(concurrency=1, name="r10"):
            wait_for_alerts(1)
            started = time.monotonic()
            wait(lambda: [r.status for r in outbox()] == ["sent"], "R10: the alert is sent")
        gaps = [round(b - a, 1) for a, b in zip(sink.data_at, sink.data_at[1:], strict=False)]
        [row] = outbox()
        lost = int(len(sink.messages) == 0 or row.attempts != 4)
        return Result(
            "R10 SMTP 421 three times, then 250",
            1,
            lost,
            len(sink.messages) - 1,
            stack.five_xx,
            time.monotonic() - started,
            stack.memory.peak_mb,
            f"sent on attempt {row.attempts}; gaps {gaps} s",
        )


def r11_smtp_550(tmp: Path) -> Result:
    """The SMTP server answers 550: the alert is failed after one attempt, never retried, shown by the API."""
    with mail_stack(tmp, GateSink(replies=["550 5.1.1 No such mailbox"] * 5)) as (stack, sink, _port):
        assert isinstance(sink, GateSink)
        queue_hot_rides(stack, 1, 1500)
        with stack.worker(concurrency=1, name="r11"):
            wait_for_alerts(1)
            started = time.monotonic()
            wait(lambda: [r.status for r in outbox()] == ["failed"], "R11: the alert is failed")
            failed_after = time.monotonic() - started
            time.sleep(5)  # five relay passes: a retry would show up here as a second attempt
        shown = httpx.get(f"{stack.api}/v1/alerts", headers={"Authorization": f"Bearer {stack.token}"}).json()
        retries = len(sink.data_at) - 1
        ok = [a["status"] for a in shown] == ["failed"] and outbox()[0].attempts == 1
        return Result(
            "R11 SMTP 550 permanent",
            1,
            int(not ok),
            retries,
            stack.five_xx,
            failed_after,
            stack.memory.peak_mb,
            f"{retries} retries; API shows {[a['status'] for a in shown]}",
        )
