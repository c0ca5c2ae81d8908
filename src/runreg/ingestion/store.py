"""Read and write ingestion marks; never commits."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, delete, insert, select

from runreg.ingestion.model import RunMark
from runreg.ingestion.tables import oms_run_marks


def load_marks(conn: Connection, run_numbers: list[int]) -> dict[int, RunMark]:
    query = select(oms_run_marks).where(
        oms_run_marks.c.run_number.in_(run_numbers), oms_run_marks.c.error.is_(None)
    )
    return {r.run_number: RunMark(r.last_update, r.end_time, r.ls_count) for r in conn.execute(query)}


def save_mark(conn: Connection, run_number: int, mark: RunMark, *, error: str | None = None) -> None:
    conn.execute(delete(oms_run_marks).where(oms_run_marks.c.run_number == run_number))
    conn.execute(
        insert(oms_run_marks).values(
            run_number=run_number,
            last_update=mark.last_update,
            end_time=mark.end_time,
            ls_count=mark.ls_count,
            processed_at=datetime.now(UTC),
            error=error,
        )
    )


def failed_runs(conn: Connection, limit: int = 20) -> list[int]:
    query = select(oms_run_marks.c.run_number).where(oms_run_marks.c.error.is_not(None)).limit(limit)
    return list(conn.execute(query).scalars())
