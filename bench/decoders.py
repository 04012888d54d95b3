"""The decoders compared, each as the project would use it by default, touching every record value."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

from bench.corpus import Corpus

Decode = Callable[[bytes], None]


def naive_fitparse(data: bytes) -> None:
    """fitparse's README loop."""
    from fitparse import FitFile

    for rec in FitFile(data).get_messages("record"):
        for d in rec:
            d.value  # noqa: B018


def fitdecode_default(data: bytes) -> None:
    import fitdecode

    with fitdecode.FitReader(data) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage) and frame.name == "record":
                for f in frame.fields:
                    f.value  # noqa: B018


def garmin_default(data: bytes) -> None:
    from garmin_fit_sdk import Decoder, Stream  # optional: FIT Protocol License, not OSI-approved

    messages, errors = Decoder(Stream.from_byte_array(bytearray(data))).read()
    if errors:
        raise RuntimeError(str(errors[0]))
    for rec in messages.get("record_mesgs", []):
        for value in rec.values():
            value  # noqa: B018


def fitfast_records(data: bytes) -> None:
    import fitfast  # optional, measured only: a 0.1 release, not a dependency

    fitfast.records(data, "record")


def parse_fit_fast(data: bytes) -> None:
    from workers.fit import parse_fit

    parse_fit(data)


def parse_and_analyze(data: bytes) -> None:
    from workers.fit import parse_fit
    from workers.physiology import Athlete, analyze

    for activity in parse_fit(data).activities:
        analyze(activity, Athlete())


@dataclass
class Candidate:
    key: str
    label: str
    package: str | None  # the distribution whose version is shown, None for the project's own code
    decode: Decode
    optional: bool = False


CANDIDATES = [
    Candidate("naive_fitparse", "naive fitparse (README loop)", "fitparse", naive_fitparse),
    Candidate("fitdecode", "fitdecode, defaults", "fitdecode", fitdecode_default),
    Candidate("garmin_fit_sdk", "garmin-fit-sdk, defaults (not OSI)", "garmin-fit-sdk", garmin_default, True),
    Candidate("fitfast", "fitfast records() (compiled)", "fitfast", fitfast_records, True),
    Candidate("parse_fit", "sweatsync parse_fit (numpy path)", None, parse_fit_fast),
    Candidate("parse_and_analyze", "sweatsync parse_fit + analyze", None, parse_and_analyze),
]


def installed(package: str | None) -> str | None:
    if package is None:
        return "project"
    try:
        return version(package)
    except PackageNotFoundError:
        return None


@dataclass
class Measured:
    cpu_s: dict[str, float] = field(default_factory=dict)  # file -> CPU seconds (process time)
    failed: dict[str, str] = field(default_factory=dict)  # file -> exception


def measure(corpus: Corpus, runs: int) -> dict[str, Measured]:
    """CPU seconds (process time, so other work on a shared machine does not count) per file and
    candidate: the least of `runs` runs, candidates interleaved per file."""
    out = {c.key: Measured() for c in CANDIDATES if installed(c.package)}
    for sample in corpus.samples:
        for cand in CANDIDATES:
            if cand.key not in out:
                continue
            best = None
            for _ in range(runs):
                t0 = time.process_time()
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter(
                            "ignore"
                        )  # fitdecode warns per odd field; the count is the result
                        cand.decode(sample.data)
                except (KeyboardInterrupt, SystemExit):
                    raise
                except BaseException as exc:  # noqa: BLE001 - failing on a file is a result (fitfast panics)
                    out[cand.key].failed[sample.name] = f"{type(exc).__name__}: {exc}"[:120]
                    break
                spent = time.process_time() - t0
                best = spent if best is None else min(best, spent)
            if best is not None:
                out[cand.key].cpu_s[sample.name] = best
    return out
