"""Desks: created in a unit, renamed, moved, stopped and restarted, given a new code,
told which sectors they serve."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import Desk, DeskCodeHistory, Sector, Unit
from survey.services import access
from survey.services.access import Actor
from survey.services.codes import new_desk_code
from survey.services.org import OrgError, record, version_key


def desk_snapshot(session: Session, desk: Desk) -> dict[str, Any]:
    return {
        "code": desk.code,
        "name": desk.name,
        "unit": desk.unit.code,
        "active": desk.active,
        "questionnaire": version_key(session, desk.questionnaire_version_id),
    }


def get_desk(session: Session, user: Actor, desk_id: int, action: str = "desk.view") -> Desk | None:
    desk = session.get(Desk, desk_id)
    if desk is None:
        return None
    access.require(user, action, desk.unit_id)
    return desk


def desks_of_unit(session: Session, user: Actor, unit: Unit) -> list[Desk]:
    access.require(user, "desk.view", unit.id)
    return list(
        session.scalars(select(Desk).where(Desk.unit_id == unit.id).order_by(Desk.name, Desk.id))
    )


def _unused_code(session: Session) -> str:
    """A fresh desk code, used by no desk now and by none before."""
    while True:
        code = new_desk_code()
        taken = session.scalar(select(Desk.id).where(Desk.code == code)) or session.scalar(
            select(DeskCodeHistory.id).where(DeskCodeHistory.code == code)
        )
        if not taken:
            return code


def create_desk(session: Session, user: Actor, unit: Unit, *, name: str) -> Desk:
    access.require(user, "desk.manage", unit.id)
    desk = Desk(unit=unit, code=_unused_code(session), name=name.strip(), active=True)
    session.add(desk)
    session.flush()
    record(session, user, "desk.create", "desk", desk.id, after=desk_snapshot(session, desk))
    return desk


def rename_desk(session: Session, user: Actor, desk: Desk, *, name: str) -> None:
    access.require(user, "desk.manage", desk.unit_id)
    before = desk_snapshot(session, desk)
    desk.name = name.strip()
    session.flush()
    record(session, user, "desk.rename", "desk", desk.id, before, desk_snapshot(session, desk))


def move_desk(session: Session, user: Actor, desk: Desk, new_unit: Unit) -> None:
    """Attach the desk to another unit; both must be in the actor's scope.

    Past responses and volumes keep the unit they were recorded under (reports
    attribute them by it), so the old unit's volume rows stay out of the new
    unit's reach: see ``volumes.plan._check_desks``.
    """
    access.require(user, "desk.manage", desk.unit_id)
    access.require(user, "desk.manage", new_unit.id)
    if new_unit.id == desk.unit_id:
        raise OrgError("unit", "same_unit")
    before = desk_snapshot(session, desk)
    desk.unit = new_unit
    session.flush()
    record(session, user, "desk.move", "desk", desk.id, before, desk_snapshot(session, desk))


def set_desk_active(session: Session, user: Actor, desk: Desk, active: bool) -> None:
    access.require(user, "desk.manage", desk.unit_id)
    if desk.active == active:
        return
    before = desk_snapshot(session, desk)
    desk.active = active
    session.flush()
    action = "desk.reactivate" if active else "desk.deactivate"
    record(session, user, action, "desk", desk.id, before, desk_snapshot(session, desk))


def regenerate_code(session: Session, user: Actor, desk: Desk) -> str:
    """Give the desk a new public code; the old one answers "replaced" (410) from now on."""
    access.require(user, "desk.manage", desk.unit_id)
    before = desk_snapshot(session, desk)
    old = desk.code
    desk.code = _unused_code(session)
    session.add(DeskCodeHistory(desk_id=desk.id, code=old))
    session.flush()
    record(
        session, user, "desk.regenerate_code", "desk", desk.id, before, desk_snapshot(session, desk)
    )
    return old


def set_sectors(session: Session, user: Actor, desk: Desk, sector_codes: Iterable[str]) -> bool:
    """Make the desk serve exactly these sectors (codes, any case); none clears them.

    One sector gives every QR response of the desk that sector; several make
    the survey page ask which one.  Unknown codes are refused before anything
    changes.  Returns whether anything changed (an unchanged set is not audited).
    """
    access.require(user, "desk.manage", desk.unit_id)
    codes = sorted({c.strip().upper() for c in sector_codes if c.strip()})
    found = {s.code: s for s in session.scalars(select(Sector).where(Sector.code.in_(codes)))}
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise OrgError("sectors", "unknown_sector", ", ".join(unknown))
    before = [s.code for s in desk.sectors]
    if before == codes:
        return False
    desk.sectors = [found[c] for c in codes]
    session.flush()
    record(
        session,
        user,
        "desk.set_sectors",
        "desk",
        desk.id,
        {"code": desk.code, "sectors": before},
        {"code": desk.code, "sectors": codes},
    )
    return True


def code_history(session: Session, desk: Desk) -> list[DeskCodeHistory]:
    return list(
        session.scalars(
            select(DeskCodeHistory)
            .where(DeskCodeHistory.desk_id == desk.id)
            .order_by(DeskCodeHistory.retired_at.desc(), DeskCodeHistory.id.desc())
        )
    )
