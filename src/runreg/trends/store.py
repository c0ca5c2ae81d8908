"""Queries of the trends domain (never commits: the service owns the transaction)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from runreg.storage.database import bulk_insert
from runreg.trends.config import TrendConfig
from runreg.trends.discovery import DirectoryMark, DqmFileName
from runreg.trends.tables import (
    trend_configs,
    trend_datasets,
    trend_directories,
    trend_files,
    trend_histograms,
    trend_points,
    trend_rejections,
    trends,
)

PENDING, DONE, FAILED, SUPERSEDED = "pending", "done", "failed", "superseded"


def now() -> datetime:
    return datetime.now(UTC)


# -- configs ---------------------------------------------------------------------------------------
def config_rows(conn: Connection) -> dict[str, Any]:
    """'Subsystem/name' -> row."""
    rows = conn.execute(sa.select(trend_configs)).all()
    return {f"{row.subsystem}/{row.name}": row for row in rows}


def config_values(config: TrendConfig) -> dict[str, Any]:
    return {
        "subsystem": config.subsystem,
        "name": config.name,
        "metric": config.metric_expression,
        "relative_path": config.relative_path,
        "histo1_path": config.histo1_path,
        "histo2_path": config.histo2_path,
        "reference_path": config.reference_path,
        "threshold": config.threshold,
        "y_title": config.y_title,
        "plot_title": config.plot_title,
        "source": config.source,
        "computation_hash": config.computation_hash(),
        "active": True,
        "updated_at": now(),
    }


def insert_config(conn: Connection, config: TrendConfig) -> int:
    return int(conn.execute(sa.insert(trend_configs).values(config_values(config))).inserted_primary_key[0])


def update_config(conn: Connection, config_id: int, values: dict[str, Any]) -> None:
    conn.execute(sa.update(trend_configs).where(trend_configs.c.id == config_id).values(values))


def deactivate_configs(conn: Connection, ids: Iterable[int]) -> None:
    ids = list(ids)
    if ids:
        conn.execute(sa.update(trend_configs).where(trend_configs.c.id.in_(ids)).values(active=False))


# -- datasets and trends ---------------------------------------------------------------------------
def dataset_id(conn: Connection, pd: str, ps: str, *, create: bool = False) -> int | None:
    query = sa.select(trend_datasets.c.id).where(
        trend_datasets.c.primary_dataset == pd, trend_datasets.c.processing_string == ps
    )
    found = conn.execute(query).scalar()
    if found is None and create:
        result = conn.execute(sa.insert(trend_datasets).values(primary_dataset=pd, processing_string=ps))
        return int(result.inserted_primary_key[0])
    return found


def trend_ids(conn: Connection, dataset: int, hashes: dict[int, str]) -> dict[int, int]:
    """config id -> trend id for `dataset`, creating missing trends (pairing by identity, never position);
    `hashes` holds each config's computation hash, recorded on the trends it creates."""
    config_ids = list(hashes)
    query = sa.select(trends.c.config_id, trends.c.id).where(trends.c.dataset_id == dataset)
    found = {row.config_id: row.id for row in conn.execute(query)}
    missing = [cid for cid in config_ids if cid not in found]
    if missing:
        rows = [{"dataset_id": dataset, "config_id": cid, "computed_hash": hashes[cid]} for cid in missing]
        conn.execute(sa.insert(trends), rows)
        found = {row.config_id: row.id for row in conn.execute(query)}
    return {cid: found[cid] for cid in config_ids}


def trends_of_config(conn: Connection, config_id: int) -> list[Any]:
    return conn.execute(sa.select(trends).where(trends.c.config_id == config_id)).all()


def dataset_ids(conn: Connection) -> list[int]:
    return list(conn.execute(sa.select(trend_datasets.c.id).order_by(trend_datasets.c.id)).scalars())


