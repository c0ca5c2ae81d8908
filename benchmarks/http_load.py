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
from collections.abc import Iterator
from contextlib import contextmanager
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
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of the processes `pids` (and their reaped children), from /proc."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return total / CLOCK_TICKS


def processes(*, pattern: str = "", parent: int | None = None) -> list[int]:
    """Pids whose command line contains `pattern` (and whose parent is `parent`, when given)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            if pattern in command and (parent is None or ppid == parent):
                found.append(int(entry.name))
    return found


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


@contextmanager
def load_database(admin_url: str, keep: str | None) -> Iterator[str]:
    """A database with the 50,000 runs: kept (and reused) under `keep`, else scratch and dropped after."""
    name = keep or f"runreg_load_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        if exists:
            with psycopg.connect(url) as conn:
                count = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
            if count != SEED_RUNS * COPIES:
                raise SystemExit(f"database {name!r} holds {count} runs, not {SEED_RUNS * COPIES}: drop it")
            print(f"reusing the {count} runs in database {name!r}")
            kept = Database(url)
            migrate.upgrade(kept)  # the code may have moved on since it was seeded
            kept.dispose()
        else:
            started = time.perf_counter()
            runs = seed(url)
            print(f"seeded {len(runs)} runs in {time.perf_counter() - started:.0f} s")
        yield url
    finally:
        if keep is None:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def serve(url: str, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RUNREG_DATABASE_URL": url}
    server = subprocess.Popen(
        # The production command: `runreg serve --workers N` (its supervisor, its settings, its balancing).
        [str(Path(sys.executable).with_name("runreg")), "serve"]
        + ["--port", str(PORT), "--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    for _ in range(150):
        try:
            if httpx.get(f"http://127.0.0.1:{PORT}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    for _ in range(workers * 20):  # warm every worker (its configuration, its pool) before measuring
        httpx.get(f"http://127.0.0.1:{PORT}/online/global", timeout=10)
    return server


def one_run(args: argparse.Namespace, server_pids: list[int], database: str) -> dict[str, dict[str, Any]]:
    """One wrk run of both user kinds: their RESULT and HISTOGRAM lines parsed, and the CPU that the server
    processes and the PostgreSQL backends of `database` took (other work on the machine is not counted)."""
    backends = f"postgres: postgres {database} "
    ui = args.users // 4
    cpu_before = cpu_seconds(server_pids) + cpu_seconds(processes(pattern=backends))
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
    results: dict[str, dict[str, Any]] = {}
    for driver in drivers:
        output, _ = driver.communicate()
        for line in output.splitlines():
            if line.startswith("RESULT"):
                _, kind, *pairs = line.split()
                results[kind] = {k: float(v) for k, v in (pair.split("=") for pair in pairs)}
            elif line.startswith("HISTOGRAM"):
                _, kind, *buckets = line.split()
                results.setdefault(kind, {})["histogram"] = [tuple(b.split(":")) for b in buckets]
    cpu = cpu_seconds(server_pids) + cpu_seconds(processes(pattern=backends)) - cpu_before
    served = sum(r["requests"] for r in results.values())
    results["cpu"] = {"seconds": cpu, "ms_per_request": 1000 * cpu / served if served else float("nan")}
    return results


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit(
            "this benchmark drives the load with wrk (C, so the load generator does not steal the "
            "server's CPU): apt-get install wrk"
        )
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="runs of --seconds each; medians reported")
    parser.add_argument("--keep", metavar="NAME", help="seed the runs into database NAME once, reuse it")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with load_database(args.pg, args.keep) as url:
        server = serve(url, args.workers)
        try:
            server_pids = [server.pid, *processes(parent=server.pid)]
            ui = args.users // 4
            print(
                f"{args.users} users ({args.users - ui} API without think time, {ui} UI thinking 1-5 s), "
                f"{args.repeat} × {args.seconds:.0f} s, {args.workers} uvicorn workers, PostgreSQL, "
                f"{SEED_RUNS * COPIES} runs, load average before {os.getloadavg()[0]:.1f}"
            )
            runs = []
            for i in range(args.repeat):
                result = one_run(args, server_pids, url.rsplit("/", 1)[1])
                runs.append(result)
                api, page = result["api"], result["page"]
                print(
                    f"run {i + 1}: API {api['rps']:.0f} req/s p50 {api['p50']:.0f} p95 {api['p95']:.0f} "
                    f"p99 {api['p99']:.0f} ms, errors {api['errors']:.0f} of {api['requests']:.0f}; "
                    f"page p95 {page['p95']:.0f} ms; CPU {result['cpu']['ms_per_request']:.2f} ms/request"
                )
            print("medians:")
            for kind in ("api", "page"):
                line = " ".join(
                    f"{key} {median([r[kind][key] for r in runs]):.1f}"
                    for key in ("rps", "p50", "p95", "p99", "errors")
                )
                print(f"  {kind}: {line}")
            cpu = median([r["cpu"]["ms_per_request"] for r in runs])
            print(f"  CPU ms/request (server + PostgreSQL): {cpu:.2f}")
            print("API latency histogram of the median run (ms upper bound: requests):")
            middle = sorted(runs, key=lambda r: r["api"]["p99"])[len(runs) // 2]
            print("  " + "  ".join(f"≤{edge}:{count}" for edge, count in middle["api"].get("histogram", [])))
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
