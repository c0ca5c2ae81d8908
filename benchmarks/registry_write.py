"""Benchmark: write realistic runs (2,000 LS, 40 components, 38 OMS keys) and read back ranges and summaries.

Run: `make bench` (or `.venv/bin/python benchmarks/registry_write.py --runs 30`). It creates a scratch
SQLite file and a scratch PostgreSQL database, times each engine on the same generated runs, prints medians,
and drops the scratch databases. Figures go into docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import func, select, text

from runreg.configuration import service as configuration
from runreg.eventlog.tables import change_sets, events
from runreg.kernel.actors import SERVICES_EGROUP, SYSTEM, Actor, ActorKind
from runreg.kernel.ranges import RangeMap
from runreg.registry import service, store
from runreg.registry.model import ONLINE
from runreg.registry.tables import dataset_summaries, datasets, flag_ranges, oms_ranges, runs
from runreg.storage import migrate
from runreg.storage.database import Database

LS = 2000
WORKER = Actor("oms-ingestion", ActorKind.AUTOMATIC, frozenset({SERVICES_EGROUP}))
# The 38 per-LS OMS keys RR keeps (rr_backend.md §2.2).
OMS_KEYS = [
    "rp_time_ready",
    "cscp_ready",
    "physics_flag",
    "dt0_ready",
    "beam1_present",
    "bpix_ready",
    "ho_ready",
    "dtp_ready",
    "tecm_ready",
    "tibtid_ready",
    "fpix_ready",
    "rpc_ready",
    "rp_sect_56_ready",
    "castor_ready",
    "esp_ready",
    "eep_ready",
    "hbhea_ready",
    "ebm_ready",
    "dtm_ready",
    "eem_ready",
    "esm_ready",
    "tecp_ready",
    "ebp_ready",
    "hf_ready",
    "rp_sect_45_ready",
    "cscm_ready",
    "cms_active",
    "zdc_ready",
    "hbheb_ready",
    "tob_ready",
    "beam1_stable",
    "hbhec_ready",
    "beam2_stable",
    "beam2_present",
    "gemp_ready",
    "gemm_ready",
    "prescale_index",
    "prescale_name",
]


def components(db: Database) -> list[str]:
    return configuration.current_configuration(db).components("online")[:40]


def synthetic_run(rng: random.Random, comps: list[str]) -> tuple[list[dict[str, Any]], dict[str, RangeMap]]:
    """DCS bits true with a couple of drop-outs (some null), prescale changing 3 times; 1-4 status changes
    per component."""
    lumisections: list[dict[str, Any]] = [{} for _ in range(LS)]
    for key in OMS_KEYS:
        if key == "prescale_index":
            cuts = sorted(rng.sample(range(2, LS), 3))
            values = [sum(ls >= c for c in cuts) + 1 for ls in range(1, LS + 1)]
        elif key == "prescale_name":
            values = ["2p0E34"] * LS
        else:
            values = [True] * LS
            for _ in range(rng.randint(0, 2)):
                start = rng.randint(1, LS - 50)
                drop = False if rng.random() < 0.8 else None
                for ls in range(start, start + rng.randint(1, 40)):
                    values[ls - 1] = drop
        for ls, value in enumerate(values):
            lumisections[ls][key] = value
    flags = {}
    for comp in comps:
        cuts = sorted(rng.sample(range(2, LS), rng.randint(1, 4)))
        bounds = [1, *cuts, LS + 1]
        ranges = RangeMap()
        for i in range(len(bounds) - 1):
            status = "GOOD" if i % 2 == 0 else rng.choice(["BAD", "STANDBY"])
            ranges.assign(bounds[i], bounds[i + 1] - 1, {"status": status, "comment": "", "cause": ""})
        flags[comp] = ranges
    return lumisections, flags


def row_count(db: Database) -> int:
    with db.reading() as conn:
        return sum(
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (change_sets, events, runs, datasets, flag_ranges, oms_ranges, dataset_summaries)
        )


def stored_bytes(db: Database, sqlite_path: Path | None) -> int:
    if sqlite_path is not None:
        raw = db.engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
        return sqlite_path.stat().st_size
    with db.reading() as conn:
        names = [
            "change_sets",
            "events",
            "runs",
            "datasets",
            "flag_ranges",
            "oms_ranges",
            "dataset_summaries",
        ]
        return sum(conn.execute(text(f"SELECT pg_total_relation_size('{n}')")).scalar_one() for n in names)


def bench(db: Database, label: str, n_runs: int, sqlite_path: Path | None) -> dict[str, float]:
    migrate.upgrade(db)
    configuration.ensure_default(db, actor=SYSTEM)
    comps = components(db)
    rng = random.Random(42)
    prepared = [synthetic_run(rng, comps) for _ in range(n_runs + 3)]
    # Warm-up runs (connection pool, caches) are stored but not timed.
    for i, (lumis, flags) in enumerate(prepared[:3]):
        write(db, 900000 + i, lumis, flags)
    rows0, bytes0 = row_count(db), stored_bytes(db, sqlite_path)
    writes, reads = [], []
    for i, (lumis, flags) in enumerate(prepared[3:]):
        run_number = 400000 + i
        started = time.perf_counter()
        write(db, run_number, lumis, flags)
        writes.append(time.perf_counter() - started)
        started = time.perf_counter()
        with db.reading() as conn:
            ranges = store.component_ranges(conn, run_number, ONLINE)
            summary = store.summary(conn, run_number, ONLINE)
        reads.append(time.perf_counter() - started)
        assert len(ranges) == len(comps) and summary.ls_count == LS
    rows, size = (row_count(db) - rows0) / n_runs, (stored_bytes(db, sqlite_path) - bytes0) / n_runs
    return {
        "engine": label,
        "write_ms": statistics.median(writes) * 1000,
        "read_ms": statistics.median(reads) * 1000,
        "rows": rows,
        "bytes": size,
    }


def write(db: Database, run_number: int, lumis: list[dict[str, Any]], flags: dict[str, RangeMap]) -> None:
    service.register_run(
        db,
        actor=WORKER,
        run_number=run_number,
        oms_attributes={"run_number": run_number, "energy": 6800, "b_field": 3.8, "ls_duration": LS},
        rr_attributes={"class": "Collisions24", "significant": True},
        oms_lumisections=lumis,
        flags=flags,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite"
        db = Database(f"sqlite:///{path}")
        results.append(bench(db, "SQLite", args.runs, path))
        db.dispose()
    name = f"runreg_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.pg, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        db = Database(args.pg.rsplit("/", 1)[0] + f"/{name}")
        results.append(bench(db, "PostgreSQL", args.runs, None))
        db.dispose()
    finally:
        with psycopg.connect(args.pg, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"{args.runs} runs of {LS} LS, 40 components, {len(OMS_KEYS)} OMS keys (medians)")
    print(f"{'engine':<12}{'write ms/run':>14}{'read ms/run':>13}{'rows/run':>10}{'bytes/run':>11}")
    for r in results:
        print(
            f"{r['engine']:<12}{r['write_ms']:>14.1f}{r['read_ms']:>13.1f}{r['rows']:>10.0f}{r['bytes']:>11.0f}"
        )


if __name__ == "__main__":
    main()
