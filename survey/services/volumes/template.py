"""The file a unit fills in: its active desks × the last 12 complete months.

Headers are the Vietnamese ones the importer reads (``plan.HEADER_ALIASES``);
a count already stored is filled in, so the file doubles as a correction form.
"Tên quầy" is only there to be read by people: the importer ignores it.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import Desk, Unit, Volume
from survey.services import access
from survey.services.access import Actor
from survey.services.units import subtree_ids

HEADER = ("Mã quầy", "Tên quầy", "Tháng", "Số hồ sơ")
MONTHS = 12


def last_months(today: date, n: int = MONTHS) -> list[date]:
    """The first days of the ``n`` complete months before ``today``'s, oldest first."""
    year, month = today.year, today.month
    out = []
    for _ in range(n):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        out.append(date(year, month, 1))
    return out[::-1]


def template_rows(
    session: Session, user: Actor, unit: Unit, today: date
) -> list[tuple[str, str, str, int | None]]:
    """(desk code, desk name, "MM/YYYY", stored count or None), desk by desk."""
    access.require(user, "volume.import", unit.id)
    months = last_months(today)
    desks = list(
        session.scalars(
            select(Desk)
            .where(Desk.unit_id.in_(subtree_ids(session, unit.id)), Desk.active.is_(True))
            .order_by(Desk.name, Desk.code)
        )
    )
    stored = {
        (v.desk_id, v.month): v.count
        for v in session.scalars(
            select(Volume).where(
                Volume.desk_id.in_([d.id for d in desks]), Volume.month >= months[0]
            )
        )
    }
    return [(d.code, d.name, f"{m:%m/%Y}", stored.get((d.id, m))) for d in desks for m in months]


def template_csv(rows) -> bytes:
    """``;``-separated with a byte-order mark: how Excel in Vietnamese opens a CSV as UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for code, name, month, count in rows:
        writer.writerow((code, name, month, "" if count is None else count))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx(rows) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "So ho so"
    sheet.append(list(HEADER))
    for code, name, month, count in rows:
        # Text cells: Excel would turn "11/2026" into a date, and a code into a number.
        sheet.append([code, name, month, count])
        for cell in sheet[sheet.max_row][:3]:
            cell.number_format = "@"
    for column, width in zip("ABCD", (12, 36, 10, 10), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
