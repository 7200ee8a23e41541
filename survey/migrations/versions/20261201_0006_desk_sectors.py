"""desk_sectors: the sectors (lĩnh vực) each desk serves

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 12:00:00

A desk with one sector gives its QR responses that sector, so sector-group
targets (75% land, 80% health and education) apply to them; a desk with several
makes the survey page ask which one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "desk_sectors",
        sa.Column("desk_id", sa.Integer(), nullable=False),
        sa.Column("sector_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["desk_id"],
            ["desks.id"],
            name=op.f("fk_desk_sectors_desk_id_desks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sector_id"],
            ["sectors.id"],
            name=op.f("fk_desk_sectors_sector_id_sectors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("desk_id", "sector_id", name=op.f("pk_desk_sectors")),
    )
    op.create_index(op.f("ix_desk_sectors_sector_id"), "desk_sectors", ["sector_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_desk_sectors_sector_id"), table_name="desk_sectors")
    op.drop_table("desk_sectors")
