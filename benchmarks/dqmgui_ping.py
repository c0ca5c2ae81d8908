"""One DQM GUI ping over 10,000 waiting offline datasets against a 200,000-sample list, on PostgreSQL.

Run: `PYTHONPATH=src .venv/bin/python benchmarks/dqmgui_ping.py [--repeats 5] [--pg postgresql://…/postgres]`.
It creates a scratch PostgreSQL database (dropped at the end) holding 40,000 runs, each with its online
dataset and two offline ones (`/Express/Collisions2024/DQM` and `/PromptReco/Collisions2024/DQM`, a rule
added to the shipped configuration with the four PromptReco regexps): 80,000 offline datasets, of which the
newest 5,000 runs' 10,000 wait for the DQM GUI in global and the 19 offline workspaces, the others COMPLETED.
Projection rows and each run's creation event are written with COPY (set-up, not measured). The DQM GUI
simulator, in a process of its own, serves over a real socket in the legacy format 200,000 samples (5 per
waiting run: Express and four PromptReco primary datasets; older runs have a sixth, HLTPhysics, that no rule
matches); the three cases differ in which runs they cover:

- nothing appeared: 200,000 samples of older runs only;
- 1,000 appeared: those of 500 waiting runs (1,000 datasets), the rest older runs;
- all appeared: those of the 5,000 waiting runs (all 10,000 datasets), the rest older runs.

Each repetition runs `datasets.pinger.ping` (the service the worker and `runreg datasets ping-gui` call:
indexed waiting query, one GET of the sample list, matching, permission checks, one change set) and then
restores the waiting state with SQL. Prints the median and every time (wall and this process's CPU: runreg's,
not the simulator's) and the load average. The issue's bar: ≤ 5 s per ping in each case.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import orjson
import psycopg

from runreg.configuration import service as configuration
from runreg.datasets import gui_service as pinger
from runreg.eventlog.tables import events
from runreg.integrations.dqmgui import DqmGuiClient
from runreg.kernel.actors import SYSTEM, Actor
from runreg.registry.tables import datasets, runs
from runreg.storage import migrate
from runreg.storage.database import Database, bulk_insert

RUNS = 40_000
FIRST = 300_000
WAITING_RUNS = 5_000  # × 2 datasets = 10,000 waiting
SAMPLES_PER_RUN = 5
SAMPLES = 200_000
EXPRESS = "/Express/Collisions2024/DQM"
PROMPT = "/PromptReco/Collisions2024/DQM"
PDS = ("ZeroBias", "Muon0", "JetMET0", "EGamma0")


def run_samples(run: int) -> list[tuple[int, str]]:
    return [(run, "/StreamExpress/Run2024D-Express-v1/DQMIO")] + [
        (run, f"/{pd}/Run2024D-PromptReco-v1/DQMIO") for pd in PDS
    ]


def build(db: Database) -> tuple[list[int], dict[str, Any]]:
    migrate.upgrade(db)
    configuration.ensure_default(db, actor=SYSTEM)

    def add_rule(document: dict[str, Any]) -> dict[str, Any]:
        document["datasets_accepted"].append(
            {
                "name": PROMPT,
                "class": "Collisions24",
                "enabled": True,
                "regexps": [f"/{pd}/Run2024[A-Z]-PromptReco-v.*?/DQMIO" for pd in PDS],
            }
        )
        return document

    expert = Actor("bench@cern.ch", egroups=frozenset({"cms-dqm-runregistry-experts"}))
    configuration.edit(db, actor=expert, change=add_rule, comment="benchmark: an unbounded PromptReco rule")
    config = configuration.current_configuration(db)
    workspaces = ["global", *(ws.name for ws in config.workspaces if ws.mode == "offline")]
    now = datetime.now(UTC)
    waiting_attributes = {
        **{f"{ws}_state": "waiting dqm gui" for ws in workspaces},
        "appeared_in": [],
        "datasets_in_gui": [],
    }
    done = {**{f"{ws}_state": "COMPLETED" for ws in workspaces}, "appeared_in": [], "datasets_in_gui": []}
    numbers = list(range(FIRST, FIRST + RUNS))
    waiting_runs = numbers[-WAITING_RUNS:]
    with db.transaction() as conn:
        change_set = conn.exec_driver_sql(
            "INSERT INTO change_sets (author, actor_kind, comment, created_at) "
            "VALUES ('benchmark', 'automatic', 'set-up', now()) RETURNING id"
        ).scalar_one()
        bulk_insert(
            conn,
            runs,
            [
                {
                    "run_number": n,
                    "oms_attributes": {"run_number": n, "energy": 6800, "b_field": 3.8, "ls_duration": 100},
                    "rr_attributes": {"class": "Collisions24", "significant": True, "state": "SIGNOFF"},
                    "rr_automatic": {"class": "Collisions24", "significant": True, "state": "SIGNOFF"},
                    "rr_manual": {},
                    "ls_count": 100,
                    "version": 1,
                    "last_change_set": change_set,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in numbers
            ],
        )
        bulk_insert(
            conn,
            events,
            [
                {
                    "change_set_id": change_set,
                    "run_number": n,
                    "stream_version": 1,
                    "type": "RunCreated",
                    "dataset": "online",
                    "target": None,
                    "first_ls": None,
                    "last_ls": None,
                    "manual": False,
                    "payload": {},
                }
                for n in numbers
            ],
        )
        waiting_set = set(waiting_runs)
        rows = []
        for n in numbers:
            rows.append({"run_number": n, "name": "online", "attributes": {}, "updated_at": now})
            for name in (EXPRESS, PROMPT):
                attributes = waiting_attributes if n in waiting_set else done
                rows.append({"run_number": n, "name": name, "attributes": attributes, "updated_at": now})
        bulk_insert(conn, datasets, rows)
        conn.exec_driver_sql("ANALYZE")
    return waiting_runs, waiting_attributes


def sample_list(waiting_runs: list[int], appearing: int) -> list[tuple[int, str]]:
    shown = waiting_runs[: appearing // 2]
    items = [sample for run in shown for sample in run_samples(run)]
    older = FIRST  # the older runs, none waiting, with a sixth sample no rule matches
    while len(items) < SAMPLES:
        items.extend([*run_samples(older), (older, "/HLTPhysics/Run2024D-PromptReco-v1/DQMIO")])
        older += 1
    assert older < waiting_runs[0]
    return items[:SAMPLES]


def restore(
    db: Database, waiting_runs: list[int], attributes: dict[str, Any], change_set: int | None
) -> None:
    if change_set is None:
        return
    with db.transaction() as conn:
        conn.exec_driver_sql(f"DELETE FROM events WHERE change_set_id = {change_set}")
        conn.exec_driver_sql(f"DELETE FROM change_sets WHERE id = {change_set}")
        conn.exec_driver_sql(
            f"UPDATE runs SET version = 1 WHERE run_number >= {waiting_runs[0]}"  # noqa: S608 — benchmark
        )
        conn.exec_driver_sql(
            "UPDATE datasets SET attributes = %s::jsonb WHERE run_number >= %s AND name <> 'online'",
            (orjson.dumps(attributes).decode(), waiting_runs[0]),
        )
        conn.exec_driver_sql("ANALYZE datasets")


SERVE = """
import sys, time, orjson
from runreg.simulators.dqmgui.server import FixedCatalogue, create_app, run_in_thread
items = [tuple(item) for item in orjson.loads(open(sys.argv[1], "rb").read())]
print(run_in_thread(create_app(FixedCatalogue(items))).base_url, flush=True)
time.sleep(3600)
"""


@contextmanager
def serving(items: list[tuple[int, str]]) -> Iterator[str]:
    """The DQM GUI simulator in a process of its own (the GUI is another machine: its serving is not ours)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as listing:
        listing.write(orjson.dumps(items))
        listing.flush()
        command = [sys.executable, "-c", SERVE, listing.name]
        child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout is not None
            yield child.stdout.readline().strip()
        finally:
            child.kill()
            child.wait()


