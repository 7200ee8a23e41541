"""Managing the organisation: units, desks, sectors, targets, questionnaire assignments.

Every function checks the actor's rights (``access.require``) before touching
anything, writes an audit event with the before/after snapshot, and flushes;
the caller commits (one commit per request or command).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.models import (
    Desk,
    DeskCodeHistory,
    QuestionnaireVersion,
    Sector,
    SectorGroup,
    Target,
    Unit,
)
from survey.services import access, audit, units
from survey.services.access import Actor
from survey.services.codes import new_desk_code

UNIT_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}$")
SECTOR_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}$")
MIN_YEAR, MAX_YEAR = 2000, 2100


class OrgError(ValueError):
    """Input the forms cannot see is wrong (a taken code...): ``field`` and ``code`` say why."""

    def __init__(self, field: str, code: str) -> None:
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


def _record(
    session: Session,
    user: Actor,
    action: str,
    entity: str,
    entity_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    audit.record(
        session,
        actor=user.username,
        user_id=user.id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
    )


def _version_key(session: Session, version_id: int | None) -> str | None:
    if version_id is None:
        return None
    row = session.get(QuestionnaireVersion, version_id)
    return row.key if row is not None else str(version_id)


# --- units --------------------------------------------------------------------
def unit_snapshot(session: Session, unit: Unit) -> dict[str, Any]:
    return {
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "parent": unit.parent.code if unit.parent is not None else None,
        "active": unit.active,
        "questionnaire": _version_key(session, unit.questionnaire_version_id),
    }


def get_unit(session: Session, user: Actor, unit_id: int, action: str = "unit.view") -> Unit | None:
    """The unit, None if it does not exist; Forbidden if the actor may not ``action`` it."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        return None
    access.require(user, action, unit.id)
    return unit


def create_unit(
    session: Session, user: Actor, parent: Unit, *, code: str, name: str, kind: str
) -> Unit:
    access.require(user, "unit.create", parent.id)
    code = code.strip().upper()
    if not UNIT_CODE.match(code):
        raise OrgError("code", "bad_code")
    if units.by_code(session, code) is not None:
        raise OrgError("code", "unit_code_taken")
    unit = Unit(code=code, name=name.strip(), kind=kind.strip() or "unit", parent=parent)
    session.add(unit)
    session.flush()
    _record(session, user, "unit.create", "unit", unit.id, after=unit_snapshot(session, unit))
    return unit


@dataclass(frozen=True)
class TreeNode:
    unit: Unit
    depth: int
    desks: int


def unit_tree(session: Session, user: Actor) -> list[TreeNode]:
    """The units the actor may see, depth first, with their number of desks."""
    allowed = access.scope_ids(session, user)
    rows = list(session.scalars(select(Unit).order_by(Unit.code)))
    counts = dict(session.execute(select(Desk.unit_id, func.count()).group_by(Desk.unit_id)).all())
    children: dict[int | None, list[Unit]] = {}
    for unit in rows:
        children.setdefault(unit.parent_id, []).append(unit)
    out: list[TreeNode] = []

    def walk(unit: Unit, depth: int, seen: set[int]) -> None:
        if unit.id in seen:
            return
        seen.add(unit.id)
        out.append(TreeNode(unit, depth, int(counts.get(unit.id, 0))))
        for child in children.get(unit.id, ()):
            walk(child, depth + 1, seen)

    seen: set[int] = set()
    for root in access.scope_roots(session, user):
        walk(root, 0, seen)
    return [node for node in out if allowed is None or node.unit.id in allowed]


def managed_units(session: Session, user: Actor, action: str) -> list[Unit]:
    """Units where the actor may ``action`` (e.g. destinations for moving a desk)."""
    if not access.can_anywhere(user, action):
        return []
    return [
        node.unit for node in unit_tree(session, user) if access.can(user, action, node.unit.id)
    ]


