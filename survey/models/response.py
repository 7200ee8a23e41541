"""Citizen responses, their answers and comments.

A response's answers live on its own row, in ``answers``: one character per item
of its questionnaire version, in that version's ``all_item_codes()`` order
(versions are immutable, so the order never changes under a stored row):
``0`` not answered, ``1``..``5`` the value, ``6`` not applicable.  One row per
response instead of one per item: 24 rows fewer per submission, a bulk load is
one COPY, a report groups the strings without a join (docs/architecture.md,
"Answer storage").  ``encode_answers`` / ``decode_answers`` are the one codec.
"""

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
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.db import Base
from survey.models._types import utcnow

# The answer codes (see the module docstring).
NOT_ANSWERED, NA_CODE = "0", "6"
ANSWER_CHARS = "0123456"


def encode_answers(codes, answers: dict[str, int | None]) -> str:
    """``answers`` (item code -> 1..5, None for N/A; absent: not answered) in ``codes`` order."""
    out = []
    for code in codes:
        if code not in answers:
            out.append(NOT_ANSWERED)
        else:
            v = answers[code]
            out.append(NA_CODE if v is None else str(int(v)))
    return "".join(out)


def decode_answers(codes, packed: str) -> dict[str, int | None]:
    """The inverse of ``encode_answers``: answered items only (None for N/A)."""
    out: dict[str, int | None] = {}
    for code, ch in zip(codes, packed or "", strict=False):
        if ch != NOT_ANSWERED:
            out[code] = None if ch == NA_CODE else int(ch)
    return out


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

    # The answers, one code per item of the version (module docstring).
    answers: Mapped[str] = mapped_column(String, default="", server_default="")
    comment: Mapped[Comment | None] = relationship(
        back_populates="response", cascade="all, delete-orphan", uselist=False
    )

    __table_args__ = (
        CheckConstraint("channel IN ('qr', 'link', 'kiosk', 'import', 'paper')", name="channel"),
        # Only answer codes; ltrim(text, characters) is the same on both databases.
        CheckConstraint(f"ltrim(answers, '{ANSWER_CHARS}') = ''", name="answers"),
        # The burst check of every submission: one network, one desk, last minutes.
        # With separate indexes SQLite picked desk_id and scanned the whole desk.
        # Partial: rows without the hash (imported, or purged after two days)
        # are never searched by it, so only the last days' rows are indexed.
        Index(
            "ix_responses_client_desk_time",
            "client_hash",
            "desk_id",
            "submitted_at",
            postgresql_where=text("client_hash IS NOT NULL"),
            sqlite_where=text("client_hash IS NOT NULL"),
        ),
        # The same for one device (the burst is counted per device first); its
        # leading column also serves the device's count of the day.
        Index(
            "ix_responses_device_desk_time",
            "device_hash",
            "desk_id",
            "submitted_at",
            postgresql_where=text("device_hash IS NOT NULL"),
            sqlite_where=text("device_hash IS NOT NULL"),
        ),
        # The daily purge of the abuse hashes (services.hash_keys) finds the few
        # days still hashed without reading every older response.
        Index(
            "ix_responses_hashed_day",
            "day",
            postgresql_where=text(HASHED),
            sqlite_where=text(HASHED),
        ),
    )


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
