"""The live demo: our OMS and cmsweb simulators with fast time, ingestion and the workflow update every few
seconds, beside the API."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from rich.console import Console

from runreg.integrations.oms.client import OmsClient
from runreg.settings import Settings
from runreg.simulators.oms.server import SimulatedClock, create_app, run_in_thread
from runreg.simulators.oms.world import OmsWorld
from runreg.storage.database import Database
from runreg.worker import periodic
from runreg.worker.ingestion import ingestion_worker
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


def start_demo(db: Database, settings: Settings) -> tuple[OmsClient, Settings]:
    """Start the OMS simulator on 127.0.0.1:<demo_oms_port> (9510) and an ingestion loop pointed at it, and
    the cmsweb one with the workflow update; returns the OMS client and the settings pointing at cmsweb."""
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
    Console().print(
        f"[bold]demo:[/bold] OMS simulator at {simulator.base_url} (time ×{DEMO_SPEED:g}), ingestion every "
        f"{INGESTION_INTERVAL_S:g} s — open http://{settings.host}:{settings.port}/ to watch runs arrive"
    )
    return oms, start_workflows_demo(db, settings, stop)


def in_background(db: Database, worker: periodic.Periodic, stop: threading.Event) -> None:
    """A periodic worker on a daemon thread of the demo's server, stopped through `stop`."""
    threading.Thread(
        target=periodic.run, args=(db, worker), kwargs={"stop": stop}, daemon=True, name=worker.name
    ).start()


def start_workflows_demo(db: Database, settings: Settings, stop: threading.Event) -> Settings:
    """The cmsweb simulator on 127.0.0.1:<demo_cmsweb_port> (9520), its world placed so that its clock reads
    now, and the workflow update every few seconds: the table fills, running workflows' histories grow."""
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
    in_background(db, workflows_worker(db, sources, interval_s=WORKFLOWS_INTERVAL_S), stop)
    Console().print(
        f"[bold]demo:[/bold] cmsweb simulator at {base} ({CMSWEB_WORKFLOWS} workflows, "
        f"time ×{CMSWEB_SPEED:g}), workflow update every {WORKFLOWS_INTERVAL_S:g} s — http://{settings.host}:{settings.port}/stats"
    )
    return settings
