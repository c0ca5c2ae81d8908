"""Benchmark: a full certification cycle (1,000 offline datasets over 250 runs) on both engines.

Run: `.venv/bin/python benchmarks/cycles.py [--runs 250] [--per-run 4] [--repeat 5]`. It creates a scratch
SQLite file and a scratch PostgreSQL database, builds the datasets through the services, and times: creating
the cycle from a filter, moving all its datasets in a workspace (one change set), marking the workspace
completed (checks every member), the legacy listing the public client's `get_cycles()` reads, and the cycle
page. Prints medians and maxima; figures go into docs/PERFORMANCE.md.
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
from fastapi.testclient import TestClient

from runreg.configuration import service as configuration
from runreg.datasets import service as cycles
from runreg.http.app import create_app
from runreg.kernel.actors import SERVICES_EGROUP, SYSTEM, Actor, ActorKind
from runreg.kernel.ranges import RangeMap
from runreg.registry import service as registry
from runreg.settings import Settings
from runreg.storage import migrate
from runreg.storage.database import Database

WORKER = Actor("oms-ingestion", ActorKind.AUTOMATIC, frozenset({SERVICES_EGROUP}))
DC = Actor("dc@cern.ch", ActorKind.HUMAN, frozenset({"cms-dqm-runregistry-data-certification"}))
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
GOOD = {"status": "GOOD", "comment": "", "cause": ""}


def build(db: Database, runs: int, per_run: int) -> None:
    states = {"global_state": "OPEN", "dt_state": "OPEN", "csc_state": "OPEN"}
    for i in range(runs):
        run = 379000 + i
        registry.register_run(
            db,
            actor=WORKER,
            run_number=run,
            oms_attributes={"ls_duration": 10, "end_time": "2024-06-01T18:00:00Z"},
            rr_attributes={"class": "Collisions24", "significant": True},
            flags={"dt-dt": RangeMap([(1, 10, GOOD)])},
        )
        for j in range(per_run):
            registry.create_dataset(
                db,
                actor=SYSTEM,
                run_number=run,
                name=f"/PromptReco/Collisions2024C_{j}/DQM",
                attributes=states,
            )


def timed(label: str, action: Callable[[], Any], repeat: int, figures: dict[str, list[float]]) -> None:
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        figures.setdefault(label, []).append(1000 * (time.perf_counter() - start))


def bench(db: Database, runs: int, per_run: int, repeat: int) -> dict[str, list[float]]:
    migrate.upgrade(db)
    configuration.ensure_default(db, actor=SYSTEM)
    build(db, runs, per_run)
    figures: dict[str, list[float]] = {}
    made: list[cycles.Cycle] = []
    counter = iter(range(10_000))

    def create() -> None:
        made.append(
            cycles.create_cycle(
                db,
                actor=DC,
                name=f"c{next(counter)}",
                deadline="2024-07-15",
                workspaces=["global", "dt", "csc"],
                filter={"name": {"like": "/PromptReco/Collisions2024C_%"}},
            )
        )

    timed("create a cycle of 1,000 datasets from a filter", create, repeat, figures)
    cycle_id = made[0].id
    targets = iter(["SIGNOFF", "OPEN"] * repeat)
    timed(
        "move all 1,000 datasets (one change set)",
        lambda: cycles.move_all_datasets(
            db, actor=DC, cycle_id=cycle_id, workspace="dt", to_state=next(targets)
        ),
        repeat,
        figures,
    )
    cycles.move_all_datasets(db, actor=DC, cycle_id=cycle_id, workspace="csc", to_state="COMPLETED")

    def complete_and_reopen() -> None:
        cycles.mark_completed(db, actor=DC, cycle_id=cycle_id, workspace="csc")
        cycles.mark_pending(db, actor=DC, cycle_id=cycle_id, workspace="csc")

    timed("mark completed (checks 1,000 members) + back to pending", complete_and_reopen, repeat, figures)
    client = TestClient(create_app(db, settings=Settings(dev_identity=True, allowed_hosts=["testserver"])))
    client.get(f"/offline/cycles/dt?cycle={cycle_id}")  # templates compiled
    timed(
        f"GET /cycles/global ({len(made)} cycles of 1,000 datasets)",
        lambda: client.get("/cycles/global").raise_for_status(),
        repeat,
        figures,
    )
    timed(
        "cycle page /offline/cycles/dt (1,000 members, first 100 drawn)",
        lambda: client.get(f"/offline/cycles/dt?cycle={cycle_id}").raise_for_status(),
        repeat,
        figures,
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=250)
    parser.add_argument("--per-run", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        engines = {"sqlite": f"sqlite:///{Path(scratch) / 'bench.sqlite'}"}
        name = f"runreg_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        engines["postgresql"] = f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
        try:
            for engine, url in engines.items():
                db = Database(url)
                figures = bench(db, args.runs, args.per_run, args.repeat)
                db.dispose()
                print(f"\n{engine}")
                for label, values in figures.items():
                    print(
                        f"  {label:<70} median {statistics.median(values):8.1f} ms  max {max(values):8.1f} ms"
                    )
        finally:
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
