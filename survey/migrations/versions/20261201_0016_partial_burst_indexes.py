"""burst indexes hold only the rows that still have their hashes

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 19:30:00

The burst and repeat checks look a device or a network up by its hash, so a
row without one (an imported response, or any response once the daily purge
has nulled its hashes: docs/privacy.md) is never found through these two
indexes. As partial indexes (WHERE the hash IS NOT NULL) they hold about two
days of responses instead of all of them, which is what the submit path
searches and writes, and a bulk import no longer writes them at all. Both
databases use a partial index for ``hash = :value`` (a strict comparison
implies IS NOT NULL).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_responses_client_desk_time": "client_hash",
    "ix_responses_device_desk_time": "device_hash",
}


def _create(name: str, hash_column: str, partial: bool) -> None:
    where = sa.text(f"{hash_column} IS NOT NULL") if partial else None
    op.create_index(
        name,
        "responses",
        [hash_column, "desk_id", "submitted_at"],
        postgresql_where=where,
        sqlite_where=where,
    )


def upgrade() -> None:
    for name, column in INDEXES.items():
        op.drop_index(name, table_name="responses")
        _create(name, column, partial=True)


def downgrade() -> None:
    for name, column in INDEXES.items():
        op.drop_index(name, table_name="responses")
        _create(name, column, partial=False)
