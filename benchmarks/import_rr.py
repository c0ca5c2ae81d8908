"""Benchmark: import a generated original Run Registry into runreg, verify it, and catch up 100 new versions.

Run: `PYTHONPATH=src .venv/bin/python benchmarks/import_rr.py [--runs 2000] [--ls 1250] [--components 40]
[--updates 30000] [--update-ls 6]`, or `--year` for the issue's year-sized original (2,000 runs x 1,250 LS
x 40 components, 30,000 automatic updates of whole runs: ~44,000 atomic versions, ~48 M assignation rows).
The original is built in a scratch PostgreSQL database by tests/builders/rr_original.py (its own DDL from
rr_backend §3, written the way the original writes: a Version per change, Event rows, typed events, JSONB
deduplication, one assignation row per LS, materialized Run/Dataset/DatasetTripletCache; buffered and
written with COPY): `--runs` runs of `--ls` LS with `--components` components, each with the awkward history
of the tests (~7 atomic versions a run: creation, automatic/manual/automatic edits on the same LS, sign-offs
— some twice —, DQM GUI ping, an online DCS correction, offline edits, hidden datasets), plus `--updates`
automatic atomic versions of `--update-ls` LS spread over the runs. The generation runs in a child process
(its time and peak RSS printed apart), so the peak RSS reported at the end is the importer's and
verifier's. runreg is a fresh migrated PostgreSQL database. Reported: generation, full import
(`adoption.service.import_rr`, the CLI's code), verify (`adoption.service.verify`), then 100 new atomic
versions written to the original and the catch-up import of them.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import time
import uuid
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.builders import rr_original  # noqa: E402

from runreg.adoption import service as adoption  # noqa: E402
from runreg.adoption.reader import OriginalDatabase  # noqa: E402
from runreg.configuration import service as configuration  # noqa: E402
from runreg.kernel.actors import SYSTEM, Actor, ActorKind  # noqa: E402
from runreg.storage import migrate  # noqa: E402
from runreg.storage.database import Database  # noqa: E402

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
EXPERT = Actor("adoption@cern.ch", ActorKind.HUMAN, frozenset({"cms-dqm-runregistry-experts"}))
COMPONENT_POOL = [f"{ws}-{col}" for ws in ("dt", "csc", "rpc", "ecal", "hcal", "tracker", "l1t", "hlt")
                  for col in ("a", "b", "c", "d", "e")]  # fmt: skip


def scratch(name: str) -> str:
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return ADMIN.rsplit("/", 1)[0] + "/" + name


def drop(name: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def generate(url: str, runs: int, ls: int, components: tuple[str, ...], updates: int, span: int) -> None:
    """Builds the original (in a child process: the figures of the importer's process are its own)."""
    started = time.perf_counter()
    rr_original.create_schema(url)
    with psycopg.connect(url) as conn:
        generator = rr_original.Generator(conn, components=components)
        numbers = generator.generate(runs, ls)
        per_run = max(1, updates // len(numbers))
        for run in numbers:
            generator.more(per_run, run, ls, refresh=False, span=span)
        generator.w.refresh_caches()
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:  # what a live original's autovacuum keeps current
        conn.execute("ANALYZE")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"generated in {time.perf_counter() - started:.0f} s (generator's peak RSS {peak:.0f} MB)", flush=True
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--ls", type=int, default=1250)
    parser.add_argument("--components", type=int, default=40)
    parser.add_argument("--updates", type=int, default=30_000)
    parser.add_argument("--update-ls", type=int, default=6, help="LS each of the --updates covers")
    parser.add_argument(
        "--year",
        action="store_true",
        help="the issue's year: 2,000 runs x 1,250 LS x 40 components, 30,000 whole-run updates "
        "(~44,000 atomic versions, ~48 M assignation rows)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    parser.add_argument(
        "--original", help="reuse an original kept by --keep (postgresql:// URL): no generation"
    )
    args = parser.parse_args()
    if args.year:
        args.runs, args.ls, args.components, args.updates, args.update_ls = 2000, 1250, 40, 30_000, 1250
    tag = uuid.uuid4().hex[:8]
    original_name, runreg_name = f"bench_rr_original_{tag}", f"bench_rr_runreg_{tag}"
    original_url = args.original or scratch(original_name)
    runreg_url = scratch(runreg_name)
    components = tuple(COMPONENT_POOL[: args.components])
    try:
        if not args.original:
            child = multiprocessing.get_context("fork").Process(
                target=generate,
                args=(original_url, args.runs, args.ls, components, args.updates, args.update_ls),
            )
            child.start()
            child.join()
            if child.exitcode != 0:
                raise SystemExit(f"generation failed ({child.exitcode})")
        with psycopg.connect(original_url) as conn:
            runs = [r[0] for r in conn.execute('SELECT run_number FROM "Run" ORDER BY 1')]
            components = tuple(
                name
                for (name,) in conn.execute(
                    """SELECT DISTINCT w.workspace || '-' || c.name FROM "WorkspaceColumn" c
                       JOIN "Workspace" w ON w.id = c.id_workspace ORDER BY 1"""
                )
            )
            counts = conn.execute(
                'SELECT (SELECT count(*) FROM "Version"), (SELECT count(*) FROM "Event"), '
                '(SELECT count(*) FROM "LumisectionEventAssignation") + '
                '(SELECT count(*) FROM "OMSLumisectionEventAssignation"), '
                "pg_database_size(current_database()) / 1e9"
            ).fetchone()
        print(f"original: {len(runs)} runs x {args.ls} LS, {len(components)} components: "
              f"{counts[0]} atomic versions, {counts[1]} events, {counts[2]} assignation rows, "
              f"{counts[3]:.1f} GB", flush=True)  # fmt: skip

        db = Database(runreg_url)
        migrate.upgrade(db)
        configuration.ensure_default(db, actor=SYSTEM)
        with OriginalDatabase(original_url) as source:
            cpu = time.process_time()
            report = adoption.import_rr(db, actor=EXPERT, source=source)
            print(f"full import: {report.change_sets} change sets, {report.original_events} original events, "
                  f"{report.runreg_events} runreg events in {report.seconds:.1f} s "
                  f"({time.process_time() - cpu:.1f} s CPU of this process)", flush=True)  # fmt: skip
            cpu = time.process_time()
            checked = adoption.verify(db, source=source)
            print(f"verify: {checked.runs} runs, {checked.datasets} datasets, {len(checked.differences)} "
                  f"differences in {checked.seconds:.1f} s ({time.process_time() - cpu:.1f} s CPU)",
                  flush=True)  # fmt: skip
            for line in checked.differences[:20]:
                print("  ", line)
            with psycopg.connect(original_url) as conn:
                more = rr_original.Generator(conn, seed=99, components=components)
                more.clock = rr_original.START.replace(month=11)
                for index in range(100):
                    more.more(1, runs[index % len(runs)], args.ls, refresh=False)
                more.w.refresh_caches()
                conn.commit()
            caught_up = adoption.import_rr(db, actor=EXPERT, source=source)
            print(f"catch-up: {caught_up.change_sets} change sets in {caught_up.seconds:.2f} s")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of this process: {peak:.0f} MB")
        db.dispose()
    finally:
        if not args.keep:
            if not args.original:
                drop(original_name)
            drop(runreg_name)
        else:
            print(f"kept: {original_url} {runreg_url}")


if __name__ == "__main__":
    main()
