"""ingestion scan cursor, worker heartbeats, JSON job claims

Revision ID: 0004a
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004a"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ingestion_scans",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("high_water", sa.String(length=64), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reconciled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scans_since_reconciliation", sa.Integer(), server_default="0", nullable=False),
        sa.Column("scan_kind", sa.String(length=16), nullable=True),
        sa.Column("scan_floor", sa.String(length=64), nullable=True),
        sa.Column("scan_top", sa.String(length=64), nullable=True),
        sa.Column("scan_offset", sa.Integer(), nullable=True),
        sa.Column("scan_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_ingestion_scans")),
    )
    op.create_table(
        "worker_heartbeats",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cycles", sa.Integer(), server_default="0", nullable=False),
        sa.Column("failed_cycles", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_summary", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_heartbeats")),
    )
    with op.batch_alter_table("json_jobs") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("json_jobs") as batch:
        batch.drop_column("heartbeat_at")
        batch.drop_column("claimed_by")
    op.drop_table("worker_heartbeats")
    op.drop_table("ingestion_scans")
