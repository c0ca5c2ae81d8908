"""Compare two golden JSONs with the lumi-list algebra: what only A has, what only B has, what both have."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runreg.certification import service, store
from runreg.certification.compute import LUMINOSITY_KEYS, Luminosity
from runreg.certification.engine import IntervalSet
from runreg.certification.lumilist import LumiList
from runreg.kernel.errors import InvalidInput
from runreg.storage.database import Database

MAX_RUN_ROWS = 1000


@dataclass(frozen=True)
class Part:
    """One side of a comparison: its lumi list, runs, LS and luminosity (online per-LS values, read now)."""

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
        values = store.online_values(conn, (lumis_a | lumis_b).runs(), LUMINOSITY_KEYS)
    luminosity = Luminosity()
    parts = [_part(lumis, values, luminosity) for lumis in (only_a, only_b, both)]
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


def _part(lumis: LumiList, values: dict[int, dict[str, Any]], luminosity: Luminosity) -> Part:
    sums = dict.fromkeys(LUMINOSITY_KEYS, 0.0)
    for run, ranges in lumis.items():
        where = IntervalSet(ranges)
        for key in LUMINOSITY_KEYS:
            sums[key] += luminosity(values.get(run, {}).get(key), where)
    return Part(lumis, len(lumis.runs()), len(lumis), sums["recorded"], sums["delivered"])
