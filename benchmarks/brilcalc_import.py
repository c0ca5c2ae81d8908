"""Benchmark: import a year of brilcalc `--byls` output (2,000 runs, ~2.6 M lines) into PostgreSQL.

Run: `.venv/bin/python benchmarks/brilcalc_import.py [--runs 2000] [--repeat 3]`. The CSV is what
`brilcalc lumi --byls -u /ub --output-style csv` prints for the OMS simulator's year (`OmsWorld(runs=N)`:
LS of every run, delivered and recorded from the world, in /ub, with brilcalc's header, comment and summary
lines), written to a temporary file once. Each repetition imports it into a fresh scratch database (migrated,
default configuration) through `luminosity.service.import_brilcalc` — every line checked, one transaction —
and the time from reading the file to the commit is reported (median and spread), with the parse alone.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

from runreg.configuration import service as configuration
from runreg.kernel.actors import SYSTEM, Actor, ActorKind
from runreg.luminosity import model
from runreg.luminosity import service as luminosity
from runreg.simulators.brilcalc import byls_lines
from runreg.simulators.oms.world import OmsWorld
from runreg.storage import migrate
from runreg.storage.database import Database

LUMI_ADMIN = Actor("lumi-admin@cern.ch", ActorKind.HUMAN, frozenset({"cms-dqm-runregistry-admins-lum"}))


def write_csv(path: Path, n_runs: int) -> int:
    """brilcalc's CSV for the world's year (the simulator's own, as the demo writes it); returns its number
    of LS lines."""
    world = OmsWorld(runs=n_runs)
    lines = 0
    with path.open("w") as out:
        for line in byls_lines(world, at=world.end):
            out.write(line + "\n")
            lines += not line.startswith("#")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "brilcalc.csv"
        lines = write_csv(path, args.runs)
        size = path.stat().st_size
        print(f"{lines:,} LS lines, {size / 2**20:.0f} MiB")
        parses, imports = [], []
        for _ in range(args.repeat):
            started = time.perf_counter()
            model.parse_brilcalc(path.read_text())
            parses.append(time.perf_counter() - started)
            name = f"runreg_brilcalc_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(args.pg, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{name}"')
            db = Database(args.pg.rsplit("/", 1)[0] + f"/{name}")
            try:
                migrate.upgrade(db)
                configuration.ensure_default(db, actor=SYSTEM)
                started = time.perf_counter()
                report = luminosity.import_brilcalc(
                    db, actor=LUMI_ADMIN, text=path.read_text(), filename=path.name
                )
                imports.append(time.perf_counter() - started)
                assert report.runs == args.runs or report.runs > 0
            finally:
                db.dispose()
                with psycopg.connect(args.pg, autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    median = statistics.median(imports)
    print(
        f"import (read, check every line, write {report.runs} runs in one transaction): {median:.2f} s "
        f"(min {min(imports):.2f}, max {max(imports):.2f}) over {args.repeat}; parse alone median "
        f"{statistics.median(parses):.2f} s; {lines / median:,.0f} lines/s"
    )


if __name__ == "__main__":
    main()
