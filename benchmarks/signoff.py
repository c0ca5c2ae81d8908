"""Benchmark: signing off a 2,000-LS run that creates 3 offline datasets with 40 offline components each.

Run: `.venv/bin/python benchmarks/signoff.py [--runs 30] [--profile]`. For each engine (a scratch SQLite file,
a scratch PostgreSQL database, both dropped at the end) it stores a configuration whose datasets-accepted list
gives the bench runs' class 3 datasets and whose offline component classifiers cover 40 offline components
(4 rules copying the online status for the 17 that exist online, 2 rules on one DCS bit for the others). Each
repetition registers a fresh run (untimed: 2,000 LS, the 38 per-LS OMS keys RR keeps with drop-outs, 1-4
status changes per online component, as `registry_write.py` generates them) and times
`registry.service.move_run(..., to_state="SIGNOFF")` as a shifter calls it: permission check, sign-off
checks, classification, 3 datasets, their flags and summaries, one change set. Three untimed warm-up
sign-offs first. Prints median, p95 and max wall time per engine and the median CPU time of this process
(the server's share is the rest); `--profile` prints a cProfile of the PostgreSQL
sign-offs. Figures go into docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from registry_write import OMS_KEYS, WORKER, synthetic_run  # benchmarks/ is the script's directory

from runreg.configuration import service as configuration
from runreg.configuration.model import ComponentClassifier, Configuration, DatasetAccepted
from runreg.kernel.actors import SYSTEM, Actor, ActorKind
from runreg.registry import service
from runreg.storage import migrate
from runreg.storage.database import Database

LS = 2000
RUN_CLASS = "Collisions24"
DATASETS = ("/Express/Collisions2024/DQM", "/PromptReco/Collisions2024X/DQM", "/ReReco/Collisions2024X/DQM")
OFFLINE_COMPONENTS = 40
EXPERT = Actor("bench-expert@cern.ch", ActorKind.HUMAN, frozenset({"cms-dqm-runregistry-experts"}))
SHIFTER = Actor("bench-shifter@cern.ch", ActorKind.HUMAN, frozenset({"cms-dqm-runregistry-online-shifters"}))
BITS = [key for key in OMS_KEYS if key.endswith("_ready")]


def bench_configuration(current: Configuration) -> Configuration:
    online = set(current.components("online"))
    offline = current.components("offline")[:OFFLINE_COMPONENTS]
    rules: list[ComponentClassifier] = []
    for i, component in enumerate(offline):
        if component in online:
            for priority, status in enumerate(("BAD", "STANDBY", "EXCLUDED", "GOOD"), start=1):
                rule = {"==": [{"var": f"lumisection.rr.{component}.status"}, status]}
                rules.append(_classifier(component, status, priority, rule))
        else:
            bit = f"lumisection.oms.{BITS[i % len(BITS)]}"
            rules.append(_classifier(component, "BAD", 1, {"==": [{"var": bit}, False]}))
            rules.append(_classifier(component, "GOOD", 2, {"==": [{"var": bit}, True]}))
    accepted = [DatasetAccepted(name=name, class_name=RUN_CLASS) for name in DATASETS]
    return current.model_copy(
        update={
            "component_classifiers": [c for c in current.component_classifiers if c.mode == "online"] + rules,
            "datasets_accepted": accepted,
        }
    )


def _classifier(component: str, status: str, priority: int, rule: object) -> ComponentClassifier:
    return ComponentClassifier(
        component=component, mode="offline", status=status, priority=priority, rule=rule
    )


def register(db: Database, run_number: int, rng: random.Random, components: list[str]) -> None:
    lumisections, flags = synthetic_run(rng, components)
    service.register_run(
        db,
        actor=WORKER,
        run_number=run_number,
        oms_attributes={
            "run_number": run_number,
            "energy": 6800,
            "b_field": 3.8,
            "ls_duration": LS,
            "end_time": "2024-06-01T18:00:00Z",
        },
        rr_attributes={"class": RUN_CLASS, "significant": True},
        oms_lumisections=lumisections,
        flags=flags,
    )


def bench(db: Database, label: str, repetitions: int, profile: cProfile.Profile | None) -> dict[str, float]:
    migrate.upgrade(db)
    configuration.ensure_default(db, actor=SYSTEM)
    config = bench_configuration(configuration.current_configuration(db))
    configuration.replace(db, actor=EXPERT, config=config, comment="sign-off benchmark")
    components = config.components("online")
    rng = random.Random(7)
    times, cpu = [], []
    for i in range(repetitions + 3):
        run_number = 400000 + i
        register(db, run_number, rng, components)
        if profile is not None and i >= 3:
            profile.enable()
        started, started_cpu = time.perf_counter(), time.process_time()
        result = service.move_run(db, actor=SHIFTER, run_number=run_number, to_state="SIGNOFF")
        elapsed, elapsed_cpu = time.perf_counter() - started, time.process_time() - started_cpu
        if profile is not None:
            profile.disable()
        run = service.run_state(db, run_number)
        assert result.datasets_created == DATASETS, result
        assert all(len(run.datasets[name].flags) == OFFLINE_COMPONENTS for name in DATASETS)
        if i >= 3:
            times.append(elapsed)
            cpu.append(elapsed_cpu)
    times.sort()
    return {
        "engine": label,
        "median_ms": statistics.median(times) * 1000,
        "p95_ms": times[max(0, round(0.95 * len(times)) - 1)] * 1000,
        "max_ms": times[-1] * 1000,
        "cpu_ms": statistics.median(cpu) * 1000,
        "events": sum(result.events.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30, help="timed sign-offs per engine (each a fresh run)")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--profile", action="store_true", help="cProfile the PostgreSQL sign-offs")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.sqlite'}")
        results.append(bench(db, "SQLite", args.runs, None))
        db.dispose()
    name = f"runreg_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.pg, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    profile = cProfile.Profile() if args.profile else None
    try:
        db = Database(args.pg.rsplit("/", 1)[0] + f"/{name}")
        results.append(bench(db, "PostgreSQL", args.runs, profile))
        db.dispose()
    finally:
        with psycopg.connect(args.pg, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(
        f"{args.runs} sign-offs per engine, each of a fresh {LS}-LS run: {len(DATASETS)} offline datasets "
        f"x {OFFLINE_COMPONENTS} offline components"
    )
    print(f"{'engine':<12}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}{'CPU ms':>9}{'events':>8}")
    for r in results:
        print(
            f"{r['engine']:<12}{r['median_ms']:>11.1f}{r['p95_ms']:>9.1f}{r['max_ms']:>9.1f}"
            f"{r['cpu_ms']:>9.1f}{r['events']:>8}"
        )
    if profile is not None:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
