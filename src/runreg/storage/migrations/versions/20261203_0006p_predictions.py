"""ML predictions: submissions (who, when, what), the predicted LS ranges in force, and by status alone

Revision ID: 0006p
Revises: 0006w
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006p"
down_revision: str | None = "0006w"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "prediction_submissions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_number", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(length=255), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("author", sa.String(length=255), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("components", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("ranges", sa.Integer(), nullable=False),
        sa.Column("lumisections", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prediction_submissions")),
    )
    op.create_index(
        "ix_prediction_submissions_dataset", "prediction_submissions", ["run_number", "dataset"], unique=False
    )
    op.create_index(
        "ix_prediction_submissions_model", "prediction_submissions", ["model", "version"], unique=False
    )
    op.create_table(
        "prediction_ranges",
        sa.Column("run_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("dataset", sa.String(length=255), nullable=False),
        sa.Column("component", sa.String(length=128), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("first_ls", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_ls", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["prediction_submissions.id"],
            name=op.f("fk_prediction_ranges_submission_id_prediction_submissions"),
        ),
        sa.PrimaryKeyConstraint(
            "run_number",
            "dataset",
            "component",
            "model",
            "version",
            "first_ls",
            name=op.f("pk_prediction_ranges"),
        ),
    )
    op.create_index(
        "ix_prediction_ranges_model", "prediction_ranges", ["model", "version", "run_number"], unique=False
    )
    op.create_table(
        "prediction_status_ranges",
        sa.Column("run_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("dataset", sa.String(length=255), nullable=False),
        sa.Column("component", sa.String(length=128), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("first_ls", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_ls", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("min_score", sa.Float(), nullable=False),
        sa.Column("max_score", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "run_number",
            "dataset",
            "component",
            "model",
            "version",
            "first_ls",
            name=op.f("pk_prediction_status_ranges"),
        ),
    )
    op.create_index(
        "ix_prediction_status_ranges_model",
        "prediction_status_ranges",
        ["model", "version", "run_number"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_prediction_status_ranges_model", table_name="prediction_status_ranges")
    op.drop_table("prediction_status_ranges")
    op.drop_index("ix_prediction_ranges_model", table_name="prediction_ranges")
    op.drop_table("prediction_ranges")
    op.drop_index("ix_prediction_submissions_model", table_name="prediction_submissions")
    op.drop_index("ix_prediction_submissions_dataset", table_name="prediction_submissions")
    op.drop_table("prediction_submissions")
