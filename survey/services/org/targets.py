"""Targets: a unit's satisfaction threshold for a year (per sector group or overall).

Targets are inherited down the tree (``effective_target``). A unit may raise
the target it inherits, never lower it: the unit judged against a target must
not be the one that bends it. Only an admin or a manager of a strict ancestor
(``access.above``) may set a unit's target below the inherited one; the row
records who set it, so every display can say where its number comes from.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import AuditEvent, SectorGroup, Target, Unit, User
from survey.models._types import utcnow
from survey.services import access, units
from survey.services.access import Actor
from survey.services.org import OrgError, record
from survey.services.org.sectors import group_or_error

MIN_YEAR, MAX_YEAR = 2000, 2100
# Targets are entered as percentages. Below 50% is no plan's target; 100% can
# never be reached ("Đạt" needs the whole interval above the target, and the
# verdicts need a share strictly below 1).
MIN_PERCENT, MAX_PERCENT = 50, 100
PERCENT = re.compile(r"\d{1,3}(?:[.,]\d{1,4})?")
# Thresholds are rounded to 6 places; this absorbs float noise in comparisons.
EPSILON = 1e-9


class BelowInherited(OrgError):
    """The threshold is below the inherited target and the actor is not above the unit."""

    def __init__(self, inherited: Target, from_unit: Unit | None) -> None:
        super().__init__("threshold", "below_inherited")
        self.inherited = inherited
        self.from_unit = from_unit


def parse_percent(text: str) -> float:
    """A percentage typed the vi_VN way -> a share: "85", "85%", "85,5" -> 0.85, 0.855.

    ``OrgError("threshold", code)``: not a number; 1 or less (a share typed
    instead of a percentage: "0,85" would otherwise become 0.85%); below 50%;
    100% or more.
    """
    cleaned = text.strip().removesuffix("%").strip()
    if not PERCENT.fullmatch(cleaned):
        raise OrgError("threshold", "threshold_not_percent")
    value = float(cleaned.replace(",", "."))
    if value <= 1:
        raise OrgError("threshold", "threshold_as_share")
    share = round(value / 100, 6)
    check_share(share)
    return share


def check_share(share: float) -> None:
    """A threshold (a share) inside [50%, 100%), else ``OrgError``."""
    if share < MIN_PERCENT / 100 - EPSILON:
        raise OrgError("threshold", "threshold_too_low")
    if share >= MAX_PERCENT / 100 - EPSILON:
        raise OrgError("threshold", "threshold_too_high")


def target_snapshot(session: Session, target: Target) -> dict[str, Any]:
    unit = session.get(Unit, target.unit_id)
    group = session.get(SectorGroup, target.sector_group_id) if target.sector_group_id else None
    setter = session.get(User, target.set_by_id) if target.set_by_id else None
    return {
        "unit": unit.code if unit is not None else target.unit_id,
        "year": target.year,
        "sector_group": group.code if group is not None else None,
        "threshold": target.threshold,
        "source": target.source,
        "set_by": setter.username if setter is not None else None,
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


def inherited_target(
    session: Session, unit: Unit, year: int, sector_group_id: int | None = None
) -> Target | None:
    """What ``unit`` would get without a target of its own: its parent's effective target."""
    parent = unit.parent
    if parent is None:
        return None
    return effective_target(session, parent, year, sector_group_id)


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
    """Create the unit's target for (year, group), or replace its threshold; (row, created).

    ``BelowInherited`` when the threshold is below the inherited target and
    the actor is neither an admin nor a manager of an ancestor; nothing is
    written then.
    """
    access.require(user, "target.manage", unit.id)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise OrgError("year", "bad_year")
    check_share(threshold)
    group_or_error(session, sector_group_id)
    source = source.strip()
    group_clause = (
        Target.sector_group_id.is_(None)
        if sector_group_id is None
        else Target.sector_group_id == sector_group_id
    )
    target = session.scalar(
        select(Target).where(Target.unit_id == unit.id, Target.year == year, group_clause)
    )
    if target is not None and target.threshold == threshold and target.source == source:
        return target, False  # saved again unchanged: nothing to record
    inherited = inherited_target(session, unit, year, sector_group_id)
    below = inherited is not None and threshold < inherited.threshold - EPSILON
    if below and not access.above(user, unit.id):
        raise BelowInherited(inherited, session.get(Unit, inherited.unit_id))
    # The audit says what the new value was measured against, and that a
    # lower one was decided from above.
    extra: dict[str, Any] = {}
    if inherited is not None:
        extra = {"inherited_threshold": inherited.threshold, "below_inherited": below}
    if target is None:
        target = Target(
            unit_id=unit.id,
            year=year,
            sector_group_id=sector_group_id,
            threshold=threshold,
            source=source,
            set_by_id=user.id,
            updated_at=utcnow(),
        )
        session.add(target)
        session.flush()
        after = {**target_snapshot(session, target), **extra}
        record(session, user, "target.create", "target", target.id, after=after)
        return target, True
    before = target_snapshot(session, target)
    target.threshold, target.source = threshold, source
    target.set_by_id, target.updated_at = user.id, utcnow()
    session.flush()
    after = {**target_snapshot(session, target), **extra}
    record(session, user, "target.update", "target", target.id, before, after)
    return target, False


