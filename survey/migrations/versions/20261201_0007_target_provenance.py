"""targets.set_by_id, targets.updated_at: who set a target, and when

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 13:00:00

A target is shown with where it comes from: inherited from an ancestor's plan,
or set at the unit by a named person. A unit may only raise the target it
inherits; a lower one must be set by an ancestor's manager, and the display
says who decided. Existing rows keep NULL (nobody recorded).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("set_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_targets_set_by_id_users"),
            "users",
            ["set_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_targets_set_by_id_users"), type_="foreignkey")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("set_by_id")
