"""Tables of the append-only log: change sets (who, why, when) and the typed events they hold."""

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
    UniqueConstraint,
)

from runreg.storage.schema import Json, metadata

change_sets = Table(
    "change_sets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("author", String(255), nullable=False),
    Column("actor_kind", String(16), nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("reverts", Integer, ForeignKey("change_sets.id"), nullable=True),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("change_set_id", Integer, ForeignKey("change_sets.id"), nullable=False, index=True),
    # One stream per run: its datasets, LS flags and OMS values all version together.
    Column("run_number", Integer, nullable=False),
    Column("stream_version", Integer, nullable=False),
    Column("type", String(64), nullable=False),
    Column("schema_version", Integer, nullable=False, server_default="1"),
    # Denormalised from the payload so history and conflict queries can filter without parsing JSON.
    Column("dataset", String(255), nullable=True),
    Column("target", String(128), nullable=True),
    Column("first_ls", Integer, nullable=True),
    Column("last_ls", Integer, nullable=True),
    Column("manual", Boolean, nullable=False),
    Column("payload", Json, nullable=False),
    UniqueConstraint("run_number", "stream_version", name="uq_events_stream_version"),
)

Index("ix_events_run_dataset_target", events.c.run_number, events.c.dataset, events.c.target)
# The log page filters by author or actor kind, newest first, and links a change set to its reverts.
Index("ix_change_sets_author_id", change_sets.c.author, change_sets.c.id)
Index("ix_change_sets_actor_kind_id", change_sets.c.actor_kind, change_sets.c.id)
Index("ix_change_sets_reverts", change_sets.c.reverts)
