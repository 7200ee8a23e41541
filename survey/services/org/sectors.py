"""Sectors and sector groups: global lists, managed by admins."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import Sector, SectorGroup
from survey.services import access
from survey.services.access import Actor
from survey.services.org import OrgError, record

SECTOR_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}$")


def group_snapshot(group: SectorGroup) -> dict[str, Any]:
    return {"code": group.code, "name": group.name, "name_en": group.name_en}


def sector_snapshot(sector: Sector) -> dict[str, Any]:
    return {
        "code": sector.code,
        "name": sector.name,
        "name_en": sector.name_en,
        "group": sector.group.code if sector.group is not None else None,
    }


def list_groups(session: Session) -> list[SectorGroup]:
    return list(session.scalars(select(SectorGroup).order_by(SectorGroup.code)))


def list_sectors(session: Session) -> list[Sector]:
    return list(session.scalars(select(Sector).order_by(Sector.code)))


def group_or_error(session: Session, group_id: int | None) -> SectorGroup | None:
    """The group with this id (None for None); OrgError if there is none."""
    if group_id is None:
        return None
    group = session.get(SectorGroup, group_id)
    if group is None:
        raise OrgError("group", "unknown_group")
    return group


def create_group(
    session: Session, user: Actor, *, code: str, name: str, name_en: str = ""
) -> SectorGroup:
    access.require(user, "sector.manage")
    code = code.strip().upper()
    if not SECTOR_CODE.match(code):
        raise OrgError("code", "bad_code")
    if session.scalar(select(SectorGroup.id).where(SectorGroup.code == code)) is not None:
        raise OrgError("code", "code_taken")
    group = SectorGroup(code=code, name=name.strip(), name_en=name_en.strip())
    session.add(group)
    session.flush()
    record(
        session, user, "sector_group.create", "sector_group", group.id, after=group_snapshot(group)
    )
    return group


def update_group(
    session: Session, user: Actor, group: SectorGroup, *, name: str, name_en: str = ""
) -> None:
    access.require(user, "sector.manage")
    before = group_snapshot(group)
    group.name, group.name_en = name.strip(), name_en.strip()
    session.flush()
    if group_snapshot(group) != before:
        record(
            session,
            user,
            "sector_group.update",
            "sector_group",
            group.id,
            before,
            group_snapshot(group),
        )


def create_sector(
    session: Session,
    user: Actor,
    *,
    code: str,
    name: str,
    name_en: str = "",
    group_id: int | None = None,
) -> Sector:
    access.require(user, "sector.manage")
    code = code.strip().upper()
    if not SECTOR_CODE.match(code):
        raise OrgError("code", "bad_code")
    if session.scalar(select(Sector.id).where(Sector.code == code)) is not None:
        raise OrgError("code", "code_taken")
    sector = Sector(
        code=code,
        name=name.strip(),
        name_en=name_en.strip(),
        group=group_or_error(session, group_id),
    )
    session.add(sector)
    session.flush()
    record(session, user, "sector.create", "sector", sector.id, after=sector_snapshot(sector))
    return sector


def update_sector(
    session: Session,
    user: Actor,
    sector: Sector,
    *,
    name: str,
    name_en: str = "",
    group_id: int | None = None,
) -> None:
    """Names and group only: the code is the key volume files refer to."""
    access.require(user, "sector.manage")
    before = sector_snapshot(sector)
    sector.name, sector.name_en = name.strip(), name_en.strip()
    sector.group = group_or_error(session, group_id)
    session.flush()
    if sector_snapshot(sector) != before:
        record(session, user, "sector.update", "sector", sector.id, before, sector_snapshot(sector))
