"""composite index for the per-device burst check

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 13:10:00

The burst flag now counts one device's answers at one desk within the last
minutes (device_hash, desk_id, submitted_at) before one network's. With the
single-column device_hash index SQLite chose desk_id and scanned every
response of the desk, as it did for the network check before 0004. The
composite index serves that check and, by its leading column, the device's
count of the day, so it replaces the device_hash index.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_responses_device_desk_time",
            ["device_hash", "desk_id", "submitted_at"],
            unique=False,
        )
        batch_op.drop_index(batch_op.f("ix_responses_device_hash"))


def downgrade() -> None:
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_responses_device_hash"), ["device_hash"], unique=False)
        batch_op.drop_index("ix_responses_device_desk_time")
