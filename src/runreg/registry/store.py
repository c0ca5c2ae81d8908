"""Read a run's state from the projections and write back what a change touched; never commits."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    delete,
    false,
    insert,
    select,
    text,
    tuple_,
    update,
)

from runreg.eventlog import store as eventlog
from runreg.kernel.errors import StaleVersion
from runreg.kernel.ranges import RangeMap
from runreg.registry import model
from runreg.registry.events import (
    DatasetAttributesChanged,
    DatasetCreated,
    Event,
    FlagsCleared,
    FlagsSet,
    Layer,
    OmsValuesCleared,
    OmsValuesSet,
)
from runreg.registry.model import ComponentFlags, DatasetState, RunState
from runreg.registry.tables import (
    dataset_summaries,
    datasets,
    flag_ranges,
    oms_ranges,
    runs,
    waiting_any_condition,
)
from runreg.storage.database import bulk_insert

EFFECTIVE = "effective"


def run_numbers(conn: Connection) -> list[int]:
    return list(conn.execute(select(runs.c.run_number).order_by(runs.c.run_number)).scalars())


def load_run(conn: Connection, run_number: int, *, for_update: bool = False) -> RunState | None:
    query = select(runs).where(runs.c.run_number == run_number)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        return None
    run = RunState(
        run_number,
        oms=dict(row.oms_attributes),
        rr_automatic=dict(row.rr_automatic),
        rr_manual=dict(row.rr_manual),
        version=row.version,
        hidden=row.hidden,
        hidden_reason=row.hidden_reason,
    )
    for ds in conn.execute(select(datasets).where(datasets.c.run_number == run_number)):
        run.datasets[ds.name] = DatasetState(ds.name, dict(ds.attributes))
    f = flag_ranges.c
    flag_query = (
        select(f.dataset, f.component, f.layer, f.first_ls, f.last_ls, f.status, f.comment, f.cause)
        .where(f.run_number == run_number, f.layer != EFFECTIVE)
        .order_by(f.first_ls)
    )
    # The projection holds each map's own maximal, disjoint ranges: they are taken as stored, sorted by LS.
    flags: dict[tuple[str, str, str], list[Any]] = {}
    for dataset, component, layer, first, last, status, comment, cause in conn.execute(flag_query).all():
        flags.setdefault((dataset, component, layer), []).append(
            (first, last, {"status": status, "comment": comment, "cause": cause})
        )
    for (dataset, component, layer), ranges in flags.items():
        component_flags = run.datasets[dataset].component(component)
        if Layer(layer) is Layer.MANUAL:
            component_flags.manual = RangeMap.from_stored(ranges)
        else:
            component_flags.automatic = RangeMap.from_stored(ranges)
    o = oms_ranges.c
    oms_query = (
        select(o.dataset, o.key, o.first_ls, o.last_ls, o.value)
        .where(o.run_number == run_number)
        .order_by(o.first_ls)
    )
    values: dict[tuple[str, str], list[Any]] = {}
    for dataset, key, first, last, value in conn.execute(oms_query).all():
        values.setdefault((dataset, key), []).append((first, last, value))
    for (dataset, key), ranges in values.items():
        run.datasets[dataset].oms[key] = RangeMap.from_stored(ranges)
    return run


def save_change(
    conn: Connection,
    before: RunState | None,
    after: RunState,
    applied: Sequence[Event],
    *,
    change_set_id: int,
) -> None:
    """Write the projections for the parts of `after` that `applied` touched, guarded by the run version."""
    now = datetime.now(UTC)
    run_values = {
        "oms_attributes": after.oms,
        "rr_attributes": after.rr,
        "rr_automatic": after.rr_automatic,
        "rr_manual": after.rr_manual,
        "ls_count": after.ls_count,
        "version": after.version,
        "last_change_set": change_set_id,
        "updated_at": now,
        "hidden": after.hidden,
        "hidden_reason": after.hidden_reason,
    }
    if before is None:
        conn.execute(insert(runs).values(run_number=after.run_number, created_at=now, **run_values))
    else:
        result = conn.execute(
            update(runs)
            .where(runs.c.run_number == after.run_number, runs.c.version == before.version)
            .values(**run_values)
        )
        if result.rowcount != 1:
            raise StaleVersion(f"run {after.run_number} was changed by someone else meanwhile: try again")

    touched_datasets, touched_flags, touched_oms = _touched(applied)
    if before is None:
        touched_datasets.add(model.ONLINE)
    # Datasets this change creates have no projection rows yet: nothing to delete before inserting theirs.
    fresh = set(after.datasets) - set(before.datasets if before else ())
    _write_datasets(conn, after, touched_datasets, now, fresh)
    _write_flags(conn, after, touched_flags, fresh)
    _write_oms(conn, after, touched_oms, fresh)
    # Summaries depend on the LS count too: a run that grew changes every dataset's EMPTY counts.
    grew = before is not None and before.ls_count != after.ls_count
    summary_datasets = (
        set(after.datasets) if grew or touched_oms else (touched_datasets | {ds for ds, _ in touched_flags})
    )
    write_summaries(conn, after, summary_datasets, fresh)


def _touched(applied: Iterable[Event]) -> tuple[set[str], set[tuple[str, str]], set[tuple[str, str]]]:
    touched_datasets: set[str] = set()
    touched_flags: set[tuple[str, str]] = set()
    touched_oms: set[tuple[str, str]] = set()
    for event in applied:
        match event:
            case DatasetCreated(name=name) | DatasetAttributesChanged(name=name):
                touched_datasets.add(name)
            case FlagsSet(name=name, component=component) | FlagsCleared(name=name, component=component):
                touched_flags.add((name, component))
            case OmsValuesSet(name=name, values=values):
                touched_oms.update((name, key) for key in values)
            case OmsValuesCleared(name=name, keys=keys):
                touched_oms.update((name, key) for key in keys)
    return touched_datasets, touched_flags, touched_oms


def _write_datasets(conn: Connection, run: RunState, names: set[str], now: datetime, fresh: set[str]) -> None:
    if not names:
        return
    stored = sorted(names - fresh)
    if stored:
        conn.execute(
            delete(datasets).where(datasets.c.run_number == run.run_number, datasets.c.name.in_(stored))
        )
    conn.execute(
        insert(datasets),
        [
            {
                "run_number": run.run_number,
                "name": name,
                "attributes": run.datasets[name].attributes,
                "updated_at": now,
            }
            for name in sorted(names)
        ],
    )


def _replace_rows(
    conn: Connection,
    table: Any,
    run_number: int,
    key_columns: tuple[str, str],
    keys: set[tuple[str, str]],
    rows: list[dict[str, Any]],
    fresh: set[str],
) -> None:
    """Delete a run's rows for these (dataset, key) pairs (but of `fresh` datasets, which have none) and
    insert their new ranges."""
    stored = sorted(key for key in keys if key[0] not in fresh)
    if stored:
        conn.execute(
            delete(table).where(
                table.c.run_number == run_number,
                tuple_(*(table.c[name] for name in key_columns)).in_(stored),
            )
        )
    bulk_insert(conn, table, rows)


def _write_flags(conn: Connection, run: RunState, keys: set[tuple[str, str]], fresh: set[str]) -> None:
    if not keys:
        return
    rows: list[dict[str, Any]] = []
    for dataset, component in sorted(keys):
        flags = run.datasets[dataset].flags.get(component, ComponentFlags())
        layers = (
            (Layer.AUTOMATIC.value, flags.automatic),
            (Layer.MANUAL.value, flags.manual),
            (EFFECTIVE, flags.effective()),
        )
        for layer, ranges in layers:
            rows.extend(
                {
                    "run_number": run.run_number,
                    "dataset": dataset,
                    "component": component,
                    "layer": layer,
                    "first_ls": first,
                    "last_ls": last,
                    "status": triplet.get("status", ""),
                    "comment": triplet.get("comment", ""),
                    "cause": triplet.get("cause", ""),
                }
                for first, last, triplet in ranges
            )
    _replace_rows(conn, flag_ranges, run.run_number, ("dataset", "component"), keys, rows, fresh)


def _write_oms(conn: Connection, run: RunState, keys: set[tuple[str, str]], fresh: set[str]) -> None:
    if not keys:
        return
    rows = [
        {
            "run_number": run.run_number,
            "dataset": dataset,
            "key": key,
            "first_ls": first,
            "last_ls": last,
            "value": value,
        }
        for dataset, key in sorted(keys)
        for first, last, value in run.datasets[dataset].oms.get(key, RangeMap())
    ]
    _replace_rows(conn, oms_ranges, run.run_number, ("dataset", "key"), keys, rows, fresh)


def write_summaries(conn: Connection, run: RunState, names: Iterable[str], fresh: Iterable[str] = ()) -> None:
    """Replace the summaries of these datasets (`fresh` ones, just created, have none to delete)."""
    names = sorted(set(names))
    if not names:
        return
    stored = sorted(set(names) - set(fresh))
    if stored:
        conn.execute(
            delete(dataset_summaries).where(
                dataset_summaries.c.run_number == run.run_number, dataset_summaries.c.dataset.in_(stored)
            )
        )
    ls_count = run.ls_count
    rows = []
    for name in names:
        oms = run.oms_values(name)
        rows.append(
            {
                "run_number": run.run_number,
                "dataset": name,
                "ls_count": ls_count,
                "triplet_summary": model.triplet_summary(run.datasets[name], ls_count),
                "dcs_summary": model.dcs_summary(oms, ls_count),
                "recorded_lumi": model.luminosity(oms, "recorded"),
                "delivered_lumi": model.luminosity(oms, "delivered"),
            }
        )
    bulk_insert(conn, dataset_summaries, rows)


def delete_projection(conn: Connection, run_number: int) -> None:
    """Drop a run's projections (used when rebuilding them from the log)."""
    for table in (dataset_summaries, oms_ranges, flag_ranges, datasets, runs):
        conn.execute(delete(table).where(table.c.run_number == run_number))


