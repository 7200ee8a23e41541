"""Closed months of responses summarised once, so a report's cost grows with cells.

``RollupMonth`` marks a calendar month whose every desk with responses has its
``RollupCell``: that desk-month's cell totals and moment sums in one compressed
blob (``survey.reports.rollup``).  Responses are never updated or deleted and a
citizen's answer is always stored on its own day, so a closed month changes only
by ``survey responses import``, which drops the months it writes into (the next
refresh builds them again).  A report reads the blobs of the closed months it
covers whole and the responses of the other days.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from survey.db import Base
from survey.models._types import utcnow


class RollupMonth(Base):
    __tablename__ = "rollup_months"

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # its first day
    responses: Mapped[int] = mapped_column(Integer)  # summarised, flagged included
    built_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class RollupCell(Base):
    __tablename__ = "rollup_cells"

    month: Mapped[date] = mapped_column(
        ForeignKey("rollup_months.month", ondelete="CASCADE"), primary_key=True
    )
    desk_id: Mapped[int] = mapped_column(
        ForeignKey("desks.id", ondelete="CASCADE"), primary_key=True
    )
    responses: Mapped[int] = mapped_column(Integer)
    cells: Mapped[int] = mapped_column(Integer)  # fine cells in the blob: what a report reads
    data: Mapped[bytes] = mapped_column(LargeBinary)
