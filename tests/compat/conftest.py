"""A runreg server on a real socket, seeded like the CMS Run Registry the public client's suite expects."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI

from runreg.configuration import service as configuration
from runreg.http.app import create_app
from runreg.integrations.oms import OmsClient
from runreg.kernel.actors import SYSTEM
from runreg.settings import Settings
from runreg.simulators.oms import server as oms_simulator
from runreg.simulators.oms.world import OmsWorld
from runreg.storage import migrate
from runreg.storage.database import Database
from tests.builders import legacy_seed

EXPERTS = "cms-dqm-runregistry-experts"
WORLD = OmsWorld(runs=14)


@dataclass
class Server:
    base_url: str
    app: FastAPI
    db: Database


@pytest.fixture(scope="session")
def runreg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One SQLite database (this suite tests the HTTP contract; storage is tested on both engines elsewhere),
    the OMS simulator stopped just after the newest seeded run, and runreg serving both over sockets."""
    newest = WORLD.plan(legacy_seed.OMS_NEWEST_RUN)
    assert newest is not None
    clock = oms_simulator.SimulatedClock(newest.end_time + timedelta(minutes=10), speed=0)
    db = Database(f"sqlite:///{Path(tmp_path_factory.mktemp('compat')) / 'runreg.sqlite'}")
    migrate.upgrade(db)
    configuration.ensure_default(db, actor=SYSTEM)
    with (
        oms_simulator.run_in_thread(oms_simulator.create_app(WORLD, clock)) as oms_server,
        OmsClient(
            oms_server.api_url,
            token_url=oms_server.token_url,
            client_id="runreg",
            client_secret="simulator-secret",
            audience="cmsoms-prod",
            attempts=3,
            backoff_s=0.01,
            timeout=10.0,
        ) as oms,
    ):
        legacy_seed.seed(db, oms)
        # The client in setup("local") mode sends `email: api@api` and no e-groups: dev mode gives it these.
        settings = Settings(database_url=db.url, dev_identity=True, dev_egroups=[EXPERTS])
        app = create_app(db, settings=settings, oms=oms)
        with oms_simulator.run_in_thread(app) as server:
            yield Server(server.base_url, app, db)
    db.dispose()


@pytest.fixture
def without_egroups(runreg_server: Server) -> Iterator[None]:
    """For one test, the client's identity belongs to no e-group."""
    privileged = runreg_server.app.state.settings
    runreg_server.app.state.settings = privileged.model_copy(update={"dev_egroups": []})
    yield
    runreg_server.app.state.settings = privileged
