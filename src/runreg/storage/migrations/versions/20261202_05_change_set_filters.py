"""change-set indexes for the log page (author, actor kind, reverts)

Revision ID: 0005_log_filters
Revises: 0004w
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_log_filters"
down_revision: str | None = "0004w"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("change_sets", schema=None) as batch_op:
        batch_op.create_index("ix_change_sets_author_id", ["author", "id"], unique=False)
        batch_op.create_index("ix_change_sets_actor_kind_id", ["actor_kind", "id"], unique=False)
        batch_op.create_index("ix_change_sets_reverts", ["reverts"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("change_sets", schema=None) as batch_op:
        batch_op.drop_index("ix_change_sets_reverts")
        batch_op.drop_index("ix_change_sets_actor_kind_id")
        batch_op.drop_index("ix_change_sets_author_id")
