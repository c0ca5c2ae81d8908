"""What ingestion remembers between cycles: per-run marks of the OMS state it processed, its scan cursor."""

from sqlalchemy import Column, DateTime, Integer, String, Table, Text

from runreg.storage.schema import metadata

oms_run_marks = Table(
    "oms_run_marks",
    metadata,
    Column("run_number", Integer, primary_key=True, autoincrement=False),
    Column("last_update", String(64), nullable=True),
    Column("end_time", String(64), nullable=True),
    Column("ls_count", Integer, nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False),
    # Set when the last attempt failed; such runs are retried by the next cycle.
    Column("error", Text, nullable=True),
)

# One row per scanned list (today only "oms-runs"): the high-water mark of the last completed scan and the
# position of the scan under way, written after every page so a killed or failed cycle resumes there.
ingestion_scans = Table(
    "ingestion_scans",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("high_water", String(64), nullable=True),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    Column("reconciled_at", DateTime(timezone=True), nullable=True),
    Column("scans_since_reconciliation", Integer, nullable=False, server_default="0"),
    Column("scan_kind", String(16), nullable=True),
    Column("scan_floor", String(64), nullable=True),
    Column("scan_top", String(64), nullable=True),
    Column("scan_offset", Integer, nullable=True),
    Column("scan_started_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
