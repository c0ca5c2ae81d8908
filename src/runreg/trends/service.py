"""Use cases of the trends domain: sync configs, discover files, extract them in a process pool (one
transaction per file), recompute a config from the stored histograms, and the nightly pass."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from runreg.configuration import service as configuration
from runreg.kernel.actors import SYSTEM, Actor
from runreg.kernel.errors import InvalidInput, NotFound
from runreg.storage.database import Database
from runreg.trends import store
from runreg.trends.config import ConfigTree, TrendConfig, default_config_dir, read_tree
from runreg.trends.discovery import parse_name, walk
from runreg.trends.extraction import FileResult, Point, evaluate, extract_file, prepare
from runreg.trends.histogram import Histogram

log = logging.getLogger("runreg.trends")
Progress = Callable[[int, int, str], None]
RunRange = tuple[int, int]
MAX_JOBS = 64


def config_tree(config_dir: Path | None = None) -> ConfigTree:
    """The configured tree (setting RUNREG_TRENDS_CONFIG_DIR), else the shipped default."""
    if config_dir is None:
        from runreg.settings import get_settings

        config_dir = get_settings().trends_config_dir
    return read_tree(config_dir or default_config_dir())


_tree_cache: dict[tuple[str, int, int], ConfigTree] = {}


def cached_config_tree() -> ConfigTree:
    """The configured tree, read again only when one of its .ini files changes."""
    from runreg.settings import get_settings

    root = get_settings().trends_config_dir or default_config_dir()
    stamps = [p.stat().st_mtime_ns for p in root.glob("*/*.ini")] if root.is_dir() else []
    key = (str(root), len(stamps), max(stamps, default=0))
    if key not in _tree_cache:
        _tree_cache.clear()
        _tree_cache[key] = read_tree(root)
    return _tree_cache[key]


def _authorize(conn: Connection, actor: Actor, action: str) -> None:
    """The one permission gate, in the write's own transaction (actions trends:extract, trends:recompute)."""
    configuration.authorize(conn, actor=actor, action=action)


# -- configs ---------------------------------------------------------------------------------------
@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)


def _sync(conn: Connection, tree: ConfigTree) -> SyncReport:
    report = SyncReport()
    existing = store.config_rows(conn)
    for config in tree.configs:
        row = existing.get(config.key)
        values = store.config_values(config)
        if row is None:
            report.ids[config.key] = store.insert_config(conn, config)
            report.added.append(config.key)
            continue
        report.ids[config.key] = row.id
        compared = {k: v for k, v in values.items() if k != "updated_at"}
        if any(getattr(row, k) != v for k, v in compared.items()):
            store.update_config(conn, row.id, values)
            report.updated.append(config.key)
    gone = {key: row.id for key, row in existing.items() if key not in report.ids and row.active}
    store.deactivate_configs(conn, gone.values())
    report.deactivated = sorted(gone)
    return report


def sync_configs(db: Database, *, tree: ConfigTree) -> SyncReport:
    """Insert new configs, update changed ones, deactivate removed ones (their points stay)."""
    with db.transaction() as conn:
        return _sync(conn, tree)


# -- discovery -------------------------------------------------------------------------------------
@dataclass
class DiscoveryReport:
    new_files: int = 0
    unparsable: list[str] = field(default_factory=list)
    directories_listed: int = 0
    directories_visited: int = 0


def discover(db: Database, *, root: Path) -> DiscoveryReport:
    """Record the DQM files of new or changed directories under `root` as pending, with the directory marks,
    in one transaction (a kill loses nothing: the next pass lists the same directories again)."""
    with db.transaction() as conn:
        found = walk(root, store.directory_marks(conn))
        known = store.known_paths(conn)
        report = DiscoveryReport(directories_listed=found.listed, directories_visited=found.visited)
        for path in sorted(found.files):
            if str(path) in known:
                continue
            name = parse_name(path.name)
            if name is None:
                report.unparsable.append(str(path))
                continue
            store.add_file(conn, str(path), name)
            report.new_files += 1
        store.save_directory_marks(conn, found.marks)
    return report


def _register_files(conn: Connection, paths: Sequence[str]) -> list[str]:
    known = store.known_paths(conn)
    registered = []
    for raw in paths:
        path = str(Path(raw).resolve())
        name = parse_name(Path(path).name)
        if name is None:
            raise InvalidInput(
                "files", f"{raw!r} is not named DQM_V<vvvv>_R<run>__<PD>__<Era>-<PS>-v<n>__<tier>.root"
            )
        if path not in known:
            store.add_file(conn, path, name)
        registered.append(path)
    return registered


