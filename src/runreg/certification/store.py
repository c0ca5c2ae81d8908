"""Read what the certification engine needs from the registry projections, in one consistent snapshot, and
the saved golden-JSON presets."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, func, select

from runreg.certification.tables import json_presets
from runreg.eventlog.tables import change_sets
from runreg.kernel.ranges import RangeMap
from runreg.registry.model import ONLINE, is_hidden
from runreg.registry.tables import datasets, flag_ranges, oms_ranges, runs
from runreg.storage.cache import StampedCache, per_engine

EFFECTIVE = "effective"


@dataclass(frozen=True)
class DatasetHeader:
    run_number: int
    name: str
    attributes: dict[str, Any]
    run_oms: dict[str, Any]
    run_rr: dict[str, Any]
    ls_count: int
    #: What the run's stream was when read (version, last write): the key of the cached LS values.
    stamp: tuple[int, Any] = (0, None)


def latest_change_set(conn: Connection) -> int:
    return conn.execute(select(func.max(change_sets.c.id))).scalar_one() or 0


def dataset_names(conn: Connection) -> list[str]:
    return list(conn.execute(select(datasets.c.name).distinct()).scalars())


def dataset_name_runs(conn: Connection) -> dict[str, int]:
    """Every dataset name with the number of runs that have it."""
    query = select(datasets.c.name, func.count()).group_by(datasets.c.name)
    return {name: count for name, count in conn.execute(query)}


def saved_presets(conn: Connection, name: str | None = None) -> list[Any]:
    """Saved presets by name (all, or the one called `name`)."""
    query = select(json_presets).order_by(json_presets.c.name)
    if name is not None:
        query = query.where(json_presets.c.name == name)
    return list(conn.execute(query))


def headers(conn: Connection, names: Iterable[str]) -> list[DatasetHeader]:
    """The visible datasets named `names` with their run's attributes. A dataset the DC tools hid takes no
    part (the original's JSONs read only non-deleted datasets, rr_backend §6.8); a hidden run's datasets are
    read like any other (`runs.hidden` is no condition): the original's golden JSONs select datasets and
    never look at `Run.deleted`, and an imported JSON must regenerate the same."""
    query = (
        select(
            datasets.c.run_number,
            datasets.c.name,
            datasets.c.attributes,
            runs.c.oms_attributes,
            runs.c.rr_attributes,
            runs.c.ls_count,
            runs.c.version,
            runs.c.updated_at,
        )
        .join(runs, runs.c.run_number == datasets.c.run_number)
        .where(datasets.c.name.in_(sorted(set(names))))
        .order_by(datasets.c.run_number, datasets.c.name)
    )
    return [
        DatasetHeader(
            r.run_number,
            r.name,
            dict(r.attributes),
            dict(r.oms_attributes),
            dict(r.rr_attributes),
            r.ls_count,
            (r.version, r.updated_at),
        )
        for r in conn.execute(query)
        if not is_hidden(r.attributes)
    ]


@dataclass(frozen=True)
class _Cached:
    components: frozenset[str]
    oms_keys: frozenset[str]
    rr: dict[str, RangeMap]
    oms: dict[str, RangeMap]


#: A year is ~2,000 offline datasets and 2,000 online ones; the RangeMaps of one are a few kB.
_cache = per_engine(lambda: StampedCache[_Cached](max_entries=20_000))


def ls_values(
    conn: Connection, wanted: list[DatasetHeader], *, components: Iterable[str], oms_keys: Iterable[str]
) -> dict[tuple[int, str], tuple[dict[str, RangeMap], dict[str, RangeMap]]]:
    """Per (run, dataset): status RangeMaps of the components and value RangeMaps of the OMS keys asked for.
    Offline datasets see the online OMS values with their own overrides on top (rr_backend §3.3). A dataset
    whose run is unchanged since this process last read it (same stream version and write time) comes from
    memory: a warm golden JSON reads only the runs written since. RangeMaps are shared: read, never change."""
    components, oms_keys = frozenset(components), frozenset(oms_keys)
    cache = _cache(conn)
    out: dict[tuple[int, str], tuple[dict[str, RangeMap], dict[str, RangeMap]]] = {}
    missing: list[DatasetHeader] = []
    # A rule reading more than the cached one did: read the union, so two rules do not evict each other.
    read_components, read_keys = components, oms_keys
    for h in wanted:
        hit = cache.get((h.run_number, h.name), h.stamp) if h.stamp[1] is not None else None
        if hit is not None and components <= hit.components and oms_keys <= hit.oms_keys:
            out[(h.run_number, h.name)] = (
                {c: hit.rr[c] for c in components if c in hit.rr},
                {k: hit.oms[k] for k in oms_keys if k in hit.oms},
            )
            continue
        if hit is not None:
            read_components, read_keys = read_components | hit.components, read_keys | hit.oms_keys
        missing.append(h)
    read = _read_ls_values(conn, missing, components=read_components, oms_keys=read_keys)
    for h in missing:
        rr, oms = read[(h.run_number, h.name)]
        if h.stamp[1] is not None:
            cache.put((h.run_number, h.name), h.stamp, _Cached(read_components, read_keys, rr, oms))
        out[(h.run_number, h.name)] = (
            {c: rr[c] for c in components if c in rr},
            {k: oms[k] for k in oms_keys if k in oms},
        )
    return out


def _read_ls_values(
    conn: Connection, wanted: list[DatasetHeader], *, components: Iterable[str], oms_keys: Iterable[str]
) -> dict[tuple[int, str], tuple[dict[str, RangeMap], dict[str, RangeMap]]]:
    pairs = {(h.run_number, h.name) for h in wanted}
    run_numbers = sorted({h.run_number for h in wanted})
    out: dict[tuple[int, str], tuple[dict[str, RangeMap], dict[str, RangeMap]]] = {
        pair: ({}, {}) for pair in pairs
    }
    components, oms_keys = sorted(set(components)), sorted(set(oms_keys))
    for chunk in _chunks(run_numbers):
        if components:
            query = (
                select(
                    flag_ranges.c.run_number,
                    flag_ranges.c.dataset,
                    flag_ranges.c.component,
                    flag_ranges.c.first_ls,
                    flag_ranges.c.last_ls,
                    flag_ranges.c.status,
                )
                .where(
                    flag_ranges.c.run_number.in_(chunk),
                    flag_ranges.c.layer == EFFECTIVE,
                    flag_ranges.c.component.in_(components),
                )
                .order_by(*flag_ranges.primary_key.columns)  # index order: no sort
            )
            rows = conn.execute(query).tuples().all()
            for (run_number, name, component), group in groupby(rows, key=itemgetter(0, 1, 2)):
                if (run_number, name) in pairs:
                    # from_sorted, not from_stored: triplets that differ only in comment share a status.
                    out[(run_number, name)][0][component] = RangeMap.from_sorted(
                        [(first, last, status) for *_, first, last, status in group]
                    )
        if oms_keys:
            query = (
                select(
                    oms_ranges.c.run_number,
                    oms_ranges.c.dataset,
                    oms_ranges.c.key,
                    oms_ranges.c.first_ls,
                    oms_ranges.c.last_ls,
                    oms_ranges.c.value,
                )
                .where(
                    oms_ranges.c.run_number.in_(chunk),
                    oms_ranges.c.key.in_(oms_keys),
                )
                .order_by(*oms_ranges.primary_key.columns)
            )
            online: dict[int, dict[str, RangeMap]] = {}
            own: dict[tuple[int, str], dict[str, RangeMap]] = {}
            rows = conn.execute(query).tuples().all()
            for (run_number, name, key), group in groupby(rows, key=itemgetter(0, 1, 2)):
                target = (
                    online.setdefault(run_number, {})
                    if name == ONLINE
                    else own.setdefault((run_number, name), {})
                )
                target[key] = RangeMap.from_stored([(first, last, value) for *_, first, last, value in group])
            for run_number, name in pairs:
                if run_number not in online and (run_number, name) not in own:
                    continue
                merged = dict(online.get(run_number, {}))
                for key, ranges in own.get((run_number, name), {}).items() if name != ONLINE else ():
                    merged[key] = merged.get(key, RangeMap()).overlay(ranges)
                out[(run_number, name)][1].update(merged)
    return out


def _chunks(values: list[int], size: int = 1000) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
