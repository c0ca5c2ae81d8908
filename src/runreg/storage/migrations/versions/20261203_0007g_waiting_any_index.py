"""datasets waiting for the DQM GUI in any workspace: one partial index, the pinger's work list

Revision ID: 0007g
Revises: 0006p
Create Date: 2026-12-03

The DQM GUI pinger reads the datasets still `waiting dqm gui` in some workspace. An OR of the per-workspace
waiting conditions (migration 0006w) is estimated by PostgreSQL as most of the table (it assumes the 20
conditions independent) and read with a sequential scan of every dataset's JSON (1.1 s over 120,000
datasets); this index holds only the datasets whose document contains the state's text, so the pinger reads
those (a dataset whose other text mentions it is read and dropped in Python). See registry/tables.py.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007g"
down_revision: str | None = "0006p"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_POSTGRESQL = "CAST(attributes AS TEXT) LIKE '%waiting dqm gui%'"
_SQLITE = "attributes LIKE '%waiting dqm gui%'"


def upgrade() -> None:
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_datasets_waiting_any",
            [sa.text("run_number DESC"), "name"],
            unique=False,
            postgresql_where=sa.text(_POSTGRESQL),
            sqlite_where=sa.text(_SQLITE),
        )


def downgrade() -> None:
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.drop_index("ix_datasets_waiting_any")