def stale_config_ids(conn: Connection) -> set[int]:
    """Active configs with a trend computed by another definition of the config."""
    query = (
        sa.select(trend_configs.c.id)
        .join(trends, trends.c.config_id == trend_configs.c.id)
        .where(
            trend_configs.c.active, trends.c.computed_hash.is_distinct_from(trend_configs.c.computation_hash)
        )
        .distinct()
    )
    return set(conn.execute(query).scalars())


def configs_without_trends(conn: Connection) -> set[int]:
    """Active configs no dataset has a trend of yet (added since the files were extracted)."""
    query = sa.select(trend_configs.c.id).where(
        trend_configs.c.active, ~sa.exists().where(trends.c.config_id == trend_configs.c.id)
    )
    return set(conn.execute(query).scalars())


def stored_runs(conn: Connection, dataset: int, runs: tuple[int, int] | None) -> list[int]:
    query = (
        sa.select(trend_histograms.c.run_number)
        .where(trend_histograms.c.dataset_id == dataset, _in_runs(trend_histograms.c.run_number, runs))
        .distinct()
    )
    return sorted(conn.execute(query).scalars())


def set_computed_hash(conn: Connection, trend_ids_: Iterable[int], value: str) -> None:
    ids = list(trend_ids_)
    if ids:
        conn.execute(sa.update(trends).where(trends.c.id.in_(ids)).values(computed_hash=value))


# -- points ----------------------------------------------------------------------------------------
def _in_runs(column: Any, runs: tuple[int, int] | None) -> Any:
    return sa.true() if runs is None else column.between(runs[0], runs[1])


def replace_points(
    conn: Connection,
    trend_ids_: Sequence[int],
    runs: Sequence[int] | tuple[int, int] | None,
    points: list[dict[str, Any]],
    rejections: list[dict[str, Any]],
) -> None:
    """Delete what `trend_ids_` hold for `runs` (a list, an inclusive (first, last) range, or all) and insert
    the new points and rejections."""
    for table in (trend_points, trend_rejections):
        for chunk in _chunks(list(trend_ids_), 500):
            where = table.c.trend_id.in_(chunk)
            if isinstance(runs, list):
                where = sa.and_(where, table.c.run_number.in_(runs))
            elif runs is not None:
                where = sa.and_(where, table.c.run_number.between(runs[0], runs[1]))
            conn.execute(sa.delete(table).where(where))
    add_points(conn, points, rejections)


def add_points(conn: Connection, points: list[dict[str, Any]], rejections: list[dict[str, Any]]) -> None:
    """Insert points and rejections of runs that hold none yet."""
    bulk_insert(conn, trend_points, points)
    bulk_insert(conn, trend_rejections, rejections)


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- files -----------------------------------------------------------------------------------------
def known_paths(conn: Connection) -> set[str]:
    return set(conn.execute(sa.select(trend_files.c.path)).scalars())


def add_file(conn: Connection, path: str, name: DqmFileName) -> None:
    dataset = dataset_id(conn, name.primary_dataset, name.processing_string, create=True)
    conn.execute(
        sa.insert(trend_files).values(
            path=path,
            dataset_id=dataset,
            run_number=name.run_number,
            era=name.era,
            version=name.version,
            processing_version=name.processing_version,
            dataset_name=name.dataset_name,
            status=PENDING,
            attempts=0,
            discovered_at=now(),
        )  # fmt: skip
    )


def file_rows(conn: Connection, *, runs: tuple[int, int] | None = None) -> list[Any]:
    query = sa.select(trend_files, trend_datasets.c.primary_dataset, trend_datasets.c.processing_string).join(
        trend_datasets, trend_datasets.c.id == trend_files.c.dataset_id
    )
    query = query.where(_in_runs(trend_files.c.run_number, runs))
    return conn.execute(query.order_by(trend_files.c.run_number, trend_files.c.id)).all()


def set_file_outcome(conn: Connection, file_id: int, status: str, reason: str | None) -> None:
    conn.execute(
        sa.update(trend_files)
        .where(trend_files.c.id == file_id)
        .values(status=status, reason=reason, processed_at=now(), attempts=trend_files.c.attempts + 1)
    )


