"""Server time of the run page `/runs/<run>` for a 2,000-LS run with 40 components on PostgreSQL.

Run: `PYTHONPATH=src .venv/bin/python benchmarks/pages.py [--requests 200]`. It creates a fresh PostgreSQL
database (admin URL from env RUNREG_BENCH_PG, default postgresql://postgres@127.0.0.1:5432/postgres;
dropped at the end), builds the run through the registry service as ingestion and shifters would (OMS values
with DCS bits changing along the run, 40 components' automatic statuses with STANDBY/BAD stretches, 30 manual
edits, a stop reason), then requests the page in process (no network) as a signed-in shifter and reports
p50/p95/max server time in ms (wall and CPU) of the page, its htmx main part, the LS table views, the why
trace and an as-of view. The issue's bar: p95 of the page <= 80 ms.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import time
import uuid
import warnings

import psycopg

from runreg.configuration import service as configuration
from runreg.http.app import create_app
from runreg.kernel.actors import SERVICES_EGROUP, SYSTEM, Actor, ActorKind
from runreg.kernel.ranges import RangeMap
from runreg.registry import service
from runreg.settings import Settings
from runreg.storage import migrate
from runreg.storage.database import Database

RUN = 390000
LS = 2000
WORKER = Actor("oms-ingestion", ActorKind.AUTOMATIC, frozenset({SERVICES_EGROUP}))
SHIFTER = Actor("alice@cern.ch", ActorKind.HUMAN, frozenset({"cms-dqm-runregistry-online-shifters"}))
EXPERT = Actor("expert@cern.ch", ActorKind.HUMAN, frozenset({"cms-dqm-runregistry-experts"}))
SECRET = "bench-proxy-secret"
BITS = [
    "bpix_ready", "fpix_ready", "tibtid_ready", "tob_ready", "tecp_ready", "tecm_ready", "cms_active",
    "beam1_present", "beam2_present", "beam1_stable", "beam2_stable", "dtp_ready", "dtm_ready", "dt0_ready",
    "cscp_ready", "cscm_ready", "rpc_ready", "hf_ready", "ho_ready", "ebp_ready", "ebm_ready",
]  # fmt: skip


def build(db: Database) -> None:
    rng = random.Random(11)
    config = configuration.current_configuration(db)
    real = config.components("online")
    components = real + [f"bench-c{i:02d}" for i in range(40 - len(real))]
    drops = {bit: sorted(rng.sample(range(1, LS + 1), 6)) for bit in BITS}
    lumis = []
    for ls in range(1, LS + 1):
        values: dict[str, object] = {bit: not any(d <= ls < d + 15 for d in drops[bit]) for bit in BITS}
        values |= {"recorded": 0.05, "delivered": 0.06, "prescale_index": 1 + ls // 400}
        lumis.append(values)
    flags = {}
    for component in components:
        ranges = RangeMap([(1, LS, {"status": "GOOD", "comment": "", "cause": ""})])
        ranges.assign(1, 12, {"status": "STANDBY", "comment": "", "cause": ""})
        for start in rng.sample(range(20, LS - 40), 8):
            ranges.assign(start, start + rng.randint(1, 30), {"status": "BAD", "comment": "", "cause": ""})
        flags[component] = ranges
    oms = {
        "run_number": RUN, "fill_number": 9876, "energy": 6800, "b_field": 3.8, "sequence": "GLOBAL-RUN",
        "hlt_key": "/cdaq/physics/Run2024/2e34/v1.4.3/HLT/V2", "components": ["DT", "TRACKER", "ECAL"],
        "ls_duration": LS, "start_time": "2024-06-01T06:00:00Z", "end_time": "2024-06-01T19:00:00Z",
        "hlt_physics_counter": 123456789, "recorded_lumi": 95.2, "delivered_lumi": 101.0,
    }  # fmt: skip
    service.register_run(
        db,
        actor=WORKER,
        run_number=RUN,
        oms_attributes=oms,
        rr_attributes={"class": "Collisions24", "significant": True},
        oms_lumisections=lumis,
        flags=flags,
    )
    for _ in range(30):
        component = rng.choice(real)
        first = rng.randint(1, LS - 50)
        service.edit_flags(
            db,
            actor=SHIFTER,
            run_number=RUN,
            edits=[service.FlagEdit(component, first, first + rng.randint(0, 40), "BAD", "HV trip", "HV")],
            comment="HV trip",
        )
    service.change_run_attributes(
        db, actor=EXPERT, run_number=RUN, rr={"stop_reason": "beam dump"}, comment="stop reason"
    )


def timed(
    client: object, path: str, headers: dict[str, str], requests: int
) -> tuple[list[float], list[float]]:
    """Wall time and this process's CPU time of each request, in ms. On a shared machine the wall time
    includes waiting for a core; the CPU time is the server's own work (plus the in-process client's,
    minus PostgreSQL's, which runs in its own processes)."""
    for _ in range(5):  # warm-up: the configuration cache, template compilation
        assert client.get(path, headers=headers).status_code == 200  # type: ignore[attr-defined]
    wall, cpu = [], []
    for _ in range(requests):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(path, headers=headers)  # type: ignore[attr-defined]
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200, response.text[:300]
    return wall, cpu


