"""The four timed stages. Each takes the whole corpus and returns nothing worth keeping."""

from __future__ import annotations

from collections.abc import Callable

from fitparse import FitFile

from bench.corpus import Corpus
from workers.activity import Activity
from workers.fit import parse_fit
from workers.physiology import Athlete, analyze

ATHLETE = Athlete()  # empty profile: every reference value and assumption path runs


def baseline(corpus: Corpus, _parsed: list[list[Activity]]) -> None:
    """fitparse's README loop: every value of every record message."""
    for sample in corpus.samples:
        for rec in FitFile(sample.data).get_messages("record"):
            for d in rec:
                d.value  # noqa: B018


def parse(corpus: Corpus, _parsed: list[list[Activity]]) -> None:
    for sample in corpus.samples:
        parse_fit(sample.data)


def analyze_only(_corpus: Corpus, parsed: list[list[Activity]]) -> None:
    for activities in parsed:
        for activity in activities:
            analyze(activity, ATHLETE)


def parse_and_analyze(corpus: Corpus, _parsed: list[list[Activity]]) -> None:
    for sample in corpus.samples:
        for activity in parse_fit(sample.data).activities:
            analyze(activity, ATHLETE)


STAGES: list[tuple[str, Callable[[Corpus, list[list[Activity]]], None]]] = [
    ("baseline: plain fitparse loop", baseline),
    ("parse_fit", parse),
    ("analyze", analyze_only),
    ("parse_fit + analyze", parse_and_analyze),
]
