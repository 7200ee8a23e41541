"""answers on the response row

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 18:00:00

Issue 20, point 5: a response's answers move from one ``answers`` row per
item to one column on the response, ``responses.answers``: a character per
item of its questionnaire version, in the version's ``all_item_codes()``
order, ``0`` not answered, ``1``..``5`` the value, ``6`` not applicable
(``survey.models.response``).  bench/submit/README.md ("Answer storage at
national volume") gives the figures behind the choice.

The packing runs in the database, one UPDATE per questionnaire version with
one correlated primary-key lookup per item, the same SQL on both databases.
SQLite adds the column with its CHECK in ALTER TABLE (no rebuild: a rebuild
of ``responses`` would cascade to the comments).  The downgrade unpacks the
same way.
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from questionnaires.loader import from_dict

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK = "ltrim(answers, '0123456') = ''"
NAME = "ck_responses_answers"


def _versions(conn) -> list[tuple[int, list[str]]]:
    rows = conn.execute(sa.text("SELECT id, definition FROM questionnaire_versions")).all()
    return [(vid, from_dict(json.loads(text)).all_item_codes()) for vid, text in rows]


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            "ALTER TABLE responses ADD COLUMN answers VARCHAR DEFAULT '' NOT NULL "
            f"CONSTRAINT {NAME} CHECK ({CHECK})"
        )
    else:
        op.add_column(
            "responses", sa.Column("answers", sa.String(), server_default="", nullable=False)
        )
        op.create_check_constraint(op.f(NAME), "responses", CHECK)
    for vid, codes in _versions(conn):
        if not codes:
            continue
        parts = " || ".join(
            "coalesce((SELECT CASE WHEN a.value IS NULL THEN '6' "
            "ELSE CAST(a.value AS VARCHAR) END FROM answers a "
            f"WHERE a.response_id = responses.id AND a.item_code = :c{k}), '0')"
            for k in range(len(codes))
        )
        conn.execute(
            sa.text(f"UPDATE responses SET answers = {parts} WHERE questionnaire_version_id = :v"),
            {"v": vid, **{f"c{k}": c for k, c in enumerate(codes)}},
        )
    op.drop_table("answers")


def downgrade() -> None:
    op.create_table(
        "answers",
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=32), nullable=False),
        sa.Column("value", sa.SmallInteger(), nullable=True),
        sa.CheckConstraint("value IS NULL OR value BETWEEN 1 AND 5", name=op.f("ck_answers_value")),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_answers_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("response_id", "item_code", name=op.f("pk_answers")),
    )
    conn = op.get_bind()
    for vid, codes in _versions(conn):
        for k, code in enumerate(codes, start=1):
            conn.execute(
                sa.text(
                    "INSERT INTO answers (response_id, item_code, value) "
                    "SELECT id, :code, CASE substr(answers, :k, 1) WHEN '6' THEN NULL "
                    "ELSE CAST(substr(answers, :k, 1) AS INTEGER) END FROM responses "
                    "WHERE questionnaire_version_id = :v AND substr(answers, :k, 1) NOT IN ('', '0')"
                ),
                {"code": code, "k": k, "v": vid},
            )
    if conn.dialect.name == "sqlite":
        op.execute("ALTER TABLE responses DROP COLUMN answers")  # SQLite >= 3.35
    else:
        op.drop_constraint(op.f(NAME), "responses", type_="check")
        op.drop_column("responses", "answers")
