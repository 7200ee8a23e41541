"""Which desks get posters: the active desks of a unit's subtree."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import Desk, Unit
from survey.posters.model import PosterDesk, PosterError
from survey.services import units
from survey.services.codes import normalise
from survey.services.desks import survey_url


def posters_for_unit(
    session: Session, base_url: str, unit_code: str, desk_code: str | None = None
) -> list[PosterDesk]:
    """Active desks of the unit and its descendants, by unit code then desk name.

    With ``desk_code``, just that desk, which must be active and in the subtree.
    Raises PosterError naming the offending code.
    """
    unit = units.by_code(session, unit_code)
    if unit is None:
        raise PosterError(f"unknown unit code {unit_code!r}")
    ids = units.subtree_ids(session, unit.id)
    stmt = select(Desk, Unit.code, Unit.name).join(Unit, Desk.unit_id == Unit.id)
    if desk_code is not None:
        code = normalise(desk_code)
        row = session.execute(stmt.where(Desk.code == code)).first()
        if row is None:
            raise PosterError(f"unknown desk code {desk_code!r}")
        if row.Desk.unit_id not in ids:
            raise PosterError(f"desk {code!r} belongs to unit {row.code!r}, not to {unit.code!r}")
        if not row.Desk.active:
            raise PosterError(f"desk {code!r} is inactive: its QR code leads to a closed page")
        rows = [row]
    else:
        rows = session.execute(stmt.where(Desk.unit_id.in_(ids), Desk.active.is_(True))).all()
        if not rows:
            raise PosterError(f"unit {unit.code!r} has no active desks (subunits included)")
    # Sorted here, not in SQL: SQLite and PostgreSQL collate names differently,
    # and the print order should not depend on the database.
    rows = sorted(rows, key=lambda r: (r.code, r.Desk.name, r.Desk.code))
    return [
        PosterDesk(
            unit_name=r.name,
            desk_name=r.Desk.name,
            url=survey_url(base_url, r.Desk.code),
            code=r.Desk.code,
        )
        for r in rows
    ]
