"""The live demo: our OMS, DQM GUI and cmsweb simulators with fast time, ingestion, the DQM GUI pinger, DQM
trends and the workflow update every few seconds, beside the API."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console

from runreg.integrations.dqmgui import DqmGuiClient
from runreg.integrations.oms.client import OmsClient
from runreg.settings import Settings
from runreg.simulators.brilcalc import byls_lines
from runreg.simulators.dqm_files.generator import generate
from runreg.simulators.dqmgui import server as dqmgui_simulator
from runreg.simulators.dqmgui.catalogue import WorldCatalogue
from runreg.simulators.oms.server import SimulatedClock, create_app, run_in_thread
from runreg.simulators.oms.world import OmsWorld
from runreg.storage.database import Database
from runreg.worker import periodic
from runreg.worker.dqmgui import pinger_worker
from runreg.worker.ingestion import ingestion_worker
from runreg.worker.trends import trends_worker
from runreg.worker.workflows import workflows_worker

#: Simulated seconds per real second: a 2,000-LS run (13 h of beam) grows by about 2.6 LS per second.
DEMO_SPEED = 60.0
INGESTION_INTERVAL_S = 5.0
#: The cmsweb world: simulated seconds per real second (a workflow runs for a few simulated hours, so it
#: fills its datasets in a minute or two), how many workflows, how many simulated days of them exist already.
CMSWEB_SPEED = 120.0
CMSWEB_WORKFLOWS = 300
CMSWEB_DAYS_IN = 8.0
WORKFLOWS_INTERVAL_S = 10.0
PING_INTERVAL_S = 10.0
#: After a run ends, its Express samples reach the GUI simulator in 30 simulated minutes (30 s), PromptReco
#: in 2 simulated hours (2 min): signed-off runs become OPEN a little while after.
EXPRESS_DELAY = timedelta(minutes=30)
PROMPT_DELAY = timedelta(hours=2)
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


def start_demo(db: Database, settings: Settings) -> tuple[OmsClient, Settings]:
    """Start the OMS simulator on 127.0.0.1:<demo_oms_port> (9510) and an ingestion loop pointed at it, the
    DQM GUI simulator (same world and clock) on <demo_dqmgui_port> (9530) with the pinger, the trends worker
    and the cmsweb simulator with the workflow update; returns the OMS client and the settings pointing at
    cmsweb."""
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
    in_background(db, ingestion_worker(db, oms, interval_s=INGESTION_INTERVAL_S), stop)
    catalogue = WorldCatalogue(world, clock, express_delay=EXPRESS_DELAY, prompt_delay=PROMPT_DELAY)
    gui_simulator = dqmgui_simulator.run_in_thread(
        dqmgui_simulator.create_app(catalogue), host="127.0.0.1", port=settings.demo_dqmgui_port
    )
    in_background(
        db, pinger_worker(db, DqmGuiClient(gui_simulator.base_url), interval_s=PING_INTERVAL_S), stop
    )
    brilcalc = write_brilcalc_sample(world, at=opening)
    Console().print(
        f"[bold]demo:[/bold] brilcalc's luminosity of the runs so far in {brilcalc}: import it on "
        f"http://{settings.host}:{settings.port}/luminosity (or `runreg lumi import {brilcalc}`)"
    )
    files = DemoDqmFiles(Path(settings.demo_dqm_files_root), world, clock)
    trends = trends_worker(
        db, interval_s=TRENDS_INTERVAL_S, jobs=settings.trends_jobs, root=files.root, before=files
    )
    in_background(db, trends, stop)
    Console().print(
        f"[bold]demo:[/bold] OMS simulator at {simulator.base_url} (time ×{DEMO_SPEED:g}), ingestion every "
        f"{INGESTION_INTERVAL_S:g} s; DQM GUI simulator at {gui_simulator.base_url}, pinged every "
        f"{PING_INTERVAL_S:g} s; DQM files of finished runs under {files.root} extracted every "
        f"{TRENDS_INTERVAL_S:g} s — open http://{settings.host}:{settings.port}/ to watch runs arrive, "
        f"/trends for their Historic DQM"
    )
    return oms, start_workflows_demo(db, settings, stop)


def in_background(db: Database, worker: periodic.Periodic, stop: threading.Event) -> None:
    """A periodic worker on a daemon thread of the demo's server, stopped through `stop`."""
    threading.Thread(
        target=periodic.run, args=(db, worker), kwargs={"stop": stop}, daemon=True, name=worker.name
    ).start()


def start_workflows_demo(
    db: Database, settings: Settings, stop: threading.Event, *, interval_s: float = WORKFLOWS_INTERVAL_S
) -> Settings:
    """The cmsweb simulator on 127.0.0.1:<demo_cmsweb_port> (9520), its world placed so that its clock reads
    now, and the workflow update every `interval_s` seconds: the table fills, running workflows' histories
    grow."""
    from runreg.integrations.cmsweb import connect
    from runreg.simulators.cmsweb.server import create_app as create_cmsweb
    from runreg.simulators.cmsweb.world import DAY, CmswebWorld

    now = datetime.now(UTC)
    world = CmswebWorld(workflows=CMSWEB_WORKFLOWS, epoch=now.timestamp() - CMSWEB_DAYS_IN * DAY)
    cmsweb = create_cmsweb(world, SimulatedClock(now, speed=CMSWEB_SPEED))
    simulator = run_in_thread(cmsweb, host="127.0.0.1", port=settings.demo_cmsweb_port)
    base = simulator.base_url
    settings = settings.model_copy(
        update={"cmsweb_url": base, "dbs_url": f"{base}/dbs/prod/global/DBSReader"}
    )
    sources = connect(settings.cmsweb_url, settings.dbs_url)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per cmsweb request otherwise
    # History times are when runreg saw the numbers (the real clock); the simulated world runs ahead of it,
    # so its status times drift into the future as the demo goes on.
    in_background(db, workflows_worker(db, sources, interval_s=interval_s), stop)
    Console().print(
        f"[bold]demo:[/bold] cmsweb simulator at {base} ({CMSWEB_WORKFLOWS} workflows, "
        f"time ×{CMSWEB_SPEED:g}), workflow update every {interval_s:g} s — http://{settings.host}:{settings.port}/stats"
    )
    return settings
