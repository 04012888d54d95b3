"""python -m bench [--runs N] [--quick] [--samples DIR] [--file NAME ...] [--per-file]

Times, over the real FIT sample files, (a) the plain fitparse README loop as the baseline, (b) parse_fit,
(c) analyze on already-parsed activities and (d) parse_fit + analyze; prints records/s and each stage's time
as a multiple of the baseline's, all measured in the same run. Median of N runs per stage.
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import sys
import time
from importlib.metadata import version
from pathlib import Path

from bench.corpus import DEFAULT_SAMPLES, Corpus, load
from bench.stages import STAGES


def _timed(fn, corpus: Corpus, parsed) -> float:
    gc.collect()
    t0 = time.perf_counter()
    fn(corpus, parsed)
    return time.perf_counter() - t0


def _ratio(seconds: float, base: float) -> str:
    if base <= 0:
        return "-"
    r = seconds / base
    return f"{r:.2f}×" if r >= 0.1 else f"{r:.4f}×"


def _rate(records: int, seconds: float) -> str:
    return f"{records / seconds:,.0f}" if seconds > 0 else "-"


def _table(rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for k, row in enumerate(rows):
        pairs = enumerate(zip(row, widths, strict=True))
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in pairs]
        lines.append("  ".join(cells).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run(corpus: Corpus, runs: int, per_file: bool) -> str:
    from workers.fit import parse_fit

    parsed = [parse_fit(s.data).activities for s in corpus.samples]
    samples_n = sum(len(a) for a in parsed)
    times: dict[str, list[float]] = {name: [] for name, _ in STAGES}
    for _ in range(runs):  # stages interleaved per run, so drift hits them alike
        for name, fn in STAGES:
            times[name].append(_timed(fn, corpus, parsed))
    med = {name: statistics.median(ts) for name, ts in times.items()}
    base = med[STAGES[0][0]]
    records = corpus.records
    out = [
        f"sweatsync bench: {len(corpus.samples)} files ({corpus.megabytes:.1f} MB, {records:,} records, "
        f"{samples_n} activities) from {corpus.folder}",
        f"median of {runs} run{'s' if runs != 1 else ''}; Python {platform.python_version()}, "
        f"fitparse {version('fitparse')}, fitdecode {version('fitdecode')}",
        "",
    ]
    rows = [["stage", "median s", "min s", "max s", "records/s", "time vs baseline"]]
    for name, _ in STAGES:
        ts = times[name]
        rows.append(
            [
                name,
                f"{med[name]:.3f}",
                f"{min(ts):.3f}",
                f"{max(ts):.3f}",
                _rate(records, med[name]),
                _ratio(med[name], base),
            ]
        )
    out.append(_table(rows, right={1, 2, 3, 4, 5}))
    out.append("")
    for name, _ in STAGES[1:]:
        if base > 0 and med[name] > 0:
            out.append(f"{name}: {_ratio(med[name], base)} baseline time ({base / med[name]:.2f}× its speed)")
    out += [
        "",
        "records/s = record messages (as fitparse counts them) ÷ median seconds.",
        "time vs baseline = stage time ÷ baseline time: 2.00× takes twice as long as the plain",
        "fitparse loop, 0.50× half as long. Same files, same process, stages interleaved in each run.",
    ]
    if per_file:
        out += ["", _per_file(corpus, parsed, runs)]
    if corpus.skipped:
        out += ["", f"skipped {len(corpus.skipped)} file(s):"]
        out += [f"  {name}: {why}" for name, why in corpus.skipped]
    return "\n".join(out)


def _per_file(corpus: Corpus, parsed, runs: int) -> str:
    rows = [["file", "records", "baseline s", "parse_fit s", "analyze s", "parse vs baseline"]]
    for sample, activities in zip(corpus.samples, parsed, strict=True):
        one = Corpus(corpus.folder, [sample])
        t = {
            name: statistics.median(_timed(fn, one, [activities]) for _ in range(runs))
            for name, fn in STAGES[:3]
        }
        b, p, a = t.values()
        rows.append([sample.name, f"{sample.records:,}", f"{b:.3f}", f"{p:.3f}", f"{a:.4f}", _ratio(p, b)])
    return _table(rows, right={1, 2, 3, 4, 5})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[1])
    p.add_argument("--runs", "-n", type=int, default=3, help="runs per stage, median reported (default 3)")
    p.add_argument("--quick", action="store_true", help="three smaller files instead of the whole corpus")
    p.add_argument(
        "--samples", type=Path, default=DEFAULT_SAMPLES, help=f"folder of .fit files ({DEFAULT_SAMPLES})"
    )
    p.add_argument(
        "--file", action="append", metavar="NAME", help="only this file of the folder (repeatable)"
    )
    p.add_argument("--per-file", action="store_true", help="also time each file on its own")
    args = p.parse_args(argv)
    if args.runs < 1:
        p.error("--runs must be at least 1")
    corpus = load(args.samples, args.quick, args.file)
    if not corpus.samples:
        print(f"no readable sample files in {args.samples}; nothing to measure", file=sys.stderr)
        for name, why in corpus.skipped:
            print(f"  {name}: {why}", file=sys.stderr)
        return 0
    print(run(corpus, args.runs, args.per_file))
    return 0


if __name__ == "__main__":
    sys.exit(main())
