"""Benchmark: a synthetic year's golden JSON with the 2018 golden rule, against the original's inner loop.

Run: `.venv/bin/python benchmarks/golden_json.py [--keep NAME]`.

1. Builds a year in a scratch PostgreSQL database (dropped at the end; `--keep NAME` builds it once in
   database NAME and reuses it on later runs): the 2,000 runs of `OmsWorld(runs=2000)` (~2.6 M LS) written
   through `registry.service.register_run` (automatic actor) with their OMS run attributes, the 38 per-LS OMS
   keys RR keeps, per-LS luminosity as ingestion records it (`luminosity.service.record_oms`: the world's
   exact `recorded_lumi`/`delivered_lumi` of every LS, one dense array per run) and one
   automatic GOOD range for each of the 17 online components. Every collisions run gets an offline dataset
   `/PromptReco/Collisions2024<era>/DQM` (era A-F by run range, every workspace OPEN) and flags for 40 offline
   components through `edit_flags` (automatic actor): GOOD with 1-4 status changes per component (short BAD
   stretches with a comment, STANDBY at the start or in between), `dc-lowlumi` BAD ("not low lumi") except in
   about 3 % of the runs. Seeded, so every build is the same year. The build time is printed, not a figure.
2. Times `compute_json(db, rule=golden, dataset_pattern="/PromptReco/Collisions2024_/DQM")`: cold (the first
   call in a fresh Python process, a subprocess) and warm (one untimed call, then the median of 5 calls in one
   process).
3. Exports, for a deterministic sample of those datasets (100 runs, seed 7), the per-LS evaluation contexts of
   rr_backend.md §6.8 built from `registry.service.run_state` (another read path than the engine's), and times
   json-logic-js 2.0.5 — the original's evaluator — on them with `benchmarks/jsonlogic_per_ls.js`: only the
   `jsonLogic.apply(rule, context)` loop over all LS, median of 3 loops. Its passing LS must equal the
   engine's on every sample dataset. Its time per LS is then extrapolated to the LS of all matched datasets:
   an extrapolation of the original's inner loop only (no database reads, no context or JSON building).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import psycopg
from sqlalchemy import func, select

from runreg.certification import patterns
from runreg.certification import service as certification
from runreg.certification.compute import compute_json
from runreg.certification.runners import InlineRunner
from runreg.configuration import service as configuration
from runreg.configuration.model import default_configuration
from runreg.ingestion.model import LS_WHITELIST, derive_oms_attributes
from runreg.kernel.actors import SERVICES_EGROUP, SYSTEM, Actor, ActorKind
from runreg.kernel.ranges import RangeMap
from runreg.luminosity import service as luminosity
from runreg.luminosity.tables import luminosity_series
from runreg.registry import service
from runreg.registry.model import ONLINE
from runreg.registry.service import FlagEdit
from runreg.registry.tables import datasets, flag_ranges, runs
from runreg.simulators.oms.world import OmsWorld
from runreg.storage import migrate
from runreg.storage.database import Database

RUNS = 2000
ERAS = "ABCDEF"
PATTERN = "/PromptReco/Collisions2024_/DQM"
SAMPLE_RUNS = 100
SAMPLE_SEED = 7
WARM_CALLS = 5
NODE_LOOPS = 3
BATCH = 50  # runs per unit of work of a build process
ROOT = Path(__file__).resolve().parent
NODE_SCRIPT = ROOT / "jsonlogic_per_ls.js"
INGESTION = Actor("oms-ingestion", ActorKind.AUTOMATIC, frozenset({SERVICES_EGROUP}))
CERTIFIER = Actor("offline-dqm-automation", ActorKind.AUTOMATIC, frozenset({"cms-dqm-runregistry-experts"}))
CLASSES = {"collisions": "Collisions24", "cosmics": "Cosmics24", "commissioning": "Commissioning24"}
# Certifiable offline components (24) + sub-columns of ecal, hcal and csc up to 40.
EXTRA_COMPONENTS = [
    "ecal-ebp", "ecal-ebm", "ecal-eep", "ecal-eem", "ecal-esp", "ecal-esm", "ecal-timing", "ecal-noise",
    "hcal-hb", "hcal-he", "hcal-hf", "hcal-ho0", "hcal-ho12", "csc-occupancy", "csc-integrity", "csc-timing",
]  # fmt: skip
BAD_REASONS = ["HV trip", "noisy channels", "timing misconfigured", "DQM shows holes", "low efficiency"]
STANDBY_REASONS = ["HV ramping", "waiting for expert", "partial readout"]
LOW_LUMI_FRACTION = 0.03


def golden_rule() -> Any:
    return next(p.rule for p in default_configuration().json_presets if p.name == "golden")


def offline_components() -> list[str]:
    config = default_configuration()
    known = set(config.components("offline"))
    comps = [*config.certifiable_components("offline"), *EXTRA_COMPONENTS]
    assert len(comps) == 40 == len(set(comps)) and set(comps) <= known, comps
    return comps


def dataset_attributes() -> dict[str, str]:
    workspaces = [ws.name for ws in default_configuration().workspaces if ws.mode == "offline"]
    return {f"{ws}_state": "OPEN" for ws in workspaces}


# ----------------------------------------------------------------------------------------------
# The synthetic year
# ----------------------------------------------------------------------------------------------
def era_of(world: OmsWorld) -> dict[int, str]:
    """Collisions runs split into six eras A-F of equal run-number ranges."""
    numbers = [p.run_number for p in world.plans if p.kind == "collisions"]
    lo, hi = min(numbers), max(numbers)
    width = (hi - lo + 1) / len(ERAS)
    return {n: ERAS[min(len(ERAS) - 1, int((n - lo) / width))] for n in numbers}


def oms_lumisections(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The 38 whitelisted keys (luminosity goes to the run's dense arrays, as ingestion does)."""
    return [{key: row[key] for key in LS_WHITELIST} for row in rows]


