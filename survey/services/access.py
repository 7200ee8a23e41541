"""Who may do what, where: one role per user, scoped to a unit subtree.

Every staff view and every state-changing service asks ``require`` before it
reads or writes; hiding a link is a convenience, never the control.

Roles:

- ``admin``: every action on every unit, plus the global objects (sectors,
  sector groups) and the audit log.  Its ``unit_id`` is only its home unit.
- ``unit_manager``: manages units, desks, targets, volumes and questionnaire
  assignments within its subtree; reads everything there.
- ``desk_staff``: reads its subtree's units and desks (and their results),
  prints posters; changes nothing.
- ``analyst``: reads and exports within its subtree (desks, results, targets,
  volumes, and the audit of target changes); changes nothing.

Targets have one rule more (``above``): a unit's own manager may raise the
target the unit inherits but not lower it; an admin or a manager of a strict
ancestor may (survey.services.org.targets).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from survey.models import Unit
from survey.services import units

ADMIN = frozenset({"admin"})
MANAGERS = frozenset({"admin", "unit_manager"})
READERS = frozenset({"admin", "unit_manager", "analyst"})
EVERYONE = frozenset({"admin", "unit_manager", "desk_staff", "analyst"})

# action -> roles that may perform it (within their subtree unless admin).
PERMISSIONS: dict[str, frozenset[str]] = {
    "unit.view": EVERYONE,
    "unit.create": MANAGERS,
    "desk.view": EVERYONE,
    "desk.manage": MANAGERS,
    "poster.print": frozenset({"admin", "unit_manager", "desk_staff"}),
    "results.view": EVERYONE,
    "results.export": READERS,
    "target.view": READERS,
    "target.manage": MANAGERS,
    # The audit trail of targets (target.*) within the subtree: the people who
    # judge a unit may check who changed the bar it is judged against.
    "target.audit": READERS,
    "volume.view": READERS,
    "volume.import": MANAGERS,
    "questionnaire.assign": MANAGERS,
    # Citizens' comments: not desk staff, as a complaint may be about them.
    "feedback.view": READERS,
    "feedback.manage": MANAGERS,
    # Global objects: no unit.
    "sector.manage": ADMIN,
    "audit.view": ADMIN,
}
GLOBAL_ACTIONS = frozenset({"sector.manage", "audit.view"})


class Actor(Protocol):
    """What access checks and audit records need of whoever acts."""

    id: int | None
    username: str
    role: str
    unit_id: int | None


@dataclass(frozen=True)
class SystemActor:
    """The operator at the command line: full rights, audited under its name.

    Whoever can run ``survey`` on the server already holds the database
    credentials, so the CLI (like ``survey user create``) acts as an admin.
    """

    username: str = "cli"
    id: int | None = None
    role: str = "admin"
    unit_id: int | None = None


class Forbidden(Exception):
    """The actor may not perform this action here (HTTP 403)."""

    def __init__(self, action: str, unit_id: int | None = None) -> None:
        super().__init__(f"{action} forbidden" + (f" on unit {unit_id}" if unit_id else ""))
        self.action = action
        self.unit_id = unit_id


def _session_of(user: Actor) -> Session:
    session = object_session(user)
    if session is None:
        raise RuntimeError("access checks need a user loaded in a session")
    return session


def in_scope(user: Actor, unit_id: int | None) -> bool:
    """Whether the unit lies in the user's subtree (admins: everywhere)."""
    if user.role == "admin":
        return True
    if unit_id is None or user.unit_id is None:
        return False
    unit = _session_of(user).get(Unit, unit_id)
    if unit is None:
        return False
    return any(node.id == user.unit_id for node in units.ancestors(unit))


def can(user: Actor | None, action: str, unit_id: int | None = None) -> bool:
    """May ``user`` perform ``action`` on ``unit_id`` (None for global actions)?"""
    if action not in PERMISSIONS:
        raise KeyError(f"unknown action {action!r}")
    if user is None or user.role not in PERMISSIONS[action]:
        return False
    if getattr(user, "active", True) is False:
        return False
    if action in GLOBAL_ACTIONS or user.role == "admin":
        return True
    return in_scope(user, unit_id)


def can_anywhere(user: Actor | None, action: str) -> bool:
    """Whether the role allows the action at all (for menus; not a scope check)."""
    return user is not None and user.role in PERMISSIONS[action]


def above(user: Actor | None, unit_id: int) -> bool:
    """Whether the user acts on ``unit_id`` from above it: an admin, or a unit
    manager of a strict ancestor (a unit's own manager is not above it)."""
    if user is None or getattr(user, "active", True) is False:
        return False
    if user.role == "admin":
        return True
    if user.role != "unit_manager" or user.unit_id is None or user.unit_id == unit_id:
        return False
    return in_scope(user, unit_id)


def require(user: Actor | None, action: str, unit_id: int | None = None) -> None:
    if not can(user, action, unit_id):
        raise Forbidden(action, unit_id)


def scope_ids(session: Session, user: Actor) -> set[int] | None:
    """Unit ids the user may see; None means every unit (admins)."""
    if user.role == "admin":
        return None
    if user.unit_id is None:
        return set()
    return units.subtree_ids(session, user.unit_id)


def scope_roots(session: Session, user: Actor) -> list[Unit]:
    """Top units of the user's view of the tree."""
    if user.role == "admin":
        return list(
            session.scalars(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.code))
        )
    unit = session.get(Unit, user.unit_id) if user.unit_id is not None else None
    return [unit] if unit is not None else []
