"""Certification cycles: the cycle, its member datasets and the history of every change to it."""

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    false,
)

from runreg.storage.schema import Json, metadata

cycles = Table(
    "cycles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False),
    Column("deadline", DateTime(timezone=True), nullable=False),
    # Participating workspace -> "pending" | "completed"; always holds "global".
    Column("states", Json, nullable=False),
    Column("deleted", Boolean, nullable=False, server_default="0"),
    Column("created_by", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(255), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
# A name is unique among the cycles not deleted: a deleted cycle's name can be given again.
Index(
    "uq_cycles_live_name",
    cycles.c.name,
    unique=True,
    sqlite_where=cycles.c.deleted == false(),
    postgresql_where=cycles.c.deleted == false(),
)

cycle_datasets = Table(
    "cycle_datasets",
    metadata,
    Column("cycle_id", Integer, ForeignKey("cycles.id"), primary_key=True, autoincrement=False),
    Column("run_number", Integer, primary_key=True, autoincrement=False),
    Column("name", String(255), primary_key=True),
    Column("added_by", String(255), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
)
# "Which cycles hold this dataset" (the dataset page, the offline tables).
Index("ix_cycle_datasets_dataset", cycle_datasets.c.run_number, cycle_datasets.c.name)

# Every change to a cycle: who, when, why, what (created, edited, datasets added or removed, a workspace
# completed or back to pending, datasets moved — with the registry change set of the move —, deleted).
cycle_events = Table(
    "cycle_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("cycle_id", Integer, ForeignKey("cycles.id"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("author", String(255), nullable=False),
    Column("actor_kind", String(16), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("workspace", String(64), nullable=True),
    Column("comment", Text, nullable=False, server_default=""),
    Column("details", Json, nullable=False),
    Column("change_set_id", Integer, nullable=True),
)
Index("ix_cycle_events_cycle_id", cycle_events.c.cycle_id, cycle_events.c.id)
