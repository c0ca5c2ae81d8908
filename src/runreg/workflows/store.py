"""Queries of the workflow cache (never commits: the service owns the transaction)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import orjson
from sqlalchemy import Connection, Text, and_, cast, delete, func, or_, select, tuple_, type_coerce, update
from sqlalchemy.dialects import postgresql, sqlite

from runreg.storage.database import bulk_insert
from runreg.workflows.model import Numbers
from runreg.workflows.tables import (
    workflow_datasets,
    workflow_failures,
    workflow_history,
    workflow_keys,
    workflow_outbox,
    workflow_pending,
    workflow_settings,
    workflows,
)

CHUNK = 500  # names per IN (...) list: far below every engine's parameter limit
STAGE_ABOVE = 20  # rows from which a PostgreSQL upsert goes through COPY


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _upsert(
    conn: Connection, table: Any, rows: list[dict[str, Any]], keys: Sequence[str], *, replace: bool = True
) -> None:
    """Insert rows; on a key already present, replace its other columns (or, replace=False, keep it)."""
    if not rows:
        return
    rows = list({tuple(row[k] for k in keys): row for row in rows}.values())  # one row per key: the last
    if conn.dialect.name == "postgresql" and len(rows) > STAGE_ABOVE:
        _upsert_staged(conn, table, rows, keys, replace=replace)
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    updates = {c: statement.excluded[c] for c in rows[0] if c not in keys} if replace else {}
    statement = (
        statement.on_conflict_do_update(index_elements=list(keys), set_=updates)
        if updates
        else statement.on_conflict_do_nothing(index_elements=list(keys))
    )
    conn.execute(statement, rows)


def _upsert_staged(
    conn: Connection, table: Any, rows: list[dict[str, Any]], keys: Sequence[str], *, replace: bool
) -> None:
    """Many rows on PostgreSQL: COPY into a session temporary table, then one INSERT ... SELECT ... ON
    CONFLICT (executemany would send one statement per row)."""
    staging = f"staging_{table.name}"
    conn.exec_driver_sql(
        f'CREATE TEMP TABLE IF NOT EXISTS "{staging}" (LIKE "{table.name}" INCLUDING DEFAULTS) '
        "ON COMMIT DELETE ROWS"
    )
    bulk_insert(conn, SimpleNamespace(name=staging, columns=table.columns), rows)
    columns = ", ".join(f'"{column}"' for column in rows[0])
    conflict = ", ".join(f'"{key}"' for key in keys)
    updates = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in rows[0] if c not in keys)
    action = f"DO UPDATE SET {updates}" if replace and updates else "DO NOTHING"
    conn.exec_driver_sql(
        f'INSERT INTO "{table.name}" ({columns}) SELECT {columns} FROM "{staging}" '
        f"ON CONFLICT ({conflict}) {action}"
    )
    conn.exec_driver_sql(f'TRUNCATE "{staging}"')


# --- documents and keys ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredDocument:
    name: str
    document: dict[str, Any]
    submitted: str
    status: str | None
    keys: list[tuple[str, str]]
    last_update: float


def _document_column(conn: Connection) -> Any:
    """The document column; on SQLite as its raw text, decoded by orjson (several times faster than the
    driver's json module on large listings). PostgreSQL's driver already decodes JSONB with orjson."""
    if conn.dialect.name == "postgresql":
        return workflows.c.document
    return type_coerce(workflows.c.document, Text)


def _decoded(conn: Connection, value: Any) -> dict[str, Any]:
    return value if conn.dialect.name == "postgresql" else orjson.loads(value)


def documents(conn: Connection, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    column = _document_column(conn)
    for chunk in _chunks(list(names)):
        rows = conn.execute(select(workflows.c.name, column).where(workflows.c.name.in_(chunk)))
        found.update({name: _decoded(conn, document) for name, document in rows})
    return found


def save_documents(conn: Connection, stored: Sequence[StoredDocument]) -> None:
    """Insert or replace whole documents and their lookup keys."""
    if not stored:
        return
    names = [item.name for item in stored]
    _upsert(
        conn,
        workflows,
        [
            {
                "name": s.name,
                "document": s.document,
                "submitted": s.submitted,
                "status": s.status,
                "last_update": s.last_update,
            }
            for s in stored
        ],  # fmt: skip
        ["name"],
    )
    for chunk in _chunks(names):
        conn.execute(delete(workflow_keys).where(workflow_keys.c.name.in_(chunk)))
    bulk_insert(
        conn,
        workflow_keys,
        [{"kind": kind, "value": value, "name": s.name} for s in stored for kind, value in s.keys],
    )


def delete_workflows(conn: Connection, names: Sequence[str]) -> int:
    """Remove workflows with everything recorded about them; returns how many documents existed."""
    removed = 0
    for chunk in _chunks(list(names)):
        for table in (workflow_keys, workflow_datasets, workflow_history, workflow_pending, workflow_outbox,
                      workflow_failures):  # fmt: skip
            conn.execute(delete(table).where(table.c.name.in_(chunk)))
        removed += conn.execute(delete(workflows).where(workflows.c.name.in_(chunk))).rowcount or 0
    return removed


def names_with_values(conn: Connection, kind: str, values: Iterable[str]) -> set[str]:
    """Workflows having any of `values` as a `kind` key (e.g. output datasets)."""
    found: set[str] = set()
    for chunk in _chunks(list(dict.fromkeys(values))):
        found.update(
            conn.execute(
                select(workflow_keys.c.name).where(
                    workflow_keys.c.kind == kind, workflow_keys.c.value.in_(chunk)
                )
            ).scalars()
        )
    return found


def existing(conn: Connection, names: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(list(names)):
        found.update(conn.execute(select(workflows.c.name).where(workflows.c.name.in_(chunk))).scalars())
    return found


def count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(workflows)).scalar_one()


# --- numbers and history --------------------------------------------------------------------------------


def current_numbers(conn: Connection, names: Sequence[str]) -> dict[str, dict[str, Numbers]]:
    found: dict[str, dict[str, Numbers]] = defaultdict(dict)
    c = workflow_datasets.c
    for chunk in _chunks(list(names)):
        rows = conn.execute(
            select(c.name, c.dataset, c.access_type, c.events, c.size, c.lumis).where(c.name.in_(chunk))
        )
        for name, dataset, access_type, events, size, lumis in rows:
            found[name][dataset] = Numbers(access_type, events, size, lumis)
    return found


def record_numbers(conn: Connection, changes: Sequence[tuple[str, str, int, Numbers]]) -> None:
    """(workflow, dataset, time, numbers) that differ from the current ones: the new current value and one
    history row each."""
    if not changes:
        return
    rows = [
        {"name": name, "dataset": dataset, "time": moment, "access_type": value.access_type,
         "events": value.events, "size": value.size, "lumis": value.lumis}
        for name, dataset, moment, value in changes
    ]  # fmt: skip
    _upsert(conn, workflow_datasets, rows, ["name", "dataset"])
    # Two snapshots of one dataset within one second keep the later numbers (time is whole seconds).
    _upsert(conn, workflow_history, rows, ["name", "dataset", "time"])


def forget_datasets(conn: Connection, name: str, keep: Iterable[str]) -> None:
    """Current numbers of datasets no longer among the workflow's outputs go (their history stays)."""
    kept = list(keep)
    condition = workflow_datasets.c.name == name
    if kept:
        condition = and_(condition, workflow_datasets.c.dataset.not_in(kept))
    conn.execute(delete(workflow_datasets).where(condition))


def history(conn: Connection, names: Sequence[str]) -> dict[str, list[tuple[int, str, Numbers]]]:
    """Each workflow's history rows in time order. Many names are read as one primary-key range (a listing's
    page is contiguous in name order) instead of a long IN list."""
    found: dict[str, list[tuple[int, str, Numbers]]] = defaultdict(list)
    c = workflow_history.c
    columns = select(c.name, c.time, c.dataset, c.access_type, c.events, c.size, c.lumis)
    wanted = set(names)
    if len(wanted) > 50:
        ordered = sorted(wanted)
        queries = [columns.where(c.name >= ordered[0], c.name <= ordered[-1])]
    else:
        queries = [columns.where(c.name.in_(chunk)) for chunk in _chunks(list(wanted))]
    for query in queries:
        for name, moment, dataset, access_type, events, size, lumis in conn.execute(query).all():
            if name in wanted:
                found[name].append((moment, dataset, Numbers(access_type, events, size, lumis)))
    for rows in found.values():
        rows.sort(key=_time_then_dataset)
    return found


def _time_then_dataset(row: tuple[int, str, Numbers]) -> tuple[int, str]:
    return row[0], row[1]


# --- update bookkeeping ---------------------------------------------------------------------------------


def setting(conn: Connection, key: str, default: Any = None) -> Any:
    value = conn.execute(select(workflow_settings.c.value).where(workflow_settings.c.key == key)).scalar()
    return default if value is None else value


def set_setting(conn: Connection, key: str, value: Any) -> None:
    _upsert(conn, workflow_settings, [{"key": key, "value": value}], ["key"])


def add_pending(conn: Connection, names: Iterable[str], *, reason: str, now: float) -> None:
    rows = [{"name": name, "reason": reason, "since": now} for name in dict.fromkeys(names)]
    for chunk in _chunks(rows):
        _upsert(conn, workflow_pending, list(chunk), ["name"], replace=False)


def pending(conn: Connection, *, after: str, limit: int) -> list[str]:
    c = workflow_pending.c
    return list(conn.execute(select(c.name).where(c.name > after).order_by(c.name).limit(limit)).scalars())


def remove_pending(conn: Connection, names: Sequence[str]) -> None:
    for chunk in _chunks(list(names)):
        conn.execute(delete(workflow_pending).where(workflow_pending.c.name.in_(chunk)))


def record_failures(conn: Connection, failures: Mapping[str, str], *, stage: str, now: float) -> None:
    if not failures:
        return
    known = {
        name: attempts
        for name, attempts in conn.execute(
            select(workflow_failures.c.name, workflow_failures.c.attempts).where(
                workflow_failures.c.name.in_(list(failures))
            )
        )
    }
    rows = [
        {
            "name": name,
            "stage": stage,
            "error": error[:2000],
            "attempts": known.get(name, 0) + 1,
            "failed_at": now,
        }
        for name, error in failures.items()
    ]
    _upsert(conn, workflow_failures, rows, ["name"])


def clear_failures(conn: Connection, names: Sequence[str], *, stage: str) -> None:
    c = workflow_failures.c
    for chunk in _chunks(list(names)):
        conn.execute(delete(workflow_failures).where(c.name.in_(chunk), c.stage == stage))


def failed(conn: Connection, *, stage: str | None = None) -> dict[str, str]:
    c = workflow_failures.c
    query = select(c.name, c.error)
    if stage is not None:
        query = query.where(c.stage == stage)
    return dict(conn.execute(query).tuples().all())


def failures_of(conn: Connection, names: Sequence[str]) -> dict[str, tuple[str, str, int, float]]:
    """(stage, error, attempts, failed_at) of those of `names` whose last update failed."""
    c = workflow_failures.c
    found: dict[str, tuple[str, str, int, float]] = {}
    for chunk in _chunks(list(names)):
        query = select(c.name, c.stage, c.error, c.attempts, c.failed_at).where(c.name.in_(chunk))
        for name, stage, error, attempts, at in conn.execute(query):
            found[name] = (stage, error, attempts, at)
    return found


def add_outbox(conn: Connection, names: Iterable[str], envs: Sequence[str], *, now: float) -> None:
    rows = [{"name": name, "env": env, "created": now} for name in dict.fromkeys(names) for env in envs]
    for chunk in _chunks(rows):
        _upsert(conn, workflow_outbox, list(chunk), ["name", "env"], replace=False)


def outbox(conn: Connection, *, limit: int = 1000) -> list[tuple[str, str]]:
    c = workflow_outbox.c
    return list(conn.execute(select(c.name, c.env).order_by(c.created, c.name).limit(limit)).tuples().all())


def remove_outbox(conn: Connection, delivered: Sequence[tuple[str, str]]) -> None:
    c = workflow_outbox.c
    for chunk in _chunks(list(delivered)):
        conn.execute(delete(workflow_outbox).where(tuple_(c.name, c.env).in_(list(chunk))))


def bump_outbox(conn: Connection, failed_calls: Sequence[tuple[str, str]]) -> None:
    c = workflow_outbox.c
    for name, env in failed_calls:
        conn.execute(
            workflow_outbox.update().where(c.name == name, c.env == env).values(attempts=c.attempts + 1)
        )


def touch(conn: Connection, names: Iterable[str], *, column: str, now: float) -> None:
    """Set `last_update` (content or numbers changed) or `numbers_checked` (DBS was asked) of workflows."""
    assert column in ("last_update", "numbers_checked")
    for chunk in _chunks(sorted(set(names))):
        conn.execute(update(workflows).where(workflows.c.name.in_(chunk)).values({column: now}))


def stale(conn: Connection, names: Iterable[str], *, older_than: float) -> list[str]:
    """Those of `names` in the cache whose numbers were last checked before `older_than` (or never)."""
    c = workflows.c
    found: list[str] = []
    for chunk in _chunks(list(dict.fromkeys(names))):
        found.extend(
            conn.execute(
                select(c.name).where(
                    c.name.in_(chunk), or_(c.numbers_checked.is_(None), c.numbers_checked < older_than)
                )
            ).scalars()
        )
    return found


def pending_count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(workflow_pending)).scalar_one()


