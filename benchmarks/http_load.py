"""Load benchmark: the original's load profile against `runreg` on PostgreSQL with 50,000 runs.

Run: `.venv/bin/python benchmarks/http_load.py [--users 50 --seconds 30 --workers 2]`. It creates a
scratch PostgreSQL database, writes 500 runs through the registry service (online flags and OMS values, 100 LS
each), replicates their projection rows with SQL to 50,000 runs (reads only touch projections, so the copies
are as real as the originals for this purpose), serves the app with uvicorn workers in their own processes and
replays the original locustfile (rr_backend §11) with wrk: of 50 users, 3 in 4 are API users POSTing
`/runs_filtered_ordered` (page_size 5, filter on run_number and rr_attributes.significant) without think
time, 1 in 4 are UI users loading the online run tables `/online/global` and thinking 1-5 s. Reports
requests/s, latency percentiles (ms) and errors per kind.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg

from runreg.configuration import service as configuration
from runreg.kernel.actors import SERVICES_EGROUP, SYSTEM, Actor, ActorKind
from runreg.kernel.ranges import RangeMap
from runreg.registry import service
from runreg.storage import migrate
from runreg.storage.database import Database

PORT = 9592
SEED_RUNS = 500
COPIES = 100  # 500 × 100 = 50,000 runs
GOOD = {"status": "GOOD", "comment": "", "cause": ""}
WORKER = Actor("oms-ingestion", ActorKind.AUTOMATIC, frozenset({SERVICES_EGROUP}))


def seed(url: str) -> list[int]:
    db = Database(url)
    migrate.upgrade(db)
    configuration.ensure_default(db, actor=SYSTEM)
    rng = random.Random(7)
    for i in range(SEED_RUNS):
        run = 300000 + i
        lumis = [{"cms_active": True, "bpix_ready": ls > 3} for ls in range(1, 101)]
        service.register_run(
            db,
            actor=WORKER,
            run_number=run,
            oms_attributes={
                "run_number": run,
                "energy": 6800,
                "hlt_key": "/cdaq/physics/Run2024/v1",
                "ls_duration": 100,
            },
            rr_attributes={"class": "Collisions24", "significant": rng.random() < 0.7},
            oms_lumisections=lumis,
            flags={"dt-dt": RangeMap([(1, 100, GOOD)]), "tracker-pixel": RangeMap([(1, 100, GOOD)])},
        )
    with db.transaction() as conn:
        replicate(conn, copies=COPIES, shift=1000, seeded="run_number < 301000")
        runs = [r[0] for r in conn.exec_driver_sql("SELECT run_number FROM runs")]
    db.dispose()
    return runs


#: The registry's projection tables a page reads, with their columns after run_number.
PROJECTIONS = {
    "runs": "oms_attributes, rr_attributes, rr_automatic, rr_manual, ls_count, version, "
    "last_change_set, created_at, updated_at",
    "datasets": "name, attributes, updated_at",
    "dataset_summaries": "dataset, ls_count, triplet_summary, dcs_summary, recorded_lumi, delivered_lumi",
}


def replicate(conn: Any, *, copies: int, shift: int, seeded: str) -> None:
    """Copy the projection rows of the runs `seeded` (an SQL condition) `copies - 1` times, copy k with its
    run numbers shifted by k × `shift` (negative: below), then ANALYZE: a large registry for the pages'
    reads in seconds, without its events."""
    for k in range(1, copies):
        for table, columns in PROJECTIONS.items():
            conn.exec_driver_sql(
                f"INSERT INTO {table} SELECT run_number + {k * shift}, {columns} FROM {table} WHERE {seeded}"
            )
    conn.exec_driver_sql("ANALYZE")


WRK = Path(__file__).parent / "wrk"


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit(
            "this benchmark drives the load with wrk (C, so the load generator does not steal the "
            "server's CPU): apt-get install wrk"
        )
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    name = f"runreg_load_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.pg, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = args.pg.rsplit("/", 1)[0] + f"/{name}"
    server = None
    try:
        started = time.perf_counter()
        runs = seed(url)
        print(f"seeded {len(runs)} runs in {time.perf_counter() - started:.0f} s")
        env = {**os.environ, "RUNREG_DATABASE_URL": url}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "runreg.http.app:app_from_settings",
                "--factory",
                "--port",
                str(PORT),
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
        )
        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{PORT}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        ui = args.users // 4
        print(
            f"{args.users} users ({args.users - ui} API without think time, {ui} UI thinking 1-5 s), "
            f"{args.seconds:.0f} s, {args.workers} uvicorn workers, PostgreSQL, {len(runs)} runs"
        )
        drivers = [
            subprocess.Popen(
                [
                    "wrk",
                    "-t1",
                    f"-c{users}",
                    f"-d{args.seconds:.0f}s",
                    "--timeout",
                    "10s",
                    "-s",
                    str(WRK / script),
                    f"http://127.0.0.1:{PORT}",
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            for users, script in ((args.users - ui, "api_user.lua"), (ui, "ui_user.lua"))
        ]
        for driver in drivers:
            output, _ = driver.communicate()
            print(next(line for line in output.splitlines() if line.startswith("RESULT")))
    finally:
        if server:
            server.terminate()
            server.wait()
        with psycopg.connect(args.pg, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
