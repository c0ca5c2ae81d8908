"""Compute one golden JSON: match datasets, evaluate the compiled rule, combine per run, sum luminosity and
attribute the lost luminosity to the failing rules."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from runreg.certification import engine, patterns, store
from runreg.certification.engine import CompiledRule, DatasetData, IntervalSet
from runreg.kernel.collector import collector_paused
from runreg.kernel.errors import InvalidInput, RunNotFound
from runreg.kernel.ranges import RangeMap
from runreg.luminosity import service as luminosity
from runreg.luminosity.model import LumiSeries
from runreg.registry import service as registry
from runreg.registry.model import RunState, is_hidden
from runreg.storage.database import Database

LUMINOSITY_KEYS = ("recorded", "delivered")
Progress = Callable[[float], None]


def compute_json(
    db: Database,
    *,
    rule: Any,
    dataset_pattern: str,
    policy: str = "refuse",
    as_of: int | None = None,
    progress: Progress = lambda _fraction: None,
) -> dict[str, Any]:
    """The golden JSON of `rule` over the datasets whose names match `dataset_pattern`, as of change set
    `as_of` (default: now). Run-level parts of the rule are decided before any LS data is read."""
    with collector_paused():
        return _compute(db, rule, dataset_pattern, policy, as_of, progress)


def _compute(
    db: Database, rule: Any, dataset_pattern: str, policy: str, as_of: int | None, progress: Progress
) -> dict[str, Any]:
    compiled = engine.compiled(rule)
    with db.reading() as conn:
        latest = store.latest_change_set(conn)
        names = [name for name in store.dataset_names(conn) if patterns.matches(dataset_pattern, name)]
        headers = store.headers(conn, names)
        if as_of is None or as_of >= latest:
            datasets = _from_projections(conn, compiled, headers)
            as_of = latest
        # Luminosity is not versioned by change sets: a regenerated JSON reports today's best figures.
        series = luminosity.best_series(conn, {h.run_number for h in headers})
    if as_of < latest:
        datasets = _from_history(db, headers, dataset_pattern, as_of)
    if not datasets:
        raise InvalidInput("dataset_pattern", f"No datasets matched that dataset name: {dataset_pattern!r}")
    passed: dict[tuple[int, str], IntervalSet] = {}
    for index, ds in enumerate(datasets):
        passed[(ds.run_number, ds.name)] = compiled.evaluate(ds)
        if index % 50 == 0:
            progress(0.8 * index / len(datasets))
    progress(0.8)
    result = _result(rule, datasets, passed, policy, compiled, series)
    progress(1.0)
    return {**result, "change_set_id": as_of}


def _from_projections(
    conn: Any, compiled: CompiledRule, headers: list[store.DatasetHeader]
) -> list[DatasetData]:
    """Datasets with the LS data the rule reads. Datasets the run-level part of the rule already fails are
    decided without it; their LS data is read afterwards, only to explain the failure."""
    shells = [_dataset(h, {}, {}) for h in headers]
    undecided = [
        h for h, s in zip(headers, shells, strict=True) if compiled.run_level_verdict(s) is not False
    ]
    wanted = {"components": compiled.rr_components, "oms_keys": compiled.oms_keys}
    values = store.ls_values(conn, undecided, **wanted)
    skipped = [h for h in headers if (h.run_number, h.name) not in values]
    values |= store.ls_values(conn, skipped, **wanted)
    return [_dataset(h, *values[(h.run_number, h.name)], stamped=True) for h in headers]


def _from_history(
    db: Database, headers: list[store.DatasetHeader], pattern: str, as_of: int
) -> list[DatasetData]:
    """The slow, exact path for an older change set: replay each run's events up to it."""
    out = []
    for run_number in sorted({h.run_number for h in headers}):
        try:
            run = registry.run_state(db, run_number, as_of=as_of)
        except RunNotFound:
            continue
        out.extend(
            dataset_data(run, name)
            for name in sorted(run.datasets)
            if patterns.matches(pattern, name) and not is_hidden(run.datasets[name].attributes)
        )
    return out


def dataset_data(run: RunState, name: str) -> DatasetData:
    """What the engine reads of one dataset of a run's full state: every component's status and every
    OMS value the dataset sees."""
    ds = run.dataset(name)
    rr = {
        c: RangeMap.from_sorted([(f, la, v.get("status", "")) for f, la, v in flags.effective()])
        for c, flags in ds.flags.items()
    }
    header = store.DatasetHeader(
        run.run_number, name, dict(ds.attributes), dict(run.oms), dict(run.rr), run.ls_count
    )
    return _dataset(header, rr, run.oms_values(name))


def _dataset(
    h: store.DatasetHeader,
    rr: Mapping[str, RangeMap],
    oms: Mapping[str, RangeMap],
    *,
    stamped: bool = False,
) -> DatasetData:
    return DatasetData(
        run_number=h.run_number,
        name=h.name,
        attributes=h.attributes,
        run_oms=h.run_oms,
        run_rr=h.run_rr,
        ls_count=h.ls_count,
        oms=dict(oms),
        rr=dict(rr),
        stamp=h.stamp if stamped and h.stamp[1] is not None else None,
    )