def supersede_others(conn: Connection, dataset: int, run_number: int, keep: int) -> None:
    conn.execute(
        sa.update(trend_files)
        .where(
            trend_files.c.dataset_id == dataset,
            trend_files.c.run_number == run_number,
            trend_files.c.id != keep,
        )
        .values(status=SUPERSEDED, reason=f"a newer version (file {keep}) holds this run")
    )


def file_by_path(conn: Connection, path: str) -> Any:
    return conn.execute(sa.select(trend_files).where(trend_files.c.path == path)).first()


# -- histograms ------------------------------------------------------------------------------------
def replace_histograms(
    conn: Connection,
    dataset: int,
    run_number: int,
    file_id: int,
    blobs: dict[str, bytes],
    *,
    only: bool = False,
) -> None:
    """Store the file's MEs for (dataset, run); unless `only`, the older file's MEs go."""
    where = sa.and_(trend_histograms.c.dataset_id == dataset, trend_histograms.c.run_number == run_number)
    if only:
        where = sa.and_(where, trend_histograms.c.me_path.in_(list(blobs)))
    conn.execute(sa.delete(trend_histograms).where(where))
    add_histograms(conn, dataset, run_number, file_id, blobs)


def add_histograms(
    conn: Connection, dataset: int, run_number: int, file_id: int, blobs: dict[str, bytes]
) -> None:
    """Store the MEs of a (dataset, run) that holds none yet."""
    rows = [
        {"dataset_id": dataset, "run_number": run_number, "me_path": me, "file_id": file_id, "data": data}
        for me, data in blobs.items()
    ]
    bulk_insert(conn, trend_histograms, rows)


def runs_with_histograms(conn: Connection, keys: Sequence[tuple[int, int]]) -> set[tuple[int, int]]:
    """Which of these (dataset, run) hold stored MEs."""
    found: set[tuple[int, int]] = set()
    for chunk in _chunks(sorted({run for _, run in keys}), 500):
        query = (
            sa.select(trend_histograms.c.dataset_id, trend_histograms.c.run_number)
            .where(trend_histograms.c.run_number.in_(chunk))
            .distinct()
        )
        found.update((dataset, run) for dataset, run in conn.execute(query))
    return found & set(keys)


def stored_histograms(
    conn: Connection, dataset: int, me_paths: Sequence[str], runs: tuple[int, int] | None
) -> Iterable[Any]:
    query = (
        sa.select(trend_histograms.c.run_number, trend_histograms.c.me_path, trend_histograms.c.data)
        .where(trend_histograms.c.dataset_id == dataset, trend_histograms.c.me_path.in_(list(me_paths)))
        .where(_in_runs(trend_histograms.c.run_number, runs))
        .order_by(trend_histograms.c.run_number)
    )
    return conn.execute(query)


# -- directories -----------------------------------------------------------------------------------
def directory_marks(conn: Connection) -> dict[str, DirectoryMark]:
    rows = conn.execute(sa.select(trend_directories)).all()
    return {row.path: DirectoryMark(row.mtime_ns, tuple(row.subdirectories)) for row in rows}


def save_directory_marks(conn: Connection, marks: dict[str, DirectoryMark]) -> None:
    if not marks:
        return
    for chunk in _chunks(list(marks), 500):
        conn.execute(sa.delete(trend_directories).where(trend_directories.c.path.in_(chunk)))
    conn.execute(
        sa.insert(trend_directories),
        [
            {"path": p, "mtime_ns": m.mtime_ns, "subdirectories": list(m.subdirectories)}
            for p, m in marks.items()
        ],
    )


# -- reads for the API -----------------------------------------------------------------------------
def _listing_query() -> Any:
    return (
        sa.select(
            trends.c.id.label("trend_id"),
            trend_configs.c.subsystem,
            trend_configs.c.name,
            trend_configs.c.y_title,
            trend_configs.c.plot_title,
            trend_configs.c.metric,
            trend_configs.c.relative_path,
            trend_configs.c.histo1_path,
            trend_configs.c.histo2_path,
            trend_configs.c.reference_path,
            trend_datasets.c.primary_dataset,
            trend_datasets.c.processing_string,
        )
        .join(trend_configs, trend_configs.c.id == trends.c.config_id)
        .join(trend_datasets, trend_datasets.c.id == trends.c.dataset_id)
        .where(trend_configs.c.active)
    )


