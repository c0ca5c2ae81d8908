"""Luminosity rows: write a run's series for a source, read every source of some runs, record imports."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, insert, select

from runreg.luminosity import model
from runreg.luminosity.model import LumiSeries
from runreg.luminosity.tables import luminosity_imports, luminosity_series
from runreg.storage.cache import StampedCache, per_engine

_CHUNK = 1000


def save(conn: Connection, series: LumiSeries, *, import_id: int | None = None) -> None:
    """Replace the run's row for this source (a delete and an insert: the same on both engines)."""
    table = luminosity_series
    conn.execute(
        delete(table).where(table.c.run_number == series.run_number, table.c.source == series.source)
    )
    conn.execute(
        insert(table).values(
            run_number=series.run_number,
            source=series.source,
            normtag=series.normtag,
            ls_count=series.ls_count,
            delivered=model.encode(series.delivered),
            recorded=model.encode(series.recorded),
            delivered_total=series.total("delivered"),
            recorded_total=series.total("recorded"),
            import_id=import_id,
            updated_at=datetime.now(UTC),
        )
    )


#: A year is ~2,000 runs: two per run (OMS and brilcalc) with room to spare, ~32 kB each.
_cache = per_engine(lambda: StampedCache[LumiSeries](max_entries=20_000))


def series_of(conn: Connection, run_numbers: Iterable[int]) -> dict[int, list[LumiSeries]]:
    """Every stored series of these runs, by run. The arrays of a row unchanged since this process last read
    it come from memory: a warm golden JSON over a year reads ~4,000 small rows, not 64 MB of arrays."""
    table = luminosity_series
    cache = _cache(conn)
    wanted = sorted(set(run_numbers))
    out: dict[int, list[LumiSeries]] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        stamps = select(table.c.run_number, table.c.source, table.c.updated_at).where(
            table.c.run_number.in_(chunk)
        )
        stale: set[tuple[int, str]] = set()
        for run, source, updated_at in conn.execute(stamps):
            cached = cache.get((run, source), updated_at)
            if cached is None:
                stale.add((run, source))
            else:
                out.setdefault(run, []).append(cached)
        if stale:
            query = select(
                table.c.run_number, table.c.source, table.c.normtag, table.c.delivered, table.c.recorded,
                table.c.updated_at,
            ).where(table.c.run_number.in_(sorted({run for run, _ in stale})))  # fmt: skip
            for run, source, normtag, delivered, recorded, updated_at in conn.execute(query):
                if (run, source) not in stale:
                    continue
                series = LumiSeries(run, source, normtag, model.decode(delivered), model.decode(recorded))
                cache.put((run, source), updated_at, series)
                out.setdefault(run, []).append(series)
    return out


def record_import(
    conn: Connection, *, filename: str, normtag: str, runs: int, lumisections: int, by: str, comment: str
) -> int:
    result = conn.execute(
        insert(luminosity_imports).values(
            filename=filename,
            normtag=normtag,
            runs=runs,
            lumisections=lumisections,
            imported_by=by,
            imported_at=datetime.now(UTC),
            comment=comment,
        )
    )
    return int(result.inserted_primary_key[0])


def imports(conn: Connection, *, limit: int = 50) -> list[dict[str, object]]:
    query = select(luminosity_imports).order_by(luminosity_imports.c.id.desc()).limit(limit)
    return [dict(row._mapping) for row in conn.execute(query)]


def stored_sources(conn: Connection) -> list[tuple[int, str, str, float, float]]:
    """(run, source, normtag, delivered total, recorded total) of every stored series, without the arrays."""
    s = luminosity_series.c
    query = select(s.run_number, s.source, s.normtag, s.delivered_total, s.recorded_total)
    return [tuple(row) for row in conn.execute(query)]  # type: ignore[misc]
