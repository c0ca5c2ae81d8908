"""`runreg trends loop` as operators run it (real processes, both engines): one incremental pass per cycle,
one instance only, a clean stop on SIGTERM, a heartbeat; and the demo's DQM files of finished runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from runreg.cli.demo import DemoDqmFiles
from runreg.simulators.oms.server import SimulatedClock
from runreg.simulators.oms.world import OmsWorld
from runreg.storage.database import Database
from runreg.trends.tables import trend_points
from runreg.worker import heartbeats
from tests.contract.trends_support import make_files

RUNREG = [sys.executable, "-m", "runreg.cli.main"]


@pytest.fixture(scope="module")
def files_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dqm")
    make_files(root)
    return root


@pytest.fixture
def env(db: Database, files_root: Path) -> dict[str, str]:
    return {
        **os.environ,
        "RUNREG_DATABASE_URL": db.url,
        "RUNREG_TRENDS_FILES_ROOT": str(files_root),
        "RUNREG_TRENDS_JOBS": "2",
        "RUNREG_WORKER_HEARTBEAT_S": "0.2",
        "COLUMNS": "300",
    }


def runreg(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RUNREG, *args], env=env, capture_output=True, text=True, timeout=300)


def points(db: Database) -> int:
    with db.reading() as conn:
        return int(conn.execute(select(func.count()).select_from(trend_points)).scalar_one())


def test_one_pass_extracts_new_files_and_the_next_lists_nothing(db: Database, env: dict[str, str]) -> None:
    first = runreg(env, "trends", "loop", "--once")
    assert first.returncode == 0, first.stderr
    assert "trends cycle: new_files=12" in first.stderr and "files_done=9 files_failed=1" in first.stderr
    stored = points(db)
    assert stored > 0
    again = runreg(env, "trends", "loop", "--once")
    assert again.returncode == 0, again.stderr
    # incremental: no directory changed, nothing new; the corrupt file waits for its back-off
    assert "new_files=0 directories_listed=0 files_done=0 files_failed=0" in again.stderr
    assert points(db) == stored
    beat = heartbeats.read(db, "trends")
    assert beat is not None and beat.stopped_at is not None


def test_a_second_instance_is_refused_and_sigterm_stops_cleanly(db: Database, env: dict[str, str]) -> None:
    loop = subprocess.Popen(
        [*RUNREG, "trends", "loop", "--interval", "3600"], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            beat = heartbeats.read(db, "trends")
            if beat is not None and beat.stopped_at is None and beat.cycles >= 1:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the loop never finished its first pass")
        second = runreg(env, "trends", "loop", "--once")
        assert second.returncode == 3 and "only one may run at a time" in second.stderr
        loop.send_signal(signal.SIGTERM)
        _, stderr = loop.communicate(timeout=60)
        assert loop.returncode == 0, stderr
        assert "trends worker stopped" in stderr
    finally:
        if loop.poll() is None:
            loop.kill()


def test_the_demo_writes_files_of_the_collisions_runs_that_ended(tmp_path: Path) -> None:
    world = OmsWorld(runs=16)
    clock = SimulatedClock(world.plans[8].start_time + timedelta(minutes=1), speed=0)
    files = DemoDqmFiles(tmp_path, world, clock)
    ended = [p.run_number for p in world.plans if p.kind == "collisions" and p.end <= clock().timestamp()]
    assert files() == len(ended) and ended
    written = {int(p.name[11:20]) for p in tmp_path.rglob("DQM_V*.root")}
    assert written == set(ended)
    assert files() == 0  # nothing new until another run ends
    clock.advance(3 * 24 * 3600)
    assert files() > 0
    assert DemoDqmFiles(tmp_path, world, clock)() == 0  # a restarted demo does not write them again