# ----------------------------------------------------------------------------------------------
# Bulk: many runs' dataset attributes at once (the DQM GUI pinger, DC tools)
# ----------------------------------------------------------------------------------------------
_CHUNK = 1000  # ids per IN list: far below every engine's limit on bound parameters


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def load_runs_attributes(
    conn: Connection, run_numbers: Sequence[int], *, for_update: bool = False
) -> dict[int, RunState]:
    """Runs with their attributes and their datasets' attributes, without LS ranges (flags and OMS values
    are left empty): what decisions about dataset attributes read. Two queries per thousand runs; the runs
    rows are locked on PostgreSQL with `for_update`."""
    numbers = sorted(set(run_numbers))
    loaded: dict[int, RunState] = {}
    r = runs.c
    for chunk in _chunks(numbers):
        query = select(
            r.run_number, r.oms_attributes, r.rr_automatic, r.rr_manual, r.version, r.hidden, r.hidden_reason
        ).where(r.run_number.in_(chunk))
        if for_update and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        for row in conn.execute(query):
            loaded[row.run_number] = RunState(
                row.run_number,
                oms=dict(row.oms_attributes),
                rr_automatic=dict(row.rr_automatic),
                rr_manual=dict(row.rr_manual),
                version=row.version,
                hidden=row.hidden,
                hidden_reason=row.hidden_reason,
            )
        d = datasets.c
        for row in conn.execute(select(d.run_number, d.name, d.attributes).where(d.run_number.in_(chunk))):
            run = loaded.get(row.run_number)
            if run is not None:
                run.datasets[row.name] = DatasetState(row.name, dict(row.attributes))
    return loaded


