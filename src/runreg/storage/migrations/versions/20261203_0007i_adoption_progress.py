"""Adoption: how far the import of each original Run Registry database got, and its golden JSONs

Revision ID: 0007i
Revises: 0007r
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007i"
down_revision: str | None = "0007r"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "adoption_progress",
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("last_event_version", sa.Integer(), nullable=False),
        sa.Column("last_atomic_version", sa.Integer(), nullable=False),
        sa.Column("change_sets", sa.Integer(), nullable=False),
        sa.Column("last_settings_id", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_json_id", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_adoption_progress")),
    )
    op.create_table(
        "adoption_jsons",
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("original_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("source", "original_id", name=op.f("pk_adoption_jsons")),
    )


def downgrade() -> None:
    op.drop_table("adoption_jsons")
    op.drop_table("adoption_progress")
