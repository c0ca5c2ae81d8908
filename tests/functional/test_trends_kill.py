"""`runreg trends extract` killed with SIGKILL mid-pass loses nothing and leaves no half-written file: every
file is either done with all its points and histograms, or untouched and extracted by the next pass."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from runreg.simulators.dqm_files.generator import generate
from runreg.simulators.oms.world import OmsWorld
from runreg.storage.database import Database
from runreg.trends.tables import trend_configs, trend_files, trend_histograms, trend_points, trends
from tests.contract.trends_support import ADC, root_mean, write_tree

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(scope="module")
def many_files(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    root = tmp_path_factory.mktemp("many")
    # Enough files that a kill after the fourth lands half-way: since the streamer decoder (decision 0029) a
    # pass over 24 files could end between two polls of the ledger on a loaded machine.
    world = OmsWorld(runs=200)
    runs = [p.run_number for p in world.plans if p.kind == "collisions"][:80]
    manifest = generate(
        root,
        world=world,
        runs=runs,
        datasets=(("ZeroBias", "PromptReco"),),
        second_versions=0,
        corrupt=False,
        missing_me=False,
    )
    return root, manifest


def _cli(db: Database, root: Path, config_dir: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "RUNREG_DATABASE_URL": db.url,
        "RUNREG_TRENDS_FILES_ROOT": str(root),
        "RUNREG_TRENDS_CONFIG_DIR": str(config_dir),
    }
    command = [sys.executable, "-m", "runreg.cli.main", "trends", "extract", "--jobs", "2"]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )


def _done(db: Database) -> int:
    with db.reading() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).select_from(trend_files).where(trend_files.c.status == "done")
            ).scalar()
        )


def _check_consistent(db: Database, configs: int) -> set[int]:
    """Every done file has a point of each config and its histograms; nothing else has either."""
    with db.reading() as conn:
        files = conn.execute(
            sa.select(trend_files.c.id, trend_files.c.run_number, trend_files.c.status)
        ).all()
        points = conn.execute(
            sa.select(trend_points.c.run_number, sa.func.count()).group_by(trend_points.c.run_number)
        ).all()
        stored = set(conn.execute(sa.select(trend_histograms.c.file_id).distinct()).scalars())
        assert conn.execute(sa.select(sa.func.count()).select_from(trends)).scalar() <= configs
    done = {f.run_number for f in files if f.status == "done"}
    assert {f.status for f in files} <= {"done", "pending"}
    assert {run: count for run, count in points} == {run: configs for run in done}
    assert stored == {f.id for f in files if f.status == "done"}
    return done


def test_sigkill_mid_pass_loses_nothing(db: Database, many_files, tmp_path: Path) -> None:
    root, manifest = many_files
    tree = write_tree(tmp_path / "cfg")
    process = _cli(db, root, tmp_path / "cfg")
    deadline = time.monotonic() + 120
    while _done(db) < 4:
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "the extraction made no progress"
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)  # the CLI and its worker processes
    process.wait(timeout=30)
    partial = _check_consistent(db, len(tree.configs))
    assert 4 <= len(partial) < len(manifest.files), "the pass should have been interrupted half-way"
    finish = _cli(db, root, tmp_path / "cfg")
    assert finish.wait(timeout=300) == 0, finish.stderr.read().decode()[-2000:]
    assert _check_consistent(db, len(tree.configs)) == {f.run for f in manifest.files}
    with db.reading() as conn:
        adc = dict(
            conn.execute(
                sa.select(trend_points.c.run_number, trend_points.c.value)
                .join(trends, trends.c.id == trend_points.c.trend_id)
                .join(trend_configs, trend_configs.c.id == trends.c.config_id)
                .where(trend_configs.c.name == "ADC_mean")
            ).all()
        )
    assert adc == pytest.approx({f.run: root_mean(f.path, f.run, ADC) for f in manifest.files}, rel=1e-12)