def save_dataset_attributes(
    conn: Connection, changed: Sequence[tuple[RunState, set[str]]], *, change_set_id: int
) -> None:
    """Write the new version of each run and the attributes of the datasets named with it, in bulk (the
    events' unique stream versions, appended first, are the concurrency guard). Summaries do not depend on
    attributes: they are left as they are."""
    if not changed:
        return
    now = datetime.now(UTC)
    versions = [(run.run_number, run.version) for run, _ in changed]
    if conn.dialect.name == "postgresql":  # one statement, the runs and versions as two arrays
        conn.exec_driver_sql(
            "UPDATE runs SET version = new.version, last_change_set = %s, updated_at = %s "
            "FROM unnest(%s::integer[], %s::integer[]) AS new(run_number, version) "
            "WHERE runs.run_number = new.run_number",
            (change_set_id, now, [n for n, _ in versions], [v for _, v in versions]),
        )
    else:
        conn.execute(
            update(runs)
            .where(runs.c.run_number == bindparam("b_run"))
            .values(version=bindparam("b_version"), last_change_set=change_set_id, updated_at=now),
            [{"b_run": number, "b_version": version} for number, version in versions],
        )
    keys = [(run.run_number, name) for run, names in changed for name in sorted(names)]
    for chunk in _chunks(keys):
        conn.execute(delete(datasets).where(tuple_(datasets.c.run_number, datasets.c.name).in_(chunk)))
    bulk_insert(
        conn,
        datasets,
        [
            {
                "run_number": run.run_number,
                "name": name,
                "attributes": run.datasets[name].attributes,
                "updated_at": now,
            }
            for run, names in changed
            for name in sorted(names)
        ],
    )