def measure(db: Database, waiting_runs: list[int], attributes: dict[str, Any], repeats: int) -> None:
    cases = {"nothing appeared": 0, "1,000 appeared": 1_000, "all 10,000 appeared": 10_000}
    for label, appearing in cases.items():
        with serving(sample_list(waiting_runs, appearing)) as base_url, DqmGuiClient(base_url) as gui:
            wall: list[float] = []
            cpu: list[float] = []
            for _ in range(repeats):
                started, cpu_started = time.perf_counter(), time.process_time()
                report = pinger.ping(db, gui)
                wall.append(time.perf_counter() - started)
                cpu.append(time.process_time() - cpu_started)
                assert report.waiting == 2 * WAITING_RUNS and report.samples == SAMPLES, report
                assert report.datasets == appearing, report
                restore(db, waiting_runs, attributes, report.change_set_id)
        print(
            f"{label:22s} median {statistics.median(wall):5.2f} s (CPU {statistics.median(cpu):5.2f} s)  "
            f"all: {', '.join(f'{t:.2f}' for t in wall)} s; datasets moved {appearing}, "
            f"workspaces {report.opened} OPEN, {report.not_significant} not significant"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    name = f"runreg_gui_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.pg, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = args.pg.rsplit("/", 1)[0] + f"/{name}"
    db = Database(url)
    try:
        started = time.perf_counter()
        waiting_runs, attributes = build(db)
        print(f"set-up: {RUNS} runs, {2 * RUNS} offline datasets in {time.perf_counter() - started:.1f} s")
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
        measure(db, waiting_runs, attributes, args.repeats)
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        db.dispose()
        with psycopg.connect(args.pg, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