def online_flags(ls_count: int) -> dict[str, RangeMap]:
    triplet = {"status": "GOOD", "comment": "", "cause": ""}
    comps = default_configuration().components("online")
    return {c: RangeMap([(1, ls_count, dict(triplet))]) for c in comps}


def offline_edits(run_number: int, ls_count: int, comps: list[str]) -> list[FlagEdit]:
    """GOOD with 1-4 status changes per component: an odd count puts one stretch at an edge (STANDBY at the
    start, BAD at the end), every other pair of changes is an interior BAD or STANDBY stretch of 1-20 LS."""
    rng = random.Random(f"offline-flags:{run_number}")
    edits: list[FlagEdit] = []
    for comp in comps:
        if comp == "dc-lowlumi":
            low = rng.random() < LOW_LUMI_FRACTION
            edits.append(FlagEdit(comp, 1, ls_count, "GOOD" if low else "BAD", "" if low else "not low lumi"))
            continue
        edits.append(FlagEdit(comp, 1, ls_count, "GOOD"))
        changes = rng.choices((1, 2, 3, 4), (4, 3, 2, 1))[0]
        if changes % 2:
            length = rng.randint(1, min(20, max(1, ls_count // 10)))
            if rng.random() < 0.5:
                edits.append(FlagEdit(comp, 1, length, "STANDBY", rng.choice(STANDBY_REASONS)))
            else:
                edits.append(FlagEdit(comp, ls_count - length + 1, ls_count, "BAD", rng.choice(BAD_REASONS)))
        interior = changes // 2
        slot = (ls_count - 40) // max(1, interior)
        for i in range(interior if slot > 6 else 0):
            length = rng.randint(1, min(20, slot // 3))
            first = 21 + i * slot + rng.randint(1, slot - length - 1)
            status = "BAD" if rng.random() < 0.7 else "STANDBY"
            reason = rng.choice(BAD_REASONS if status == "BAD" else STANDBY_REASONS)
            edits.append(FlagEdit(comp, first, first + length - 1, status, reason))
    return edits


def write_batch(args: tuple[str, int, list[int]]) -> tuple[int, int, int]:
    """Write one batch of runs (a build process's unit of work); returns (runs, datasets, LS)."""
    url, n_runs, numbers = args
    db = Database(url)
    world = OmsWorld(runs=n_runs)
    eras = era_of(world)
    comps = offline_components()
    attributes = dataset_attributes()
    n_datasets = n_ls = 0
    for run_number in numbers:
        plan = world.plan(run_number)
        assert plan is not None
        record = world.run(run_number, world.end)
        rows = world.lumisection_rows(run_number, world.end)
        assert record is not None and len(rows) == plan.ls_count
        service.register_run(
            db,
            actor=INGESTION,
            run_number=run_number,
            oms_attributes=derive_oms_attributes(record, rows),
            rr_attributes={"class": CLASSES[plan.kind], "significant": plan.kind != "commissioning"},
            oms_lumisections=oms_lumisections(rows),
            flags=online_flags(plan.ls_count),
        )
        with db.transaction() as conn:
            luminosity.record_oms(conn, run_number=run_number, lumisections=rows)
        n_ls += plan.ls_count
        if plan.kind != "collisions":
            continue
        name = f"/PromptReco/Collisions2024{eras[run_number]}/DQM"
        service.create_dataset(db, actor=CERTIFIER, run_number=run_number, name=name, attributes=attributes)
        service.edit_flags(
            db,
            actor=CERTIFIER,
            run_number=run_number,
            dataset=name,
            edits=offline_edits(run_number, plan.ls_count, comps),
            comment="offline certification (synthetic)",
        )
        n_datasets += 1
    db.dispose()
    return len(numbers), n_datasets, n_ls


def build_year(url: str, n_runs: int, jobs: int) -> float:
    db = Database(url)
    migrate.upgrade(db)
    configuration.ensure_default(db, actor=SYSTEM)
    db.dispose()
    world = OmsWorld(runs=n_runs)
    numbers = [p.run_number for p in world.plans]
    batches = [(url, n_runs, numbers[i : i + BATCH]) for i in range(0, len(numbers), BATCH)]
    total_ls = sum(p.ls_count for p in world.plans)
    done_runs = done_datasets = done_ls = 0
    started = time.perf_counter()
    print(f"building the year: {len(numbers)} runs, {total_ls:,} LS, {jobs} writer processes", flush=True)
    with multiprocessing.get_context("spawn").Pool(jobs) as pool:
        for n_runs, n_datasets, n_ls in pool.imap_unordered(write_batch, batches):
            done_runs, done_datasets, done_ls = done_runs + n_runs, done_datasets + n_datasets, done_ls + n_ls
            elapsed = time.perf_counter() - started
            eta = elapsed / done_ls * (total_ls - done_ls)
            print(
                f"  {done_runs:>5} runs, {done_datasets:>5} datasets, {done_ls:>9,} LS  "
                f"{elapsed:6.0f} s elapsed, ~{eta:.0f} s to go",
                flush=True,
            )
    return time.perf_counter() - started


def is_built(url: str, n_runs: int) -> bool:
    """The year is there: every run, every collisions dataset and its offline flags."""
    world = OmsWorld(runs=n_runs)
    expected = sum(p.kind == "collisions" for p in world.plans)
    db = Database(url)
    try:
        with db.reading() as conn:
            stored_runs = conn.execute(select(func.count()).select_from(runs)).scalar_one()
            n_datasets = conn.execute(
                select(func.count()).select_from(datasets).where(datasets.c.name != ONLINE)
            ).scalar_one()
            with_lumi = conn.execute(select(func.count()).select_from(luminosity_series)).scalar_one()
            flagged = conn.execute(
                select(func.count(func.distinct(flag_ranges.c.run_number))).where(
                    flag_ranges.c.dataset != ONLINE
                )
            ).scalar_one()
    except Exception:  # noqa: BLE001 — not migrated, or not ours: build it
        return False
    finally:
        db.dispose()
    return stored_runs == with_lumi == n_runs and n_datasets == flagged == expected


# ----------------------------------------------------------------------------------------------
# The engine
# ----------------------------------------------------------------------------------------------
def json_ls(ranges: dict[str, list[list[int]]]) -> int:
    return sum(last - first + 1 for pieces in ranges.values() for first, last in pieces)


def cold_child(url: str) -> None:
    """Subprocess body: one compute_json in a fresh interpreter; prints its seconds as JSON."""
    db = Database(url)
    started = time.perf_counter()
    compute_json(db, rule=golden_rule(), dataset_pattern=PATTERN)
    seconds = time.perf_counter() - started
    db.dispose()
    print(json.dumps({"seconds": seconds}))


def time_cold(url: str) -> tuple[float, float]:
    """(seconds of the first compute_json call, wall seconds of the whole process: interpreter, imports)."""
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--cold-child", url], check=True, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"], wall


def time_warm(db: Database) -> tuple[float, list[float], dict[str, Any]]:
    rule = golden_rule()
    result = compute_json(db, rule=rule, dataset_pattern=PATTERN)  # warm-up, untimed
    times = []
    for _ in range(WARM_CALLS):
        started = time.perf_counter()
        result = compute_json(db, rule=rule, dataset_pattern=PATTERN)
        times.append(time.perf_counter() - started)
    return statistics.median(times), times, result


def time_portal(db: Database) -> list[float]:
    """Seconds of whole portal jobs, warm: what `POST /api/v1/json` sets off — validation, the job row, the
    computation with its progress writes, the result stored in the job — run inline (median of 3)."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        job_id = certification.submit(
            db, InlineRunner(db), actor=CERTIFIER, dataset_pattern=PATTERN, rule=golden_rule()
        )
        times.append(time.perf_counter() - started)
        if certification.get(db, job_id).status != "done":
            raise SystemExit(f"portal job {job_id} did not finish: {certification.get(db, job_id).error}")
    return times


def matched_ls(db: Database) -> tuple[int, int, int]:
    """(runs, datasets, LS) of the datasets the pattern matches."""
    with db.reading() as conn:
        rows = conn.execute(
            select(datasets.c.run_number, datasets.c.name, runs.c.ls_count).join(
                runs, runs.c.run_number == datasets.c.run_number
            )
        ).all()
    hits = [r for r in rows if patterns.matches(PATTERN, r.name)]
    return len({r.run_number for r in hits}), len(hits), sum(r.ls_count for r in hits)


# ----------------------------------------------------------------------------------------------
# The original's inner loop: json-logic-js on every LS context
# ----------------------------------------------------------------------------------------------
def sample_runs(db: Database) -> list[tuple[int, str]]:
    with db.reading() as conn:
        rows = conn.execute(
            select(datasets.c.run_number, datasets.c.name).order_by(datasets.c.run_number)
        ).all()
    pairs = [(r.run_number, r.name) for r in rows if patterns.matches(PATTERN, r.name)]
    return sorted(random.Random(SAMPLE_SEED).sample(pairs, min(SAMPLE_RUNS, len(pairs))))


def _column(ranges: RangeMap, ls_count: int, hole: Any) -> list[Any]:
    values = [hole] * ls_count
    for first, last, value in ranges:
        values[first - 1 : last] = [value] * (last - first + 1)
    return values


def contexts_of(db: Database, run_number: int, name: str) -> dict[str, Any]:
    """One dataset's §6.8 contexts: `dataset` (attributes + name), `run` ({oms, rr, run_number}), and per LS
    `lumisection` = {lumisection_number, oms: merged OMS LS values, rr: {component: status}}. A key without a
    value on an LS is absent there, as in the original's merged LS object."""
    run = service.run_state(db, run_number)
    ds = run.dataset(name)
    n = run.ls_count
    hole = object()
    oms = {key: _column(ranges, n, hole) for key, ranges in run.oms_values(name).items()}
    rr = {
        comp: _column(RangeMap([(f, la, t["status"]) for f, la, t in flags.effective()]), n, hole)
        for comp, flags in ds.flags.items()
    }
    lumisections = []
    for i in range(n):
        lumisections.append(
            {
                "lumisection_number": i + 1,
                "oms": {k: col[i] for k, col in oms.items() if col[i] is not hole},
                "rr": {k: col[i] for k, col in rr.items() if col[i] is not hole},
            }
        )
    return {
        "key": f"{run_number}-{name}",
        "dataset": {**ds.attributes, "name": name},
        "run": {"oms": run.oms, "rr": run.rr, "run_number": run_number},
        "lumisections": lumisections,
    }


def run_node(db: Database, sample: list[tuple[int, str]], workdir: Path) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is not on PATH")
    rule_path, contexts_path = workdir / "rule.json", workdir / "contexts.ndjson"
    rule_path.write_bytes(orjson.dumps(golden_rule()))
    started = time.perf_counter()
    n_ls = 0
    with contexts_path.open("wb") as out:
        for run_number, name in sample:
            ctx = contexts_of(db, run_number, name)
            n_ls += len(ctx["lumisections"])
            out.write(orjson.dumps(ctx) + b"\n")
    export_s = time.perf_counter() - started
    size = contexts_path.stat().st_size
    print(
        f"exported {len(sample)} datasets, {n_ls:,} LS contexts ({size / 1e6:.0f} MB NDJSON) "
        f"in {export_s:.1f} s (not timed)",
        flush=True,
    )
    out = subprocess.run(
        [node, str(NODE_SCRIPT), str(rule_path), str(contexts_path), str(NODE_LOOPS)],
        check=True,
        capture_output=True,
        text=True,
    )
    passing: dict[str, list[list[int]]] = {}
    summary: dict[str, Any] = {}
    lines = out.stdout.splitlines()
    for line in lines:
        if line.startswith("{"):
            summary = json.loads(line)
        elif "\t" in line:
            key, ranges = line.split("\t", 1)
            passing[key] = json.loads(ranges)
    for line in lines[:2]:
        print(f"  node: {line[:200]}")
    print(f"  node: … one line of passing LS ranges per dataset ({len(passing)} lines)")
    return {"summary": summary, "passing": passing, "ls": n_ls}


# ----------------------------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------------------------
@contextmanager
def scratch_database(admin_url: str, keep: str | None) -> Iterator[tuple[str, bool]]:
    """Yield (url, fresh); drop the database afterwards unless it is kept."""
    name = keep or f"runreg_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url, not exists
    finally:
        if keep is None:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def recreate(admin_url: str, url: str) -> None:
    """Drop and create again a kept database that is empty or a partial runreg year; refuse anything else."""
    name = url.rsplit("/", 1)[1]
    if name in ("postgres", "template0", "template1", admin_url.rsplit("/", 1)[1]):
        raise SystemExit(f"--keep {name!r}: choose a database of its own for the benchmark")
    with psycopg.connect(url) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    if tables and not {"alembic_version", "runs", "events"} <= tables:
        raise SystemExit(f"database {name!r} exists and is not a runreg database: choose another --keep name")
    print(f"database {name!r} does not hold the complete year: rebuilding it")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--keep", metavar="NAME", help="build the year in database NAME once, keep and reuse it"
    )
    parser.add_argument("--jobs", type=int, default=2, help="writer processes for the build (default 2)")
    parser.add_argument(
        "--runs", type=int, default=RUNS, help=f"runs in the year (default {RUNS}; fewer for a smoke test)"
    )
    parser.add_argument("--cold-child", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cold_child:
        cold_child(args.cold_child)
        return

    with scratch_database(args.pg, args.keep) as (url, fresh):
        build_s = None
        if fresh or not is_built(url, args.runs):
            if not fresh:
                recreate(args.pg, url)
            build_s = build_year(url, args.runs, args.jobs)
            print(f"build: {build_s:.0f} s (not a figure)")
        else:
            print(f"reusing the year in database {args.keep!r}")
        db = Database(url)
        n_runs, n_datasets, year_ls = matched_ls(db)
        print(f"pattern {PATTERN}: {n_runs} runs, {n_datasets} datasets, {year_ls:,} LS")

        cold_s, cold_wall = time_cold(url)
        print(
            f"cold compute_json: {cold_s:.2f} s (whole process incl. interpreter, imports: {cold_wall:.2f} s)"
        )
        warm_s, warm_times, result = time_warm(db)
        print(f"warm compute_json: median {warm_s:.3f} s of {', '.join(f'{t:.3f}' for t in warm_times)}")
        if (result["datasets"], result["runs"]) != (n_datasets, n_runs):
            raise SystemExit(f"compute_json matched {result['datasets']} datasets, expected {n_datasets}")
        golden_runs, golden_ls = len(result["json"]), json_ls(result["json"])
        portal_times = time_portal(db)
        portal_s = statistics.median(portal_times)
        print(
            f"portal job (submit, compute, store), warm: median {portal_s:.3f} s of "
            f"{', '.join(f'{t:.3f}' for t in portal_times)}"
        )

        sample = sample_runs(db)
        with tempfile.TemporaryDirectory() as tmp:
            node = run_node(db, sample, Path(tmp))
        db.dispose()
        engine_passing = result["json_with_dataset_names"]
        if set(node["passing"]) != {f"{r}-{n}" for r, n in sample}:
            raise SystemExit("json-logic-js did not report every sample dataset")
        for run_number, name in sample:
            key = f"{run_number}-{name}"
            if node["passing"][key] != engine_passing.get(key, []):
                raise SystemExit(
                    f"{key}: json-logic-js {node['passing'][key]} != runreg {engine_passing.get(key)}"
                )
        sample_pass = sum(last - first + 1 for k in node["passing"] for first, last in node["passing"][k])
        sample_json_runs = len({key.split("-", 1)[0] for key, ranges in node["passing"].items() if ranges})
        print(f"results identical on {node['ls']:,} LS ({len(sample)} datasets, {sample_pass:,} LS passing)")

        s = node["summary"]
        per_ls = s["median_s"] / s["ls"]
        node_year = per_ls * year_ls
        report(
            n_runs=n_runs,
            n_datasets=n_datasets,
            year_ls=year_ls,
            golden_runs=golden_runs,
            golden_ls=golden_ls,
            cold_s=cold_s,
            warm_s=warm_s,
            sample=sample,
            node=s,
            sample_pass=sample_pass,
            node_year=node_year,
            build_s=build_s,
            cold_wall=cold_wall,
            sample_json_runs=sample_json_runs,
            portal_s=portal_s,
        )


def report(**r: Any) -> None:
    s = r["node"]
    sample = r["sample"]
    print()
    print(
        f"Golden JSON with the 2018 golden rule (51 leaves) over {PATTERN}; "
        f"json-logic-js {s['version']} on node {s['node']}"
    )
    print("| what | runs | datasets | LS | JSON runs | JSON LS | seconds | µs/LS |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    year = (r["n_runs"], r["n_datasets"], r["year_ls"])
    rows = [
        ("runreg `compute_json`, cold (fresh process)", *year, r["golden_runs"], r["golden_ls"], r["cold_s"]),
        (f"runreg `compute_json`, warm (median of {WARM_CALLS})", *year, r["golden_runs"], r["golden_ls"],
         r["warm_s"]),
        ("runreg portal job (submit, compute, store result), warm, median of 3", *year, r["golden_runs"],
         r["golden_ls"], r["portal_s"]),
        (f"json-logic-js `apply` loop, sample (median of {NODE_LOOPS})", len({run for run, _ in sample}),
         len(sample), s["ls"], r["sample_json_runs"], r["sample_pass"], s["median_s"]),
        ("json-logic-js `apply` loop, extrapolated", *year, None, None, r["node_year"]),
    ]  # fmt: skip
    for what, n_runs, n_ds, ls, json_runs, json_ls_, seconds in rows:
        cells = [f"{n_runs:,}", f"{n_ds:,}", f"{ls:,}"]
        cells += ["—" if v is None else f"{v:,}" for v in (json_runs, json_ls_)]
        cells += [f"{seconds:.3f}", f"{seconds / ls * 1e6:.2f}"]
        print(f"| {what} | {' | '.join(cells)} |")
    print()
    print(
        f"- LS = every LS of the matched datasets (what the original evaluates one by one). json-logic-js: "
        f"{s['ls'] / s['median_s']:,.0f} LS/s on the sample ({s['ls']:,} LS of {len(sample)} datasets, "
        f"seed {SAMPLE_SEED}; loops {', '.join(f'{t:.3f}' for t in s['loops_s'])} s); its passing LS are "
        "identical to runreg's on every sample dataset."
    )
    print(
        f"- Original's inner loop extrapolated to the year / runreg: {r['node_year'] / r['warm_s']:,.1f}× "
        f"warm, {r['node_year'] / r['cold_s']:,.1f}× cold. The extrapolation counts only `jsonLogic.apply` "
        "per LS: no database reads, no context or JSON building, no failure diagnostics (runreg's times "
        "include all of those)."
    )
    print(f"- Cold: the whole subprocess (interpreter, imports, call) took {r['cold_wall']:.2f} s.")
    if r["build_s"] is not None:
        print(f"- Building the year (not a figure): {r['build_s']:.0f} s.")


if __name__ == "__main__":
    main()
