"""Heartbeats of the periodic workers: who runs each one, since when, its last beat and last cycle."""

from sqlalchemy import Column, DateTime, Integer, String, Table, Text

from runreg.storage.schema import Json, metadata

worker_heartbeats = Table(
    "worker_heartbeats",
    metadata,
    Column("name", String(64), primary_key=True),  # one row per worker kind: only one instance runs at once
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("beat_at", DateTime(timezone=True), nullable=False),
    Column("stopped_at", DateTime(timezone=True), nullable=True),  # set on a clean exit
    Column("cycles", Integer, nullable=False, server_default="0"),
    Column("failed_cycles", Integer, nullable=False, server_default="0"),
    Column("last_summary", Json, nullable=True),
    Column("last_error", Text, nullable=True),
)
