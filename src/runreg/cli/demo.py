"""The live demo: our OMS and DQM GUI simulators with fast time, ingestion and the DQM GUI pinger every few
seconds, beside the API."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

from rich.console import Console

from runreg.integrations.dqmgui import DqmGuiClient
from runreg.integrations.oms.client import OmsClient
from runreg.settings import Settings
from runreg.simulators.brilcalc import byls_lines
from runreg.simulators.dqmgui import server as dqmgui_simulator
from runreg.simulators.dqmgui.catalogue import WorldCatalogue
from runreg.simulators.oms.server import SimulatedClock, create_app, run_in_thread
from runreg.simulators.oms.world import OmsWorld
from runreg.storage.database import Database
from runreg.worker import periodic
from runreg.worker.dqmgui import pinger_worker
from runreg.worker.ingestion import ingestion_worker

#: Simulated seconds per real second: a 2,000-LS run (13 h of beam) grows by about 2.6 LS per second.
DEMO_SPEED = 60.0
INGESTION_INTERVAL_S = 5.0
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


def start_demo(db: Database, settings: Settings) -> OmsClient:
    """Start the OMS simulator on 127.0.0.1:<demo_oms_port> (9510) with an ingestion loop pointed at it, and
    the DQM GUI simulator (same world and clock) on <demo_dqmgui_port> (9530) with the pinger; returns the
    OMS client."""
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
    catalogue = WorldCatalogue(world, clock, express_delay=EXPRESS_DELAY, prompt_delay=PROMPT_DELAY)
    gui_simulator = dqmgui_simulator.run_in_thread(
        dqmgui_simulator.create_app(catalogue), host="127.0.0.1", port=settings.demo_dqmgui_port
    )
    gui = DqmGuiClient(gui_simulator.base_url)
    threading.Thread(
        target=periodic.run,
        args=(db, pinger_worker(db, gui, interval_s=PING_INTERVAL_S)),
        kwargs={"stop": stop},
        daemon=True,
        name="dqmgui-pinger",
    ).start()
    brilcalc = write_brilcalc_sample(world, at=opening)
    Console().print(
        f"[bold]demo:[/bold] brilcalc's luminosity of the runs so far in {brilcalc}: import it on "
        f"http://{settings.host}:{settings.port}/luminosity (or `runreg lumi import {brilcalc}`)"
    )
    Console().print(
        f"[bold]demo:[/bold] OMS simulator at {simulator.base_url} (time ×{DEMO_SPEED:g}), ingestion every "
        f"{INGESTION_INTERVAL_S:g} s; DQM GUI simulator at {gui_simulator.base_url}, pinged every "
        f"{PING_INTERVAL_S:g} s — open http://{settings.host}:{settings.port}/ to watch runs arrive"
    )
    return oms
