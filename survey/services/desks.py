"""Desk queries shared by the CLI and the staff pages."""

from __future__ import annotations

import unicodedata

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.models import Desk, DeskSector, Response, Sector, Unit


def name_key(name: str) -> str:
    """A desk name as people tell names apart: NFC, then no case, no diacritics
    (đ is d), runs of spaces as one; "Quầy  Hộ tịch" and "quay ho tich" are one name."""
    text = unicodedata.normalize("NFD", unicodedata.normalize("NFC", name).casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).replace("đ", "d")
    return " ".join(text.split())


def name_taken(session: Session, unit_id: int, name: str, except_id: int | None = None) -> bool:
    """Whether another desk of the unit (active or stopped) already has this name."""
    key = name_key(name)
    names = session.scalars(
        select(Desk.name).where(Desk.unit_id == unit_id, Desk.id != (except_id or -1))
    )
    return any(name_key(other) == key for other in names)


def survey_url(base_url: str, code: str) -> str:
    return f"{base_url}/s/{code}"


def list_desks(
    session: Session, base_url: str, unit_ids: set[int] | None = None
) -> list[dict[str, object]]:
    """Desks with their unit, survey URL, stored response count and sector codes (two queries)."""
    counts = select(Response.desk_id, func.count().label("n")).group_by(Response.desk_id).subquery()
    stmt = (
        select(Desk.code, Desk.name, Desk.active, Unit.code, func.coalesce(counts.c.n, 0))
        .join(Unit, Desk.unit_id == Unit.id)
        .outerjoin(counts, counts.c.desk_id == Desk.id)
        .order_by(Unit.code, Desk.name)
    )
    if unit_ids is not None:
        stmt = stmt.where(Desk.unit_id.in_(unit_ids))
    served: dict[str, list[str]] = {}
    sectors = (
        select(Desk.code, Sector.code)
        .join(DeskSector, DeskSector.desk_id == Desk.id)
        .join(Sector, DeskSector.sector_id == Sector.id)
        .order_by(Sector.code)
    )
    if unit_ids is not None:
        sectors = sectors.where(Desk.unit_id.in_(unit_ids))
    for desk_code, sector_code in session.execute(sectors):
        served.setdefault(desk_code, []).append(sector_code)
    return [
        {
            "code": code,
            "name": name,
            "unit": unit_code,
            "url": survey_url(base_url, code),
            "active": bool(active),
            "responses": int(n),
            "sectors": served.get(code, []),
        }
        for code, name, active, unit_code, n in session.execute(stmt)
    ]
