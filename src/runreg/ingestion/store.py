"""Read and write ingestion marks and the scan cursor; never commits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from runreg.ingestion.model import RunMark, Scan, ScanCursor
from runreg.ingestion.tables import ingestion_scans, oms_run_marks
from runreg.storage.database import as_utc

RUN_LIST = "oms-runs"


def load_marks(conn: Connection, run_numbers: list[int]) -> dict[int, RunMark]:
    """Every mark of these runs, failed attempts included (they carry their error)."""
    query = select(oms_run_marks).where(oms_run_marks.c.run_number.in_(run_numbers))
    return {
        r.run_number: RunMark(r.last_update, r.end_time, r.ls_count, r.error) for r in conn.execute(query)
    }


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


def load_cursor(conn: Connection, name: str = RUN_LIST) -> ScanCursor:
    row = conn.execute(select(ingestion_scans).where(ingestion_scans.c.name == name)).first()
    if row is None:
        return ScanCursor()
    scan = None
    if row.scan_kind is not None:
        scan = Scan(row.scan_kind, row.scan_floor, row.scan_top, row.scan_offset, as_utc(row.scan_started_at))
    return ScanCursor(
        high_water=row.high_water,
        completed_at=as_utc(row.completed_at),
        reconciled_at=as_utc(row.reconciled_at),
        scans_since_reconciliation=row.scans_since_reconciliation,
        scan=scan,
    )


def save_cursor(conn: Connection, cursor: ScanCursor, name: str = RUN_LIST) -> None:
    scan = cursor.scan
    values: dict[str, Any] = {
        "high_water": cursor.high_water,
        "completed_at": cursor.completed_at,
        "reconciled_at": cursor.reconciled_at,
        "scans_since_reconciliation": cursor.scans_since_reconciliation,
        "scan_kind": scan.kind if scan else None,
        "scan_floor": scan.floor if scan else None,
        "scan_top": scan.top if scan else None,
        "scan_offset": scan.offset if scan else None,
        "scan_started_at": scan.started_at if scan else None,
        "updated_at": datetime.now(UTC),
    }
    changed = conn.execute(update(ingestion_scans).where(ingestion_scans.c.name == name).values(values))
    if changed.rowcount == 0:
        conn.execute(insert(ingestion_scans).values(name=name, **values))
