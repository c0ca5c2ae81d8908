"""datasets waiting for the DQM GUI indexed per shipped offline workspace; statistics of the states

Revision ID: 0006w
Revises: 0006c
Create Date: 2026-12-02

The offline tables list and count a workspace's datasets in state `waiting dqm gui` (few: the newest runs')
among 100,000 offline datasets; without an index every page read every dataset's JSON attributes (~250 ms
on PostgreSQL). Each index holds only the waiting datasets of one workspace, in the tables' order (run DESC,
name); see registry/tables.py.

PostgreSQL also gets statistics of each workspace's state, of `hidden` and of the run class as the filter
language reads them (expression statistics, PostgreSQL 14+): without them the planner guesses that 0.5 % of
the datasets are OPEN, SIGNOFF or COMPLETED instead of nearly all (pages past the first joined and sorted
every dataset: ~570 ms for page 40 instead of 6 ms), and that a class filter (`%Collisions%`) keeps 2 runs of
25,000 (150 ms instead of 0.5 ms). Alembic does not compare statistics objects: they live here only.

A workspace added to the configuration later has neither: its waiting table is read in full until a migration
adds them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006w"
down_revision: str | None = "0006c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The offline workspaces of the shipped configuration (configuration/default.yaml), as of this migration.
WORKSPACES = (
    "global", "btag", "castor", "cms", "csc", "ctpps", "dc", "dt", "ecal", "egamma", "gem", "hcal", "hlt",
    "jetmet", "l1t", "lumi", "muon", "rpc", "tau", "tracker",
)  # fmt: skip


def _condition(workspace: str, dialect: str) -> str:
    if dialect == "postgresql":
        return f"{_read(workspace + '_state')} = 'waiting dqm gui'"
    return f"json_extract(attributes, '$.{workspace}_state') = 'waiting dqm gui'"


def _read(key: str, column: str = "attributes") -> str:
    """How the filter language reads a JSON text value on PostgreSQL."""
    return f"(CAST(({column} #>> '{{{key}}}'::text[]) AS VARCHAR) COLLATE \"C\")"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for key in (*(f"{ws}_state" for ws in WORKSPACES), "hidden"):
            op.execute(f"CREATE STATISTICS st_datasets_{key} ON ({_read(key)}) FROM datasets")
        op.execute(f"CREATE STATISTICS st_runs_class ON ({_read('class', 'rr_attributes')}) FROM runs")
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        for workspace in WORKSPACES:
            batch_op.create_index(
                f"ix_datasets_waiting_{workspace}",
                [sa.text("run_number DESC"), "name"],
                unique=False,
                postgresql_where=sa.text(_condition(workspace, "postgresql")),
                sqlite_where=sa.text(_condition(workspace, "sqlite")),
            )


def downgrade() -> None:
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        for workspace in WORKSPACES:
            batch_op.drop_index(f"ix_datasets_waiting_{workspace}")
    if op.get_bind().dialect.name == "postgresql":
        for key in (*(f"{ws}_state" for ws in WORKSPACES), "hidden"):
            op.execute(f"DROP STATISTICS IF EXISTS st_datasets_{key}")
        op.execute("DROP STATISTICS IF EXISTS st_runs_class")
