"""Append events under a change set and read streams back; the log is never updated or deleted."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, case, func, insert, null, select, true, type_coerce
from sqlalchemy.exc import IntegrityError

from runreg.eventlog.tables import change_sets, events
from runreg.kernel.actors import Actor
from runreg.kernel.errors import StaleVersion
from runreg.storage.database import bulk_insert


@dataclass(frozen=True)
class ChangeSet:
    id: int
    author: str
    actor_kind: str
    comment: str
    created_at: datetime
    reverts: int | None = None


@dataclass(frozen=True)
class StoredEvent:
    id: int
    change_set_id: int
    run_number: int
    stream_version: int
    type: str
    payload: dict[str, Any]


def open_change_set(
    conn: Connection, actor: Actor, comment: str, *, reverts: int | None = None, at: datetime | None = None
) -> ChangeSet:
    """`at` is for imports only (adoption): a change set recorded elsewhere keeps the time it was made."""
    now = at if at is not None else datetime.now(UTC)
    row_id = conn.execute(
        insert(change_sets)
        .values(
            author=actor.name, actor_kind=actor.kind.value, comment=comment, created_at=now, reverts=reverts
        )
        .returning(change_sets.c.id)
    ).scalar_one()
    return ChangeSet(row_id, actor.name, actor.kind.value, comment, now, reverts)


def append(
    conn: Connection,
    change_set: ChangeSet,
    run_number: int,
    expected_version: int,
    new_events: Sequence[Any],
) -> int:
    """Append events to a run's stream after `expected_version`; returns the new version.

    The unique (run_number, stream_version) index turns a concurrent writer into StaleVersion instead of
    an interleaved history.
    """
    append_many(conn, change_set, [(run_number, expected_version, new_events)])
    return expected_version + len(new_events)


def append_many(
    conn: Connection, change_set: ChangeSet, streams: Sequence[tuple[int, int, Sequence[Any]]]
) -> None:
    """`append` for many runs at once, `(run_number, expected_version, events)` each, in one bulk insert;
    a concurrent writer of any of them turns the whole insert into StaleVersion."""
    rows = [
        _row(change_set, run_number, expected + offset, event)
        for run_number, expected, new_events in streams
        for offset, event in enumerate(new_events, start=1)
    ]
    if not rows:
        return
    try:
        with conn.begin_nested():
            bulk_insert(conn, events, rows)
    except IntegrityError as exc:
        if len(streams) == 1:
            run_number, expected, _ = streams[0]
            raise StaleVersion(
                f"run {run_number} was changed by someone else meanwhile: reload it and try again",
                details={"run_number": run_number, "expected_version": expected},
            ) from exc
        raise StaleVersion(
            f"{len(streams)} runs: one of them was changed by someone else meanwhile: try again",
            details={"runs": len(streams)},
        ) from exc


def _row(change_set: ChangeSet, run_number: int, stream_version: int, event: Any) -> dict[str, Any]:
    ls_range = event.ls_range
    return {
        "change_set_id": change_set.id,
        "run_number": run_number,
        "stream_version": stream_version,
        "type": event.TYPE,
        "dataset": event.dataset,
        "target": event.target,
        "first_ls": ls_range[0] if ls_range else None,
        "last_ls": ls_range[1] if ls_range else None,
        "manual": event.manual,
        "payload": event.payload(),
    }


def load_stream(
    conn: Connection,
    run_number: int,
    *,
    up_to_change_set: int | None = None,
    before_change_set: int | None = None,
    decode: Callable[[str, dict[str, Any]], Any],
) -> list[tuple[int, Any]]:
    """A run's events in stream order as (change_set_id, event)."""
    query = select(events.c.change_set_id, events.c.type, events.c.payload).where(
        events.c.run_number == run_number
    )
    if up_to_change_set is not None:
        query = query.where(events.c.change_set_id <= up_to_change_set)
    if before_change_set is not None:
        query = query.where(events.c.change_set_id < before_change_set)
    rows = conn.execute(query.order_by(events.c.stream_version)).all()
    return [(row.change_set_id, decode(row.type, row.payload)) for row in rows]


def newest_change_set(conn: Connection) -> int:
    """The id of the newest change set (0 if none): what a read model's memo is keyed on."""
    return conn.execute(select(func.max(change_sets.c.id))).scalar_one() or 0


def last_change_set_at(conn: Connection, moment: datetime) -> int:
    """The newest change set recorded at or before `moment` (0 if none)."""
    moment = moment.astimezone(UTC)
    if conn.dialect.name == "sqlite":  # stored as naive UTC text there
        moment = moment.replace(tzinfo=None)
    query = select(func.max(change_sets.c.id)).where(change_sets.c.created_at <= moment)
    return conn.execute(query).scalar_one() or 0


def get_change_set(conn: Connection, change_set_id: int) -> ChangeSet | None:
    row = conn.execute(select(change_sets).where(change_sets.c.id == change_set_id)).first()
    return None if row is None else _change_set(row)


def runs_of_change_set(conn: Connection, change_set_id: int) -> list[int]:
    query = select(events.c.run_number).where(events.c.change_set_id == change_set_id).distinct()
    return sorted(conn.execute(query).scalars())


#: The most change sets one read returns (a page of the log, a history listing).
MAX_CHANGE_SETS = 500


