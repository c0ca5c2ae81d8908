"""Ingestion loses no run to a kill or an OMS fault: an interrupted scan resumes, a reconciliation proves it.

111 runs in OMS, pages of 49: the cases the issue measured (killed after 60 runs; HTTP 500 on page 2)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from runreg.eventlog.tables import events
from runreg.ingestion import service as ingestion
from runreg.ingestion.model import FULL, INCREMENTAL, ScanPolicy
from runreg.ingestion.tables import oms_run_marks
from runreg.integrations.oms import OmsClient, OmsUnavailable
from runreg.simulators.oms.server import SimulatedClock, SimulatorServer, create_app, run_in_thread
from runreg.simulators.oms.world import LS_SECONDS, OmsWorld
from runreg.storage.database import Database

WORLD = OmsWorld(runs=115)
START = WORLD.plans[110].start_time + timedelta(minutes=20)
ALL_RUNS = {r["run_number"] for r in WORLD.runs_at(START)}
# The other cases on 12 runs in pages of 5: the same walk, cheaper.
SMALL_WORLD = OmsWorld(runs=14)
SMALL_START = SMALL_WORLD.plans[11].start_time + timedelta(minutes=20)
SMALL_RUNS = {r["run_number"] for r in SMALL_WORLD.runs_at(SMALL_START)}
PAGES_OF_5 = ScanPolicy(page_size=5)
RUNS_API = "/agg/api/v1/runs"
RUNREG = [sys.executable, "-m", "runreg.cli.main"]


class Oms:
    def __init__(self, server: SimulatorServer, clock: SimulatedClock) -> None:
        self.server, self.clock = server, clock
        self.control = httpx.Client(base_url=server.base_url)
        self.client = OmsClient(
            server.api_url,
            token_url=server.token_url,
            client_id="runreg",
            client_secret="simulator-secret",
            attempts=3,
            backoff_s=0.01,
            timeout=5.0,
        )

    def fault(self, path: str, kind: str, times: int, **options: object) -> None:
        spec = {"path_prefix": path, "kind": kind, "times": times, **options}
        self.control.post("/_simulator/faults", json=spec).raise_for_status()

    def env(self, db: Database) -> dict[str, str]:
        return {
            **os.environ,
            "RUNREG_DATABASE_URL": db.url,
            "RUNREG_OMS_URL": self.server.api_url,
            "RUNREG_OMS_TOKEN_URL": self.server.token_url,
        }


def simulated(world: OmsWorld, start: datetime) -> Iterator[Oms]:
    clock = SimulatedClock(start, speed=0)
    with run_in_thread(create_app(world, clock)) as server:
        simulator = Oms(server, clock)
        yield simulator
        simulator.control.close()
        simulator.client.close()


@pytest.fixture
def oms() -> Iterator[Oms]:
    assert len(ALL_RUNS) == 111
    yield from simulated(WORLD, START)


@pytest.fixture
def small() -> Iterator[Oms]:
    assert len(SMALL_RUNS) == 12
    yield from simulated(SMALL_WORLD, SMALL_START)


def creations(db: Database) -> dict[int, int]:
    """RunCreated events per run: exactly one each when nothing was lost or ingested twice."""
    query = (
        select(events.c.run_number, func.count())
        .where(events.c.type == "RunCreated")
        .group_by(events.c.run_number)
    )
    with db.reading() as conn:
        return {run: n for run, n in conn.execute(query)}


def assert_every_run_created_once(db: Database, runs: set[int] = ALL_RUNS) -> None:
    created = creations(db)
    assert sorted(runs - set(created)) == []
    assert {run for run, n in created.items() if n != 1} == set()


def test_500s_on_the_second_page_of_runs_then_the_next_cycle_ingests_the_rest(db: Database, oms: Oms) -> None:
    # Three 500s: every attempt the client makes at page 2 fails, so the cycle fails after page 1.
    oms.fault(RUNS_API, "error500", 3, query={"page[offset]": "49"})
    with pytest.raises(OmsUnavailable):
        ingestion.run_cycle(db, oms.client)
    assert len(creations(db)) == 49

    recovered = ingestion.run_cycle(db, oms.client)

    assert recovered.resumed_at == 49 and recovered.scan_completed
    assert recovered.count("created") == 111 - 49
    assert_every_run_created_once(db)
    quiet = ingestion.run_cycle(db, oms.client)
    assert quiet.outcomes == {} and quiet.scan == INCREMENTAL and quiet.seen == 49


def test_ingest_loop_killed_mid_cycle_loses_no_run_and_creates_none_twice(db: Database, oms: Oms) -> None:
    # Slow LS answers keep the cycle long enough to be killed in the middle of page 2, as in the issue.
    oms.fault("/agg/api/v1/lumisections", "slow", 10_000, delay_s=0.05)
    loop = subprocess.Popen(
        [*RUNREG, "ingest", "loop", "--interval", "0.2"],
        env=oms.env(db),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while len(creations(db)) < 60:
            assert loop.poll() is None, loop.stderr.read().decode() if loop.stderr else ""
            assert time.monotonic() < deadline, "ingestion never reached 60 runs"
            time.sleep(0.05)
        loop.send_signal(signal.SIGKILL)
    finally:
        loop.kill()
        loop.wait(10)
    killed_at = len(creations(db))
    assert 60 <= killed_at < 111  # killed mid-cycle, past the first page
    oms.control.delete("/_simulator/faults")

    for _ in range(2):
        cycle = subprocess.run(
            [*RUNREG, "ingest", "once"], env=oms.env(db), capture_output=True, text=True, timeout=120
        )
        assert cycle.returncode == 0, cycle.stderr

    assert_every_run_created_once(db)


def test_a_run_the_incremental_scans_skipped_is_found_by_the_reconciliation(db: Database, small: Oms) -> None:
    ingestion.run_cycle(db, small.client, policy=PAGES_OF_5)
    # A run lost without trace (as if OMS had shown it late, behind the high-water mark): only a full scan
    # walks that far back.
    lost = min(SMALL_RUNS)
    with db.transaction() as conn:
        conn.execute(oms_run_marks.delete().where(oms_run_marks.c.run_number == lost))
    small.clock.advance(10 * LS_SECONDS)
    incremental = ingestion.run_cycle(db, small.client, policy=PAGES_OF_5)
    assert incremental.scan == INCREMENTAL and incremental.missed == []
    assert incremental.seen == 5 and incremental.outcomes == {"updated": 1}  # stops below the high-water

    full = ingestion.run_cycle(db, small.client, policy=replace(PAGES_OF_5, reconcile_every_scans=1))

    assert full.scan == FULL and full.scan_completed and full.seen == 12
    assert full.missed == [lost] and full.outcomes == {"unchanged": 1}


def test_a_scan_longer_than_a_cycle_continues_next_cycle(db: Database, small: Oms) -> None:
    one_page = replace(PAGES_OF_5, pages_per_cycle=1)
    reports = [ingestion.run_cycle(db, small.client, policy=one_page) for _ in range(3)]

    assert [r.resumed_at for r in reports] == [0, 5, 10]
    assert [r.scan_completed for r in reports] == [False, False, True]
    assert_every_run_created_once(db, SMALL_RUNS)


def test_a_stopped_cycle_takes_its_page_up_again(db: Database, small: Oms) -> None:
    ingestion.run_cycle(db, small.client, policy=replace(PAGES_OF_5, pages_per_cycle=1))

    stopped = ingestion.run_cycle(db, small.client, policy=PAGES_OF_5, stop=lambda: len(creations(db)) >= 7)
    assert stopped.resumed_at == 5 and stopped.count("created") == 2 and not stopped.scan_completed

    rest = ingestion.run_cycle(db, small.client, policy=PAGES_OF_5)

    assert rest.resumed_at == 5 and rest.count("created") == 5 and rest.scan_completed
    assert_every_run_created_once(db, SMALL_RUNS)
