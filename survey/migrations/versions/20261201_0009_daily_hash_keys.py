"""daily hash keys

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 15:00:00

The abuse hashes of responses (client_hash, device_hash) were HMACs under
the deployment secret, so whoever holds it could recompute them from an
address: pseudonymised personal data. From now on each local day has a
random key of its own in this table, deleted after the abuse window
(services.hash_keys), and a day's hashes are nulled once it is out of the
window. Those stored before this revision were made under the deployment
secret and are nulled here. A partial index on the
days still hashed keeps the daily purge from reading every older response.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hash_keys",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_hash_keys")),
    )
    hashed = sa.text("client_hash IS NOT NULL OR device_hash IS NOT NULL")
    op.create_index(
        "ix_responses_hashed_day",
        "responses",
        ["day"],
        postgresql_where=hashed,
        sqlite_where=hashed,
    )
    # The hashes stored so far were made under the deployment secret: linkable by
    # whoever holds it, so they go now, in the upgrade, not in the first citizen's
    # request of the day (at province scale that would be a long UPDATE there).
    op.execute(f"UPDATE responses SET client_hash = NULL, device_hash = NULL WHERE {hashed.text}")


def downgrade() -> None:
    op.drop_index("ix_responses_hashed_day", table_name="responses")
    op.drop_table("hash_keys")
