"""runs can be hidden from the run listings (soft-deleted), with a reason

Revision ID: 0008h
Revises: 0007i
Create Date: 2026-12-04

The projection of the event `RunVisibilityChanged`: `runs.hidden` and `runs.hidden_reason`. Every run stored
before is visible (the importer of an original Run Registry now maps its `RunEvent.deleted`: re-import, or
replay, a database imported before this revision to bring its deleted runs in hidden).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008h"
down_revision: str | None = "0007i"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("hidden", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("hidden_reason", sa.Text(), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("hidden_reason")
        batch.drop_column("hidden")
