"""Compare two golden JSONs with the lumi-list algebra: what only A has, what only B has, what both have."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from runreg.certification import service
from runreg.certification.lumilist import LumiList
from runreg.kernel.errors import InvalidInput
from runreg.luminosity import service as luminosity
from runreg.luminosity.model import LumiSeries
from runreg.storage.database import Database

MAX_RUN_ROWS = 1000


@dataclass(frozen=True)
class Part:
    """One side of a comparison: its lumi list, runs, LS and luminosity (each run's best source, read now)."""

    lumis: LumiList
    runs: int
    ls: int
    recorded: float
    delivered: float


@dataclass(frozen=True)
class RunDifference:
    run: int
    only_a: tuple[tuple[int, int], ...]
    only_b: tuple[tuple[int, int], ...]
    both_ls: int


@dataclass(frozen=True)
class Comparison:
    a: service.Job
    b: service.Job
    only_a: Part
    only_b: Part
    both: Part
    runs: list[RunDifference]  # runs where A and B differ, by run number (at most MAX_RUN_ROWS)
    truncated: bool


def compare(db: Database, *, a: int, b: int) -> Comparison:
    """A − B, B − A and A ∩ B of two finished JSONs, with the recorded and delivered luminosity of each."""
    job_a, job_b = _finished(db, a, "a"), _finished(db, b, "b")
    lumis_a, lumis_b = LumiList.from_json(job_a.result["json"]), LumiList.from_json(job_b.result["json"])
    only_a, only_b, both = lumis_a - lumis_b, lumis_b - lumis_a, lumis_a & lumis_b
    with db.reading() as conn:
        series = luminosity.best_series(conn, (lumis_a | lumis_b).runs())
    parts = [_part(lumis, series) for lumis in (only_a, only_b, both)]
    differing = sorted(set(only_a.runs()) | set(only_b.runs()))
    rows = [
        RunDifference(run, only_a.ranges(run), only_b.ranges(run), both.ls_count(run))
        for run in differing[:MAX_RUN_ROWS]
    ]
    return Comparison(job_a, job_b, *parts, rows, len(differing) > MAX_RUN_ROWS)


def _finished(db: Database, job_id: int, field: str) -> service.Job:
    job = service.get(db, job_id)
    if job.status != "done" or job.result is None:
        raise InvalidInput(field, f"JSON {job_id} is {job.status}: only finished JSONs can be compared")
    return job


def _part(lumis: LumiList, series: Mapping[int, LumiSeries]) -> Part:
    figures = luminosity.summarize(series, dict(lumis.items()))
    return Part(lumis, len(lumis.runs()), len(lumis), figures["recorded"], figures["delivered"])
