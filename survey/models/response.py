"""Citizen responses, their answers and comments."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.db import Base
from survey.models._types import utcnow

# "paper": typed in from paper forms (survey responses import --channel paper).
CHANNELS = ("qr", "link", "kiosk", "import", "paper")
# Rows whose abuse hashes are still there (only the last days' after each purge).
HASHED = "client_hash IS NOT NULL OR device_hash IS NOT NULL"
# Questionnaire demographic code -> Response column.
DEMOGRAPHIC_COLUMNS = {
    "client_type": "client_type",
    "sex": "sex",
    "age_band": "age_band",
    "channel": "service_channel",
}


class Response(Base):
    __tablename__ = "responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Issued by the server with the form; the unique constraint makes retries
    # and double taps idempotent without a check-then-insert race.
    submission_id: Mapped[str] = mapped_column(String(64), unique=True)
    desk_id: Mapped[int] = mapped_column(ForeignKey("desks.id", ondelete="RESTRICT"), index=True)
    # The desk's unit when answered: moving a desk later must not rewrite history.
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    questionnaire_version_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaire_versions.id", ondelete="RESTRICT"), index=True
    )
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Local (Asia/Ho_Chi_Minh) calendar day: the PSU of the default design.
    day: Mapped[date] = mapped_column(Date, index=True)
    channel: Mapped[str] = mapped_column(String(16), default="qr")
    sector_id: Mapped[int | None] = mapped_column(ForeignKey("sectors.id", ondelete="SET NULL"))
    procedure_code: Mapped[str | None] = mapped_column(String(64))
    # Keyed hash of the case number for per-transaction links (one response per
    # case); the case number itself is never stored.
    case_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    # Optional demographics (codes from the questionnaire).
    client_type: Mapped[str | None] = mapped_column(String(16))
    sex: Mapped[str | None] = mapped_column(String(16))
    age_band: Mapped[str | None] = mapped_column(String(16))
    service_channel: Mapped[str | None] = mapped_column(String(16))
    # Comma-separated quality flags ("" = clean). Flagged rows are kept and
    # excluded from indices by default.
    quality_flags: Mapped[str] = mapped_column(String(128), default="")
    # Keyed daily-rotating hashes (never raw IP / device ids), for abuse checks.
    client_hash: Mapped[str | None] = mapped_column(String(64))
    device_hash: Mapped[str | None] = mapped_column(String(64))

    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )
    comment: Mapped[Comment | None] = relationship(
        back_populates="response", cascade="all, delete-orphan", uselist=False
    )

    __table_args__ = (
        CheckConstraint("channel IN ('qr', 'link', 'kiosk', 'import', 'paper')", name="channel"),
        # The burst check of every submission: one network, one desk, last minutes.
        # With separate indexes SQLite picked desk_id and scanned the whole desk.
        Index("ix_responses_client_desk_time", "client_hash", "desk_id", "submitted_at"),
        # The same for one device (the burst is counted per device first); its
        # leading column also serves the device's count of the day.
        Index("ix_responses_device_desk_time", "device_hash", "desk_id", "submitted_at"),
        # The daily purge of the abuse hashes (services.hash_keys) finds the few
        # days still hashed without reading every older response.
        Index(
            "ix_responses_hashed_day",
            "day",
            postgresql_where=text(HASHED),
            sqlite_where=text(HASHED),
        ),
    )


class Answer(Base):
    """One item's answer: value 1..5, or NULL for "Không áp dụng". Unanswered: no row."""

    __tablename__ = "answers"

    response_id: Mapped[int] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    item_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int | None] = mapped_column(SmallInteger)

    response: Mapped[Response] = relationship(back_populates="answers")

    __table_args__ = (CheckConstraint("value IS NULL OR value BETWEEN 1 AND 5", name="value"),)


class Comment(Base):
    """Free text a citizen left; a status lets the unit follow it up."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), unique=True
    )
    text: Mapped[str] = mapped_column(Text)
    # comment | suggestion | complaint
    kind: Mapped[str] = mapped_column(String(16), default="comment")
    # new | in_progress | answered | closed (services.feedback)
    status: Mapped[str] = mapped_column(String(16), default="new")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The case (services.feedback.open_case): the citizen's tracking code, the
    # local day it is due, who handles it, the public reply, how it closed.
    tracking_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    due_on: Mapped[date | None] = mapped_column(Date)
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    public_reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None] = mapped_column(DateTime)  # the first reply
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    close_reason: Mapped[str | None] = mapped_column(Text)
    # Opened by a "Rất không hài lòng" answer: shown first, marked in the inbox.
    attention: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    response: Mapped[Response] = relationship(back_populates="comment")

    __table_args__ = (
        CheckConstraint("kind IN ('comment', 'suggestion', 'complaint')", name="kind"),
        CheckConstraint("status IN ('new', 'in_progress', 'answered', 'closed')", name="status"),
    )
