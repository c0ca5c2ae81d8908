"""Luminosity use cases: record OMS's per-LS values with a run's ingestion, import brilcalc files, and the
luminosity of any LS selection from the best source of each run."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from runreg.access.actions import Target
from runreg.configuration import service as configuration
from runreg.kernel import limits
from runreg.kernel.actors import Actor
from runreg.kernel.errors import InvalidInput
from runreg.kernel.lumi_units import UNIT
from runreg.luminosity import model, store
from runreg.luminosity.model import KEYS, LumiSeries
from runreg.storage.database import Database

#: The largest brilcalc file accepted in one import (a year of --byls output is ~250 MB).
MAX_IMPORT_BYTES = 512 * 1024 * 1024


def record_oms(conn: Connection, *, run_number: int, lumisections: Sequence[Mapping[str, Any]]) -> bool:
    """Store the run's OMS per-LS luminosity as one row, in the caller's transaction — part of the run's
    ingestion, which has authorized `ingestion:update`. Returns whether anything changed."""
    series = model.from_oms(run_number, lumisections)
    stored = {s.source: s for s in store.series_of(conn, [run_number]).get(run_number, [])}.get(model.OMS)
    if stored is not None and all(model.same(stored.values(k), series.values(k)) for k in KEYS):
        return False
    store.save(conn, series)
    return True


@dataclass(frozen=True)
class ImportReport:
    import_id: int
    normtag: str
    runs: int
    lumisections: int
    outside_cms: int
    recorded: float
    delivered: float


def import_brilcalc(
    db: Database,
    *,
    actor: Actor,
    text: str,
    normtag: str | None = None,
    filename: str = "",
    comment: str = "",
) -> ImportReport:
    """Import brilcalc's --byls CSV as the `brilcalc` source of its runs (replacing an earlier import of the
    same runs). Every line is validated first: one bad line and nothing is written."""
    limits.check_authorship(actor.name, comment)
    limits.check_text("filename", filename, 255)
    limits.check_text("normtag", normtag or "", 255)
    if len(text) > MAX_IMPORT_BYTES:
        raise InvalidInput("file", f"at most {MAX_IMPORT_BYTES // 2**20} MiB")
    with db.reading() as conn:  # refused before a large file is parsed
        configuration.authorize(conn, actor=actor, action="luminosity:import", target=Target())
    parsed = model.parse_brilcalc(text, normtag=normtag)
    lumisections = sum(s.measured for s in parsed.series.values())
    with db.transaction() as conn:
        configuration.authorize(conn, actor=actor, action="luminosity:import", target=Target())
        import_id = store.record_import(
            conn,
            filename=filename,
            normtag=parsed.normtag,
            runs=len(parsed.series),
            lumisections=lumisections,
            by=actor.name,
            comment=comment,
        )
        for series in parsed.series.values():
            store.save(conn, series, import_id=import_id)
    return ImportReport(
        import_id,
        parsed.normtag,
        len(parsed.series),
        lumisections,
        parsed.outside_cms,
        sum(s.total("recorded") for s in parsed.series.values()),
        sum(s.total("delivered") for s in parsed.series.values()),
    )


def best_series(conn: Connection, run_numbers: Iterable[int]) -> dict[int, LumiSeries]:
    """The best source of each run that has one (brilcalc with a normtag, then brilcalc, then OMS)."""
    return {
        run: chosen
        for run, candidates in store.series_of(conn, run_numbers).items()
        if (chosen := model.best(candidates)) is not None
    }


def sources(db: Database, *, run_number: int) -> list[dict[str, Any]]:
    """Every source a run has, best first: its label, LS count and totals in /pb."""
    with db.reading() as conn:
        candidates = store.series_of(conn, [run_number]).get(run_number, [])
    return [
        {
            "source": s.source,
            "normtag": s.normtag,
            "label": s.label,
            "ls": s.ls_count,
            "delivered": s.total("delivered"),
            "recorded": s.total("recorded"),
            "unit": UNIT,
        }
        for s in sorted(candidates, key=model.rank, reverse=True)
    ]


def of_selection(db: Database, *, lumis: Mapping[int, Sequence[Sequence[int]]]) -> dict[str, Any]:
    """Delivered and recorded luminosity of an LS selection (a golden JSON: run → [[first, last], ...]),
    per run from its best source, saying which source each run's figures come from."""
    with db.reading() as conn:
        chosen = best_series(conn, lumis)
    return summarize(chosen, lumis)