def report(name: str, times: tuple[list[float], list[float]]) -> None:
    parts = []
    for label, values in zip(("wall", "cpu"), times, strict=True):
        values = sorted(values)
        p95 = values[int(0.95 * (len(values) - 1))]
        parts.append(f"{label} p50 {statistics.median(values):6.1f} p95 {p95:6.1f} max {values[-1]:6.1f}")
    print(f"{name:<34} {'   '.join(parts)}  (ms)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--freeze-gc",
        action="store_true",
        help="gc.freeze() once the app is built: the p95 is mostly full collections over the server's own "
        "long-lived objects (modules, configuration, templates), which a frozen heap no longer scans",
    )
    args = parser.parse_args()
    admin_url = os.environ.get("RUNREG_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"runreg_bench_pages_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    db = Database(f"{admin_url.rsplit('/', 1)[0]}/{name}")
    try:
        migrate.upgrade(db)
        configuration.ensure_default(db, actor=SYSTEM)
        start = time.perf_counter()
        build(db)
        print(f"built run {RUN}: {LS} LS, 40 components in {time.perf_counter() - start:.1f} s")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from fastapi.testclient import TestClient
        settings = Settings(proxy_secret=SECRET, dev_identity=False, allowed_hosts=["testserver"])
        client = TestClient(create_app(db, settings=settings, oms=None))
        if args.freeze_gc:
            client.get("/runs/1")  # import and compile what a request needs before freezing
            gc.collect()
            gc.freeze()
        headers = {"x-runreg-proxy-secret": SECRET, "email": "alice@cern.ch", "egroups": SHIFTER_EGROUP}
        page = client.get(f"/runs/{RUN}", headers=headers)
        assert page.text.count('<article class="component"') == 40, "the page must show 40 components"
        print(f"page: {len(page.content) / 1024:.0f} KiB of HTML")
        report(f"/runs/{RUN}", timed(client, f"/runs/{RUN}", headers, args.requests))
        htmx = {**headers, "hx-request": "true"}
        report("  main part (htmx, after a write)", timed(client, f"/runs/{RUN}", htmx, args.requests))
        for view in ("oms", "rr", "joint"):
            path = f"/runs/{RUN}/lumisections?view={view}"
            report(f"  LS table {view}", timed(client, path, headers, args.requests // 2))
        report("  why on LS 1000", timed(client, f"/runs/{RUN}/why?ls=1000", headers, args.requests // 2))
        first_change_set = service.history(db, run_number=RUN, limit=100)[-1].id
        path = f"/runs/{RUN}?as_of={first_change_set}"
        report("  as of the first change set", timed(client, path, headers, args.requests // 4))
    finally:
        db.dispose()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


SHIFTER_EGROUP = "cms-dqm-runregistry-online-shifters"

if __name__ == "__main__":
    main()
