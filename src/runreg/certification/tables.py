"""Golden-JSON jobs (what was asked, by whom, its progress, the stored result) and saved presets."""

from sqlalchemy import Boolean, Column, DateTime, Float, Integer, String, Table, Text

from runreg.storage.schema import Json, metadata

json_jobs = Table(
    "json_jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("status", String(16), nullable=False),  # queued | running | done | failed
    Column("progress", Float, nullable=False, server_default="0"),
    Column("created_by", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("rule", Json, nullable=False),
    Column("dataset_pattern", Text, nullable=False),
    Column("policy", String(16), nullable=False, server_default="refuse"),
    Column("tags", Text, nullable=False, server_default=""),
    Column("official", Boolean, nullable=False, server_default="0"),
    Column("preset", String(128), nullable=True),
    # Pinned at submission: the job computes the registry exactly as of this change set and configuration.
    Column("change_set_id", Integer, nullable=False),
    Column("config_version", Integer, nullable=False),
    Column("error", Text, nullable=True),
    Column("deleted", Boolean, nullable=False, server_default="0"),
    Column("result", Json, nullable=True),
    # Who runs the job ("host:pid") and its last sign of life: a start-up sweep re-queues a job whose holder
    # is gone or silent, and a live holder's job is never run twice.
    Column("claimed_by", String(255), nullable=True),
    Column("heartbeat_at", DateTime(timezone=True), nullable=True),
)

# Golden-JSON presets people save in the portal (the configured ones are the configuration's json_presets).
json_presets = Table(
    "json_presets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("description", Text, nullable=False, server_default=""),
    Column("dataset_pattern", Text, nullable=False, server_default=""),
    Column("rule", Json, nullable=False),
    Column("created_by", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
