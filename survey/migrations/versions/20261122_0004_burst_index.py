"""composite index for the burst check

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 19:10:00

The per-submission burst check filters on client_hash, desk_id and
submitted_at. With only single-column indexes SQLite chose desk_id and
scanned every response of the desk; the composite index serves the check
directly and replaces the client_hash index (its leading column).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_responses_client_desk_time",
            ["client_hash", "desk_id", "submitted_at"],
            unique=False,
        )
        batch_op.drop_index(batch_op.f("ix_responses_client_hash"))


def downgrade() -> None:
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_responses_client_hash"), ["client_hash"], unique=False)
        batch_op.drop_index("ix_responses_client_desk_time")
