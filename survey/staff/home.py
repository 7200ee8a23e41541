"""The staff home page's work list: what needs doing in the user's unit, in numbers.

No routes here (the home page is ``units_views.dashboard``): the figures are
read from the feedback inbox, the volumes and the results wing, each only if
the user's role may see it, and a figure that cannot be computed is left out
rather than failing the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from survey.config import settings
from survey.models import Desk, Unit, Volume
from survey.reports import fmt
from survey.reports import texts as report_texts
from survey.reports.selection import SelectionError, latest_complete_month, resolve
from survey.services import access, units
from survey.staff.plumbing import today


@dataclass(frozen=True)
class Index:
    """The unit's satisfaction index over the last complete month, against its target."""

    month: date
    estimate: str | None
    interval: str | None
    target: str | None
    verdict: str | None
    verdict_label: str
    n: int


@dataclass(frozen=True)
class Work:
    new_feedback: int | None = None
    overdue_feedback: int | None = None
    month: date | None = None
    desks_without_volumes: list[Desk] | None = None
    index: Index | None = None


def _feedback(db, user) -> tuple[int | None, int | None]:
    from survey.services import feedback

    if not access.can_anywhere(user, "feedback.view"):
        return None, None
    box = feedback.inbox(db, user, feedback.Filters(), settings().TIMEZONE)
    return box.by_status.get("new", 0), getattr(box, "overdue", None)


def _missing_volumes(db, unit: Unit, month: date) -> list[Desk] | None:
    """Active desks of the unit's subtree with no volume row for ``month``
    (None when the subtree has no active desk: nothing to count)."""
    ids = units.subtree_ids(db, unit.id)
    active = select(Desk).where(Desk.unit_id.in_(ids), Desk.active.is_(True))
    if db.scalar(active.limit(1)) is None:
        return None
    counted = select(Volume.desk_id).where(Volume.month == month, Volume.desk_id.is_not(None))
    return list(db.scalars(active.where(Desk.id.not_in(counted)).order_by(Desk.name)))


def _index(db, user, unit: Unit, start: date, end: date) -> Index | None:
    from survey.reports.build import build_for
    from survey.reports.frame import SURVEY_CHANNEL

    try:
        sel = resolve(db, user, today=today(), unit=unit.code, start=start, end=end)
    except (SelectionError, access.Forbidden):
        return None
    # The channel breakdown only: the cells the frame is read with carry it.
    report = build_for(db, sel, by=(SURVEY_CHANNEL,))
    o = report.result["overall"]
    locale = str(get_locale() or "vi")
    low, high = report_texts.shown_interval(o)
    return Index(
        month=start,
        estimate=fmt.pct(o["estimate"], locale) if o["estimate"] is not None else None,
        interval=fmt.interval(low, high, locale) if low is not None else None,
        target=fmt.pct(o["target"], locale, 0) if o["target"] is not None else None,
        verdict=o["verdict"],
        verdict_label=report_texts.verdict_label(o["verdict"], _),
        n=int(o["n"] or 0),
    )


def work(db, user, home: Unit | None) -> Work:
    if home is None:
        return Work()
    start, end = latest_complete_month(today())
    new, overdue = _feedback(db, user)
    missing = (
        _missing_volumes(db, home, start) if access.can(user, "volume.view", home.id) else None
    )
    return Work(
        new_feedback=new,
        overdue_feedback=overdue,
        month=start,
        desks_without_volumes=missing,
        index=_index(db, user, home, start, end),
    )
