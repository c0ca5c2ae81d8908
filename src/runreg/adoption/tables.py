"""How far the import of each original database got: the last original event (and atomic version) whose
change set is committed in runreg, written in the same transaction as the change sets themselves."""

from sqlalchemy import Column, DateTime, Integer, String, Table

from runreg.storage.schema import metadata

adoption_progress = Table(
    "adoption_progress",
    metadata,
    # The original database, as host/port/name (never its credentials).
    Column("source", String(255), primary_key=True),
    Column("last_event_version", Integer, nullable=False),
    Column("last_atomic_version", Integer, nullable=False),
    Column("change_sets", Integer, nullable=False),
    # The last original `Settings` row stored as a configuration version.
    Column("last_settings_id", Integer, nullable=False, server_default="0"),
    # The last original `GeneratedJson` stored as a golden-JSON job.
    Column("last_json_id", Integer, nullable=False, server_default="0"),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

#: Which runreg golden-JSON job holds which original GeneratedJson (what verify regenerates).
adoption_jsons = Table(
    "adoption_jsons",
    metadata,
    Column("source", String(255), primary_key=True),
    Column("original_id", Integer, primary_key=True, autoincrement=False),
    Column("job_id", Integer, nullable=False),
)
