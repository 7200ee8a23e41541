"""closed months summarised for reports

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 19:00:00

Issue 20: ``rollup_months`` and ``rollup_cells`` hold each closed month's
cell totals and moment sums per desk (``survey.models.rollup``). They start
empty: every month is read from the responses until the worker (or
``survey reports rollup``) builds it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rollup_months",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("built_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_rollup_months")),
    )
    op.create_table(
        "rollup_cells",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("desk_id", sa.Integer(), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("cells", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["desk_id"],
            ["desks.id"],
            name=op.f("fk_rollup_cells_desk_id_desks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["month"],
            ["rollup_months.month"],
            name=op.f("fk_rollup_cells_month_rollup_months"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("month", "desk_id", name=op.f("pk_rollup_cells")),
    )


def downgrade() -> None:
    op.drop_table("rollup_cells")
    op.drop_table("rollup_months")
