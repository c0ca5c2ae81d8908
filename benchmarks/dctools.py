"""Benchmark: a DC tools batch update over 1,000 offline datasets (250 runs × 4) as one change set.

Run: `.venv/bin/python benchmarks/dctools.py [--runs 250] [--per-run 4] [--ls 100] [--repeat 5]`. It creates
a scratch SQLite file and a scratch PostgreSQL database, builds the runs and datasets through the services
(each dataset with two offline components flagged on every LS), and times the tool's preview (decided on the
current state, nothing written), the batch update itself (one change set, every dataset authorized first),
and the revert of that change set. Prints medians and maxima; figures go into docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from runreg.configuration import service as configuration
from runreg.datasets.dctools import service as dctools
from runreg.kernel.actors import SERVICES_EGROUP, SYSTEM, Actor, ActorKind
from runreg.kernel.ranges import RangeMap
from runreg.registry import service as registry
from runreg.registry.service import FlagEdit
from runreg.storage import migrate
from runreg.storage.database import Database

WORKER = Actor("oms-ingestion", ActorKind.AUTOMATIC, frozenset({SERVICES_EGROUP}))
DC = Actor("dc@cern.ch", ActorKind.HUMAN, frozenset({"cms-dqm-runregistry-data-certification"}))
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
GOOD = {"status": "GOOD", "comment": "", "cause": ""}
FILTER = {"name": {"like": "/PromptReco/Collisions2024C_%"}}
COLUMNS = ["dt-dt", "csc-csc"]


def build(db: Database, runs: int, per_run: int, ls: int) -> None:
    states = {"global_state": "OPEN", "dt_state": "OPEN", "csc_state": "OPEN"}
    for i in range(runs):
        run = 379000 + i
        registry.register_run(
            db,
            actor=WORKER,
            run_number=run,
            oms_attributes={"ls_duration": ls, "end_time": "2024-06-01T18:00:00Z"},
            rr_attributes={"class": "Collisions24", "significant": True},
            flags={"dt-dt": RangeMap([(1, ls, GOOD)])},
        )
        for j in range(per_run):
            name = f"/PromptReco/Collisions2024C_{j}/DQM"
            registry.create_dataset(db, actor=SYSTEM, run_number=run, name=name, attributes=states)
            registry.edit_flags(
                db,
                actor=WORKER,
                run_number=run,
                dataset=name,
                comment="offline classifier",
                edits=[FlagEdit(c, 1, ls, "GOOD") for c in COLUMNS]
                + [FlagEdit("dt-dt", 1, ls // 4, "BAD", comment="noise")],
            )


def timed(label: str, action: Callable[[], Any], repeat: int, figures: dict[str, list[float]]) -> None:
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        figures.setdefault(label, []).append(1000 * (time.perf_counter() - start))


def bench(db: Database, runs: int, per_run: int, ls: int, repeat: int) -> dict[str, list[float]]:
    migrate.upgrade(db)
    configuration.ensure_default(db, actor=SYSTEM)
    build(db, runs, per_run, ls)
    figures: dict[str, list[float]] = {}
    count = runs * per_run
    statuses = iter(["BAD", "GOOD"] * repeat)
    timed(
        f"preview of the batch update ({count:,} datasets, nothing written)",
        lambda: dctools.preview(
            db, tool="batch_update", filter=FILTER, columns=COLUMNS, new_status="BAD", comment="bench"
        ),
        repeat,
        figures,
    )
    done: list[dctools.Outcome] = []

    def update() -> None:
        outcome = dctools.batch_update(
            db, actor=DC, filter=FILTER, columns=COLUMNS, new_status=next(statuses), comment="bench"
        )
        assert outcome.change_set_id and len(outcome.changed) == count
        done.append(outcome)

    timed(
        f"batch update of {len(COLUMNS)} columns over {count:,} datasets (one change set)",
        update,
        repeat,
        figures,
    )
    last = done[-1].change_set_id
    assert last is not None
    timed(
        f"revert that change set ({count:,} datasets)",
        lambda: registry.revert_change_set(db, actor=DC, change_set_id=last),
        1,
        figures,
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=250)
    parser.add_argument("--per-run", type=int, default=4)
    parser.add_argument("--ls", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--engines", default="postgresql,sqlite")
    args = parser.parse_args()
    chosen = args.engines.split(",")
    with tempfile.TemporaryDirectory() as scratch:
        engines = {"sqlite": f"sqlite:///{Path(scratch) / 'bench.sqlite'}"}
        name = f"runreg_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        engines["postgresql"] = f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
        try:
            for engine in chosen:
                db = Database(engines[engine])
                figures = bench(db, args.runs, args.per_run, args.ls, args.repeat)
                db.dispose()
                print(f"\n{engine}")
                for label, values in figures.items():
                    print(
                        f"  {label:<72} median {statistics.median(values):8.1f} ms  max {max(values):8.1f} ms"
                    )
        finally:
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