def waiting_datasets(conn: Connection, workspaces: Sequence[str]) -> list[Any]:
    """(run_number, name, attributes) of the datasets waiting for the DQM GUI in any of `workspaces`, newest
    run first, read through the partial index of datasets waiting anywhere (registry/tables.py): a ping
    reads the few waiting datasets, never every dataset."""
    keys = [f"{ws}_state" for ws in dict.fromkeys(workspaces)]
    if not keys:
        return []
    d = datasets.c
    query = (
        select(d.run_number, d.name, d.attributes)
        .where(text(waiting_any_condition(conn.dialect.name)))
        .order_by(d.run_number.desc(), d.name)
    )
    return [
        row
        for row in conn.execute(query)
        if any(row.attributes.get(key) == model.WAITING_DQM_GUI for key in keys)
    ]


# ----------------------------------------------------------------------------------------------
# Queries for readers
# ----------------------------------------------------------------------------------------------
def list_runs(
    conn: Connection,
    *,
    limit: int = 50,
    offset: int = 0,
    run_from: int | None = None,
    run_to: int | None = None,
) -> list[Any]:
    """Visible runs (hidden ones left out), newest first."""
    query = (
        select(runs)
        .where(runs.c.hidden == false())
        .order_by(runs.c.run_number.desc())
        .limit(limit)
        .offset(offset)
    )
    if run_from is not None:
        query = query.where(runs.c.run_number >= run_from)
    if run_to is not None:
        query = query.where(runs.c.run_number <= run_to)
    return list(conn.execute(query))


def dataset_names(conn: Connection, run_number: int) -> list[str] | None:
    """The names of a run's datasets; None when there is no such run."""
    names = list(conn.execute(select(datasets.c.name).where(datasets.c.run_number == run_number)).scalars())
    if names:
        return names
    exists = conn.execute(select(runs.c.run_number).where(runs.c.run_number == run_number)).first()
    return [] if exists else None