def delete_target(session: Session, user: Actor, target: Target) -> None:
    access.require(user, "target.manage", target.unit_id)
    before = target_snapshot(session, target)
    target_id = target.id
    session.delete(target)
    session.flush()
    record(session, user, "target.delete", "target", target_id, before=before)


def effective_target(
    session: Session, unit: Unit, year: int, sector_group_id: int | None = None
) -> Target | None:
    """The target that applies to ``unit`` for ``year`` (and a sector group).

    Targets are inherited down the tree: the nearest unit on the path to the
    root (the unit itself first) that has one wins, unless it is lower than
    the one it would inherit and was not set from above (by an admin or a
    manager of an ancestor): a unit may raise what it inherits, never lower
    it, and a province that raises its target later is not undercut by an
    older, lower one below it.  For a sector group, a target set for that
    group anywhere on the path comes before the overall target (the group
    targets are the plans' explicit exceptions, e.g. 75% for land); without
    one, the overall target applies.
    """
    chain = units.ancestors(unit)
    rows = session.scalars(
        select(Target).where(Target.unit_id.in_([u.id for u in chain]), Target.year == year)
    ).all()
    by_key = {(t.unit_id, t.sector_group_id): t for t in rows}
    wanted = [sector_group_id, None] if sector_group_id is not None else [None]
    for group in wanted:
        current = None
        for node in reversed(chain):  # from the root down
            found = by_key.get((node.id, group))
            if found is None:
                continue
            if current is None or found.threshold >= current.threshold - EPSILON:
                current = found
            elif _set_from_above(session, found):
                current = found
        if current is not None:
            return current
    return None


def _set_from_above(session: Session, target: Target) -> bool:
    """Whether a (lower) target was set by someone above its unit."""
    setter = session.get(User, target.set_by_id) if target.set_by_id else None
    return setter is not None and access.above(setter, target.unit_id)


# --- where a target comes from ---------------------------------------------------
@dataclass(frozen=True)
class Provenance:
    """Where the target shown for a unit comes from (``survey.reports.texts`` words it)."""

    threshold: float
    unit_code: str  # the unit that set it
    unit_name: str
    source: str  # the plan or decision
    inherited: bool  # set at an ancestor of the unit it is shown for
    set_by: str  # full name (else username) of who set it; "" when not recorded
    # Set at the unit itself: the target it would inherit, if any.
    inherited_threshold: float | None = None
    # Set at the unit below the inherited one: the unit of whoever decided it.
    decided_by: str = ""


def provenance(session: Session, target: Target, unit: Unit) -> Provenance:
    """Where ``target`` (the effective target of ``unit``) comes from, seen from ``unit``."""
    owner = session.get(Unit, target.unit_id)
    setter = session.get(User, target.set_by_id) if target.set_by_id else None
    inherited = target.unit_id != unit.id
    parent_target = None
    if not inherited:
        parent_target = inherited_target(session, unit, target.year, target.sector_group_id)
    below = parent_target is not None and target.threshold < parent_target.threshold - EPSILON
    return Provenance(
        threshold=target.threshold,
        unit_code=owner.code if owner is not None else "",
        unit_name=owner.name if owner is not None else "",
        source=target.source,
        inherited=inherited,
        set_by=(setter.full_name or setter.username) if setter is not None else "",
        inherited_threshold=parent_target.threshold if parent_target is not None else None,
        decided_by=setter.unit.name if below and setter is not None else "",
    )


# --- the audit trail of targets ------------------------------------------------------
def target_events(session: Session, scope: set[int] | None) -> list[AuditEvent]:
    """The ``target.*`` audit events of targets in ``scope`` (unit ids; None: all), newest first.

    The unit is read from the event's snapshot (its code), so the events of a
    deleted target stay visible.
    """
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action.like("target.%"))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    ).all()
    if scope is None:
        return list(events)
    codes = set(session.scalars(select(Unit.code).where(Unit.id.in_(sorted(scope)))))
    kept = []
    for event in events:
        snapshot = json.loads(event.after or event.before or "{}")
        if isinstance(snapshot, dict) and snapshot.get("unit") in codes:
            kept.append(event)
    return kept
