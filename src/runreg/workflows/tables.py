"""The workflow cache: slim documents, one index row per lookup key, dataset numbers now and their history,
and the update's own bookkeeping (feed position, pending recalculations, failures, callback outbox)."""

from sqlalchemy import BigInteger, Column, Float, Index, Integer, String, Table, Text

from runreg.storage.schema import Json, metadata

NAME = 400  # ReqMgr2 request names stay well below this
VALUE = 1000  # dataset names are the longest keys

workflows = Table(
    "workflows",
    metadata,
    Column("name", String(NAME), primary_key=True),
    Column("document", Json, nullable=False),  # §3.1 without EventNumberHistory (rebuilt from the rows below)
    Column("submitted", String(16), nullable=False),  # YYMMDD_hhmmss from the name: chronological order
    Column("status", String(64), nullable=True),
    Column("last_update", Float, nullable=False),  # the document's LastUpdate: its content or numbers changed
    Column("numbers_checked", Float, nullable=True),  # when DBS was last asked for its datasets' numbers
    Index("ix_workflows_submitted_name", "submitted", "name"),
)

# Every lookup of the original's views is an index scan on the primary key: (kind, value) → names.
workflow_keys = Table(
    "workflow_keys",
    metadata,
    Column("kind", String(32), primary_key=True),
    Column("value", String(VALUE), primary_key=True),
    Column("name", String(NAME), primary_key=True),
    Index("ix_workflow_keys_name", "name"),
    # Prefix and wildcard search (LIKE 'abc%') on PostgreSQL, whose collation-aware primary key cannot serve
    # LIKE (SQLite's GLOB could use the key; one schema on both engines keeps the drift check simple).
    Index("ix_workflow_keys_pattern", "kind", "value", postgresql_ops={"value": "text_pattern_ops"}),
)

_NUMBERS = (
    ("access_type", String(32)),
    ("events", BigInteger),
    ("size", BigInteger),
)

# The latest numbers of each output dataset of each workflow (what the dirty check compares with).
workflow_datasets = Table(
    "workflow_datasets",
    metadata,
    Column("name", String(NAME), primary_key=True),
    Column("dataset", String(VALUE), primary_key=True),
    *(Column(column, kind, nullable=False) for column, kind in _NUMBERS),
    Column("lumis", BigInteger, nullable=True),
    Column("time", Integer, nullable=False),
)

# §3.2 as rows: one per (workflow, dataset) each time that dataset's numbers changed, never rewritten.
workflow_history = Table(
    "workflow_history",
    metadata,
    Column("name", String(NAME), primary_key=True),
    Column("dataset", String(VALUE), primary_key=True),
    Column("time", Integer, primary_key=True),
    *(Column(column, kind, nullable=False) for column, kind in _NUMBERS),
    Column("lumis", BigInteger, nullable=True),
)

# Workflows whose numbers must be fetched again (related, DBS-modified, active, or failed last time).
workflow_pending = Table(
    "workflow_pending",
    metadata,
    Column("name", String(NAME), primary_key=True),
    Column("reason", String(32), nullable=False),
    Column("since", Float, nullable=False),
)

workflow_failures = Table(
    "workflow_failures",
    metadata,
    Column("name", String(NAME), primary_key=True),
    Column("stage", String(16), nullable=False),  # "document" (ReqMgr2) or "numbers" (DBS)
    Column("error", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("failed_at", Float, nullable=False),
)

workflow_settings = Table(
    "workflow_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Json, nullable=False),
)

# Callbacks owed after a real change, written in the change's transaction and removed once delivered.
workflow_outbox = Table(
    "workflow_outbox",
    metadata,
    Column("name", String(NAME), primary_key=True),
    Column("env", String(8), primary_key=True),
    Column("created", Float, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
)