def _has_points() -> Any:
    return sa.exists().where(trend_points.c.trend_id == trends.c.id)


def trend_listing(
    conn: Connection,
    *,
    subsystem: str | None = None,
    pd: str | None = None,
    ps: str | None = None,
    trend_ids_: Sequence[int] | None = None,
) -> list[Any]:
    """Active trends with at least one point, ordered by subsystem and name."""
    query = _listing_query().where(_has_points())
    if subsystem is not None:
        query = query.where(trend_configs.c.subsystem == subsystem)
    if pd is not None:
        query = query.where(trend_datasets.c.primary_dataset == pd)
    if ps is not None:
        query = query.where(trend_datasets.c.processing_string == ps)
    if trend_ids_ is not None:
        query = query.where(trends.c.id.in_(list(trend_ids_)))
    return conn.execute(query.order_by(trend_configs.c.subsystem, trend_configs.c.name, trends.c.id)).all()


def points_of(conn: Connection, trend_ids_: Sequence[int], runs: tuple[int, int] | None) -> list[Any]:
    query = (
        sa.select(
            trend_points.c.trend_id, trend_points.c.run_number, trend_points.c.value, trend_points.c.error
        )
        .where(trend_points.c.trend_id.in_(list(trend_ids_)), _in_runs(trend_points.c.run_number, runs))
        .order_by(trend_points.c.trend_id, trend_points.c.run_number)
    )
    return conn.execute(query).all()


def rejections_of(conn: Connection, trend_id: int, runs: tuple[int, int] | None) -> list[Any]:
    query = (
        sa.select(trend_rejections.c.run_number, trend_rejections.c.reason)
        .where(trend_rejections.c.trend_id == trend_id, _in_runs(trend_rejections.c.run_number, runs))
        .order_by(trend_rejections.c.run_number)
    )
    return conn.execute(query).all()


def point_runs(conn: Connection) -> list[int]:
    return list(
        conn.execute(
            sa.select(trend_points.c.run_number).distinct().order_by(trend_points.c.run_number)
        ).scalars()
    )


def done_file(conn: Connection, pd: str, ps: str, run_number: int) -> Any:
    query = (
        sa.select(trend_files)
        .join(trend_datasets, trend_datasets.c.id == trend_files.c.dataset_id)
        .where(trend_datasets.c.primary_dataset == pd, trend_datasets.c.processing_string == ps)
        .where(trend_files.c.run_number == run_number, trend_files.c.status == DONE)
    )
    return conn.execute(query).first()


def ledger_counts(conn: Connection) -> dict[str, int]:
    query = sa.select(trend_files.c.status, sa.func.count()).group_by(trend_files.c.status)
    return {status: int(count) for status, count in conn.execute(query)}


def files_with_status(conn: Connection, status: str, limit: int) -> list[Any]:
    """Ledger rows of one status, newest attempts first, with their dataset."""
    query = (
        sa.select(trend_files, trend_datasets.c.primary_dataset, trend_datasets.c.processing_string)
        .join(trend_datasets, trend_datasets.c.id == trend_files.c.dataset_id)
        .where(trend_files.c.status == status)
        .order_by(trend_files.c.processed_at.desc(), trend_files.c.id.desc())
        .limit(limit)
    )
    return conn.execute(query).all()


def rejection_counts(conn: Connection, trend_ids_: Sequence[int]) -> dict[int, int]:
    """How many runs of each trend have no value (the reason is kept per run)."""
    if not trend_ids_:
        return {}
    query = (
        sa.select(trend_rejections.c.trend_id, sa.func.count())
        .where(trend_rejections.c.trend_id.in_(list(trend_ids_)))
        .group_by(trend_rejections.c.trend_id)
    )
    return {trend: int(count) for trend, count in conn.execute(query)}
