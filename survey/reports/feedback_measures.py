"""The sixth criterion from the handling data: how a selection's feedback was answered.

Per unit and month of the selection, the share of suggestions and complaints
answered by their due day and the median handling time
(``services.feedback.measures`` states the rules); the dashboard shows it
beside the PH items' satisfaction, the XLSX has a sheet of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from survey.config import DEFAULTS
from survey.models import Unit
from survey.reports import fmt as f
from survey.reports.texts import Gettext
from survey.services import feedback


@dataclass(frozen=True)
class Row:
    month: str  # "YYYY-MM"; "" for the whole period
    unit: str  # "" for every unit of the selection together
    measure: feedback.Measure


def rows(session: Session, report, tz: str = DEFAULTS["TIMEZONE"]) -> list[Row]:
    """The whole selection first, then each month, then each unit and month."""
    sel = report.selection
    found = feedback.measures(session, sel.unit_ids, sel.start, sel.end, tz)
    names = dict(
        session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(sorted(sel.unit_ids)))).all()
    )
    out = [Row("", "Tất cả", found[(0, "")])] if (0, "") in found else []
    for (unit_id, month), m in sorted(
        found.items(), key=lambda kv: (kv[0][0] != 0, names.get(kv[0][0], ""), kv[0][1])
    ):
        if month:
            out.append(Row(month, names.get(unit_id, "Tất cả") if unit_id else "Tất cả", m))
    return out


def view(report, locale: str, _: Gettext) -> dict | None:
    """The dashboard's block; None when the report's session is gone (a job's copy)."""
    session = object_session(report.selection.unit)
    if session is None:
        return None
    out = []
    for row in rows(session, report):
        m = row.measure
        out.append(
            {
                "month": row.month,
                "unit": _("Tất cả") if row.unit == "Tất cả" else row.unit,
                "received": f.num(m.received, locale),
                "answered": f.num(m.answered, locale),
                "on_time": f.pct(m.share_on_time, locale) if m.share_on_time is not None else "–",
                "median": f.num(m.median_days, locale, 1) if m.median_days is not None else "–",
            }
        )
    return {"rows": out} if out else None