def summarize(
    chosen: Mapping[int, LumiSeries], lumis: Mapping[int, Sequence[Sequence[int]]]
) -> dict[str, Any]:
    totals = dict.fromkeys(KEYS, 0.0)
    runs: dict[str, dict[str, Any]] = {}
    by_source: dict[str, int] = {}
    for run in sorted(lumis):
        ranges = [(int(first), int(last)) for first, last in lumis[run]]
        series = chosen.get(run)
        label = series.label if series else "none"
        by_source[label] = by_source.get(label, 0) + 1
        row: dict[str, Any] = {"source": label}
        for key in KEYS:
            row[key] = series.over(key, ranges) if series else 0.0
            totals[key] += row[key]
        runs[str(run)] = row
    return {"unit": UNIT, **totals, "sources": by_source, "runs": runs}


def oms_per_ls(db: Database, run_number: int) -> list[dict[str, float | None]]:
    """OMS's per-LS `delivered_lumi` and `recorded_lumi` of a run in /pb (element i is LS i+1; None where OMS
    had no value), as the original's OMS lumisections carried them; [] for a run without OMS luminosity."""
    with db.reading() as conn:
        stored = {s.source: s for s in store.series_of(conn, [run_number]).get(run_number, [])}.get(model.OMS)
    if stored is None:
        return []
    columns = [[None if math.isnan(v) else v for v in stored.values(key).tolist()] for key in KEYS]
    return [
        {f"{key}_lumi": value for key, value in zip(KEYS, values, strict=True)}
        for values in zip(*columns, strict=True)
    ]


def overview(db: Database, *, imports_limit: int = 50) -> dict[str, Any]:
    """What the luminosity page shows: the stored sources (`sources`, see `_sources`) and the newest brilcalc
    imports (`imports`)."""
    with db.reading() as conn:
        return {
            "sources": _sources(store.stored_sources(conn)),
            "imports": store.imports(conn, limit=imports_limit),
        }


def _sources(rows: Iterable[tuple[int, str, str, float, float]]) -> list[dict[str, Any]]:
    """Per source (and normtag): how many runs store it, how many of those use it (it is their best one, what
    golden JSONs read), and its totals in /pb over the runs that use it — best source first."""
    by_run: dict[int, list[tuple[str, str, float, float]]] = {}
    for run, source, normtag, delivered, recorded in rows:
        by_run.setdefault(run, []).append((source, normtag, delivered, recorded))
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for candidates in by_run.values():
        best = max(candidates, key=lambda c: model.rank_of(c[0], c[1]))
        for source, normtag, delivered, recorded in candidates:
            entry = out.setdefault(
                (source, normtag),
                {
                    "source": source,
                    "normtag": normtag,
                    "label": model.label_of(source, normtag),
                    "runs": 0,
                    "used_by": 0,
                    "delivered": 0.0,
                    "recorded": 0.0,
                    "unit": UNIT,
                },
            )
            entry["runs"] += 1
            if (source, normtag) == best[:2]:
                entry["used_by"] += 1
                entry["delivered"] += delivered
                entry["recorded"] += recorded
    return sorted(out.values(), key=lambda e: (-model.rank_of(e["source"], e["normtag"]), e["label"]))


def imports(db: Database, *, limit: int = 50) -> list[dict[str, Any]]:
    with db.reading() as conn:
        return store.imports(conn, limit=limit)
