"""Benchmark: ingest the simulator's 500 runs through the real HTTP path, then time a quiet cycle.

Run: `.venv/bin/python benchmarks/ingestion.py [--engine sqlite|postgresql|both] [--ls-per-run 2000]`. The OMS
simulator runs in its own process (OMS is a remote system: it must not share our interpreter), its clock
frozen after the last run ended, so every run is complete. One ingestion cycle pages through all runs
newest-first, downloads every run's LS (OAuth token, JSON:API pages of at most 5,000 LS), classifies with the
default configuration and writes through the registry service. Reported: runs/s, LS/s, OMS requests per run,
and a quiet cycle's cost. `--ls-per-run` gives every run that many LS.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg

from runreg.configuration import service as configuration
from runreg.ingestion import service as ingestion
from runreg.integrations.oms import OmsClient
from runreg.kernel.actors import SYSTEM
from runreg.simulators.oms.world import OmsWorld
from runreg.storage import migrate
from runreg.storage.database import Database

PORT = 9591
BASE = f"http://127.0.0.1:{PORT}"


def start_simulator(ls_per_run: int | None) -> subprocess.Popen[bytes]:
    world = OmsWorld(ls_per_run=ls_per_run)
    hours = (world.end - world.plans[0].start_time).total_seconds() / 3600 + 1
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "runreg.simulators.oms.server",
            "--port",
            str(PORT),
            "--speed",
            "0",
            "--hours-in",
            str(hours),
            *(["--ls-per-run", str(ls_per_run)] if ls_per_run else []),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            httpx.get(f"{BASE}/_simulator/stats", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the OMS simulator did not start")


def bench(db: Database, label: str, world: OmsWorld) -> None:
    migrate.upgrade(db)
    configuration.ensure_default(db, actor=SYSTEM)
    oms = OmsClient(
        f"{BASE}/agg/api/v1",
        token_url=f"{BASE}/auth/token",
        client_id="runreg",
        client_secret="simulator-secret",
        audience="cmsoms-prod",
    )
    httpx.delete(f"{BASE}/_simulator/stats")
    started = time.perf_counter()
    report = ingestion.run_cycle(db, oms)
    elapsed = time.perf_counter() - started
    stats = httpx.get(f"{BASE}/_simulator/stats").json()
    runs = report.count("created")
    total_ls = sum(p.ls_count for p in world.plans)
    httpx.delete(f"{BASE}/_simulator/stats")
    started = time.perf_counter()
    quiet = ingestion.run_cycle(db, oms)
    quiet_s = time.perf_counter() - started
    quiet_stats = httpx.get(f"{BASE}/_simulator/stats").json()
    quiet_ls = sum(n for path, n in quiet_stats["requests"].items() if "lumisections" in path)
    with db.reading() as conn:  # ingestion writes each run's luminosity arrays in the run's transaction
        lumi_runs = conn.exec_driver_sql("SELECT count(DISTINCT run_number) FROM luminosity_series").scalar()
    print(
        f"{label}: {runs} runs ({total_ls} LS, {total_ls / max(runs, 1):,.0f} LS/run, luminosity for "
        f"{lumi_runs} runs, failed {len(report.failed)}) in {elapsed:.1f} s = "
        f"{runs / elapsed:.1f} runs/s, {total_ls / elapsed:,.0f} LS/s, "
        f"{stats['total'] / runs:.2f} OMS requests/run; quiet cycle {quiet_s * 1000:.0f} ms, "
        f"{quiet_stats['total']} OMS requests, {quiet_ls} LS requests, outcomes {quiet.outcomes or 'none'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--ls-per-run", type=int, help="every run this many LS (the issue's 2,000-LS runs)")
    args = parser.parse_args()
    simulator = start_simulator(args.ls_per_run)
    world = OmsWorld(ls_per_run=args.ls_per_run)
    try:
        if args.engine in ("sqlite", "both"):
            with tempfile.TemporaryDirectory() as tmp:
                db = Database(f"sqlite:///{Path(tmp) / 'bench.sqlite'}")
                bench(db, "SQLite", world)
                db.dispose()
        if args.engine in ("postgresql", "both"):
            name = f"runreg_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(args.pg, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{name}"')
            try:
                db = Database(args.pg.rsplit("/", 1)[0] + f"/{name}")
                bench(db, "PostgreSQL", world)
                db.dispose()
            finally:
                with psycopg.connect(args.pg, autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        simulator.terminate()
        simulator.wait()


if __name__ == "__main__":
    main()
