"""Current-state projections of the registry, updated in the same transaction as the events."""

from sqlalchemy import Boolean, Column, DateTime, Float, Index, Integer, String, Table, Text, false, text

from runreg.storage.schema import Json, metadata

runs = Table(
    "runs",
    metadata,
    Column("run_number", Integer, primary_key=True, autoincrement=False),
    Column("oms_attributes", Json, nullable=False),
    Column("rr_attributes", Json, nullable=False),
    Column("rr_automatic", Json, nullable=False),
    Column("rr_manual", Json, nullable=False),
    Column("ls_count", Integer, nullable=False, server_default="0"),
    # Stream version of the run: the optimistic-concurrency guard of every write.
    Column("version", Integer, nullable=False),
    Column("last_change_set", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # Hidden from the run listings (event RunVisibilityChanged), with why; migration 0008h.
    Column("hidden", Boolean, nullable=False, server_default=false()),
    Column("hidden_reason", Text, nullable=False, server_default=""),
)

datasets = Table(
    "datasets",
    metadata,
    Column("run_number", Integer, primary_key=True, autoincrement=False),
    Column("name", String(255), primary_key=True),
    Column("attributes", Json, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Index("ix_datasets_name", datasets.c.name)

#: The offline workspaces of the shipped configuration whose datasets waiting for the DQM GUI are indexed
#: (migration 0006w): the offline tables list and count them among 100,000 datasets on every page. Each
#: index holds only the waiting datasets, in the tables' order; its PostgreSQL condition is the expression
#: the filter language compiles `dataset_attributes.<ws>_state = 'waiting dqm gui'` to (the planner then
#: uses it).
WAITING_INDEXED_WORKSPACES = (
    "global", "btag", "castor", "cms", "csc", "ctpps", "dc", "dt", "ecal", "egamma", "gem", "hcal", "hlt",
    "jetmet", "l1t", "lumi", "muon", "rpc", "tau", "tracker",
)  # fmt: skip


def waiting_condition(workspace: str, dialect: str) -> str:
    """The condition of the waiting-datasets index of `workspace` for `dialect`."""
    if dialect == "postgresql":
        path = f"'{{{workspace}_state}}'::text[]"
        return f"(CAST((attributes #>> {path}) AS VARCHAR) COLLATE \"C\") = 'waiting dqm gui'"
    return f"json_extract(attributes, '$.{workspace}_state') = 'waiting dqm gui'"


for _workspace in WAITING_INDEXED_WORKSPACES:
    Index(
        f"ix_datasets_waiting_{_workspace}",
        datasets.c.run_number.desc(),
        datasets.c.name,
        postgresql_where=text(waiting_condition(_workspace, "postgresql")),
        sqlite_where=text(waiting_condition(_workspace, "sqlite")),
    )

#: Indexes on an expression of PostgreSQL's JSON operators, created by their migration on PostgreSQL only (the
#: metadata cannot hold one expression per engine): `ix_runs_ls_duration` (0007r), the tables' LS sort.
POSTGRESQL_ONLY_INDEXES = frozenset({"ix_runs_ls_duration"})
#: Datasets waiting for the DQM GUI in ANY workspace (migration 0007g), the DQM GUI pinger's work list: the
#: state's text in the JSON document (a dataset whose other text mentions it is read and dropped in Python).
#: One index instead of an OR of the per-workspace ones, which the planner estimates as most of the table.
WAITING_ANY = "waiting dqm gui"


def waiting_any_condition(dialect: str) -> str:
    cast = "CAST(attributes AS TEXT)" if dialect == "postgresql" else "attributes"
    return f"{cast} LIKE '%{WAITING_ANY}%'"


Index(
    "ix_datasets_waiting_any",
    datasets.c.run_number.desc(),
    datasets.c.name,
    postgresql_where=text(waiting_any_condition("postgresql")),
    sqlite_where=text(waiting_any_condition("sqlite")),
)

# layer is 'automatic', 'manual' or 'effective' (manual over automatic): readers use 'effective'.
flag_ranges = Table(
    "flag_ranges",
    metadata,
    Column("run_number", Integer, primary_key=True, autoincrement=False),
    Column("dataset", String(255), primary_key=True),
    Column("component", String(128), primary_key=True),
    Column("layer", String(16), primary_key=True),
    Column("first_ls", Integer, primary_key=True, autoincrement=False),
    Column("last_ls", Integer, nullable=False),
    Column("status", String(32), nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
    Column("cause", Text, nullable=False, server_default=""),
)

oms_ranges = Table(
    "oms_ranges",
    metadata,
    Column("run_number", Integer, primary_key=True, autoincrement=False),
    Column("dataset", String(255), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("first_ls", Integer, primary_key=True, autoincrement=False),
    Column("last_ls", Integer, nullable=False),
    Column("value", Json, nullable=True),
)

dataset_summaries = Table(
    "dataset_summaries",
    metadata,
    Column("run_number", Integer, primary_key=True, autoincrement=False),
    Column("dataset", String(255), primary_key=True),
    Column("ls_count", Integer, nullable=False),
    Column("triplet_summary", Json, nullable=False),
    Column("dcs_summary", Json, nullable=False),
    Column("recorded_lumi", Float, nullable=False),
    Column("delivered_lumi", Float, nullable=False),
)