def list_change_sets(
    conn: Connection,
    *,
    run_number: int | None = None,
    author: str | None = None,
    actor_kind: str | None = None,
    limit: int = 50,
    before: int | None = None,
    after: int | None = None,
) -> list[ChangeSet]:
    """Change sets newest first, optionally of one run, author or actor kind; `before`/`after` page by id
    (keyset paging: each page is an index range scan, however long the log). Every filter is indexed:
    events (run_number, ...) and change_sets (author, id), (actor_kind, id)."""
    limit = max(1, min(limit, MAX_CHANGE_SETS))
    newer_first = after is None
    query = select(change_sets)
    if run_number is not None:
        query = query.where(
            change_sets.c.id.in_(select(events.c.change_set_id).where(events.c.run_number == run_number))
        )
    if author is not None:
        query = query.where(change_sets.c.author == author)
    if actor_kind is not None:
        query = query.where(change_sets.c.actor_kind == actor_kind)
    if before is not None:
        query = query.where(change_sets.c.id < before)
    if after is not None:
        query = query.where(change_sets.c.id > after)
    order = change_sets.c.id.desc() if newer_first else change_sets.c.id.asc()
    found = [_change_set(r) for r in conn.execute(query.order_by(order).limit(limit))]
    return found if newer_first else found[::-1]


def revisions_of(conn: Connection, change_set_ids: Sequence[int]) -> dict[int, list[int]]:
    """For each change set, the change sets that revert it."""
    if not change_set_ids:
        return {}
    query = select(change_sets.c.reverts, change_sets.c.id).where(change_sets.c.reverts.in_(change_set_ids))
    out: dict[int, list[int]] = {}
    for reverted, by in conn.execute(query.order_by(change_sets.c.id)):
        out.setdefault(reverted, []).append(by)
    return out


def event_counts(conn: Connection, change_set_ids: Sequence[int]) -> dict[int, dict[int, int]]:
    """For each change set, how many events it holds per run (one grouped query for a page of the log)."""
    if not change_set_ids:
        return {}
    query = (
        select(events.c.change_set_id, events.c.run_number, func.count())
        .where(events.c.change_set_id.in_(change_set_ids))
        .group_by(events.c.change_set_id, events.c.run_number)
    )
    out: dict[int, dict[int, int]] = {}
    for change_set_id, run_number, count in conn.execute(query):
        out.setdefault(change_set_id, {})[run_number] = count
    return {cs: dict(sorted(runs.items())) for cs, runs in out.items()}


def _change_set(row: Any) -> ChangeSet:
    return ChangeSet(row.id, row.author, row.actor_kind, row.comment, row.created_at, row.reverts)


def events_of_change_set(conn: Connection, change_set_id: int) -> list[StoredEvent]:
    query = (
        select(events)
        .where(events.c.change_set_id == change_set_id)
        .order_by(events.c.run_number, events.c.stream_version)
    )
    return [
        StoredEvent(r.id, r.change_set_id, r.run_number, r.stream_version, r.type, r.payload)
        for r in conn.execute(query)
    ]


@dataclass(frozen=True)
class LoggedEvent:
    """One event of a run's stream with its change set; `payload` is None for the types not asked for."""

    change_set: ChangeSet
    stream_version: int
    type: str
    dataset: str | None
    target: str | None
    first_ls: int | None
    last_ls: int | None
    manual: bool
    payload: dict[str, Any] | None


def run_log(
    conn: Connection,
    run_number: int,
    *,
    payload_types: Sequence[str],
    limit: int | None = None,
    up_to: int | None = None,
    dataset: str | None = None,
    datasets: Sequence[str] | None = None,
    types: Sequence[str] | None = None,
) -> list[LoggedEvent]:
    """The events of a run's newest `limit` change sets (all when None; only those up to change set `up_to`
    when given) with their change sets, newest first: one query for the events, one for their change sets,
    whatever the number of components. Only events of `payload_types` carry their payload: the others (bulky
    per-LS OMS values) come as bare facts. `dataset` (one) or `datasets`, and `types`, when given, keep only
    the events of those datasets / of those types (and their change sets)."""
    mine = events.c.run_number == run_number
    if dataset is not None:
        datasets = [dataset, *(datasets or ())]
    if datasets is not None:
        mine = and_(mine, events.c.dataset.in_(list(datasets)))
    if types is not None:
        mine = and_(mine, events.c.type.in_(list(types)))
    bounded = events.c.change_set_id <= up_to if up_to is not None else true()
    payload = case((events.c.type.in_(list(payload_types)), events.c.payload), else_=null())
    query = (
        select(
            events.c.change_set_id,
            events.c.stream_version,
            events.c.type,
            events.c.dataset,
            events.c.target,
            events.c.first_ls,
            events.c.last_ls,
            events.c.manual,
            type_coerce(payload, events.c.payload.type),
        )
        .where(mine, bounded)
        .order_by(events.c.stream_version.desc())
    )
    if limit is not None:
        newest = (
            select(events.c.change_set_id)
            .where(mine, bounded)
            .group_by(events.c.change_set_id)
            .order_by(events.c.change_set_id.desc())
            .limit(limit)
        )
        query = query.where(events.c.change_set_id.in_(newest.scalar_subquery()))
    rows = conn.execute(query).all()
    ids = sorted({row[0] for row in rows})
    sets = {
        r.id: ChangeSet(r.id, r.author, r.actor_kind, r.comment, r.created_at, r.reverts)
        for r in conn.execute(select(change_sets).where(change_sets.c.id.in_(ids)))
    }
    return [
        LoggedEvent(sets[cs], version, kind, dataset, target, first, last, bool(manual), body)
        for cs, version, kind, dataset, target, first, last, manual, body in rows
    ]
