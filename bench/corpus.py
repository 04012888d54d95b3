"""Which sample files are measured, loaded once into memory (disk I/O is never timed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SAMPLES = REPO.parent / "shared" / "fit-samples"
MIN_HOURS = 1.0  # files of an hour or more: long files are where decoding cost matters
QUICK_FILES = (  # --quick: three files, 1.3 h to 6.6 h
    "bike_garmin-edge810-vector_power_temp_78min.fit",
    "bike_garmin-edge530_power_temp_2h50.fit",
    "bike_wahoo-elemnt_power_temp_6h33.fit",
)
RIDE_3H = "bike_garmin-edge530_power_temp_2h50.fit"
LONGEST = "multi_garmin-fenix5x_14h05.fit"


@dataclass
class Sample:
    name: str
    data: bytes
    hours: float  # activity-hours: the records' time span of every activity parse_fit finds


@dataclass
class Corpus:
    folder: Path
    samples: list[Sample] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def hours(self) -> float:
        return sum(s.hours for s in self.samples)

    def get(self, name: str) -> bytes:
        return (self.folder / name).read_bytes()


def load(folder: Path, quick: bool, only: list[str] | None = None) -> Corpus:
    """Activity files of an hour or more that parse_fit reads (damaged files are left out: a ratio against
    the baseline only means something where both read the whole file)."""
    from workers.activity import FitRejected
    from workers.fit import parse_fit

    corpus = Corpus(folder)
    if not folder.is_dir():
        return corpus
    names = (
        list(only) if only else list(QUICK_FILES) if quick else sorted(p.name for p in folder.glob("*.fit"))
    )
    for name in names:
        path = folder / name
        if not path.is_file():
            corpus.skipped.append((name, "missing"))
            continue
        if name.startswith("corrupt_"):
            continue
        data = path.read_bytes()
        try:
            activities = parse_fit(data).activities
        except FitRejected as exc:
            corpus.skipped.append((name, f"parse_fit refuses it: {exc.reason}"))
            continue
        hours = sum(a.duration_s for a in activities) / 3600
        if hours >= MIN_HOURS or only:
            corpus.samples.append(Sample(name, data, hours))
    return corpus
