"""The live demo: our OMS simulator with fast time, and ingestion every few seconds, beside the API."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

from rich.console import Console

from runreg.integrations.oms.client import OmsClient
from runreg.settings import Settings
from runreg.simulators.brilcalc import byls_lines
from runreg.simulators.dqm_files.generator import generate
from runreg.simulators.oms.server import SimulatedClock, create_app, run_in_thread
from runreg.simulators.oms.world import OmsWorld
from runreg.storage.database import Database
from runreg.worker import periodic
from runreg.worker.ingestion import ingestion_worker
from runreg.worker.trends import trends_worker

#: Simulated seconds per real second: a 2,000-LS run (13 h of beam) grows by about 2.6 LS per second.
DEMO_SPEED = 60.0
INGESTION_INTERVAL_S = 5.0
BRILCALC_SAMPLE = Path("var/demo/brilcalc_byls.csv")


def write_brilcalc_sample(world: OmsWorld, *, at: datetime, path: Path = BRILCALC_SAMPLE) -> Path:
    """brilcalc's --byls CSV for the runs OMS knows at `at`, 1.5 % below OMS's online values (as an offline
    normtag moves them), for a visitor to import and watch the JSONs switch source."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = byls_lines(world, at=at, normtag="normtag_demo.json", correction=0.985)
    path.write_text("\n".join(lines) + "\n")
    return path


TRENDS_INTERVAL_S = 15.0


class DemoDqmFiles:
    """Before each trends pass: DQM files (both simulated datasets) of the collisions runs that have ended by
    the simulated clock and have none yet. The first batch also has re-uploaded versions, a corrupt file
    and a missing ME, so the ledger page shows them."""

    def __init__(self, root: Path, world: OmsWorld, clock: SimulatedClock) -> None:
        self.root, self.world, self.clock = root, world, clock
        self.written = {int(p.name[11:20]) for p in root.rglob("DQM_V*_R*.root")} if root.is_dir() else set()

    def __call__(self) -> int:
        now = self.clock().timestamp()
        due = [
            p.run_number for p in self.world.plans
            if p.kind == "collisions" and p.end <= now and p.run_number not in self.written
        ]  # fmt: skip
        if due:
            first = not self.written
            generate(self.root, world=self.world, runs=due, second_versions=2 if first else 0,
                     corrupt=first, missing_me=first)  # fmt: skip
            self.written.update(due)
        return len(due)


def start_demo(db: Database, settings: Settings) -> OmsClient:
    """Start the simulator on 127.0.0.1:<demo_oms_port> (9510) and an ingestion loop pointed at it; returns
    the OMS client."""
    world = OmsWorld()
    # Start twenty minutes into the twelfth run: eleven finished runs of every kind, one growing.
    opening = world.plans[min(11, len(world.plans) - 1)].start_time + timedelta(minutes=20)
    clock = SimulatedClock(opening, speed=DEMO_SPEED)
    simulator = run_in_thread(create_app(world, clock), host="127.0.0.1", port=settings.demo_oms_port)
    oms = OmsClient(
        f"{simulator.base_url}/agg/api/v1",
        token_url=f"{simulator.base_url}/auth/token",
        client_id=settings.oms_client_id,
        client_secret=settings.oms_client_secret,
        audience=settings.oms_audience,
    )
    stop = threading.Event()
    worker = ingestion_worker(db, oms, interval_s=INGESTION_INTERVAL_S)
    threading.Thread(
        target=periodic.run, args=(db, worker), kwargs={"stop": stop}, daemon=True, name="ingestion"
    ).start()
    brilcalc = write_brilcalc_sample(world, at=opening)
    Console().print(
        f"[bold]demo:[/bold] brilcalc's luminosity of the runs so far in {brilcalc}: import it on "
        f"http://{settings.host}:{settings.port}/luminosity (or `runreg lumi import {brilcalc}`)"
    )
    files = DemoDqmFiles(Path(settings.demo_dqm_files_root), world, clock)
    trends = trends_worker(
        db, interval_s=TRENDS_INTERVAL_S, jobs=settings.trends_jobs, root=files.root, before=files
    )
    threading.Thread(
        target=periodic.run, args=(db, trends), kwargs={"stop": stop}, daemon=True, name="trends"
    ).start()
    Console().print(
        f"[bold]demo:[/bold] OMS simulator at {simulator.base_url} (time ×{DEMO_SPEED:g}), ingestion every "
        f"{INGESTION_INTERVAL_S:g} s, DQM files of finished runs under {files.root} extracted every "
        f"{TRENDS_INTERVAL_S:g} s — open http://{settings.host}:{settings.port}/ to watch runs arrive, "
        f"/trends for their Historic DQM"
    )
    return oms