@dataclass(frozen=True)
class FileJob:
    file_id: int
    path: str
    run_number: int
    dataset_id: int
    #: The only file of its (dataset, run), never tried, nothing stored for its run (not even by a subset
    #: pass): storing it has nothing to delete or supersede (four round trips fewer: the nightly pass's
    #: common case). A failed file is never fresh: it may be a done file re-extracted by name.
    fresh: bool = False


def _plan(rows: Sequence[Any], named: Sequence[str] | None = None) -> list[FileJob]:
    """The newest version of each (dataset, run), unless it is already done; older versions are never read.
    Named files are reprocessed whatever their status, if they are the newest of their run."""
    best: dict[tuple[int, int], Any] = {}
    versions: dict[tuple[int, int], int] = defaultdict(int)
    for row in rows:
        key = (row.dataset_id, row.run_number)
        versions[key] += 1
        rank = (row.processing_version, row.version, row.id)
        if key not in best or rank > (best[key].processing_version, best[key].version, best[key].id):
            best[key] = row
    if named is None:
        now = datetime.now(UTC)
        chosen = [
            row for row in best.values()
            if row.status == store.PENDING or (row.status == store.FAILED and _retry_due(row, now))
        ]  # fmt: skip
    else:
        chosen = [row for row in best.values() if row.path in set(named)]
    chosen.sort(key=lambda r: (r.run_number, r.id))
    untried = {r.id for r in chosen if r.status == store.PENDING and not r.attempts}
    return [
        FileJob(
            r.id, r.path, r.run_number, r.dataset_id,
            fresh=r.id in untried and versions[(r.dataset_id, r.run_number)] == 1,
        )
        for r in chosen
    ]  # fmt: skip


#: A failed file is tried again once it changed on disk (uploaded again), or after a back-off doubling with
#: each attempt (2, 4, 8… minutes, at most a day), so a corrupt file does not cost every pass.
RETRY_FIRST_S = 120.0
RETRY_MAX_S = 86_400.0


def _retry_due(row: Any, now: datetime) -> bool:
    last = row.processed_at
    if last is None:
        return True
    last = last if last.tzinfo else last.replace(tzinfo=UTC)
    try:
        if Path(row.path).stat().st_mtime > last.timestamp():
            return True
    except OSError:
        pass  # gone: wait for the back-off (its failure says why)
    wait_s = min(RETRY_FIRST_S * 2 ** max(row.attempts - 1, 0), RETRY_MAX_S)
    return (now - last).total_seconds() >= wait_s


# -- extraction ------------------------------------------------------------------------------------
@dataclass
class ExtractReport:
    configs: int = 0
    config_problems: int = 0
    discovery: DiscoveryReport | None = None
    recomputed: list[str] = field(default_factory=list)
    planned: list[str] = field(default_factory=list)
    done: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    points: int = 0
    rejections: int = 0


@dataclass(frozen=True)
class Plan:
    """What every file of a pass needs besides its job: the configs, their ids and trends, the mode."""

    configs: tuple[TrendConfig, ...]
    ids: dict[str, int]
    trend_of: dict[int, dict[int, int]]  # dataset -> {config id: trend id}, committed before the pass
    partial: bool


@dataclass(frozen=True)
class Outcome:
    """What storing one file did (a worker hands this small value back, never the file's data)."""

    path: str
    failure: str | None = None
    points: int = 0
    rejections: int = 0
    store_s: float = 0.0


def _process(db: Database, job: FileJob, plan: Plan) -> Outcome:
    """Extract one file and store it in its own transaction: the one step of a pass, in a worker or not."""
    return _store_result(db, job, extract_file(job.path, job.run_number, plan.configs), plan)


_worker: dict[str, Any] = {}


def _init_worker(url: str | None, plan: Plan) -> None:
    """Each worker process: the pass's plan, and its own engine when it stores what it extracts."""
    _worker["plan"] = plan
    _worker["db"] = Database(url) if url is not None else None


def _work(job: FileJob) -> Outcome | FileResult:
    plan = _worker["plan"]
    if _worker["db"] is not None:
        return _process(_worker["db"], job, plan)
    return extract_file(job.path, job.run_number, plan.configs)


