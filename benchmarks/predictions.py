"""Benchmark: ML predictions — submissions of a 2,000-LS run and the agreement page's counting over many runs.

Run: `.venv/bin/python benchmarks/predictions.py [--runs 100] [--components 10]`. Per engine (a scratch SQLite
file and a scratch PostgreSQL database, dropped at the end) it creates `--runs` runs of 2,000 LS whose
`--components` online components carry 1–4 status changes (registry_write.py's generator, without the OMS
values: predictions do not read them), then times
* `submit` of one model version for every component of a run, in two shapes: **compact** (ranges of one
  verdict, as the DCS-bit demo agent sends: ~5 ranges per component) and **per-LS scores** (a distinct score
  on every LS: 2,000 ranges per component, 20,000 per submission, the limit);
* `agreement` over all runs (every component, the one model version), for each shape.
Prints medians of the submissions and single timings of the agreements; figures go into docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

from runreg.configuration import service as configuration
from runreg.kernel.actors import SERVICES_EGROUP, SYSTEM, Actor, ActorKind
from runreg.kernel.ranges import RangeMap
from runreg.predictions import service as predictions
from runreg.predictions.model import PredictedRange
from runreg.registry import service as registry
from runreg.storage import migrate
from runreg.storage.database import Database

LS = 2000
WORKER = Actor("oms-ingestion", ActorKind.AUTOMATIC, frozenset({SERVICES_EGROUP}))
AGENT = Actor("bench-ml@cern.ch", ActorKind.AGENT, frozenset({"cms-dqm-runregistry-ml-agents"}))


def flags(rng: random.Random, comps: list[str]) -> dict[str, RangeMap]:
    out = {}
    for comp in comps:
        cuts = sorted(rng.sample(range(2, LS), rng.randint(1, 4)))
        bounds = [1, *cuts, LS + 1]
        ranges = RangeMap()
        for i in range(len(bounds) - 1):
            status = "GOOD" if i % 2 == 0 else rng.choice(["BAD", "STANDBY"])
            ranges.assign(bounds[i], bounds[i + 1] - 1, {"status": status, "comment": "", "cause": ""})
        out[comp] = ranges
    return out


def compact(rng: random.Random, comps: list[str]) -> dict[str, list[PredictedRange]]:
    out = {}
    for comp in comps:
        cuts = sorted(rng.sample(range(2, LS), rng.randint(2, 6)))
        bounds = [1, *cuts, LS + 1]
        out[comp] = [
            PredictedRange(bounds[i], bounds[i + 1] - 1, "GOOD" if i % 2 == 0 else "BAD", 0.9)
            for i in range(len(bounds) - 1)
        ]
    return out


def per_ls(rng: random.Random, comps: list[str]) -> dict[str, list[PredictedRange]]:
    return {
        comp: [
            PredictedRange(ls, ls, "BAD" if score < 0.05 else "GOOD", round(score, 4))
            for ls in range(1, LS + 1)
            for score in (rng.random(),)
        ]
        for comp in comps
    }


def bench(db: Database, label: str, n_runs: int, n_components: int) -> dict[str, object]:
    migrate.upgrade(db)
    configuration.ensure_default(db, actor=SYSTEM)
    comps = configuration.current_configuration(db).components("online")[:n_components]
    rng = random.Random(19)
    for i in range(n_runs):
        registry.register_run(
            db,
            actor=WORKER,
            run_number=400000 + i,
            oms_attributes={"run_number": 400000 + i, "ls_duration": LS},
            rr_attributes={"class": "Collisions24", "significant": True},
            flags=flags(rng, comps),
        )
    out: dict[str, object] = {"engine": label}
    for shape, make in (("compact", compact), ("per-LS scores", per_ls)):
        version = shape
        timings = []
        for i in range(n_runs):
            sent = make(rng, comps)
            started = time.perf_counter()
            predictions.submit(
                db, actor=AGENT, run_number=400000 + i, dataset="online", model="bench", version=version,
                predictions=sent,
            )  # fmt: skip
            timings.append(time.perf_counter() - started)
        started = time.perf_counter()
        found = predictions.agreement(db, model="bench", version=version)
        took = time.perf_counter() - started
        assert len(found.confusions) == len(comps) and found.datasets == n_runs
        ranges = sum(len(r) for r in make(random.Random(0), comps).values())
        out[shape] = (statistics.median(timings) * 1000, ranges, took)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--components", type=int, default=10)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.sqlite'}")
        results.append(bench(db, "SQLite", args.runs, args.components))
        db.dispose()
    name = f"runreg_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.pg, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        db = Database(args.pg.rsplit("/", 1)[0] + f"/{name}")
        results.append(bench(db, "PostgreSQL", args.runs, args.components))
        db.dispose()
    finally:
        with psycopg.connect(args.pg, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"{args.runs} runs x {LS} LS x {args.components} components, one model version per shape")
    print("engine       shape           ranges sent  submit median  agreement over all runs")
    for row in results:
        for shape in ("compact", "per-LS scores"):
            ms, ranges, took = row[shape]  # type: ignore[misc]
            print(f"{row['engine']:<12} {shape:<15} {ranges:>11}  {ms:>10.1f} ms  {took:>10.2f} s")


if __name__ == "__main__":
    main()
