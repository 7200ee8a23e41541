"""What a report reads besides the answers: volumes, counted responses, targets, comments.

``desk_volumes`` (transactions per desk and month) is the weighting basis and
the denominator of response rates, ``response_counts`` their numerator
(counted from the report's own cells or rows, never by another scan);
``sector_volumes`` (per unit, sector and month) the basis of the sector margin;
``targets_for`` finds the thresholds of the period's year that apply to the
selection and to each breakdown value; ``comments`` and ``comment_counts``
read what citizens wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.models import Comment, Desk, Response, Sector, SectorGroup, Unit, Volume
from survey.reports.frame import NONE_CODE
from survey.reports.selection import Selection, filters, month_start
from survey.services.org import sectors as org_sectors
from survey.services.org import targets as org_targets


# --- volumes ------------------------------------------------------------------
def desk_volumes(session: Session, sel: Selection) -> pd.DataFrame:
    """Transactions per desk and month in the selection's units and months.

    Columns ``desk`` (code), ``month`` ("YYYY-MM"), ``volume`` and ``unit`` (the
    code of the unit the counts were imported under).
    """
    stmt = (
        select(Desk.code, Volume.month, Unit.code, func.sum(Volume.count))
        .join(Desk, Volume.desk_id == Desk.id)
        .join(Unit, Volume.unit_id == Unit.id)
        .where(
            Volume.desk_id.is_not(None),
            Volume.unit_id.in_(sorted(sel.unit_ids)),
            Volume.month >= month_start(sel.start),
            Volume.month <= sel.end,
        )
        .group_by(Desk.code, Volume.month, Unit.code)
    )
    if sel.desk is not None:
        stmt = stmt.where(Volume.desk_id == sel.desk.id)
    rows = [(code, f"{m:%Y-%m}", int(n), unit) for code, m, unit, n in session.execute(stmt)]
    return pd.DataFrame(rows, columns=["desk", "month", "volume", "unit"])


def sector_volumes(session: Session, sel: Selection) -> pd.DataFrame:
    """Transactions per unit, sector and month (``survey volumes import`` unit,sector,month,count).

    In the selection's units and months; the basis of the sector margin
    (``representativeness.sector_margin``).  Columns ``unit``, ``sector`` (codes), ``month``
    ("YYYY-MM") and ``volume``.
    """
    stmt = (
        select(Unit.code, Sector.code, Volume.month, func.sum(Volume.count))
        .join(Unit, Volume.unit_id == Unit.id)
        .join(Sector, Volume.sector_id == Sector.id)
        .where(
            Volume.desk_id.is_(None),
            Volume.unit_id.in_(sorted(sel.unit_ids)),
            Volume.month >= month_start(sel.start),
            Volume.month <= sel.end,
        )
        .group_by(Unit.code, Sector.code, Volume.month)
    )
    rows = [(u, s, f"{m:%Y-%m}", int(n)) for u, s, m, n in session.execute(stmt)]
    return pd.DataFrame(rows, columns=["unit", "sector", "month", "volume"])


def response_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Counted responses (not flagged) per desk, unit and month of a report's frame.

    The numerator of response rates, the same responses as the headline's:
    every form by default (a citizen who answered the short form answered all
    the same), only the picked form when one is picked.  ``frame``: the
    report's cells (``_n`` respondents each) or rows.  Columns ``desk``,
    ``unit`` (codes), ``month`` ("YYYY-MM") and ``n``.
    """
    counted = frame.loc[~frame["excluded"].astype(bool)]
    n = counted["_n"] if "_n" in counted else pd.Series(1, index=counted.index)
    month = pd.to_datetime(counted["day"]).dt.strftime("%Y-%m")
    out = n.groupby([counted["desk"], counted["unit"], month]).sum()
    out = out.rename_axis(["desk", "unit", "month"]).reset_index(name="n")
    return out.astype({"n": np.int64})


# --- targets ------------------------------------------------------------------
@dataclass
class TargetInfo:
    """A target and where it comes from (``texts.target_provenance`` words it)."""

    threshold: float | None
    source: str = ""  # the plan or decision
    unit_code: str = ""  # the unit that set it (inherited from there)
    unit_name: str = ""
    inherited: bool = False  # set at an ancestor of the selection's unit
    set_by: str = ""  # full name of who set it; "" when not recorded
    # Set at the selection's unit: the target it would inherit, if any.
    inherited_threshold: float | None = None
    decided_by: str = ""  # set below the inherited one: the deciding unit


@dataclass
class Targets:
    year: int
    overall: TargetInfo
    # group code -> the target that applies to that sector group (its own, or overall)
    groups: dict[str, TargetInfo]
    # analysis ``targets``: per breakdown value
    by: dict[str, dict[str, float]]
    # unit code -> a target other than the selection's, for the units of the
    # breakdown that set (or inherit) their own: every row's target has a source.
    units: dict[str, TargetInfo] = field(default_factory=dict)


def _info(session: Session, target, unit: Unit | None = None) -> TargetInfo:
    """``target`` with its provenance as seen from ``unit`` (the selection's unit)."""
    if target is None:
        return TargetInfo(None)
    owner = session.get(Unit, target.unit_id)
    if unit is None:
        return TargetInfo(target.threshold, target.source, owner.code if owner else "")
    p = org_targets.provenance(session, target, unit)
    return TargetInfo(
        target.threshold,
        p.source,
        p.unit_code,
        unit_name=p.unit_name,
        inherited=p.inherited,
        set_by=p.set_by,
        inherited_threshold=p.inherited_threshold,
        decided_by=p.decided_by,
    )


