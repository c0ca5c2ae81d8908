"""What ingestion remembers between cycles: per-run marks of the OMS state it last processed."""

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
