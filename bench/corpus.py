"""Which sample files are benchmarked, loaded once into memory (disk I/O is never timed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fitparse import FitFile

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SAMPLES = REPO.parent / "shared" / "fit-samples"
# --quick: three smaller real files, one per sport (≈120–150 KB, 47–78 min each)
QUICK_FILES = (
    "run_garmin-fenix2_hr_temp_47min.fit",
    "bike_garmin-edge810-vector_power_temp_78min.fit",
    "swim_pool_sdk-fenix3_hr-messages_58min.fit",
)


@dataclass
class Sample:
    name: str
    data: bytes
    records: int  # record messages, as counted by the plain fitparse loop


@dataclass
class Corpus:
    folder: Path
    samples: list[Sample] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, why)

    @property
    def records(self) -> int:
        return sum(s.records for s in self.samples)

    @property
    def megabytes(self) -> float:
        return sum(len(s.data) for s in self.samples) / 1e6


def count_records(data: bytes) -> int:
    """The baseline loop once, counting record messages (raises where fitparse cannot read the file)."""
    n = 0
    for rec in FitFile(data).get_messages("record"):
        for d in rec:
            d.value  # noqa: B018 - the README loop touches every value
        n += 1
    return n


def load(folder: Path, quick: bool, only: list[str] | None = None) -> Corpus:
    """Files that both plain fitparse and parse_fit read into at least one activity.

    A ratio against the baseline only means something on files the baseline can read, so files fitparse
    refuses (corrupt, misaligned fields, ...) and files parse_fit refuses (non-activity, empty) are skipped
    with the reason.
    """
    from workers.activity import FitRejected
    from workers.fit import parse_fit

    corpus = Corpus(folder)
    if not folder.is_dir():
        return corpus
    if only:
        names = list(only)
    elif quick:
        names = [n for n in QUICK_FILES if (folder / n).is_file()]
    else:
        names = sorted(p.name for p in folder.glob("*.fit"))
    for name in names:
        path = folder / name
        if not path.is_file():
            corpus.skipped.append((name, "missing"))
            continue
        data = path.read_bytes()
        try:
            records = count_records(data)
        except Exception as exc:  # noqa: BLE001 - any fitparse failure excludes the file from the comparison
            corpus.skipped.append((name, f"plain fitparse fails: {type(exc).__name__}"))
            continue
        try:
            activities = parse_fit(data).activities
        except FitRejected as exc:
            corpus.skipped.append((name, f"parse_fit refuses it: {exc.reason}"))
            continue
        if not activities:
            corpus.skipped.append((name, "no activity"))
            continue
        corpus.samples.append(Sample(name, data, records))
    return corpus
