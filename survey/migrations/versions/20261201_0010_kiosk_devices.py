"""kiosk devices

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 15:10:00

A desk's shared tablets (kiosk mode): a unit manager registers a browser,
which keeps a random token in its cookie; the table keeps the token's sha256,
who registered it, when it was last used and whether it was revoked.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kiosk_devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("desk_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["desk_id"],
            ["desks.id"],
            name=op.f("fk_kiosk_devices_desk_id_desks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_kiosk_devices_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by"],
            ["users.id"],
            name=op.f("fk_kiosk_devices_revoked_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosk_devices")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_kiosk_devices_token_hash")),
    )
    with op.batch_alter_table("kiosk_devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kiosk_devices_desk_id"), ["desk_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("kiosk_devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kiosk_devices_desk_id"))
    op.drop_table("kiosk_devices")