def last_updates(conn: Connection, names: Sequence[str]) -> dict[str, float]:
    found: dict[str, float] = {}
    for chunk in _chunks(list(names)):
        found.update(
            conn.execute(select(workflows.c.name, workflows.c.last_update).where(workflows.c.name.in_(chunk)))
            .tuples()
            .all()
        )
    return found


# --- listings --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeyFilter:
    """`kind` (a view of §3.4, or "workflow" for the name itself) equal to `value`, or matching it when
    `pattern` (`*` stands for any characters)."""

    kind: str
    value: str
    pattern: bool = False


def _like(conn: Connection, column: Any, pattern: str) -> Any:
    if conn.dialect.name == "postgresql":
        escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("*", "%")
        return column.like(escaped, escape="\\")
    # SQLite: GLOB is case-sensitive like the keys and can use the (kind, value) index for a prefix.
    escaped = "".join(f"[{c}]" if c in "?[]" else c for c in pattern)
    return column.op("GLOB")(escaped)


@dataclass(frozen=True, slots=True)
class Found:
    name: str
    submitted: str
    document: Any  # a dict, or with raw=True its JSON text
    last_update: float


def find(
    conn: Connection,
    *,
    filters: Sequence[KeyFilter],
    after: tuple[str, str] | None,
    limit: int,
    chronological: bool,
    raw: bool = False,
) -> list[Found]:
    """The workflows matching every filter, by name or by submission time, after the cursor `after` =
    (submitted, name) of the last row already seen: keyset paging, no OFFSET. `raw`: documents as JSON text,
    for callers that only pass them on."""
    c = workflows.c
    column = cast(c.document, Text) if raw and conn.dialect.name == "postgresql" else _document_column(conn)
    query = _matching(conn, select(c.name, c.submitted, column, c.last_update), filters)
    if chronological:
        if after is not None:
            query = query.where(tuple_(c.submitted, c.name) > tuple_(*after))
        query = query.order_by(c.submitted, c.name)
    else:
        if after is not None:
            query = query.where(c.name > after[1])
        query = query.order_by(c.name)
    return [
        Found(name, submitted, document if raw else _decoded(conn, document), last_update)
        for name, submitted, document, last_update in conn.execute(query.limit(limit)).all()
    ]


