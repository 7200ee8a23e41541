"""users.session_generation: sign-out ends every copy of a staff session

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:40:00

A signed session cookie cannot be revoked by itself; a per-user counter that
the cookie must match can.  Bumping it at sign-out (or by an admin) ends every
session of that user, including copies of the cookie.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_generation")
