"""`runreg dctools …`: previews unless --yes, one change set when done, refusals on stderr with exit 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runreg.registry import service as registry
from runreg.storage.database import Database
from tests.builders.cycles import EXPRESS, PROMPT, offline_runs

RUNREG = [sys.executable, "-m", "runreg.cli.main"]
RUNS = (379501, 379502)


def runreg(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RUNREG, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "RUNREG_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}", "COLUMNS": "200"}
    assert runreg(env, "db", "upgrade").returncode == 0
    offline_runs(Database(env["RUNREG_DATABASE_URL"]), RUNS, names=(PROMPT, EXPRESS))
    return env


def test_preview_then_do_then_revert(env: dict[str, str], tmp_path: Path) -> None:
    db = Database(env["RUNREG_DATABASE_URL"])
    selected = json.dumps({"name": PROMPT})
    args = ("dctools", "batch-update", "BAD", "-c", "dt-dt", "-f", selected, "-m", "chamber off")
    shown = runreg(env, *args)
    assert shown.returncode == 0, shown.stderr
    assert "2 selected, 2 would change" in shown.stdout and "add --yes" in shown.stdout
    before = len(registry.history(db, limit=100))
    done = runreg(env, *args, "--yes")
    assert done.returncode == 0, done.stderr and "2 changed" in done.stdout
    assert len(registry.history(db, limit=100)) == before + 1
    change_set = registry.history(db, limit=1)[0].id
    assert f"runreg changes revert {change_set}" in done.stdout
    empty = runreg(env, "dctools", "hide", "--reason", "all wrong", "--yes")
    assert empty.returncode == 1 and "filter" in empty.stderr
    names = runreg(env, "dctools", "names")
    assert names.stdout.split() == sorted([EXPRESS, PROMPT])
    out = tmp_path / "datasets.parquet"
    exported = runreg(env, "dctools", "export", "-o", str(out), "-c", "dt-dt", "-f", selected)
    assert exported.returncode == 0, exported.stderr and out.stat().st_size > 0
    snippet = runreg(env, "dctools", "api-call", "-f", selected)
    assert "runregistry.get_datasets(" in snippet.stdout
