"""Service figures on the embedded stack: upload -> email latency, burst scaling, ingest, worker CPU and
memory. Wall-clock figures; on a shared machine they move with the other load (the report says so)."""

from __future__ import annotations

import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.corpus import LONGEST, RIDE_3H, Corpus
from bench.stack import RIDER, Stack

INGEST_FILE = "bike_onelap_indoor_12min.fit"  # small (12 min): the API's cost, not the upload size


@dataclass
class Service:
    cold_s: float = 0.0
    warm_s: list[float] = field(default_factory=list)
    burst: dict[int, float] = field(default_factory=dict)  # workers -> seconds for the burst
    burst_size: int = 0
    burst_cpu: dict[int, float] = field(default_factory=dict)  # workers -> worker CPU s during the burst
    ingest_s: list[float] = field(default_factory=list)
    ingest_wall_s: float = 0.0
    peak_rss_mb: float = 0.0
    pipeline_cpu_s: float = 0.0
    pipeline_hours: float = 0.0
    pipeline_files: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "upload_to_email_3h_ride": {
                "cold_s": self.cold_s,
                "warm_n": len(self.warm_s),
                "warm_p50_s": pct(self.warm_s, 50),
                "warm_p95_s": pct(self.warm_s, 95),
                "warm_s": self.warm_s,
            },
            "burst": {
                "uploads": self.burst_size,
                "seconds_by_workers": self.burst,
                "worker_cpu_s_by_workers": self.burst_cpu,
                "scaling_1_to_2": self.scaling,
            },
            "ingest": {
                "uploads": len(self.ingest_s),
                "per_s": self.ingest_rate,
                "p50_s": pct(self.ingest_s, 50),
                "p99_s": pct(self.ingest_s, 99),
            },
            "worker_peak_rss_mb_14h": self.peak_rss_mb,
            "whole_pipeline": {
                "worker_cpu_s": self.pipeline_cpu_s,
                "activity_hours": self.pipeline_hours,
                "files": self.pipeline_files,
            },
        }

    @property
    def scaling(self) -> float | None:
        one, two = self.burst.get(1), self.burst.get(2)
        return one / two if one and two else None

    @property
    def ingest_rate(self) -> float:
        return len(self.ingest_s) / self.ingest_wall_s if self.ingest_wall_s else 0.0


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(q) - 1]


def _email_latency(st: Stack, name: str, data: bytes) -> float:
    email, token = st.new_user(RIDER)
    t0 = time.monotonic()
    st.upload(token, name, data)
    [arrived] = st.inbox.wait_for([email])
    return arrived - t0


def _burst(st: Stack, name: str, data: bytes, size: int) -> tuple[float, float]:
    """(wall seconds from the first upload to the last email, worker CPU seconds meanwhile)."""
    users = [st.new_user(RIDER) for _ in range(size)]
    with httpx.Client(base_url=st.api, timeout=60) as client:
        cpu = st.worker_cpu_s()
        t0 = time.monotonic()
        for _, token in users:
            st.upload(token, name, data, client)
        arrivals = st.inbox.wait_for([email for email, _ in users])
    return max(arrivals) - t0, st.worker_cpu_s() - cpu


def _whole_pipeline(st: Stack, corpus: Corpus, out: Service) -> None:
    """Worker CPU (pool and main process, user + system) to take every corpus file from upload to email."""
    before = st.worker_cpu_s()
    for sample in corpus.samples:
        _email, token = st.new_user(RIDER)
        st.wait_finished(token, st.upload(token, sample.name, sample.data))
    time.sleep(1.0)  # the outbox relay sends the last emails just after the last upload is done
    out.pipeline_cpu_s = st.worker_cpu_s() - before
    out.pipeline_hours = corpus.hours
    out.pipeline_files = len(corpus.samples)


def _ingest(st: Stack, data: bytes, count: int, threads: int = 4) -> tuple[list[float], float]:
    """POST `count` distinct uploads (zero padding after a FIT file is harmless) from `threads` clients."""
    _email, token = st.new_user()
    bodies = [data + b"\0" * (i + 1) for i in range(count)]

    def send(chunk: list[bytes]) -> list[float]:
        took = []
        with httpx.Client(base_url=st.api, timeout=60) as client:
            for body in chunk:
                t0 = time.monotonic()
                st.upload(token, INGEST_FILE, body, client)
                took.append(time.monotonic() - t0)
        return took

    t0 = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        parts = list(pool.map(send, [bodies[i::threads] for i in range(threads)]))
    wall = time.monotonic() - t0
    return [x for part in parts for x in part], wall


def measure(corpus: Corpus, quick: bool, progress: Any, database_url: str | None = None) -> Service:
    out = Service()
    ride, longest = corpus.get(RIDE_3H), corpus.get(LONGEST)
    warm_n, out.burst_size, ingest_n = (5, 6, 60) if quick else (20, 16, 300)
    with tempfile.TemporaryDirectory(prefix="sweatsync-bench-") as tmp, Stack(Path(tmp), database_url) as st:
        st.start_worker(1)
        progress("cold upload of the 3-h ride")
        out.cold_s = _email_latency(st, RIDE_3H, ride)
        progress("the 14-h file, for the worker's peak memory")
        _email, token = st.new_user(RIDER)
        st.wait_finished(token, st.upload(token, LONGEST, longest))
        out.peak_rss_mb = st.worker_peak_rss_mb()
        progress(f"{warm_n} warm uploads of the 3-h ride, one after another")
        out.warm_s = [_email_latency(st, RIDE_3H, ride) for _ in range(warm_n)]
        progress(f"whole pipeline over {len(corpus.samples)} files")
        _whole_pipeline(st, corpus, out)
        for workers in (1, 2):
            if workers == 2:
                st.start_worker(2)
                # Warm both pool processes (the first outdoor session imports the solar models: seconds of
                # CPU): uploads at once, so that each process takes some.
                _burst(st, RIDE_3H, ride, 4)
            progress(f"burst of {out.burst_size} rides, {workers} worker process(es)")
            out.burst[workers], out.burst_cpu[workers] = _burst(st, RIDE_3H, ride, out.burst_size)
        st.stop_worker()
        progress(f"ingest: {ingest_n} uploads from 4 clients, worker stopped")
        out.ingest_s, out.ingest_wall_s = _ingest(st, corpus.get(INGEST_FILE), ingest_n)
    return out
