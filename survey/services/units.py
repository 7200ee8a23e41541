"""Unit tree queries: subtrees and inherited settings."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import Unit


def subtree_ids(session: Session, root_id: int) -> set[int]:
    """Ids of a unit and all its descendants (any depth)."""
    rows = session.execute(select(Unit.id, Unit.parent_id)).all()
    children: dict[int | None, list[int]] = {}
    for uid, parent in rows:
        children.setdefault(parent, []).append(uid)
    found, stack = set(), [root_id]
    while stack:
        uid = stack.pop()
        if uid in found:
            continue
        found.add(uid)
        stack.extend(children.get(uid, ()))
    return found


def ancestors(unit: Unit) -> list[Unit]:
    """The unit and its ancestors, nearest first."""
    chain, seen = [], set()
    node: Unit | None = unit
    while node is not None and node.id not in seen:
        chain.append(node)
        seen.add(node.id)
        node = node.parent
    return chain


def by_code(session: Session, code: str) -> Unit | None:
    return session.scalar(select(Unit).where(Unit.code == code))
