"""Queries of the cycle tables; never commits (the service owns the transaction)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, tuple_, update

from runreg.datasets.tables import cycle_datasets, cycle_events, cycles
from runreg.kernel.actors import Actor
from runreg.storage.database import bulk_insert

#: (run_number, name) pairs per IN list.
_CHUNK = 500


def load_cycle(conn: Connection, cycle_id: int, *, for_update: bool = False) -> Any | None:
    query = select(cycles).where(cycles.c.id == cycle_id)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query).first()


def list_cycles(conn: Connection, *, include_deleted: bool = False) -> list[Any]:
    query = select(cycles).order_by(cycles.c.deadline, cycles.c.id)
    if not include_deleted:
        query = query.where(cycles.c.deleted.is_(False))
    return list(conn.execute(query))


def cycles_named(conn: Connection, name: str) -> list[Any]:
    """Cycles of that name, deleted ones included, oldest first."""
    return list(conn.execute(select(cycles).where(cycles.c.name == name).order_by(cycles.c.id)))


def live_cycle_named(conn: Connection, name: str) -> Any | None:
    query = select(cycles.c.id).where(cycles.c.name == name, cycles.c.deleted.is_(False))
    return conn.execute(query).first()


def insert_cycle(
    conn: Connection, *, name: str, deadline: datetime, states: Mapping[str, str], author: str, now: datetime
) -> int:
    result = conn.execute(
        insert(cycles)
        .values(
            name=name,
            deadline=deadline,
            states=dict(states),
            deleted=False,
            created_by=author,
            created_at=now,
            updated_by=author,
            updated_at=now,
        )
        .returning(cycles.c.id)
    )
    return int(result.scalar_one())


def update_cycle(conn: Connection, cycle_id: int, *, author: str, now: datetime, **values: Any) -> None:
    conn.execute(
        update(cycles).where(cycles.c.id == cycle_id).values(updated_by=author, updated_at=now, **values)
    )


def members(conn: Connection, cycle_ids: Sequence[int]) -> dict[int, list[Any]]:
    """Each cycle's member rows, run number descending then name (the offline tables' order)."""
    found: dict[int, list[Any]] = {cycle_id: [] for cycle_id in cycle_ids}
    if not cycle_ids:
        return found
    c = cycle_datasets.c
    query = (
        select(cycle_datasets)
        .where(c.cycle_id.in_(list(cycle_ids)))
        .order_by(c.cycle_id, c.run_number.desc(), c.name)
    )
    for row in conn.execute(query):
        found[row.cycle_id].append(row)
    return found


def member_counts(conn: Connection) -> dict[int, int]:
    c = cycle_datasets.c
    return dict(conn.execute(select(c.cycle_id, func.count()).group_by(c.cycle_id)).tuples().all())


def add_members(
    conn: Connection, cycle_id: int, keys: Iterable[tuple[int, str]], *, author: str, now: datetime
) -> None:
    rows = [
        {"cycle_id": cycle_id, "run_number": run, "name": name, "added_by": author, "added_at": now}
        for run, name in keys
    ]
    bulk_insert(conn, cycle_datasets, rows)


def remove_members(conn: Connection, cycle_id: int, keys: Sequence[tuple[int, str]]) -> None:
    c = cycle_datasets.c
    for start in range(0, len(keys), _CHUNK):
        chunk = list(keys[start : start + _CHUNK])
        conn.execute(
            delete(cycle_datasets).where(c.cycle_id == cycle_id, tuple_(c.run_number, c.name).in_(chunk))
        )


def record(
    conn: Connection,
    cycle_id: int,
    actor: Actor,
    kind: str,
    now: datetime,
    *,
    workspace: str | None = None,
    comment: str = "",
    details: Mapping[str, Any] | None = None,
    change_set_id: int | None = None,
) -> None:
    """One entry of the cycle's history: who, when, why (`comment`), what (`kind`, `details`)."""
    conn.execute(
        insert(cycle_events).values(
            cycle_id=cycle_id,
            at=now,
            author=actor.name,
            actor_kind=actor.kind.value,
            kind=kind,
            workspace=workspace,
            comment=comment.strip(),
            details=dict(details or {}),
            change_set_id=change_set_id,
        )
    )


def events(conn: Connection, cycle_id: int, *, limit: int) -> list[Any]:
    e = cycle_events.c
    query = select(cycle_events).where(e.cycle_id == cycle_id).order_by(e.id.desc()).limit(limit)
    return list(conn.execute(query))


def last_events(conn: Connection, cycle_id: int, kinds: Sequence[str]) -> dict[str | None, Any]:
    """The newest event of each workspace among `kinds` (who marked each workspace completed or pending)."""
    e = cycle_events.c
    newest = (
        select(e.workspace, func.max(e.id).label("id"))
        .where(e.cycle_id == cycle_id, e.kind.in_(list(kinds)))
        .group_by(e.workspace)
        .subquery()
    )
    query = select(cycle_events).join(newest, cycle_events.c.id == newest.c.id)
    return {row.workspace: row for row in conn.execute(query)}