def _result(
    rule: Any,
    datasets: list[DatasetData],
    passed: dict[tuple[int, str], IntervalSet],
    policy: str,
    compiled: CompiledRule,
    series: Mapping[int, LumiSeries],
) -> dict[str, Any]:
    combined = engine.combine(passed, policy)
    by_run: dict[int, list[DatasetData]] = {}
    for ds in datasets:
        by_run.setdefault(ds.run_number, []).append(ds)
    golden: dict[str, list[list[int]]] = {}
    anti: dict[str, list[list[int]]] = {}
    with_names: dict[str, list[list[int]]] = {}
    anti_with_names: dict[str, list[list[int]]] = {}
    lumi = {key: {"total": 0.0, "in_json": 0.0} for key in LUMINOSITY_KEYS}
    sources: dict[str, int] = {}
    by_run_rows: dict[str, dict[str, Any]] = {}
    by_combination: dict[tuple[str, ...], dict[str, Any]] = {}
    for run_number, run_datasets in sorted(by_run.items()):
        span = IntervalSet.span(1, max(ds.ls_count for ds in run_datasets))
        good = combined.get(run_number, IntervalSet.empty())
        if good:
            golden[str(run_number)] = good.as_lists()
        if span - good:
            anti[str(run_number)] = (span - good).as_lists()
        values = series.get(run_number)  # the run's best source: every dataset of a run shares it
        source = values.label if values else "none"
        sources[source] = sources.get(source, 0) + 1
        run_row: dict[str, Any] = {"ls": len(span), "ls_in_json": len(good), "luminosity_source": source}
        for key in LUMINOSITY_KEYS:
            total = values.over(key, span) if values else 0.0
            in_json = values.over(key, good) if values else 0.0
            lumi[key]["total"] += total
            lumi[key]["in_json"] += in_json
            run_row[key], run_row[f"{key}_in_json"] = total, in_json
        by_run_rows[str(run_number)] = run_row
        for ds in run_datasets:
            ok = passed[(ds.run_number, ds.name)]
            label = f"{ds.run_number}-{ds.name}"
            if ok:
                with_names[label] = ok.as_lists()
            failed = IntervalSet.span(1, ds.ls_count) - ok
            if not failed:
                continue
            anti_with_names[label] = failed.as_lists()
            for leaves, where in compiled.attribute_failures(ds, failed).items():
                entry = by_combination.setdefault(leaves, {"ls": 0, "recorded": 0.0, "lumisections": {}})
                entry["ls"] += len(where)
                entry["recorded"] += values.over("recorded", where) if values else 0.0
                entry["lumisections"][label] = where.as_lists()
    return {
        "json": golden,
        "json_with_dataset_names": with_names,
        "anti_json": anti,
        "anti_json_with_dataset_names": anti_with_names,
        "datasets": len(datasets),
        "runs": len(by_run),
        "ls_in_json": sum(map(len, combined.values())),
        "min_run_number": min(by_run) if by_run else None,
        "max_run_number": max(by_run) if by_run else None,
        "luminosity": {
            key: {**values, "lost": values["total"] - values["in_json"]} for key, values in lumi.items()
        },
        # Which source the figures come from, in runs: {"brilcalc (normtag X)": 12, "oms": 3, "none": 1}.
        "luminosity_sources": dict(sorted(sources.items(), key=lambda item: -item[1])),
        "luminosity_unit": "/pb",
        "failures": _failures(by_combination),
        "by_run": by_run_rows,
    }


def _failures(by_combination: Mapping[tuple[str, ...], dict[str, Any]]) -> dict[str, Any]:
    """Lost LS and recorded luminosity per failing leaf rule and per combination of failing leaf rules."""
    by_rule: dict[str, dict[str, Any]] = {}
    parsed: dict[str, Any] = {}  # a leaf's JSON, read once however many combinations name it
    for leaves, entry in by_combination.items():
        for leaf in leaves:
            if leaf not in parsed:
                parsed[leaf] = json.loads(leaf)
            item = by_rule.setdefault(leaf, {"rule": parsed[leaf], "ls": 0, "recorded": 0.0})
            item["ls"] += entry["ls"]
            item["recorded"] += entry["recorded"]
    combinations = [
        {
            "rules": [parsed[leaf] for leaf in leaves],
            "ls": e["ls"],
            "recorded": e["recorded"],
            "lumisections": e["lumisections"],
        }
        for leaves, e in by_combination.items()
    ]
    return {
        "by_rule": sorted(by_rule.values(), key=lambda item: -item["recorded"]),
        "by_combination": sorted(combinations, key=lambda item: (-item["recorded"], -item["ls"])),
    }