def extract(
    db: Database,
    *,
    actor: Actor,
    tree: ConfigTree,
    root: Path | None,
    runs: RunRange | None = None,
    config_keys: Sequence[str] | None = None,
    files: Sequence[str] | None = None,
    jobs: int = 1,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ExtractReport:
    """Sync configs (recomputing changed ones from stored histograms), discover new files under `root`, and
    extract the newest version of every (dataset, run) not yet done — failed files included. With
    `config_keys`, only those configs are computed and the ledger is left as it is."""
    if not 1 <= jobs <= MAX_JOBS:
        raise InvalidInput("jobs", f"must be between 1 and {MAX_JOBS}")
    selected = _select(tree, config_keys)
    report = ExtractReport(
        configs=len(selected), config_problems=sum(p.severity == "error" for p in tree.problems)
    )
    with db.transaction() as conn:
        _authorize(conn, actor, "trends:extract")
        if dry_run:
            rows = store.file_rows(conn, runs=runs)
            report.planned = [job.path for job in _plan(rows)]
            return report
        ids = _sync(conn, tree).ids
        registered = _register_files(conn, files) if files else None
    if not dry_run and config_keys is None:
        report.recomputed = _recompute_stale(db, tree)
    if root is not None and files is None:
        report.discovery = discover(db, root=root)
    with db.reading() as conn:
        rows = store.file_rows(conn, runs=runs)
        plan = _plan(rows, registered)
        # a subset pass stores points and MEs of files it leaves pending: those are not fresh
        stored = store.runs_with_histograms(conn, [(j.dataset_id, j.run_number) for j in plan if j.fresh])
    plan = [replace(j, fresh=False) if (j.dataset_id, j.run_number) in stored else j for j in plan]
    report.planned = [job.path for job in plan]
    hashes = {ids[c.key]: c.computation_hash() for c in selected}
    with db.transaction() as conn:  # the trends of the pass's datasets exist before any worker stores
        trend_of = {ds: store.trend_ids(conn, ds, hashes) for ds in sorted({job.dataset_id for job in plan})}
    settings = Plan(selected, ids, trend_of, partial=config_keys is not None)
    for outcome in _outcomes(db, plan, settings, jobs, progress):
        if outcome.failure is not None:
            report.failed[outcome.path] = outcome.failure
            continue
        report.done += 1
        report.points += outcome.points
        report.rejections += outcome.rejections
    return report


def _select(tree: ConfigTree, keys: Sequence[str] | None) -> tuple[TrendConfig, ...]:
    if keys is None:
        return tree.configs
    return tuple(_find_config(tree, key) for key in keys)


def _find_config(tree: ConfigTree, name: str) -> TrendConfig:
    """A config by 'Subsystem/name', or by name alone when only one subsystem has it."""
    by_key = tree.by_key()
    if name in by_key:
        return by_key[name]
    matches = [c for c in tree.configs if c.name == name.removeprefix("plot:")]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise InvalidInput(
            "config", f"{name!r} is defined in several subsystems: {', '.join(c.key for c in matches)}"
        )
    raise NotFound(f"no trend config named {name!r}", details={"config": name})


def _outcomes(  # noqa: ANN202
    db: Database, plan: list[FileJob], settings: Plan, jobs: int, progress: Progress | None
):
    """Each file's outcome as files finish. With several jobs on PostgreSQL every worker stores its own files
    (its own connection, one transaction per file); on SQLite (one writer) the parent stores them. A bounded
    number of files is in flight so memory stays flat."""
    total = len(plan)
    if jobs == 1 or total <= 1:
        for done, job in enumerate(plan, start=1):
            yield _process(db, job, settings)
            if progress:
                progress(done, total, job.path)
        return
    url = db.url if db.dialect == "postgresql" else None
    prepare()
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(url, settings)) as pool:
        queue = iter(plan)
        running: dict[Future[Outcome | FileResult], FileJob] = {}
        done = 0

        def refill() -> None:
            for job in queue:
                running[pool.submit(_work, job)] = job
                if len(running) >= jobs * 4:
                    return

        refill()
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                job = running.pop(future)
                try:
                    answer = future.result()
                except Exception as exc:  # noqa: BLE001 — a crashed worker fails its file, not the pass
                    answer = FileResult(job.path, failure=f"extraction crashed: {type(exc).__name__}: {exc}")
                done += 1
                yield answer if isinstance(answer, Outcome) else _store_result(db, job, answer, settings)
                if progress:
                    progress(done, total, job.path)
            refill()


def _store_result(db: Database, job: FileJob, result: FileResult, plan: Plan) -> Outcome:
    """One transaction per file: its MEs, its points (replacing the older version's) and its ledger row; a
    failed file only its ledger row (nothing at all for a partial pass, which leaves the ledger alone)."""
    started = time.perf_counter()
    with db.transaction() as conn:
        if result.failure is not None:
            if not plan.partial:
                store.set_file_outcome(conn, job.file_id, store.FAILED, result.failure)
            return Outcome(job.path, failure=result.failure)
        points, rejections = _rows(job.run_number, result, plan.ids, plan.trend_of[job.dataset_id])
        if job.fresh and not plan.partial:
            store.add_histograms(conn, job.dataset_id, job.run_number, job.file_id, result.histograms)
            store.add_points(conn, points, rejections)
            store.set_file_outcome(conn, job.file_id, store.DONE, None)
            return Outcome(job.path, None, len(points), len(rejections), time.perf_counter() - started)
        store.replace_histograms(
            conn, job.dataset_id, job.run_number, job.file_id, result.histograms, only=plan.partial
        )
        trend_ids = list(plan.trend_of[job.dataset_id].values())
        store.replace_points(conn, trend_ids, [job.run_number], points, rejections)
        if not plan.partial:
            store.set_file_outcome(conn, job.file_id, store.DONE, None)
            store.supersede_others(conn, job.dataset_id, job.run_number, job.file_id)
    return Outcome(job.path, None, len(points), len(rejections), time.perf_counter() - started)


