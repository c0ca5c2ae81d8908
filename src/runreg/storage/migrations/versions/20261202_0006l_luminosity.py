"""luminosity: per-run per-source LS arrays and brilcalc imports

Revision ID: 0006l
Revises: 0004t
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006l"
down_revision: str | None = "0004t"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "luminosity_series",
        sa.Column("run_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("normtag", sa.String(length=255), server_default="", nullable=False),
        sa.Column("ls_count", sa.Integer(), nullable=False),
        sa.Column("delivered", sa.LargeBinary(), nullable=False),
        sa.Column("recorded", sa.LargeBinary(), nullable=False),
        sa.Column("delivered_total", sa.Float(), nullable=False),
        sa.Column("recorded_total", sa.Float(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("run_number", "source", name=op.f("pk_luminosity_series")),
    )
    op.create_table(
        "luminosity_imports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("normtag", sa.String(length=255), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("lumisections", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.String(length=255), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_luminosity_imports")),
    )


def downgrade() -> None:
    op.drop_table("luminosity_imports")
    op.drop_table("luminosity_series")
