"""Targets: a unit's satisfaction threshold for a year (per sector group or overall)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import SectorGroup, Target, Unit
from survey.services import access, units
from survey.services.access import Actor
from survey.services.org import OrgError, record
from survey.services.org.sectors import group_or_error

MIN_YEAR, MAX_YEAR = 2000, 2100


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
    group_or_error(session, sector_group_id)
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
        record(
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
