"""Writing a checked plan, staging a file between preview and confirmation, stored counts."""

from __future__ import annotations

import json
import secrets
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from survey.models import Desk, Sector, Unit, Volume
from survey.models._types import utcnow
from survey.models.planning import VolumeUpload
from survey.services import access, audit
from survey.services.access import Actor
from survey.services.units import subtree_ids
from survey.services.volumes.files import display_name
from survey.services.volumes.plan import Parsed, Plan

STAGING_TTL = timedelta(hours=2)


# --- writing ------------------------------------------------------------------
def apply(session: Session, user: Actor, plan: Plan, filename: str = "") -> dict[str, int]:
    """Write a valid plan: new rows inserted, stored ones replaced; one audit event."""
    access.require(user, "volume.import", user.unit_id)
    if not plan.ok:
        raise ValueError("only a plan without issues can be applied")
    new = [
        {
            "unit_id": r.unit_id,
            "desk_id": r.desk_id,
            "sector_id": r.sector_id,
            "month": r.month,
            "count": r.count,
        }
        for r in plan.rows
        if r.existing_id is None
    ]
    replaced = [r for r in plan.rows if r.existing_id is not None]
    for r in replaced:
        volume = session.get(Volume, r.existing_id)
        if volume is None:  # deleted since the check: the plan is stale
            raise ValueError("stored volumes changed since the file was checked")
        volume.count = r.count
    if new:
        session.execute(insert(Volume), new)
    session.flush()
    months = sorted({r.month for r in plan.rows})
    audit.record(
        session,
        actor=user.username,
        user_id=user.id,
        action="volume.import",
        entity="volume",
        entity_id=plan.kind or "",
        before={f"{r.label} {r.month:%Y-%m}": r.old_count for r in replaced} or None,
        after={
            "file": filename,
            "kind": plan.kind,
            "rows": len(plan.rows),
            "new": len(new),
            "replaced": len(replaced),
            "months": [f"{months[0]:%Y-%m}", f"{months[-1]:%Y-%m}"],
            "replaced_values": {f"{r.label} {r.month:%Y-%m}": r.count for r in replaced},
        },
    )
    return {"rows": len(plan.rows), "new": len(new), "replaced": len(replaced)}


# --- staging between preview and confirmation ---------------------------------
def stage(session: Session, user: Actor, parsed: Parsed, filename: str) -> str:
    """Keep a valid parsed file for its uploader; returns the token the confirm form sends."""
    if user.id is None:
        raise ValueError("only a signed-in user can stage an upload")
    session.execute(delete(VolumeUpload).where(VolumeUpload.created_at < utcnow() - STAGING_TTL))
    token = secrets.token_urlsafe(32)
    session.add(
        VolumeUpload(
            token=token,
            user_id=user.id,
            kind=parsed.kind or "",
            filename=display_name(filename),
            rows=json.dumps(parsed.rows, separators=(",", ":")),
        )
    )
    session.flush()
    return token


def take_staged(session: Session, user: Actor, token: str) -> tuple[Parsed, str] | None:
    """The staged file for this user and token, else None.

    The row is deleted in the same statement that reads it, so a token works
    once even when two confirmations race (the second finds nothing).
    """
    if not token or user.id is None:
        return None
    found = session.execute(
        delete(VolumeUpload)
        .where(
            VolumeUpload.token == token,
            VolumeUpload.user_id == user.id,
            VolumeUpload.created_at >= utcnow() - STAGING_TTL,
        )
        .returning(VolumeUpload.kind, VolumeUpload.rows, VolumeUpload.filename)
    ).first()
    if found is None:
        return None
    kind, rows, filename = found
    return Parsed(kind, rows=json.loads(rows)), filename


# --- reading stored volumes ---------------------------------------------------
def monthly_table(session: Session, user: Actor, unit: Unit, year: int) -> dict[str, Any]:
    """Stored counts of a unit's subtree for one year: one line per desk or unit × sector."""
    access.require(user, "volume.view", unit.id)
    ids = subtree_ids(session, unit.id)
    stmt = (
        select(Volume, Unit.code, Desk.code, Desk.name, Sector.code)
        .join(Unit, Volume.unit_id == Unit.id)
        .outerjoin(Desk, Volume.desk_id == Desk.id)
        .outerjoin(Sector, Volume.sector_id == Sector.id)
        .where(
            Volume.unit_id.in_(ids),
            Volume.month >= date(year, 1, 1),
            Volume.month <= date(year, 12, 1),
        )
    )
    lines: dict[tuple[str, str, str], list[int | None]] = {}
    for volume, unit_code, desk_code, desk_name, sector_code in session.execute(stmt):
        key = (
            unit_code,
            desk_code or "",
            f"{desk_name}" if desk_code else (sector_code or ""),
        )
        line = lines.setdefault(key, [None] * 12)
        line[volume.month.month - 1] = (line[volume.month.month - 1] or 0) + volume.count
    years = sorted(
        {
            m.year
            for m in session.scalars(select(Volume.month).where(Volume.unit_id.in_(ids)).distinct())
        },
        reverse=True,
    )
    return {
        "year": year,
        "years": years,
        "lines": [
            {
                "unit": k[0],
                "desk": k[1],
                "label": k[2],
                "months": v,
                "total": sum(x or 0 for x in v),
            }
            for k, v in sorted(lines.items())
        ],
    }
