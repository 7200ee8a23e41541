"""Dropping the closed months' summaries a write made stale (``survey.models.rollup``).

Building them is the reports' part (``survey.reports.rollup.refresh``); the one
write that reaches a closed month, ``survey responses import``, calls
``invalidate`` in its own transaction, so no report ever reads a summary that
misses a stored response.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import delete
from sqlalchemy.orm import Session

from survey.models import RollupCell, RollupMonth


def invalidate(session: Session, days: Iterable[date]) -> int:
    """Drop the summaries of the months holding ``days``; how many months were dropped."""
    months = sorted({d.replace(day=1) for d in days})
    if not months:
        return 0
    session.execute(delete(RollupCell).where(RollupCell.month.in_(months)))
    result = session.execute(delete(RollupMonth).where(RollupMonth.month.in_(months)))
    return int(result.rowcount or 0)
