"""`runreg ingest loop` as operators run it: one instance only, a clean stop on SIGTERM, a heartbeat, and one
summary line per cycle — real processes against the OMS simulator, on both engines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from runreg.eventlog.tables import events
from runreg.simulators.oms.server import SimulatedClock, SimulatorServer, create_app, run_in_thread
from runreg.simulators.oms.world import OmsWorld
from runreg.storage.database import Database
from runreg.worker import heartbeats

WORLD = OmsWorld(runs=14)
START = WORLD.plans[11].start_time + timedelta(minutes=20)
RUNREG = [sys.executable, "-m", "runreg.cli.main"]


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    with run_in_thread(create_app(WORLD, SimulatedClock(START, speed=0))) as server:
        yield server


@pytest.fixture
def env(db: Database, simulator: SimulatorServer) -> dict[str, str]:
    return {
        **os.environ,
        "RUNREG_DATABASE_URL": db.url,
        "RUNREG_OMS_URL": simulator.api_url,
        "RUNREG_OMS_TOKEN_URL": simulator.token_url,
        "RUNREG_WORKER_HEARTBEAT_S": "0.2",
        "COLUMNS": "300",
    }


def runreg(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RUNREG, *args], env=env, capture_output=True, text=True, timeout=120)


def start_loop(env: dict[str, str], interval: str = "0.3") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*RUNREG, "ingest", "loop", "--interval", interval],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition, what: str, timeout: float = 60.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def cycles(db: Database) -> int:
    beat = heartbeats.read(db, "ingestion")
    return beat.cycles if beat else 0


def cycle_lines(stderr: str) -> list[dict]:
    records = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    return [r for r in records if r.get("name") == "runreg.worker" and "cycle" in r["message"]]


def test_a_second_loop_refuses_while_one_runs_and_sigterm_stops_the_first_cleanly(
    db: Database, env: dict[str, str]
) -> None:
    first = start_loop(env)
    try:
        wait_for(lambda: cycles(db) >= 2, "two cycles of the first loop")
        beat = heartbeats.read(db, "ingestion")
        assert beat is not None and beat.pid == first.pid and beat.stopped_at is None
        assert beat.last_summary is not None and beat.last_summary["runs_seen"] >= 1

        second = runreg(env, "ingest", "loop", "--interval", "0.3")
        once = runreg(env, "ingest", "once")

        assert second.returncode == 3 and "only one may run at a time" in second.stderr
        assert f"pid {first.pid}" in second.stderr  # names the holder
        assert once.returncode == 3 and "only one may run at a time" in once.stderr
        assert heartbeats.read(db, "ingestion").pid == first.pid  # the refused ones wrote nothing

        first.send_signal(signal.SIGTERM)
        _, stderr = first.communicate(timeout=60)
    finally:
        first.kill()
    assert first.returncode == 0, stderr
    stopped = heartbeats.read(db, "ingestion")
    assert stopped is not None and stopped.stopped_at is not None
    lines = cycle_lines(stderr)
    # Exactly one summary line per cycle, none per OMS request.
    assert len(lines) == stopped.cycles >= 2
    assert "HTTP Request" not in stderr and "/agg/api/v1" not in stderr
    first_cycle = lines[0]["cycle"]
    assert first_cycle["runs_seen"] == 12 and first_cycle["runs_changed"] == 12 and first_cycle["errors"] == 0
    assert first_cycle["requests"] >= 13 and first_cycle["changes"] == 12
    assert {"duration_s", "scan", "missed"} <= set(first_cycle)

    after = runreg(env, "ingest", "once")
    assert after.returncode == 0, after.stderr  # the lock went with the stopped worker


def test_a_sigkilled_loop_leaves_no_lock_behind(db: Database, env: dict[str, str]) -> None:
    loop = start_loop(env, interval="30")
    try:
        wait_for(lambda: cycles(db) >= 1, "the first cycle")
        loop.send_signal(signal.SIGKILL)
        loop.wait(10)
    finally:
        loop.kill()

    once = runreg(env, "ingest", "once")

    assert once.returncode == 0, once.stderr
    assert heartbeats.read(db, "ingestion").pid != loop.pid


def test_a_failed_cycle_is_one_error_line_and_once_exits_non_zero(db: Database, env: dict[str, str]) -> None:
    dead = {**env, "RUNREG_OMS_URL": "http://127.0.0.1:9/agg/api/v1"}

    failed = runreg(dead, "ingest", "once")

    assert failed.returncode == 1
    errors = [r for r in cycle_lines(failed.stderr) if r["levelname"] == "ERROR"]
    assert len(errors) == 1 and "cycle failed" in errors[0]["message"]
    beat = heartbeats.read(db, "ingestion")
    assert beat is not None and beat.failed_cycles == 1 and beat.last_error


def test_sigterm_in_a_long_cycle_finishes_the_run_under_way_and_the_scan_resumes(
    db: Database, env: dict[str, str], simulator: SimulatorServer
) -> None:
    with httpx.Client(base_url=simulator.base_url) as control:
        spec = {"path_prefix": "/agg/api/v1/lumisections", "kind": "slow", "times": 10_000, "delay_s": 0.3}
        control.post("/_simulator/faults", json=spec).raise_for_status()
        loop = start_loop(env)
        try:
            wait_for(lambda: _created(db) >= 2, "two runs created")
            loop.send_signal(signal.SIGTERM)
            _, stderr = loop.communicate(timeout=60)
        finally:
            loop.kill()
        assert loop.returncode == 0, stderr
        stopped_at = _created(db)
        assert 2 <= stopped_at < 12  # it did not go on with the whole cycle
        control.delete("/_simulator/faults")

    once = runreg(env, "ingest", "once")

    assert once.returncode == 0, once.stderr
    assert _created(db) == 12


def _created(db: Database) -> int:
    query = select(func.count()).select_from(events).where(events.c.type == "RunCreated")
    with db.reading() as conn:
        return conn.execute(query).scalar_one()
