"""Case handling of citizens' feedback: internal notes, reply contacts, unit settings.

The case itself (tracking code, assignee, due day, public reply, closing) lives
on ``comments``: one comment is one case. Notes and contacts are separate
tables so that nothing that lists or exports comments can reach them by
accident: a note is staff-internal, a contact is personal data.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from survey.db import Base
from survey.models._types import utcnow


class FeedbackNote(Base):
    """A staff-internal note on a case; never shown to the citizen or published."""

    __tablename__ = "feedback_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author: Mapped[str] = mapped_column(String(64))  # the username, kept if the user goes
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class FeedbackContact(Base):
    """A phone number or e-mail a citizen left, with consent, to be answered.

    Read only through ``services.feedback.contact`` (managers of the unit),
    never exported, deleted ``FEEDBACK_CONTACT_DAYS`` after the case closes.
    """

    __tablename__ = "feedback_contacts"

    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    contact: Mapped[str] = mapped_column(String(254))
    consented_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Set when the case is closed; the purge deletes the row from then on.
    delete_after: Mapped[datetime | None] = mapped_column(DateTime, index=True)


class FeedbackSetting(Base):
    """A unit's feedback settings, inherited by its subtree (nearest row wins)."""

    __tablename__ = "feedback_settings"

    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )
    # A response with "Rất không hài lòng" (1) on any item and a comment opens
    # a case flagged for attention.
    low_score_alert: Mapped[bool] = mapped_column(Boolean, default=True)