def component_ranges(conn: Connection, run_number: int, dataset: str) -> dict[str, list[dict[str, Any]]]:
    query = (
        select(flag_ranges)
        .where(
            and_(
                flag_ranges.c.run_number == run_number,
                flag_ranges.c.dataset == dataset,
                flag_ranges.c.layer == EFFECTIVE,
            )
        )
        .order_by(flag_ranges.c.component, flag_ranges.c.first_ls)
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for r in conn.execute(query):
        out.setdefault(r.component, []).append(
            {
                "start": r.first_ls,
                "end": r.last_ls,
                "status": r.status,
                "comment": r.comment,
                "cause": r.cause,
            }
        )
    return out


def summary(conn: Connection, run_number: int, dataset: str) -> Any:
    query = select(dataset_summaries).where(
        dataset_summaries.c.run_number == run_number, dataset_summaries.c.dataset == dataset
    )
    return conn.execute(query).first()


def summaries(conn: Connection, run_numbers: list[int], dataset: str) -> dict[int, dict[str, Any]]:
    query = select(dataset_summaries.c.run_number, dataset_summaries.c.triplet_summary).where(
        dataset_summaries.c.run_number.in_(run_numbers), dataset_summaries.c.dataset == dataset
    )
    return {row.run_number: row.triplet_summary for row in conn.execute(query)}


def dataset_attributes(
    conn: Connection, keys: Sequence[tuple[int, str]], *, for_share: bool = False
) -> dict[tuple[int, str], dict[str, Any]]:
    """The attributes of these (run_number, name) datasets (absent ones are left out); `for_share` holds
    them on PostgreSQL until the caller commits, so no move of them commits in between."""
    found: dict[tuple[int, str], dict[str, Any]] = {}
    d = datasets.c
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        query = select(d.run_number, d.name, d.attributes).where(tuple_(d.run_number, d.name).in_(chunk))
        if for_share and conn.dialect.name == "postgresql":
            query = query.with_for_update(read=True)
        for run_number, name, attributes in conn.execute(query):
            found[run_number, name] = dict(attributes)
    return found


def fetch_page(
    conn: Connection,
    listing: Any,
    page: int,
    *,
    count_limit: int | None = None,
    counts: Callable[[], CountMemo] | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Rows of one listing page and the total. The page stops at its last row (an index scan in the sort
    order); the count reads only the tables its filter needs, and is skipped when the first page is short.
    With `count_limit`, counting stops past that many matches (the total is then `count_limit + 1`): a
    table of 100,000 datasets says "more than 5,000" instead of reading them all for every page. With
    `counts` (asked for only when a count is needed), a total already counted since the newest change set
    is not counted again."""
    rows = [dict(row._mapping) for row in conn.execute(listing.rows, listing.params)]
    if page == 0 and len(rows) < listing.page_size:
        return rows, len(rows)
    total = listing.total if count_limit is None else listing.total_up_to(count_limit)
    if counts is None:
        return rows, int(conn.execute(total, listing.params).scalar_one())
    memo = counts()
    head = eventlog.newest_change_set(conn)  # read before counting: the count is at least this new
    known = memo.get(head)
    if known is None:
        known = memo.put(head, int(conn.execute(total, listing.params).scalar_one()))
    return rows, known


class CountMemo:
    """One filter's total, remembered with the newest change set it was counted at, for `ttl` seconds at
    most. The online tables count every run matching their filter (50,000 runs: 60 ms of PostgreSQL per
    page view) although nothing changed since the last view; a write makes a new change set, and the next
    view counts again. The time bound covers the one case the key cannot see: a change set committed after
    a newer one (ids are taken when a write begins, not when it commits)."""

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._entry: tuple[int, float, int] | None = None

    def get(self, head: int) -> int | None:
        if self._entry is None:
            return None
        at_head, at, total = self._entry
        return total if at_head == head and time.monotonic() - at < self.ttl else None

    def put(self, head: int, total: int) -> int:
        self._entry = (head, time.monotonic(), total)
        return total


#: (run, dataset) pairs per query of `flag_layer` (bound parameters stay well under every engine's limit).
_KEYS_PER_QUERY = 400


def flag_layer(
    conn: Connection, keys: Sequence[tuple[int, str]], components: Sequence[str], layer: str
) -> dict[tuple[int, str, str], RangeMap]:
    """One layer (`effective`, `manual` or `automatic`) of the given components' triplets on many datasets, by
    (run, dataset, component); a component without ranges there is absent."""
    f = flag_ranges.c
    out: dict[tuple[int, str, str], list[Any]] = {}
    for start in range(0, len(keys), _KEYS_PER_QUERY):
        batch = sorted(set(keys[start : start + _KEYS_PER_QUERY]))
        query = (
            select(f.run_number, f.dataset, f.component, f.first_ls, f.last_ls, f.status, f.comment, f.cause)
            .where(tuple_(f.run_number, f.dataset).in_(batch), f.layer == layer, f.component.in_(components))
            .order_by(f.run_number, f.dataset, f.component, f.first_ls)
        )
        for run_number, dataset, component, first, last, status, comment, cause in conn.execute(query):
            out.setdefault((run_number, dataset, component), []).append(
                (first, last, {"status": status, "comment": comment, "cause": cause})
            )
    return {key: RangeMap.from_stored(ranges) for key, ranges in out.items()}
