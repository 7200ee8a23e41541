"""feedback cases

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 17:00:00

A comment becomes a case (issue 17): a tracking code for the citizen, a due
day, an assignee, a public reply, a close reason, a low-score flag; statuses
new -> in_progress -> answered -> closed ("resolved" becomes "closed" with a
reason saying it predates case handling). Staff-internal notes, the contacts
citizens leave with consent, and each unit's low-score setting get their own
tables. Existing comments get a code and a due day here (10 working days,
the default of SURVEY_FEEDBACK_DUE_WORKING_DAYS).

SQLite rebuilds ``comments`` (batch mode) for the new CHECK and unique code;
no table references it before this revision, so the rebuild drops nothing.
"""

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # survey.services.codes
OLD = "status IN ('new', 'in_progress', 'resolved')"
NEW = "status IN ('new', 'in_progress', 'answered', 'closed')"
LEGACY_REASON = "Đã xử lý trước khi có theo dõi hồ sơ ý kiến."


def _due(created: datetime, days: int = 10):
    day = created.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    while days:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def upgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tracking_code", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("due_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("assigned_to_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("public_reply", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("replied_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("close_reason", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("attention", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.drop_constraint(batch_op.f("ck_comments_status"), type_="check")
        batch_op.create_unique_constraint(
            batch_op.f("uq_comments_tracking_code"), ["tracking_code"]
        )
        batch_op.create_index(
            batch_op.f("ix_comments_assigned_to_id"), ["assigned_to_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_comments_assigned_to_id_users"),
            "users",
            ["assigned_to_id"],
            ["id"],
            ondelete="SET NULL",
        )
    comments = sa.table(
        "comments",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("created_at", sa.DateTime),
        sa.column("tracking_code", sa.String),
        sa.column("due_on", sa.Date),
        sa.column("closed_at", sa.DateTime),
        sa.column("close_reason", sa.Text),
    )
    conn = op.get_bind()
    now = datetime.utcnow()
    rows = conn.execute(sa.select(comments.c.id, comments.c.created_at)).all()
    for cid, created in rows:
        code = "PA-" + "".join(secrets.choice(ALPHABET) for _ in range(7))
        conn.execute(
            comments.update()
            .where(comments.c.id == cid)
            .values(tracking_code=code, due_on=_due(created or now))
        )
    conn.execute(
        comments.update()
        .where(comments.c.status == "resolved")
        .values(status="closed", closed_at=now, close_reason=LEGACY_REASON)
    )
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_check_constraint(batch_op.f("ck_comments_status"), NEW)

    op.create_table(
        "feedback_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_feedback_notes_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_feedback_notes_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_notes")),
    )
    with op.batch_alter_table("feedback_notes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feedback_notes_comment_id"), ["comment_id"], unique=False
        )
    op.create_table(
        "feedback_contacts",
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("contact", sa.String(length=254), nullable=False),
        sa.Column("consented_at", sa.DateTime(), nullable=False),
        sa.Column("delete_after", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_feedback_contacts_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("comment_id", name=op.f("pk_feedback_contacts")),
    )
    with op.batch_alter_table("feedback_contacts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feedback_contacts_delete_after"), ["delete_after"], unique=False
        )
    op.create_table(
        "feedback_settings",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("low_score_alert", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_feedback_settings_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_feedback_settings")),
    )


def downgrade() -> None:
    op.drop_table("feedback_settings")
    op.drop_table("feedback_contacts")
    op.drop_table("feedback_notes")
    op.execute("UPDATE comments SET status = 'resolved' WHERE status IN ('answered', 'closed')")
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_comments_status"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_comments_assigned_to_id_users"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_comments_assigned_to_id"))
        batch_op.drop_constraint(batch_op.f("uq_comments_tracking_code"), type_="unique")
        for column in (
            "attention",
            "close_reason",
            "closed_at",
            "replied_at",
            "public_reply",
            "assigned_to_id",
            "due_on",
            "tracking_code",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_check_constraint(batch_op.f("ck_comments_status"), OLD)
