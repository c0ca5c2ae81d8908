"""Benchmark: the Stats2 update and the original's fetch route over 10,000 workflows.

Run: `.venv/bin/python benchmarks/workflows_update.py [--engine sqlite|postgresql|both] [--workflows N]`.
The cmsweb simulator runs in its own process (cmsweb is a remote system) with its clock frozen `--days-in`
days into its timeline, so part of the workflows are running and part are done. Measured:
  1. first load: every workflow from the changes feed (`include_docs`, pages of 500), DBS numbers of every
     output dataset (batched `datasetlist`, one `filesummaries` per dataset), expected events (parents, lumi
     masks), all written with their first history rows (targets: <= 60 s);
  2. incremental update with 1 % of the workflows changed in ReqMgr2 (target <= 5 s), and the same after
     DBS moved on by 15 simulated minutes (growing datasets, DBS-modified recalculation);
  3. GET /stats/api/fetch of every document over a real socket (target <= 2 s for 10,000);
  4. the /stats page filtered by the biggest campaign (target p95 <= 80 ms), its first page unfiltered, and
     one workflow's page, each 60 times after a warm-up, over a real socket.
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
from runreg.http.app import create_app
from runreg.integrations.cmsweb import connect
from runreg.kernel.actors import SYSTEM
from runreg.simulators.oms.server import run_in_thread
from runreg.storage import migrate
from runreg.storage.database import Database
from runreg.workflows import service

PORT = 9593
BASE = f"http://127.0.0.1:{PORT}"


def start_simulator(workflows: int, days_in: float) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "runreg.simulators.cmsweb.server", "--port", str(PORT), "--speed", "0"]
    command += ["--workflows", str(workflows), "--days-in", str(days_in)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{BASE}/_simulator/clock", timeout=1).raise_for_status()
            return process
        except httpx.HTTPError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit("the cmsweb simulator did not start")


def database(engine: str, workdir: Path) -> tuple[Database, str | None]:
    if engine == "sqlite":
        return Database(f"sqlite:///{workdir / 'bench.sqlite'}"), None
    name = f"runreg_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return Database(f"postgresql://postgres@127.0.0.1:5432/{name}"), name


def drop(name: str | None) -> None:
    if name:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(engine: str, workflows: int, concurrency: int, keep: bool = False) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        db, pg_name = database(engine, Path(workdir))
        try:
            migrate.upgrade(db)
            configuration.ensure_default(db, actor=SYSTEM)
            control = httpx.Client(base_url=BASE, timeout=60)
            now = [control.get("/_simulator/clock").json()["now"]]
            clock = lambda: now[0]  # noqa: E731 — the update's clock is the simulated one
            with connect(BASE, f"{BASE}/dbs/prod/global/DBSReader", concurrency=concurrency) as sources:
                started = time.perf_counter()
                first = service.update(db, sources, clock=clock)
                elapsed = time.perf_counter() - started
                requests = sources.reqmgr2.http.requests_made + sources.dbs.http.requests_made  # type: ignore[attr-defined]
                print(
                    f"[{engine}] first load: {service.counts(db)['workflows']} workflows, "
                    f"{first.datasets_changed} dataset snapshots, {requests} HTTP requests "
                    f"in {elapsed:.1f} s "
                    f"({service.counts(db)['workflows'] / elapsed:.0f} workflows/s)"
                )
                with db.reading() as conn:
                    from sqlalchemy import select

                    from runreg.workflows.tables import workflows as table

                    all_names = sorted(conn.execute(select(table.c.name)).scalars())
                changed = all_names[:: max(1, len(all_names) // max(1, workflows // 100))][: workflows // 100]
                control.post("/_simulator/touch", json={"names": changed, "change": True})
                started = time.perf_counter()
                report = service.update(db, sources, clock=clock)
                print(
                    f"[{engine}] incremental, {len(changed)} changed in ReqMgr2: "
                    f"{report.documents_changed} written, "
                    f"{report.recalculated} recalculated in {time.perf_counter() - started:.2f} s"
                )
                now[0] = control.post("/_simulator/clock", json={"advance_s": 900}).json()["now"]
                control.post("/_simulator/touch", json={"names": changed, "change": True})
                started = time.perf_counter()
                report = service.update(db, sources, clock=clock)
                print(
                    f"[{engine}] incremental, {len(changed)} changed + DBS 15 min later: "
                    f"{report.documents_changed} written, {report.recalculated} recalculated, "
                    f"{report.datasets_changed} dataset changes in {time.perf_counter() - started:.2f} s"
                )
            with run_in_thread(create_app(db)) as server, httpx.Client(timeout=120) as http:
                http.get(f"{server.base_url}/stats/api/fetch", params={"type": "StepChain"})  # warm up
                timings = []
                for _ in range(3):
                    started = time.perf_counter()
                    response = http.get(f"{server.base_url}/stats/api/fetch")
                    documents = len(response.json())
                    timings.append(time.perf_counter() - started)
                print(
                    f"[{engine}] /stats/api/fetch: {documents} documents, "
                    f"{len(response.content) / 1e6:.1f} MB, "
                    f"best {min(timings):.2f} s, median {sorted(timings)[1]:.2f} s"
                )
                pages(engine, db, http, server.base_url)
        finally:
            db.dispose()
            if keep and pg_name:
                print(f"[{engine}] kept postgresql://postgres@127.0.0.1:5432/{pg_name}")
            else:
                drop(pg_name)


def pages(engine: str, db: Database, http: httpx.Client, base: str, repeat: int = 60) -> None:
    """The /stats page (100 workflows a page, each with its datasets' numbers) filtered by the campaign
    with the most workflows, the unfiltered first page, and one workflow's page with its history."""
    from sqlalchemy import func, select

    from runreg.workflows.tables import workflow_keys as keys

    if db.dialect == "postgresql":  # what autovacuum does after a load this size: visibility map, statistics
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    with db.reading() as conn:
        campaign, members = conn.execute(
            select(keys.c.value, func.count()).where(keys.c.kind == "campaign").group_by(keys.c.value)
            .order_by(func.count().desc()).limit(1)
        ).one()  # fmt: skip
        rereco = select(keys.c.name).where(keys.c.kind == "type", keys.c.value == "ReReco")
        name = conn.execute(rereco).first()[0]
    for label, path, params in (
        (f"/stats?campaign= ({members} workflows, 100 shown)", "/stats", {"campaign": campaign}),
        ("/stats (first page of all)", "/stats", {}),
        ("/stats/workflow/<ReReco>", f"/stats/workflow/{name}", {}),
    ):
        for _ in range(5):
            http.get(f"{base}{path}", params=params).raise_for_status()  # warm up
        timings = []
        for _ in range(repeat):
            started = time.perf_counter()
            http.get(f"{base}{path}", params=params).raise_for_status()
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        p50, p95 = timings[len(timings) // 2], timings[int(len(timings) * 0.95) - 1]
        print(f"[{engine}] {label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms over {repeat} requests")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="postgresql")
    parser.add_argument("--workflows", type=int, default=10_000)
    parser.add_argument("--days-in", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database (URL printed)")
    parser.add_argument("--pages-of", metavar="URL", help="only time the pages, on a kept database")
    args = parser.parse_args()
    if args.pages_of:
        db = Database(args.pages_of)
        with run_in_thread(create_app(db)) as server, httpx.Client(timeout=120) as http:
            pages(db.dialect, db, http, server.base_url)
        return
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    for engine in engines:
        simulator = start_simulator(args.workflows, args.days_in)  # a fresh world per engine
        try:
            run(engine, args.workflows, args.concurrency, args.keep)
        finally:
            simulator.terminate()
            simulator.wait()


if __name__ == "__main__":
    main()
