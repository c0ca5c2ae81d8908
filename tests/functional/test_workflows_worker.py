"""`runreg workflows loop` as operators run it (real processes against the cmsweb simulator, both engines):
one instance, a heartbeat, one line per cycle, SIGTERM stops cleanly; and an update asked to stop returns
after the batch under way, leaving the DBS window for the next one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from runreg.integrations.cmsweb import connect
from runreg.simulators.cmsweb.server import SimulatedClock, create_app, run_in_thread
from runreg.simulators.cmsweb.world import DAY, CmswebWorld
from runreg.simulators.oms.server import SimulatorServer
from runreg.storage.database import Database
from runreg.worker import heartbeats, periodic
from runreg.worker.workflows import NAME, workflows_worker
from runreg.workflows import service

WORLD = CmswebWorld(seed=5, workflows=60)
NOW = WORLD.epoch + 12 * DAY
RUNREG = [sys.executable, "-m", "runreg.cli.main"]


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    clock = SimulatedClock(datetime.fromtimestamp(NOW, UTC), speed=0)
    with run_in_thread(create_app(CmswebWorld(seed=5, workflows=60), clock)) as server:
        yield server


def visible() -> int:
    return sum(1 for p in WORLD.plans if WORLD.document(p.name, NOW) is not None)


def wait_for(condition, what: str, timeout: float = 90.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_the_loop_is_one_instance_with_a_heartbeat_and_stops_on_sigterm(
    db: Database, simulator: SimulatorServer
) -> None:
    env = {
        **os.environ,
        "RUNREG_DATABASE_URL": db.url,
        "RUNREG_CMSWEB_URL": simulator.base_url,
        "RUNREG_DBS_URL": f"{simulator.base_url}/dbs/prod/global/DBSReader",
        "RUNREG_WORKER_HEARTBEAT_S": "0.2",
        "COLUMNS": "300",
    }
    loop = subprocess.Popen([*RUNREG, "workflows", "loop", "--interval", "0.3"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        wait_for(lambda: (beat := heartbeats.read(db, NAME)) is not None and beat.cycles >= 2, "two cycles")
        second = subprocess.run([*RUNREG, "workflows", "loop", "--once"], env=env, capture_output=True,
                                text=True, timeout=120)  # fmt: skip
        assert second.returncode == 3 and "only one may run at a time" in second.stderr
        loop.send_signal(signal.SIGTERM)
        _, stderr = loop.communicate(timeout=60)
    finally:
        loop.kill()
    assert loop.returncode == 0, stderr
    beat = heartbeats.read(db, NAME)
    assert beat is not None and beat.stopped_at is not None
    assert service.counts(db)["workflows"] == visible()
    records = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    lines = [r for r in records if r.get("name") == "runreg.worker" and "cycle" in r["message"]]
    assert len(lines) == beat.cycles and lines[0]["cycle"]["changed"] == visible()
    assert lines[1]["cycle"]["changed"] == 0 and lines[1]["cycle"]["errors"] == 0  # nothing new: no write
    assert "HTTP Request" not in stderr


def test_an_update_asked_to_stop_returns_after_a_batch_and_the_next_goes_on(
    db: Database, simulator: SimulatorServer
) -> None:
    with connect(simulator.base_url, f"{simulator.base_url}/dbs/prod/global/DBSReader") as sources:
        batches = []

        def after_first() -> bool:
            batches.append(1)
            return True

        stopped = service.update(db, sources, batch_size=10, clock=lambda: NOW, stop=after_first)
        assert stopped.stopped and stopped.batches == 1 and len(batches) == 1
        assert 0 < service.counts(db)["workflows"] == stopped.documents_changed <= 10 < visible()
        window = service.counts(db)["last_update"]

        stop = threading.Event()
        worker = workflows_worker(db, sources, interval_s=0)
        assert periodic.run(db, worker, once=True, stop=stop)
    assert service.counts(db)["workflows"] == visible()
    assert service.counts(db)["last_update"] != window  # the completed update moved the DBS window
    assert heartbeats.read(db, NAME).last_summary["stopped"] is False
