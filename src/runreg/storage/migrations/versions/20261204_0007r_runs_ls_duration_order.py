"""runs indexed in the tables' "LS" sort order (PostgreSQL)

Revision ID: 0007r
Revises: 0007g
Create Date: 2026-12-02

Sorting a run or offline-dataset table by its LS column (`oms_attributes.ls_duration`, the most used sort
after the run number) computed the filter language's numeric JSON expression for every run and sorted them
all: ~40 ms per table over 25,000 runs, twice per offline page (waiting and editable tables). This index holds
that expression in the sort's order, so the first page is an index scan. The expression is exactly what
`registry.filters` compiles a numeric sort on an OMS attribute to (the planner matches it structurally).
SQLite tables are small: nothing there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007r"
down_revision: str | None = "0007g"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LS_DURATION = (
    "(CASE WHEN (jsonb_typeof((oms_attributes #> '{ls_duration}'::text[])) = 'number'::text) "
    "THEN ((oms_attributes #>> '{ls_duration}'::text[]))::double precision ELSE NULL::double precision END)"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE INDEX ix_runs_ls_duration ON runs ({LS_DURATION} DESC NULLS LAST, run_number DESC)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_runs_ls_duration")
