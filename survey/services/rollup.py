"""Dropping the closed months' summaries a write made stale (``survey.models.rollup``).

Building them is the reports' part (``survey.reports.rollup.refresh``); the one
write that reaches a closed month, ``survey responses import``, calls
``invalidate`` in its own transaction, so no report ever reads a summary that
misses a stored response.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from survey.models import RollupCell, RollupMonth


def invalidate(session: Session, days: Iterable[date]) -> list[date]:
    """Drop the summaries of the months holding ``days``; the months that had one."""
    months = sorted({d.replace(day=1) for d in days})
    if not months:
        return []
    had = sorted(session.scalars(select(RollupMonth.month).where(RollupMonth.month.in_(months))))
    session.execute(delete(RollupCell).where(RollupCell.month.in_(months)))
    session.execute(delete(RollupMonth).where(RollupMonth.month.in_(months)))
    return had
