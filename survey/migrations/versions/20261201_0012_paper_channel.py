"""responses.channel may be 'paper'

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 16:00:00

Paper questionnaires typed in and loaded with `survey responses import
--channel paper` keep their own channel, so a report can tell them from the
QR answers and from historical imports.

The CHECK only widens (every stored row still satisfies it). PostgreSQL
swaps the constraint. SQLite cannot alter a CHECK, and a batch rebuild
would DROP the responses table with foreign keys on, cascading to every
answer; SQLite documents editing the table's stored SQL instead for
loosening a constraint (https://www.sqlite.org/lang_altertable.html, "Making
Other Kinds Of Table Schema Changes"), which is what this does.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ck_responses_channel"
OLD = "channel IN ('qr', 'link', 'kiosk', 'import')"
NEW = "channel IN ('qr', 'link', 'kiosk', 'import', 'paper')"


def _sqlite_swap(old: str, new: str) -> None:
    conn = op.get_bind()
    sql = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'responses'"
    ).scalar_one()
    if old not in sql:
        raise RuntimeError(f"responses: CHECK {old!r} not found in the stored schema")
    version = conn.exec_driver_sql("PRAGMA schema_version").scalar_one()
    conn.exec_driver_sql("PRAGMA writable_schema = ON")
    conn.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'responses'",
        (sql.replace(old, new),),
    )
    # Other connections re-read the schema when its version changes.
    conn.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    conn.exec_driver_sql("PRAGMA writable_schema = OFF")


def _swap(old: str, new: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_swap(old, new)
        return
    # op.f: the name is final (the naming convention would prefix it again).
    op.drop_constraint(op.f(NAME), "responses", type_="check")
    op.create_check_constraint(op.f(NAME), "responses", new)


def upgrade() -> None:
    _swap(OLD, NEW)


def downgrade() -> None:
    op.execute("UPDATE responses SET channel = 'import' WHERE channel = 'paper'")
    _swap(NEW, OLD)
