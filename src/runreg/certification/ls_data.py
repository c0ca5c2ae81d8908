"""What a JSON's LS are made of: each listed LS's evaluation context (the original's get_data_of_json) and the
luminosity of JSONs keyed by run and dataset name."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from runreg.certification.compute import dataset_data
from runreg.certification.engine import IntervalSet
from runreg.certification.engine_contract import per_ls_contexts
from runreg.kernel.errors import InvalidInput, RunNotFound
from runreg.luminosity import service as luminosity
from runreg.luminosity.model import KEYS
from runreg.registry import service as registry
from runreg.storage.database import Database

#: The most LS one request may ask the data of (each LS answers a full context of ~100 values).
MAX_LS = 50_000


def split_key(key: str) -> tuple[int, str]:
    """`<run>-<dataset name>` split at the first `-` (dataset names may contain `-`; the original split at
    every one)."""
    run, sep, name = key.partition("-")
    if not sep or not run.isdigit() or not name:
        raise InvalidInput("json", f"key {key!r} is not <run number>-<dataset name>")
    return int(run), name


def data_of_json(db: Database, *, json: Mapping[str, Sequence[Sequence[int]]]) -> dict[str, Any]:
    """Per `<run>-<dataset>` key and LS number, the context the golden-JSON rule sees on that LS — dataset,
    run and lumisection (with the run's per-LS luminosity from its best source) — and the totals."""
    wanted = {key: (*split_key(key), IntervalSet(ranges)) for key, ranges in json.items()}
    asked = sum(len(lss) for _run, _name, lss in wanted.values())
    if asked > MAX_LS:
        raise InvalidInput("json", f"asks for {asked} LS; at most {MAX_LS} per request")
    with db.reading() as conn:
        series = luminosity.best_series(conn, {run for run, _name, _lss in wanted.values()})
    out: dict[str, dict[str, Any]] = {}
    totals = dict.fromkeys(KEYS, 0.0)
    for key, (run_number, name, lss) in wanted.items():
        try:
            run = registry.run_state(db, run_number)
        except RunNotFound:
            raise InvalidInput("json", f"{key}: run {run_number} is not in the registry") from None
        ds = dataset_data(run, name)
        values = series.get(run_number)
        rows: dict[str, Any] = {}
        for ls, context in per_ls_contexts(ds, lss & IntervalSet.span(1, ds.ls_count)):
            oms = dict(context["lumisection"]["oms"])
            for k in KEYS:
                oms[k] = values.over(k, [(ls, ls)]) if values else None
            rows[str(ls)] = {**context, "lumisection": {**context["lumisection"], "oms": oms}}
        out[key] = rows
        for k in KEYS:
            totals[k] += values.over(k, lss) if values else 0.0
    return {
        "json_with_data": out,
        "total_recorded_luminosity": totals["recorded"],
        "total_delivered_luminosity": totals["delivered"],
    }


def recorded_by_key(db: Database, *, json: Mapping[str, Sequence[Sequence[int]]]) -> dict[str, float]:
    """Recorded luminosity (/pb) of each `<run>-<dataset>` entry of a JSON with dataset names."""
    keyed = {key: (*split_key(key), ranges) for key, ranges in json.items()}
    with db.reading() as conn:
        series = luminosity.best_series(conn, {run for run, _name, _ranges in keyed.values()})
    return {
        key: (series[run].over("recorded", IntervalSet(ranges)) if run in series else 0.0)
        for key, (run, _name, ranges) in keyed.items()
    }
