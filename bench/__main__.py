"""python -m bench [--quick] [--runs N] [--no-service] [--no-postgres] [--samples DIR] [--file NAME ...]

In one run: CPU seconds per activity-hour of naive fitparse, fitdecode, garmin-fit-sdk (and fitfast when
installed), sweatsync's parse_fit and the whole pipeline (worker CPU from upload to email), as ratios to naive
fitparse measured in the same run; then, on the embedded stack with a real SMTP server: upload -> email for
the 3-h ride (cold first upload apart, then warm), 1 -> 2 worker burst scaling (SQLite, and PostgreSQL when
reachable), ingest rate with p99, and the worker's peak memory on the 14-h file. Writes the figures as JSON
(--json, bench/results/latest.json by default).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from bench.corpus import DEFAULT_SAMPLES, LONGEST, RIDE_3H, Corpus, load
from bench.decoders import CANDIDATES, Measured, installed, measure

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
TARGETS = {"pipeline_x": 5.0, "p95_s": 1.0, "scaling": 1.8, "peak_mb": 150.0}


def _progress(what: str) -> None:
    print(f"  … {what}", file=sys.stderr, flush=True)


def _table(rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for k, row in enumerate(rows):
        cells = [
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "load_avg_at_start": os.getloadavg(),
    }


def _per_hour(m: Measured, corpus: Corpus, names: set[str]) -> float:
    hours = sum(s.hours for s in corpus.samples if s.name in names)
    return sum(m.cpu_s[n] for n in names) / hours if hours else float("nan")


def decode_rows(corpus: Corpus, measured: dict[str, Measured], report: dict[str, Any]) -> list[list[str]]:
    """Every ratio is taken on the files both the candidate and naive fitparse read."""
    base = measured["naive_fitparse"]
    rows = [["candidate", "version", "CPU s / activity-h", "speed vs naive fitparse", "files read"]]
    for cand in CANDIDATES:
        m = measured.get(cand.key)
        if m is None:
            rows.append([cand.label, "not installed", "-", "-", "-"])
            continue
        common = set(m.cpu_s) & set(base.cpu_s)
        mine, theirs = _per_hour(m, corpus, common), _per_hour(base, corpus, common)
        speed = theirs / mine if mine else float("nan")
        report["decode"][cand.key] = {
            "cpu_s_per_activity_hour": mine,
            "naive_fitparse_same_files": theirs,
            "speedup_vs_naive_fitparse": speed,
            "files": len(m.cpu_s),
            "failed": m.failed,
        }
        version = installed(cand.package) or "-"
        rows.append(
            [cand.label, version, f"{mine:.4f}", f"{speed:.2f}×", f"{len(m.cpu_s)}/{len(corpus.samples)}"]
        )
    return rows


def _cpu(b: Any) -> str:
    pg = f", PostgreSQL {b.postgres_s:.2f} s" if b.postgres_s > 0.005 else ""
    return f"CPU: workers {b.cpu_s:.2f} s{pg}, whole machine {b.machine_s:.2f} s"


def service_lines(svc: Any, base_per_hour: float, report: dict[str, Any]) -> list[str]:
    from bench.service import pct

    report["service"] = svc.to_json()
    per_hour = svc.pipeline_cpu_s / svc.pipeline_hours if svc.pipeline_hours else float("nan")
    speed = base_per_hour / per_hour if per_hour else float("nan")
    report["service"]["whole_pipeline"].update(
        cpu_s_per_activity_hour=per_hour, speedup_vs_naive_fitparse=speed
    )
    p50, p95 = pct(svc.warm_s, 50), pct(svc.warm_s, 95)
    ip50, ip99 = pct(svc.ingest_s, 50), pct(svc.ingest_s, 99)

    def verdict(ok: bool) -> str:
        return "meets the target" if ok else "MISSES the target"

    lines = [
        f"whole pipeline (worker CPU, upload → email, {svc.pipeline_files} files, "
        f"{svc.pipeline_hours:.1f} h): "
        f"{per_hour:.4f} CPU s / activity-h = {speed:.2f}× naive fitparse "
        f"({verdict(speed >= TARGETS['pipeline_x'])} ≥ {TARGETS['pipeline_x']:.0f}×)",
        f"upload → email, 3-h ride ({RIDE_3H}): cold first upload {svc.cold_s:.3f} s; "
        f"warm n={len(svc.warm_s)}: p50 {p50:.3f} s, p95 {p95:.3f} s "
        f"({verdict(p95 < TARGETS['p95_s'])} < 1 s)",
    ]
    for sc in svc.scaling:
        one, two = sc.runs[1], sc.runs[2]
        factor = sc.factor or 0.0
        lines.append(
            f"burst scaling on {sc.database}: {one.uploads} long files queued first, then the workers on; "
            f"first claim → last finish 1 process {one.span_s:.2f} s ({_cpu(one)}), "
            f"2 processes {two.span_s:.2f} s ({_cpu(two)}; uploads per process {two.per_process}, busy "
            f"{', '.join(f'{x:.2f}' for x in two.busy_s)} s) "
            f"→ {factor:.2f}× ({verdict(factor >= TARGETS['scaling'])} ≥ 1.8×); posting the burst took "
            f"{one.post_s:.2f} s; one relay process then sent their {sc.relay_emails} emails in "
            f"{sc.relay_s:.2f} s"
            + (
                f" (every try's span: 1 process {', '.join(f'{x:.2f}' for x in sc.spans(1))} s; "
                f"2 processes {', '.join(f'{x:.2f}' for x in sc.spans(2))} s; the shortest counts)"
                if len(sc.tries) > 2
                else ""
            )
        )
    lines += [
        f"ingest (4 clients, worker stopped): {len(svc.ingest_s)} uploads at {svc.ingest_rate:.1f}/s; "
        f"latency p50 {ip50 * 1000:.0f} ms, p99 {ip99 * 1000:.0f} ms",
        f"worker memory, 14-h file ({LONGEST}) on a fresh one-process worker: the pool process "
        f"{svc.idle_rss_mb:.0f} MB RSS before, {svc.peak_rss_mb:.0f} MB peak RSS after "
        f"({verdict(svc.peak_rss_mb < TARGETS['peak_mb'])} < 150 MB); the same process after a ride "
        f"below 8 °C too (cold-stress model loaded): {svc.cold_peak_rss_mb or 0:.0f} MB",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[1])
    p.add_argument("--quick", action="store_true", help="three files and fewer service repetitions")
    p.add_argument(
        "--runs", "-n", type=int, default=1, help="decode runs per file; the least CPU time counts"
    )
    p.add_argument("--no-service", action="store_true", help="decoding only, no embedded stack")
    p.add_argument(
        "--samples", type=Path, default=DEFAULT_SAMPLES, help=f"folder of .fit files ({DEFAULT_SAMPLES})"
    )
    p.add_argument(
        "--file", action="append", metavar="NAME", help="only this file of the folder (repeatable)"
    )
    p.add_argument(
        "--database", metavar="URL", help="an empty database for the stack (default: a fresh SQLite file)"
    )
    p.add_argument(
        "--no-postgres", action="store_true", help="no second burst on a throwaway PostgreSQL database"
    )
    p.add_argument("--json", type=Path, default=RESULTS, help=f"where the figures go ({RESULTS})")
    args = p.parse_args(argv)
    corpus = load(args.samples, args.quick, args.file)
    if not corpus.samples:
        print(f"no readable sample files in {args.samples}; nothing to measure", file=sys.stderr)
        return 0
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    report: dict[str, Any] = {"started": started, "machine": machine(), "decode": {}, "files": {}}
    report["files"] = {s.name: round(s.hours, 3) for s in corpus.samples}
    mach = report["machine"]
    out = [
        f"sweatsync bench, {started}: {mach['cores']} cores ({mach['cpu']}), Python {mach['python']}, "
        f"load average at start {mach['load_avg_at_start'][0]:.1f}",
        f"{len(corpus.samples)} files of ≥ 1 h ({corpus.hours:.1f} activity-hours) from {corpus.folder}",
        "",
    ]
    _progress(f"decoding {len(corpus.samples)} files with each candidate")
    measured = measure(corpus, max(1, args.runs))
    out += [_table(decode_rows(corpus, measured, report), right={2, 3, 4}), ""]
    out.append("CPU s = process time, so other work on a shared machine does not inflate it; ratios are to")
    out.append("naive fitparse on the same files, measured in this run.")
    if not args.no_service:
        from bench.service import measure as measure_service

        base = measured["naive_fitparse"]
        base_per_hour = _per_hour(base, corpus, set(base.cpu_s))
        svc = measure_service(corpus, args.quick, _progress, args.database, not args.no_postgres)
        db = "SQLite" if not args.database else args.database.split(":", 1)[0]
        out += [
            "",
            f"Embedded stack ({db}, Redis, Celery prefork worker, API in uvicorn, aiosmtpd SMTP server; the "
            "burst also on a throwaway PostgreSQL database when one is reachable):",
        ]
        out += [f"- {line}" for line in service_lines(svc, base_per_hour, report)]
        out.append(
            "Latency, scaling and ingest are wall-clock figures: on a shared machine they move with its load."
        )
    failed = {k: m.failed for k, m in measured.items() if m.failed}
    if failed:
        out += ["", "decoder failures (files left out of that candidate's ratio):"]
        out += [f"- {k}: {name}: {why}" for k, f in failed.items() for name, why in f.items()]
    print("\n".join(out))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nfigures written to {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
