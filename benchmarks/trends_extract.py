"""Benchmark: Historic DQM extraction, the original API's data route and recomputation from stored histograms.

Run: `.venv/bin/python benchmarks/trends_extract.py [--files 120] [--jobs 2]` (PostgreSQL at 127.0.0.1; a
scratch database is created and dropped).

1. Extraction: `--files` simulated DQM files (`runreg.simulators.dqm_files`, 43 MEs each, one dataset) and
   a tree of 200 configs (the shipped 106 plus 94 HCAL RBX sections, HCAL being two thirds of the real tree).
   Times `service.extract` after discovery (all files pending): files/s with `--jobs` worker processes, plus a
   single-process breakdown per file (read with uproot, compute the metrics, serialise the MEs).
2. `/hdqm/api/data` for one trend over 5,000 runs: 5,000 significant runs registered through
   `registry.service.register_run`, one trend with a point per run; p50/p95 of 30 requests with `from_run`
   and `to_run` spanning all of them (fastapi TestClient, in-process: no network). Then the same for the
   `/trends` page of that subsystem over the same run range (HTML with the points and run facts as JSON).
3. Recompute one config over 10,000 runs from the stored histograms: 10,000 stored copies of one TH1 (the
   pixel ADC, 128 bins), `service.recompute` for a `basic.Mean()` config and for a `fits.Landau` config.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from runreg.kernel.actors import SYSTEM  # noqa: E402
from runreg.simulators.dqm_files.generator import generate  # noqa: E402
from runreg.simulators.oms.world import OmsWorld  # noqa: E402
from runreg.storage import migrate  # noqa: E402
from runreg.storage.database import Database, bulk_insert  # noqa: E402
from runreg.trends import service, store  # noqa: E402
from runreg.trends.config import default_config_dir, read_tree  # noqa: E402
from runreg.trends.extraction import evaluate  # noqa: E402
from runreg.trends.histogram import histogram_1d  # noqa: E402
from runreg.trends.reading import read_histograms  # noqa: E402
from runreg.trends.tables import trend_histograms, trend_points  # noqa: E402

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def scratch_database() -> tuple[Database, str]:
    name = f"runreg_bench_trends_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    db = Database(f"postgresql://postgres@127.0.0.1:5432/{name}")
    migrate.upgrade(db)
    return db, name


def drop(db: Database, name: str) -> None:
    db.dispose()
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def cpu_seconds() -> float:
    """User + system CPU of this process and of its finished children (the pool's workers, once reaped)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def tree_of_200(directory: Path):  # noqa: ANN201
    for path in default_config_dir().glob("*/*.ini"):
        (directory / path.parent.name).mkdir(parents=True, exist_ok=True)
        (directory / path.parent.name / path.name).write_text(path.read_text())
    depth = "Hcal/DigiTask/Occupancy/depth/depth"
    sections = []
    for part in ("HBM", "HBP", "HEM", "HEP"):
        for number in range(5, 17):
            for metric in ("RBXMean", "RBXCountNonZeroChan"):
                sections.append(
                    f"[plot:{part}{number:02d}_{metric}]\n"
                    f"metric = hcal_metrics.{metric}('{part}{number:02d}', [1, 2, 3])\n"
                    f"relativePath = {depth}1\nhisto1Path = {depth}2\nhisto2Path = {depth}3\nyTitle = y\n"
                )
    (directory / "HCAL" / "bench.ini").write_text("\n".join(sections[:94]))
    tree = read_tree(directory)
    assert len(tree.configs) == 200 and not tree.problems, (len(tree.configs), tree.problems[:3])
    return tree


def bench_extraction(files: int, jobs: int) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="trends_bench_"))
    world = OmsWorld(runs=max(files * 2, 40))
    runs = [p.run_number for p in world.plans][:files]
    started = time.perf_counter()
    generate(
        scratch / "files",
        world=world,
        runs=runs,
        datasets=(("ZeroBias", "PromptReco"),),
        second_versions=0,
        corrupt=False,
        missing_me=False,
    )
    print(f"generated {files} files in {time.perf_counter() - started:.1f} s (not a figure)")
    tree = tree_of_200(scratch / "cfg")
    paths = sorted((scratch / "files").rglob("*.root"))
    # single-process breakdown
    reads, metrics = [], []
    needed = tree.me_paths()
    for path in paths[:10]:
        run = int(path.name.split("_R")[1][:9])
        t0 = time.perf_counter()
        histograms, missing = read_histograms(path, run, needed)
        t1 = time.perf_counter()
        for config in tree.configs:
            evaluate(config, histograms, run, missing)
        for h in histograms.values():
            h.to_bytes()
        metrics.append(time.perf_counter() - t1)
        reads.append(t1 - t0)
    print(
        f"one file, one process: read {statistics.median(reads) * 1000:.0f} ms ({len(needed)} MEs), "
        f"metrics+serialise {statistics.median(metrics) * 1000:.0f} ms ({len(tree.configs)} configs)"
    )
    db, name = scratch_database()
    try:
        service.discover(db, root=scratch / "files")
        first: list[float] = []  # when the files' extraction starts (after syncing and planning)
        storing = []  # each file's transaction (MEs, points, ledger row), timed where it runs (the workers)
        outcomes = service._outcomes

        def timed_outcomes(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            first.append(time.perf_counter())
            for outcome in outcomes(*args, **kwargs):
                storing.append(outcome.store_s)
                yield outcome

        service._outcomes = timed_outcomes
        cpu0 = cpu_seconds()
        t0 = time.perf_counter()
        report = service.extract(db, actor=SYSTEM, tree=tree, root=None, jobs=jobs)
        elapsed = time.perf_counter() - t0
        cpu = cpu_seconds() - cpu0
        service._outcomes = outcomes
        assert report.done == files, report.failed
        print(
            f"extraction: {files} files, {len(tree.configs)} configs, {jobs} jobs: {elapsed:.1f} s = "
            f"{files / elapsed:.1f} files/s ({report.points} points); storing (in the workers) "
            f"{statistics.median(storing) * 1000:.0f} ms/file median, {sum(storing):.1f} s in all; "
            f"CPU of runreg's processes {cpu / files * 1000:.0f} ms/file (the load-independent figure; "
            f"PostgreSQL's own not counted); before the first file (config sync, plan) {first[0] - t0:.1f} s"
        )
    finally:
        drop(db, name)


def timed(client, path: str, params: dict, repeat: int = 30) -> str:  # noqa: ANN001
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        client.get(path, params=params)
        times.append(time.perf_counter() - t0)
    times.sort()
    return (
        f"p50 {statistics.median(times) * 1000:.0f} ms, p95 {times[int(0.95 * len(times)) - 1] * 1000:.0f} ms"
    )


def bench_data_route(runs: int = 5000) -> None:
    from fastapi.testclient import TestClient

    from runreg.http.app import create_app
    from runreg.registry import service as registry
    from runreg.settings import Settings

    db, name = scratch_database()
    try:
        from runreg.configuration import service as configuration

        configuration.ensure_default(db, actor=SYSTEM)
        worker = SYSTEM  # runreg's own worker identity (runreg-services e-group)
        t0 = time.perf_counter()
        first = 400000
        for run in range(first, first + runs):
            registry.register_run(
                db, actor=worker, run_number=run,
                oms_attributes={"run_number": run, "fill_number": 9000 + run % 97, "ls_duration": 1},
                rr_attributes={"class": "Collisions24", "significant": True},
                oms_lumisections=[{"recorded": 0.1}], flags={},
            )  # fmt: skip
        print(f"registered {runs} runs in {time.perf_counter() - t0:.0f} s (not a figure)")
        tree = read_tree(default_config_dir())
        config = tree.by_key()["PixelPhase1/ADC_Barrel_mean"]
        with db.transaction() as conn:
            ids = service._sync(conn, tree).ids
            dataset = store.dataset_id(conn, "ZeroBias", "PromptReco", create=True)
            trend = store.trend_ids(conn, dataset, {ids[config.key]: config.computation_hash()})[
                ids[config.key]
            ]
            rng = np.random.default_rng(1)
            bulk_insert(
                conn,
                trend_points,
                [
                    {"trend_id": trend, "run_number": first + i, "value": float(v), "error": 0.1}
                    for i, v in enumerate(rng.normal(95, 2, runs))
                ],
            )
        client = TestClient(create_app(db, settings=Settings(allowed_hosts=["testserver"])))
        params = {
            "subsystem": "PixelPhase1",
            "pd": "ZeroBias",
            "processing_string": "PromptReco",
            "from_run": first,
            "to_run": first + runs - 1,
            "trend_id": trend,
        }
        answer = client.get("/hdqm/api/data", params=params)
        assert answer.status_code == 200 and len(answer.json()[0]["trends"]) == runs, answer.text[:300]
        print(f"/hdqm/api/data, one trend, {runs} runs: {timed(client, '/hdqm/api/data', params)}")
        page = {
            "subsystem": "PixelPhase1", "pd": "ZeroBias", "ps": "PromptReco", "filter": "range",
            "from_run": first, "to_run": first + runs - 1, "errors": "1",
        }  # fmt: skip
        answer = client.get("/trends", params=page)
        assert answer.status_code == 200 and "trend-" in answer.text, answer.text[:300]
        print(
            f"/trends page (HTML + the chart's {runs} points with their run facts): "
            f"{timed(client, '/trends', page)}, {len(answer.content) / 1e6:.1f} MB"
        )
    finally:
        drop(db, name)


def bench_recompute(runs: int = 10_000) -> None:
    db, name = scratch_database()
    try:
        tree = read_tree(default_config_dir())
        rng = np.random.default_rng(3)
        with db.transaction() as conn:
            service._sync(conn, tree)
            dataset = store.dataset_id(conn, "ZeroBias", "PromptReco", create=True)
            conn.execute(
                store.sa.insert(store.trend_files).values(
                    id=1,
                    path="/bench",
                    dataset_id=dataset,
                    run_number=0,
                    era="Run2024A",
                    version=1,
                    processing_version=1,
                    dataset_name="/ZeroBias/Run2024A-PromptReco-v1/DQMIO",
                    status="done",
                    attempts=1,
                    discovered_at=store.now(),
                )
            )
            rows = []
            for i in range(runs):
                contents = np.histogram(rng.normal(95, 25, 2000), bins=128, range=(0, 256))[0].astype(float)
                h = histogram_1d(np.concatenate([[0.0], contents, [0.0]]), np.linspace(0, 256, 129))
                rows.append(
                    {
                        "dataset_id": dataset,
                        "run_number": 400000 + i,
                        "me_path": "PixelPhase1/Digis/adc_PXBarrel",
                        "file_id": 1,
                        "data": h.to_bytes(),
                    }
                )
            bulk_insert(conn, trend_histograms, rows)
        for key in ("PixelPhase1/ADC_Barrel_mean",):
            t0 = time.perf_counter()
            report = service.recompute(db, actor=SYSTEM, tree=tree, config_name=key)
            print(
                f"recompute {key} over {report.runs} runs: {time.perf_counter() - t0:.1f} s "
                f"({report.points} points)"
            )
        landau = tree.by_key()["PixelPhase1/Charge_Barrel_Landau_MPV"]
        t0 = time.perf_counter()
        for _ in range(200):
            contents = np.histogram(rng.normal(21, 3, 5000), bins=100, range=(0, 100))[0].astype(float)
            h = histogram_1d(np.concatenate([[0.0], contents, [0.0]]), np.linspace(0, 100, 101))
            evaluate(landau, {landau.relative_path: h}, 1, {})
        per_fit = (time.perf_counter() - t0) / 200
        print(
            f"one Landau fit: {per_fit * 1000:.1f} ms -> a fit config over {runs} runs "
            f"≈ {per_fit * runs:.0f} s of CPU"
        )
    finally:
        drop(db, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=120)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--skip", choices=("extract", "data", "recompute"), action="append", default=[])
    args = parser.parse_args()
    if "extract" not in args.skip:
        bench_extraction(args.files, args.jobs)
    if "recompute" not in args.skip:
        bench_recompute()
    if "data" not in args.skip:
        bench_data_route()


if __name__ == "__main__":
    main()
