"""Units: the administrative tree, as the actor may see and extend it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.models import Desk, Unit
from survey.services import access, units
from survey.services.access import Actor
from survey.services.org import OrgError, record, version_key

UNIT_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}$")


def unit_snapshot(session: Session, unit: Unit) -> dict[str, Any]:
    return {
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "parent": unit.parent.code if unit.parent is not None else None,
        "active": unit.active,
        "questionnaire": version_key(session, unit.questionnaire_version_id),
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
    record(session, user, "unit.create", "unit", unit.id, after=unit_snapshot(session, unit))
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