# --- desks --------------------------------------------------------------------
def desk_snapshot(session: Session, desk: Desk) -> dict[str, Any]:
    return {
        "code": desk.code,
        "name": desk.name,
        "unit": desk.unit.code,
        "active": desk.active,
        "questionnaire": _version_key(session, desk.questionnaire_version_id),
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
    _record(session, user, "desk.create", "desk", desk.id, after=desk_snapshot(session, desk))
    return desk


def rename_desk(session: Session, user: Actor, desk: Desk, *, name: str) -> None:
    access.require(user, "desk.manage", desk.unit_id)
    before = desk_snapshot(session, desk)
    desk.name = name.strip()
    session.flush()
    _record(session, user, "desk.rename", "desk", desk.id, before, desk_snapshot(session, desk))


def move_desk(session: Session, user: Actor, desk: Desk, new_unit: Unit) -> None:
    """Attach the desk to another unit; both must be in the actor's scope.

    Past responses and volumes keep the unit they were recorded under (reports
    attribute them by it), so the old unit's volume rows stay out of the new
    unit's reach: see ``volumes._check_desks``.
    """
    access.require(user, "desk.manage", desk.unit_id)
    access.require(user, "desk.manage", new_unit.id)
    if new_unit.id == desk.unit_id:
        raise OrgError("unit", "same_unit")
    before = desk_snapshot(session, desk)
    desk.unit = new_unit
    session.flush()
    _record(session, user, "desk.move", "desk", desk.id, before, desk_snapshot(session, desk))


def set_desk_active(session: Session, user: Actor, desk: Desk, active: bool) -> None:
    access.require(user, "desk.manage", desk.unit_id)
    if desk.active == active:
        return
    before = desk_snapshot(session, desk)
    desk.active = active
    session.flush()
    action = "desk.reactivate" if active else "desk.deactivate"
    _record(session, user, action, "desk", desk.id, before, desk_snapshot(session, desk))


def regenerate_code(session: Session, user: Actor, desk: Desk) -> str:
    """Give the desk a new public code; the old one answers "replaced" (410) from now on."""
    access.require(user, "desk.manage", desk.unit_id)
    before = desk_snapshot(session, desk)
    old = desk.code
    desk.code = _unused_code(session)
    session.add(DeskCodeHistory(desk_id=desk.id, code=old))
    session.flush()
    _record(
        session, user, "desk.regenerate_code", "desk", desk.id, before, desk_snapshot(session, desk)
    )
    return old


def code_history(session: Session, desk: Desk) -> list[DeskCodeHistory]:
    return list(
        session.scalars(
            select(DeskCodeHistory)
            .where(DeskCodeHistory.desk_id == desk.id)
            .order_by(DeskCodeHistory.retired_at.desc(), DeskCodeHistory.id.desc())
        )
    )


# --- questionnaire assignment -------------------------------------------------
def published_versions(session: Session) -> list[QuestionnaireVersion]:
    return list(
        session.scalars(
            select(QuestionnaireVersion).order_by(
                QuestionnaireVersion.qid, QuestionnaireVersion.version.desc()
            )
        )
    )


def assign_questionnaire(
    session: Session, user: Actor, target: Unit | Desk, version_id: int | None
) -> None:
    """Serve this published version at the unit (inherited down) or desk; None inherits."""
    is_desk = isinstance(target, Desk)
    unit_id = target.unit_id if is_desk else target.id
    access.require(user, "questionnaire.assign", unit_id)
    if version_id is not None and session.get(QuestionnaireVersion, version_id) is None:
        raise OrgError("version", "unknown_version")
    if target.questionnaire_version_id == version_id:
        return
    snapshot = desk_snapshot if is_desk else unit_snapshot
    before = snapshot(session, target)
    target.questionnaire_version_id = version_id
    session.flush()
    entity = "desk" if is_desk else "unit"
    _record(
        session,
        user,
        f"{entity}.assign_questionnaire",
        entity,
        target.id,
        before,
        snapshot(session, target),
    )


# --- sectors and sector groups (global: admins) -------------------------------
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


def _group_or_error(session: Session, group_id: int | None) -> SectorGroup | None:
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
    _record(
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
        _record(
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
        group=_group_or_error(session, group_id),
    )
    session.add(sector)
    session.flush()
    _record(session, user, "sector.create", "sector", sector.id, after=sector_snapshot(sector))
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
    sector.group = _group_or_error(session, group_id)
    session.flush()
    if sector_snapshot(sector) != before:
        _record(
            session, user, "sector.update", "sector", sector.id, before, sector_snapshot(sector)
        )


# --- targets ------------------------------------------------------------------
def parse_percent(text: str) -> float:
    """ "85", "85,5", "85.5" or "85 %" -> 0.85 / 0.855; ValueError unless 0 < x < 100."""
    cleaned = text.strip().removesuffix("%").strip().replace(",", ".")
    if not re.fullmatch(r"\d{1,3}(\.\d{1,4})?", cleaned):
        raise ValueError("not a percentage")
    value = float(cleaned)
    if not 0 < value < 100:
        raise ValueError("out of range")
    return round(value / 100, 6)


def target_snapshot(session: Session, target: Target) -> dict[str, Any]:
    unit = session.get(Unit, target.unit_id)
    group = session.get(SectorGroup, target.sector_group_id) if target.sector_group_id else None
    return {
        "unit": unit.code if unit is not None else target.unit_id,
        "year": target.year,
        "sector_group": group.code if group is not None else None,
        "threshold": target.threshold,
        "source": target.source,
    }


def targets_of_unit(session: Session, user: Actor, unit: Unit) -> list[Target]:
    access.require(user, "target.view", unit.id)
    return list(
        session.scalars(
            select(Target)
            .where(Target.unit_id == unit.id)
            .order_by(
                Target.year.desc(), Target.sector_group_id.is_not(None), Target.sector_group_id
            )
        )
    )


def get_target(session: Session, user: Actor, target_id: int, action: str) -> Target | None:
    target = session.get(Target, target_id)
    if target is None:
        return None
    access.require(user, action, target.unit_id)
    return target


def set_target(
    session: Session,
    user: Actor,
    unit: Unit,
    *,
    year: int,
    threshold: float,
    sector_group_id: int | None = None,
    source: str = "",
) -> tuple[Target, bool]:
    """Create the unit's target for (year, group), or replace its threshold; (row, created)."""
    access.require(user, "target.manage", unit.id)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise OrgError("year", "bad_year")
    if not 0 < threshold < 1:
        raise OrgError("threshold", "bad_threshold")
    _group_or_error(session, sector_group_id)
    group_clause = (
        Target.sector_group_id.is_(None)
        if sector_group_id is None
        else Target.sector_group_id == sector_group_id
    )
    target = session.scalar(
        select(Target).where(Target.unit_id == unit.id, Target.year == year, group_clause)
    )
    if target is None:
        target = Target(
            unit_id=unit.id,
            year=year,
            sector_group_id=sector_group_id,
            threshold=threshold,
            source=source.strip(),
        )
        session.add(target)
        session.flush()
        _record(
            session,
            user,
            "target.create",
            "target",
            target.id,
            after=target_snapshot(session, target),
        )
        return target, True
    before = target_snapshot(session, target)
    target.threshold, target.source = threshold, source.strip()
    session.flush()
    after = target_snapshot(session, target)
    if after != before:
        _record(session, user, "target.update", "target", target.id, before, after)
    return target, False


def delete_target(session: Session, user: Actor, target: Target) -> None:
    access.require(user, "target.manage", target.unit_id)
    before = target_snapshot(session, target)
    target_id = target.id
    session.delete(target)
    session.flush()
    _record(session, user, "target.delete", "target", target_id, before=before)


def effective_target(
    session: Session, unit: Unit, year: int, sector_group_id: int | None = None
) -> Target | None:
    """The target that applies to ``unit`` for ``year`` (and a sector group).

    Targets are inherited down the tree: the nearest unit on the path to the
    root (the unit itself first) that has one wins.  For a sector group, a
    target set for that group anywhere on the path comes before the overall
    target (the group targets are the plans' explicit exceptions, e.g. 75% for
    land); without one, the overall target applies.
    """
    chain = units.ancestors(unit)
    rows = session.scalars(
        select(Target).where(Target.unit_id.in_([u.id for u in chain]), Target.year == year)
    ).all()
    by_key = {(t.unit_id, t.sector_group_id): t for t in rows}
    wanted = [sector_group_id, None] if sector_group_id is not None else [None]
    for group in wanted:
        for node in chain:
            found = by_key.get((node.id, group))
            if found is not None:
                return found
    return None