def _matching(conn: Connection, query: Any, filters: Sequence[KeyFilter]) -> Any:
    """`query` over `workflows` restricted to the rows matching every filter."""
    c = workflows.c
    for item in filters:
        if item.kind in ("workflow", "status"):  # columns of the workflow itself
            column = c.name if item.kind == "workflow" else c.status
            query = query.where(_like(conn, column, item.value) if item.pattern else column == item.value)
            continue
        k = workflow_keys.c
        match = _like(conn, k.value, item.value) if item.pattern else k.value == item.value
        query = query.where(c.name.in_(select(k.name).where(k.kind == item.kind, match)))
    return query


def listing_facts(
    conn: Connection, filters: Sequence[KeyFilter], setting_key: str
) -> tuple[int, int, int, Any]:
    """(matching, cached, failing, a setting's value) in one round trip: what a listing's header says."""
    matching = _matching(conn, select(func.count()).select_from(workflows), filters).scalar_subquery()
    cached = select(func.count()).select_from(workflows).scalar_subquery()
    failing = select(func.count()).select_from(workflow_failures).scalar_subquery()
    value = select(workflow_settings.c.value).where(workflow_settings.c.key == setting_key).scalar_subquery()
    row = conn.execute(select(matching, cached if filters else matching, failing, value)).one()
    return int(row[0]), int(row[1]), int(row[2]), row[3]


def first_kind_with(conn: Connection, kinds: Sequence[str], value: str) -> str | None:
    """The first of `kinds` having `value` as a key (the original's search tries its views in turn)."""
    k = workflow_keys.c
    for kind in kinds:
        if conn.execute(select(k.name).where(k.kind == kind, k.value == value).limit(1)).first() is not None:
            return kind
    return None


def numbers_checked(conn: Connection, names: Sequence[str]) -> dict[str, float | None]:
    found: dict[str, float | None] = {}
    c = workflows.c
    for chunk in _chunks(list(names)):
        found.update(conn.execute(select(c.name, c.numbers_checked).where(c.name.in_(chunk))).tuples().all())
    return found
