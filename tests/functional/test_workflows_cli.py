"""`runreg workflows update|show` end to end: a subprocess against the cmsweb simulator on a real socket."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from runreg.simulators.cmsweb.server import SimulatedClock, create_app, run_in_thread
from runreg.simulators.cmsweb.world import DAY, CmswebWorld

RUNREG = [sys.executable, "-m", "runreg.cli.main"]
WORLD = CmswebWorld(seed=5, workflows=30)
NOW = WORLD.epoch + 25 * DAY


def runreg(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RUNREG, *args], env=env, capture_output=True, text=True, timeout=180)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    clock = SimulatedClock(datetime.fromtimestamp(NOW, UTC), speed=0)
    with run_in_thread(create_app(WORLD, clock)) as server:
        yield {
            **os.environ,
            "RUNREG_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}",
            "RUNREG_CMSWEB_URL": server.base_url,
            "RUNREG_DBS_URL": f"{server.base_url}/dbs/prod/global/DBSReader",
            "RUNREG_CALLBACK_TOKEN_URL": f"{server.base_url}/auth/realms/cern/api-access/token",
            "RUNREG_CALLBACK_CLIENT_ID": "stats2",
            "RUNREG_CALLBACK_CLIENT_SECRET": "callback-secret",
            "RUNREG_CALLBACK_PROD_URL": f"{server.base_url}/prod",
            "RUNREG_CALLBACK_DEV_URL": f"{server.base_url}/dev",
            "PYTHONPATH": os.pathsep.join(sys.path),
            "COLUMNS": "200",
        }


def test_update_then_show_then_update_one_with_a_trigger(env: dict[str, str]) -> None:
    assert runreg(env, "db", "upgrade").returncode == 0
    first = runreg(env, "workflows", "update")
    assert first.returncode == 0, first.stderr
    visible = [p.name for p in WORLD.plans if WORLD.document(p.name, NOW)]
    assert f"{len(visible)} changed, 0 unchanged" in first.stdout
    shown = runreg(env, "workflows", "show", visible[0])
    assert shown.returncode == 0 and json.loads(shown.stdout)["_id"] == visible[0]
    missing = runreg(env, "workflows", "show", "no_such_workflow")
    assert missing.returncode == 1 and "not in the cache" in missing.stderr
    one = runreg(env, "workflows", "update", "--name", visible[0], "--trigger-dev")
    assert one.returncode == 0, one.stderr
    assert "0 changed, 1 unchanged" in one.stdout and "0 callbacks" in one.stdout
    base = env["RUNREG_CMSWEB_URL"]
    assert httpx.get(f"{base}/_simulator/callbacks").json()["callbacks"] == []  # nothing changed: no call
