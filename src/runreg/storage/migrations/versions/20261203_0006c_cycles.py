"""certification cycles: cycles, their member datasets, the history of every change to them

Revision ID: 0006c
Revises: 0006l
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006c"
down_revision: str | None = "0006l"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "cycles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("states", JSON, nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=255), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cycles")),
    )
    op.create_index(
        "uq_cycles_live_name",
        "cycles",
        ["name"],
        unique=True,
        sqlite_where=sa.text("deleted = 0"),
        postgresql_where=sa.text("deleted = false"),
    )
    op.create_table(
        "cycle_datasets",
        sa.Column("cycle_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("run_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("added_by", sa.String(length=255), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycles.id"], name=op.f("fk_cycle_datasets_cycle_id_cycles")),
        sa.PrimaryKeyConstraint("cycle_id", "run_number", "name", name=op.f("pk_cycle_datasets")),
    )
    op.create_index("ix_cycle_datasets_dataset", "cycle_datasets", ["run_number", "name"], unique=False)
    op.create_table(
        "cycle_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(length=255), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("workspace", sa.String(length=64), nullable=True),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.Column("details", JSON, nullable=False),
        sa.Column("change_set_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycles.id"], name=op.f("fk_cycle_events_cycle_id_cycles")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cycle_events")),
    )
    op.create_index("ix_cycle_events_cycle_id", "cycle_events", ["cycle_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_cycle_events_cycle_id", table_name="cycle_events")
    op.drop_table("cycle_events")
    op.drop_index("ix_cycle_datasets_dataset", table_name="cycle_datasets")
    op.drop_table("cycle_datasets")
    op.drop_index("uq_cycles_live_name", table_name="cycles")
    op.drop_table("cycles")
