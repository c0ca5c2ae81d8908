"""Queries of the predictions layer: record a submission and rewrite the ranges it replaced; read predictions
of a dataset, the models known, and the ranges an agreement compares. Never commits."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, delete, func, insert, select, text, true

from runreg.kernel.ranges import RangeMap
from runreg.predictions.model import status_ranges
from runreg.predictions.tables import prediction_ranges, prediction_status_ranges, prediction_submissions
from runreg.storage.database import as_utc, bulk_insert

#: First key of the transaction-scoped advisory lock a submission takes per run on PostgreSQL ("ML"), so
#: two agents posting the same run's predictions serialise (SQLite writers serialise anyway).
_LOCK_NAMESPACE = 0x4D4C


@dataclass(frozen=True)
class Submission:
    id: int
    run_number: int
    dataset: str
    model: str
    version: str
    author: str
    actor_kind: str
    submitted_at: datetime
    components: list[str]
    ranges: int
    lumisections: int


@dataclass(frozen=True)
class Filter:
    """Which predictions an agreement reads. `dataset` is an exact name or a pattern with `*` wildcards."""

    model: str | None = None
    version: str | None = None
    component: str | None = None
    workspace: str | None = None
    dataset: str | None = None
    run_from: int | None = None
    run_to: int | None = None


def lock_run(conn: Connection, run_number: int) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:space, :run)"), {"space": _LOCK_NAMESPACE, "run": run_number}
        )


def insert_submission(conn: Connection, **values: Any) -> int:
    result = conn.execute(insert(prediction_submissions).values(**values))
    return int(result.inserted_primary_key[0])


def current_ranges(
    conn: Connection, run_number: int, dataset: str, model: str, version: str, components: Sequence[str]
) -> dict[str, RangeMap]:
    """The ranges in force of one model version on one dataset, per component (only those asked)."""
    p = prediction_ranges.c
    query = (
        select(p.component, p.first_ls, p.last_ls, p.status, p.score, p.submission_id)
        .where(
            p.run_number == run_number,
            p.dataset == dataset,
            p.model == model,
            p.version == version,
            p.component.in_(sorted(components)),
        )
        .order_by(p.component, p.first_ls)
    )
    found: dict[str, list[Any]] = {}
    for component, first, last, status, score, submission in conn.execute(query):
        found.setdefault(component, []).append(
            (first, last, {"status": status, "score": score, "submission": submission})
        )
    return {component: RangeMap.from_stored(ranges) for component, ranges in found.items()}


def replace_ranges(
    conn: Connection, run_number: int, dataset: str, model: str, version: str, ranges: Mapping[str, RangeMap]
) -> int:
    """Rewrite the given components' ranges of one model version on one dataset (scored, and by status
    alone); returns the scored rows written."""
    key = {"run_number": run_number, "dataset": dataset, "model": model, "version": version}
    for table in (prediction_ranges, prediction_status_ranges):
        conn.execute(
            delete(table).where(
                *(table.c[name] == value for name, value in key.items()),
                table.c.component.in_(sorted(ranges)),
            )
        )
    rows = [
        {
            **key,
            "component": component,
            "first_ls": first,
            "last_ls": last,
            "status": value["status"],
            "score": value["score"],
            "submission_id": value["submission"],
        }
        for component, stored in sorted(ranges.items())
        for first, last, value in stored
    ]
    bulk_insert(conn, prediction_ranges, rows)
    bulk_insert(
        conn,
        prediction_status_ranges,
        [
            {
                **key,
                "component": component,
                "first_ls": first,
                "last_ls": last,
                "status": status,
                "min_score": low,
                "max_score": high,
            }
            for component, stored in sorted(ranges.items())
            for first, last, status, low, high in status_ranges(stored)
        ],
    )
    return len(rows)


# -- reads --------------------------------------------------------------------------------------------------
def _submission(row: Any) -> Submission:
    return Submission(
        id=row.id,
        run_number=row.run_number,
        dataset=row.dataset,
        model=row.model,
        version=row.version,
        author=row.author,
        actor_kind=row.actor_kind,
        submitted_at=as_utc(row.submitted_at) or row.submitted_at,
        components=list(row.components),
        ranges=row.ranges,
        lumisections=row.lumisections,
    )


def submissions_of(conn: Connection, run_number: int, dataset: str, limit: int) -> list[Submission]:
    s = prediction_submissions.c
    query = (
        select(prediction_submissions)
        .where(s.run_number == run_number, s.dataset == dataset)
        .order_by(s.id.desc())
        .limit(limit)
    )
    return [_submission(row) for row in conn.execute(query)]


def submissions_by_id(conn: Connection, ids: Sequence[int]) -> dict[int, Submission]:
    if not ids:
        return {}
    query = select(prediction_submissions).where(prediction_submissions.c.id.in_(sorted(set(ids))))
    return {row.id: _submission(row) for row in conn.execute(query)}


def dataset_ranges(conn: Connection, run_number: int, dataset: str) -> list[Any]:
    """Every range in force on one dataset, ordered by component, model, version and LS."""
    p = prediction_ranges.c
    query = (
        select(p.component, p.model, p.version, p.first_ls, p.last_ls, p.status, p.score, p.submission_id)
        .where(p.run_number == run_number, p.dataset == dataset)
        .order_by(p.component, p.model, p.version, p.first_ls)
    )
    return list(conn.execute(query))


def dataset_verdicts(conn: Connection, run_number: int, dataset: str) -> list[Any]:
    """Every model version's statuses on one dataset (by status alone, with their score bounds), ordered by
    component, model, version and LS."""
    v = prediction_status_ranges.c
    query = (
        select(v.component, v.model, v.version, v.first_ls, v.last_ls, v.status, v.min_score, v.max_score)
        .where(v.run_number == run_number, v.dataset == dataset)
        .order_by(v.component, v.model, v.version, v.first_ls)
    )
    return list(conn.execute(query))


def newest_submissions(conn: Connection, run_number: int, dataset: str) -> dict[tuple[str, str, str], int]:
    """Per (component, model, version) of a dataset, the newest submission holding ranges in force."""
    p = prediction_ranges.c
    query = (
        select(p.component, p.model, p.version, func.max(p.submission_id))
        .where(p.run_number == run_number, p.dataset == dataset)
        .group_by(p.component, p.model, p.version)
    )
    return {(c, m, v): newest for c, m, v, newest in conn.execute(query)}


def models(conn: Connection) -> list[dict[str, Any]]:
    """Every (model, version) with a submission: submissions, datasets, components, first and last time."""
    s = prediction_submissions.c
    totals = conn.execute(
        select(
            s.model,
            s.version,
            func.count().label("submissions"),
            func.min(s.submitted_at).label("first"),
            func.max(s.submitted_at).label("last"),
        )
        .group_by(s.model, s.version)
        .order_by(s.model, s.version)
    ).all()
    pairs = select(s.model, s.version, s.run_number, s.dataset).distinct().subquery()
    datasets = {
        (row.model, row.version): row.n
        for row in conn.execute(
            select(pairs.c.model, pairs.c.version, func.count().label("n")).group_by(
                pairs.c.model, pairs.c.version
            )
        )
    }
    p = prediction_ranges.c
    components: dict[tuple[str, str], list[str]] = {}
    for row in conn.execute(select(p.model, p.version, p.component).distinct().order_by(p.component)):
        components.setdefault((row.model, row.version), []).append(row.component)
    return [
        {
            "model": row.model,
            "version": row.version,
            "submissions": row.submissions,
            "datasets": datasets.get((row.model, row.version), 0),
            "components": components.get((row.model, row.version), []),
            "first_submitted_at": as_utc(row.first),
            "last_submitted_at": as_utc(row.last),
        }
        for row in totals
    ]


def _glob(pattern: str) -> str:
    """A `*` pattern as SQL LIKE (with `\\` escaping LIKE's own wildcards)."""
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def _where(selection: Filter) -> ColumnElement[bool]:
    p = prediction_status_ranges.c
    conditions: list[ColumnElement[bool]] = [true()]
    for column, value in (
        (p.model, selection.model),
        (p.version, selection.version),
        (p.component, selection.component),
    ):
        if value is not None:
            conditions.append(column == value)
    if selection.workspace is not None:
        conditions.append(p.component.like(_glob(f"{selection.workspace}-") + "%", escape="\\"))
    if selection.dataset is not None:
        if "*" in selection.dataset:
            conditions.append(p.dataset.like(_glob(selection.dataset), escape="\\"))
        else:
            conditions.append(p.dataset == selection.dataset)
    if selection.run_from is not None:
        conditions.append(p.run_number >= selection.run_from)
    if selection.run_to is not None:
        conditions.append(p.run_number <= selection.run_to)
    return and_(*conditions)


def selected_datasets(conn: Connection, selection: Filter, limit: int) -> list[tuple[int, str]]:
    """The (run, dataset) pairs holding predictions the filter selects, at most `limit` (+1 to tell more)."""
    p = prediction_status_ranges.c
    query = (
        select(p.run_number, p.dataset)
        .where(_where(selection))
        .distinct()
        .order_by(p.run_number, p.dataset)
        .limit(limit + 1)
    )
    return [(row.run_number, row.dataset) for row in conn.execute(query)]


def selected_ranges(
    conn: Connection, selection: Filter
) -> Iterator[tuple[tuple[int, str, str, str, str], RangeMap]]:
    """The filter's predicted statuses as ((run, dataset, component, model, version), ranges of {status})."""
    p = prediction_status_ranges.c
    query = (
        select(p.run_number, p.dataset, p.component, p.model, p.version, p.first_ls, p.last_ls, p.status)
        .where(_where(selection))
        .order_by(p.run_number, p.dataset, p.component, p.model, p.version, p.first_ls)
    )
    key: tuple[int, str, str, str, str] | None = None
    ranges: list[Any] = []
    for run_number, dataset, component, model, version, first, last, status in conn.execute(query):
        here = (run_number, dataset, component, model, version)
        if here != key:
            if key is not None:
                yield key, RangeMap.from_stored(ranges)
            key, ranges = here, []
        ranges.append((first, last, {"status": status}))
    if key is not None:
        yield key, RangeMap.from_stored(ranges)
