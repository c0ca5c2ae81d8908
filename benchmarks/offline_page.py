"""Server time of the offline datasets page `/offline/datasets/<ws>` over 100,000 datasets on PostgreSQL.

Run: `PYTHONPATH=src .venv/bin/python benchmarks/offline_page.py [--requests 200] [--pg postgresql://…/postgres]`.
It creates a scratch PostgreSQL database (dropped at the end) and builds, through the registry service,
500 runs (100 LS each) with 4 offline datasets each — global and every offline workspace in a state, most
COMPLETED or SIGNOFF, some OPEN, the newest runs' still waiting for the DQM GUI, 1 in 100 hidden — and the
offline classification of the 25 certifiable offline components (several statuses each), written with
`registry.service.write` in change sets of 50 runs. Their projection rows (runs, datasets, summaries) are
then copied to 50 times as many runs: 25,000 runs, 100,000 offline datasets. It requests the page in process
(no network) as a signed-in certifier — the global workspace (both tables, 25 component columns), a
subsystem, a filtered view, a later page, a JSON sort, every workspace's state as columns — and prints
p50/p95/max server time in ms (wall and this process's CPU). The issue's bar: p95 ≤ 80 ms.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from http_load import replicate  # noqa: E402 — the load benchmark's projection copies
from online_page import percentiles  # noqa: E402

from runreg.configuration import service as configuration
from runreg.http.app import create_app
from runreg.kernel.actors import SERVICES_EGROUP, SYSTEM, Actor, ActorKind
from runreg.kernel.ranges import RangeMap
from runreg.registry import model, service
from runreg.registry.model import RunState
from runreg.settings import Settings
from runreg.storage import migrate
from runreg.storage.database import Database

SEED_RUNS = 500
COPIES = 50  # 500 runs × 4 datasets × 50 = 100,000 offline datasets
LS = 100
BATCH = 50
NAMES = (
    "/PromptReco/Collisions2024C/DQM",
    "/Express/Collisions2024/DQM",
    "/ZeroBias/Run2024C-PromptReco/DQM",
    "/ReReco/Collisions2024C/DQM",
)
WORKER = Actor("offline-classifier", ActorKind.AUTOMATIC, frozenset({SERVICES_EGROUP}))
SECRET = "bench-proxy-secret"
CERTIFIER = {
    "x-runreg-proxy-secret": SECRET,
    "email": "certifier@cern.ch",
    "egroups": "cms-dqm-runregistry-data-certification",
}
VIEWS = {
    "global (default)": "/offline/datasets/global",
    "tracker": "/offline/datasets/tracker",
    "global, filtered": "/offline/datasets/global?name=PromptReco&class=Collisions&run_min=290000",
    "global, page 40": "/offline/datasets/global?page=40",
    "global, sorted by LS": "/offline/datasets/global?sort=ls:desc",
    "global, every workspace's state": "/offline/datasets/global?all_states=1",
}


def build(url: str) -> int:
    db = Database(url)
    migrate.upgrade(db)
    configuration.ensure_default(db, actor=SYSTEM)
    config = configuration.current_configuration(db)
    workspaces = [ws.name for ws in config.workspaces if ws.mode == "offline"]
    components = config.certifiable_components("offline")
    rng = random.Random(5)
    lumis = [{"cms_active": True, "bpix_ready": ls > 3, "recorded": 0.05} for ls in range(1, LS + 1)]
    for i in range(SEED_RUNS):
        run = 300000 + i
        service.register_run(
            db,
            actor=WORKER,
            run_number=run,
            oms_attributes={"run_number": run, "energy": 6800, "b_field": 3.8, "ls_duration": LS},
            rr_attributes={"class": "Collisions24", "significant": True, "state": "COMPLETED"},
            oms_lumisections=lumis,
        )

    def datasets_of(run_number: int) -> Any:
        newest = run_number >= 300000 + SEED_RUNS - 10  # the newest runs wait for the DQM GUI

        def decide(run: RunState) -> list[Any]:
            events: list[Any] = []
            for name in NAMES:
                state = (
                    "waiting dqm gui"
                    if newest
                    else rng.choice(["COMPLETED"] * 6 + ["SIGNOFF"] * 3 + ["OPEN"])
                )
                attributes: dict[str, Any] = {f"{ws}_state": state for ws in workspaces}
                attributes["datasets_in_gui"] = [] if newest else ["/ZeroBias/Run2024C-PromptReco-v1/DQMIO"]
                if rng.random() < 0.01:
                    attributes |= {"hidden": True, "hidden_reason": "duplicate"}
                created = model.create_dataset(run, name, attributes)
                for event in created:
                    model.apply(run, event)
                events += created
                for component in components:
                    ranges = RangeMap([(1, LS, {"status": "GOOD", "comment": "", "cause": ""})])
                    if rng.random() < 0.2:
                        first = rng.randint(1, LS - 10)
                        ranges.assign(first, first + 9, {"status": "BAD", "comment": "noise", "cause": ""})
                    flags = model.sync_automatic_flags(run, name, component, ranges)
                    for event in flags:
                        model.apply(run, event)
                    events += flags
            return events

        return decide

    for start in range(0, SEED_RUNS, BATCH):
        decisions = {300000 + i: datasets_of(300000 + i) for i in range(start, start + BATCH)}
        with db.transaction() as conn:
            service.write(conn, actor=WORKER, comment="offline datasets", decisions=decisions)
    with db.transaction() as conn:
        replicate(conn, copies=COPIES, shift=-SEED_RUNS, seeded="run_number >= 300000")
        count = conn.exec_driver_sql("SELECT count(*) FROM datasets WHERE name <> 'online'").scalar_one()
    db.dispose()
    return int(count)


def measure(app: object, requests: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    with TestClient(app, headers=CERTIFIER, base_url="http://127.0.0.1") as client:  # runs the start-up
        for name, path in VIEWS.items():
            for _ in range(5):  # warm-up: the configuration cache, template compilation, plans
                assert client.get(path).status_code == 200
            wall, cpu = [], []
            for _ in range(requests):
                began, began_cpu = time.perf_counter(), time.process_time()
                response = client.get(path)
                wall.append((time.perf_counter() - began) * 1000)
                cpu.append((time.process_time() - began_cpu) * 1000)
                assert response.status_code == 200, response.text[:300]
            print(
                f"{name:<32} wall {percentiles(wall)}   cpu {percentiles(cpu)}  "
                f"({len(response.content) // 1024} KiB)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    parser.add_argument("--reuse", metavar="NAME", help="measure a database kept by an earlier --keep run")
    args = parser.parse_args()
    name = args.reuse or f"runreg_bench_offline_{uuid.uuid4().hex[:8]}"
    if not args.reuse:
        with psycopg.connect(args.pg, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    url = args.pg.rsplit("/", 1)[0] + f"/{name}"
    try:
        if not args.reuse:
            began = time.perf_counter()
            count = build(url)
            print(f"built {count} offline datasets in {time.perf_counter() - began:.0f} s ({name})")
        db = Database(url)
        settings = Settings(
            proxy_secret=SECRET, dev_identity=False, allowed_hosts=["127.0.0.1", "testserver"]
        )
        measure(create_app(db, settings=settings, oms=None), args.requests)
        db.dispose()
    finally:
        if not (args.keep or args.reuse):
            with psycopg.connect(args.pg, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