def _rows(
    run: int, result: FileResult, ids: dict[str, int], trend_of: dict[int, int]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    points = [
        {"trend_id": trend_of[ids[p.config_key]], "run_number": run, "value": p.value, "error": p.error}
        for p in result.points
    ]
    rejections = [
        {"trend_id": trend_of[ids[r.config_key]], "run_number": run, "reason": r.reason[:2000]}
        for r in result.rejections
    ]
    return points, rejections


# -- recomputation ---------------------------------------------------------------------------------
@dataclass
class RecomputeReport:
    config: str
    trends: int = 0
    runs: int = 0
    points: int = 0
    rejections: int = 0


def recompute(
    db: Database, *, actor: Actor, tree: ConfigTree, config_name: str, runs: RunRange | None = None
) -> RecomputeReport:
    """Recompute one config's trends in every dataset from the stored histograms (no ROOT file is read)."""
    config = _find_config(tree, config_name)
    if runs is not None and runs[0] > runs[1]:
        raise InvalidInput("runs", f"the first run {runs[0]} is after the last {runs[1]}")
    with db.transaction() as conn:
        _authorize(conn, actor, "trends:recompute")
        config_id = _sync(conn, tree).ids[config.key]
    return _recompute_config(db, config, config_id, runs)


def recompute_configured(
    db: Database, *, actor: Actor, config_name: str, runs: RunRange | None = None
) -> RecomputeReport:
    """recompute() with the configured tree (the page's button for an admin)."""
    return recompute(db, actor=actor, tree=cached_config_tree(), config_name=config_name, runs=runs)


def _recompute_config(
    db: Database, config: TrendConfig, config_id: int, runs: RunRange | None
) -> RecomputeReport:
    report = RecomputeReport(config.key)
    digest = config.computation_hash()
    with db.reading() as conn:
        datasets = store.dataset_ids(conn)
    for dataset in datasets:
        with db.transaction() as conn:  # one transaction per trend
            stored_runs = store.stored_runs(conn, dataset, runs)
            if not stored_runs:
                continue
            trend_id = store.trend_ids(conn, dataset, {config_id: digest})[config_id]
            by_run: dict[int, dict[str, Histogram]] = defaultdict(dict)
            for row in store.stored_histograms(conn, dataset, list(config.me_paths.values()), runs):
                by_run[row.run_number][row.me_path] = Histogram.from_bytes(row.data)
            points, rejections = [], []
            for run in stored_runs:
                outcome = evaluate(config, by_run.get(run, {}), run, {})
                if isinstance(outcome, Point):
                    points.append(
                        {
                            "trend_id": trend_id,
                            "run_number": run,
                            "value": outcome.value,
                            "error": outcome.error,
                        }
                    )
                else:
                    rejections.append(
                        {"trend_id": trend_id, "run_number": run, "reason": outcome.reason[:2000]}
                    )
            store.replace_points(conn, [trend_id], runs, points, rejections)
            store.set_computed_hash(conn, [trend_id], digest)
        report.trends += 1
        report.runs += len(stored_runs)
        report.points += len(points)
        report.rejections += len(rejections)
    return report


def _recompute_stale(db: Database, tree: ConfigTree) -> list[str]:
    """Configs whose definition changed since their points were computed, and configs added since, are
    (re)computed from the stored histograms by themselves."""
    with db.reading() as conn:
        stale = store.stale_config_ids(conn) | store.configs_without_trends(conn)
        rows = store.config_rows(conn)
    by_key = tree.by_key()
    done = []
    for key, row in rows.items():
        if row.id in stale and key in by_key:
            _recompute_config(db, by_key[key], row.id, None)
            done.append(key)
    return done


def nightly_pass(
    db: Database,
    *,
    actor: Actor = SYSTEM,
    jobs: int = 2,
    root: Path | None = None,
    progress: Progress | None = None,
) -> ExtractReport:
    """What the periodic worker calls: the configured tree, the file root (default: the setting
    RUNREG_TRENDS_FILES_ROOT), every new, newer or failed file; only new or changed directories are listed."""
    from runreg.settings import get_settings

    settings = get_settings()
    return extract(
        db, actor=actor, tree=config_tree(settings.trends_config_dir),
        root=root or Path(settings.trends_files_root), jobs=jobs, progress=progress,
    )  # fmt: skip