def targets_for(session: Session, sel: Selection, frame: pd.DataFrame) -> Targets:
    """Targets of the period's (end) year, inherited down the tree.

    The overall index is judged against the selection's own target: the sector
    group's when the selection is one group (or one sector of a group).  Each
    breakdown value gets its own: a unit its inherited target, a sector group
    (and its sectors) the group target, a desk its group's own target when
    all its counted responses are in one such group, else its unit's.
    """
    year = sel.end.year
    group = sel.group
    if group is None and sel.sector is not None and sel.sector.group_id is not None:
        group = session.get(SectorGroup, sel.sector.group_id)
    overall_target = org_targets.effective_target(
        session, sel.unit, year, group.id if group else None
    )
    overall = _info(session, overall_target, sel.unit)
    units: dict[str, TargetInfo] = {}
    group_targets = {
        grp.code: org_targets.effective_target(session, sel.unit, year, grp.id)
        for grp in org_sectors.list_groups(session)
    }
    groups = {code: _info(session, t, sel.unit) for code, t in group_targets.items()}
    by: dict[str, dict[str, float]] = {"sector_group": {}, "sector": {}, "unit": {}, "desk": {}}
    for code, info in groups.items():
        if info.threshold is not None:
            by["sector_group"][code] = info.threshold
    plain = org_targets.effective_target(session, sel.unit, year)
    if plain is not None:
        by["sector_group"][NONE_CODE] = plain.threshold
    if len(frame):
        for sector_code, grp_code in (
            frame[["sector", "sector_group"]].drop_duplicates().itertuples(index=False)
        ):
            threshold = by["sector_group"].get(grp_code)
            if threshold is not None:
                by["sector"][sector_code] = threshold
        unit_rows = {
            u.code: u
            for u in session.scalars(select(Unit).where(Unit.code.in_(sorted(set(frame["unit"])))))
        }
        for code, unit in unit_rows.items():
            t = org_targets.effective_target(session, unit, year, group.id if group else None)
            if t is not None:
                by["unit"][code] = t.threshold
                if overall_target is None or t.id != overall_target.id:
                    units[code] = _info(session, t, unit)
        # A desk whose counted responses all lie in one sector group with a
        # target of its own (a land desk: 75%) is judged against it, the very
        # threshold of those sectors' rows, so the desk and sector rankings never
        # disagree; any other desk against the target of the unit its responses
        # were recorded at.
        own_group_target = {
            code
            for code, t in group_targets.items()
            if t is not None and t.sector_group_id is not None
        }
        # The unit most of the desk's responses are at (rows are cells of ``_n``
        # responses on the cell path, single responses otherwise).
        n = frame["_n"] if "_n" in frame else pd.Series(1, index=frame.index)
        per_pair = n.groupby([frame["desk"], frame["unit"]], observed=True).sum()
        desk_unit = per_pair.groupby(level=0).idxmax().map(lambda key: key[1])
        counted = frame.loc[~frame["excluded"].astype(bool)]
        desk_groups = counted.groupby("desk")["sector_group"].agg(set)
        for desk_code, unit_code in desk_unit.items():
            grps = desk_groups.get(desk_code, set())
            grp_code = next(iter(grps)) if len(grps) == 1 else None
            if grp_code in own_group_target and grp_code in by["sector_group"]:
                by["desk"][desk_code] = by["sector_group"][grp_code]
            elif unit_code in by["unit"]:
                by["desk"][desk_code] = by["unit"][unit_code]
    return Targets(year=year, overall=overall, groups=groups, by=by, units=units)


# --- comments -----------------------------------------------------------------
@dataclass(frozen=True)
class CommentRow:
    day: date
    unit: str
    desk: str
    sector: str
    kind: str
    status: str
    text: str
    flagged: bool


def comments(
    session: Session, sel: Selection, limit: int | None = None
) -> tuple[list[CommentRow], int]:
    """Comments of the selection's responses (every questionnaire version), newest first.

    Returns (rows, total): at most ``limit`` rows.
    """
    where = filters(sel, version=False)
    total = session.scalar(select(func.count()).select_from(Comment).join(Response).where(*where))
    stmt = (
        select(
            Response.day,
            Unit.code,
            Desk.code,
            Sector.code,
            Comment.kind,
            Comment.status,
            Comment.text,
            Response.quality_flags,
        )
        .join(Response, Comment.response_id == Response.id)
        .join(Unit, Response.unit_id == Unit.id)
        .join(Desk, Response.desk_id == Desk.id)
        .outerjoin(Sector, Response.sector_id == Sector.id)
        .where(*where)
        .order_by(Response.day.desc(), Comment.id.desc())
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = [
        CommentRow(d, u, k, s or NONE_CODE, kind, status, text, bool(flags))
        for d, u, k, s, kind, status, text, flags in session.execute(stmt)
    ]
    return rows, int(total or 0)


def comment_counts(session: Session, sel: Selection) -> dict[str, int]:
    """Comments by kind (comment, suggestion, complaint), flagged responses left out."""
    rows = session.execute(
        select(Comment.kind, func.count())
        .join(Response)
        .where(*filters(sel, version=False), Response.quality_flags == "")
        .group_by(Comment.kind)
    ).all()
    return {kind: int(n) for kind, n in rows}


def desk_names(session: Session, codes: list[str]) -> dict[str, tuple[str, str, str]]:
    """Desk code -> (desk name, unit code, unit name), for desks a frame may not hold."""
    rows = session.execute(
        select(Desk.code, Desk.name, Unit.code, Unit.name)
        .join(Unit, Desk.unit_id == Unit.id)
        .where(Desk.code.in_(sorted(codes)))
    )
    return {code: (name, unit, unit_name) for code, name, unit, unit_name in rows}
