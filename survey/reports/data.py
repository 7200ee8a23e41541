"""A report selection, checked against the user's scope, and its data read from the database.

``resolve`` turns request or command-line values (codes and dates) into a
``Selection``: a unit subtree, a period, optionally a desk, a sector and/or a
sector group, and one questionnaire version.  It raises ``access.Forbidden``
for anything outside the user's units and ``SelectionError`` for values that
do not exist or do not fit together.  Access is enforced here, so every page,
export and command that reads results goes through the same check.

``read_frame`` builds the tidy table ``analysis.analyze`` takes: one row per
response with ``response_id, unit, desk, sector, sector_group, day, excluded,
flags`` and one column per item code.  The answers are pivoted in SQL (one row
per response comes back, not one per answer) and read in chunks; item columns
are int8 in the encoding ``analysis.tidy`` accepts as is (1..5, -1 = N/A,
0 = not answered).  ``text_items`` gives the 1..5 / "NA" / "" form for files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import case, extract, func, select
from sqlalchemy.orm import Session

from questionnaires.model import Questionnaire
from survey.models import (
    Answer,
    Comment,
    Desk,
    QuestionnaireVersion,
    Response,
    Sector,
    SectorGroup,
    Unit,
    Volume,
)
from survey.models.response import DEMOGRAPHIC_COLUMNS
from survey.services import access, org_admin, units
from survey.services import questionnaires as qsvc
from survey.services.access import Actor

# Responses without a sector, sectors without a group.  Real codes start with a
# letter or digit (org_admin.SECTOR_CODE), so this never meets one.
NONE_CODE = "_NONE"
CHUNK = 20_000
NA_VALUE = -1
BLANK_VALUE = 0
BASE_COLUMNS = ("response_id", "unit", "desk", "sector", "sector_group", "day", "excluded", "flags")

Progress = Callable[[int], None]


class SelectionError(ValueError):
    """A selection value that does not exist or does not fit (``field``, ``code``)."""

    def __init__(self, field: str, code: str, value: str = "") -> None:
        super().__init__(f"{field}: {code}" + (f" ({value})" if value else ""))
        self.field = field
        self.code = code
        self.value = value


# --- periods ------------------------------------------------------------------
def month_start(d: date) -> date:
    return d.replace(day=1)


def month_end(d: date) -> date:
    return next_month(d) - timedelta(days=1)


def next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def default_period(today: date) -> tuple[date, date]:
    """Reports cover complete months: 1 January to the end of the last complete month."""
    end = month_start(today) - timedelta(days=1)
    return date(end.year, 1, 1), end


def latest_complete_month(today: date) -> tuple[date, date]:
    end = month_start(today) - timedelta(days=1)
    return month_start(end), end


def latest_complete_quarter(today: date) -> tuple[int, int, date, date]:
    """(year, quarter, first day, last day) of the last quarter that has ended."""
    q = (today.month - 1) // 3  # quarters already ended this year
    year = today.year if q else today.year - 1
    q = q or 4
    start = date(year, 3 * q - 2, 1)
    return year, q, start, month_end(date(year, 3 * q, 1))


def parse_day(text: str | None, field_name: str) -> date | None:
    """YYYY-MM-DD (as HTML date inputs send) or DD/MM/YYYY; empty means none."""
    text = (text or "").strip()
    if not text:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            parsed = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        if 2000 <= parsed.year <= 2100:
            return parsed
    raise SelectionError(field_name, "bad_date", text[:40])


# --- the selection ------------------------------------------------------------
@dataclass(frozen=True)
class Selection:
    unit: Unit
    unit_ids: frozenset[int]
    start: date
    end: date
    version: QuestionnaireVersion
    # Every questionnaire version answered in the selection, with its responses.
    versions: tuple[tuple[QuestionnaireVersion, int], ...] = ()
    desk: Desk | None = None
    sector: Sector | None = None
    group: SectorGroup | None = None

    @property
    def questionnaire(self) -> Questionnaire:
        return qsvc.definition(self.version)

    @property
    def other_versions(self) -> int:
        """Responses of the selection answered on another questionnaire version."""
        return sum(n for v, n in self.versions if v.id != self.version.id)

    def meta(self) -> dict:
        """What was selected, JSON-ready (exports carry it)."""
        return {
            "unit": {"code": self.unit.code, "name": self.unit.name},
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "desk": {"code": self.desk.code, "name": self.desk.name} if self.desk else None,
            "sector": {"code": self.sector.code, "name": self.sector.name} if self.sector else None,
            "sector_group": {"code": self.group.code, "name": self.group.name}
            if self.group
            else None,
            "questionnaire": self.version.key,
            "other_questionnaire_responses": self.other_versions,
        }

    def args(self) -> dict[str, str]:
        """The selection as query-string values (codes and ISO dates)."""
        out = {
            "unit": self.unit.code,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "q": self.version.key,
        }
        if self.desk:
            out["desk"] = self.desk.code
        if self.sector:
            out["sector"] = self.sector.code
        if self.group:
            out["group"] = self.group.code
        return out


def resolve(
    session: Session,
    user: Actor,
    *,
    today: date,
    unit: str | None = None,
    start: date | None = None,
    end: date | None = None,
    desk: str | None = None,
    sector: str | None = None,
    group: str | None = None,
    questionnaire: str | None = None,
    action: str = "results.view",
) -> Selection:
    """Check every value against the database and the user's scope (see module doc)."""
    if unit:
        found = units.by_code(session, unit.strip().upper())
        if found is None:
            raise SelectionError("unit", "unknown_unit", unit[:40])
    elif user.unit_id is not None:
        found = session.get(Unit, user.unit_id)
    else:
        raise SelectionError("unit", "unit_required")
    if found is None:
        raise SelectionError("unit", "unknown_unit")
    access.require(user, action, found.id)
    found_desk = None
    if desk:
        found_desk = session.scalar(select(Desk).where(Desk.code == desk.strip().upper()))
        if found_desk is None:
            raise SelectionError("desk", "unknown_desk", desk[:40])
        access.require(user, action, found_desk.unit_id)
    return build_selection(
        session,
        found,
        today=today,
        start=start,
        end=end,
        desk=found_desk,
        sector=sector,
        group=group,
        questionnaire=questionnaire,
    )


def build_selection(
    session: Session,
    unit: Unit,
    *,
    today: date,
    start: date | None = None,
    end: date | None = None,
    desk: Desk | None = None,
    sector: str | None = None,
    group: str | None = None,
    questionnaire: str | None = None,
) -> Selection:
    """The selection without access checks: callers check first (``resolve``, public board)."""
    default_start, default_end = default_period(today)
    start = start or (default_start if end is None else date(end.year, 1, 1))
    end = end or max(default_end, start)
    if start > end:
        raise SelectionError("to", "period_reversed")
    unit_ids = frozenset(units.subtree_ids(session, unit.id))
    if desk is not None and desk.unit_id not in unit_ids:
        raise SelectionError("desk", "desk_outside_unit", desk.code)
    found_sector = found_group = None
    if sector:
        found_sector = session.scalar(select(Sector).where(Sector.code == sector.strip().upper()))
        if found_sector is None:
            raise SelectionError("sector", "unknown_sector", sector[:40])
    if group:
        found_group = session.scalar(
            select(SectorGroup).where(SectorGroup.code == group.strip().upper())
        )
        if found_group is None:
            raise SelectionError("group", "unknown_group", group[:40])
    if found_sector and found_group and found_sector.group_id != found_group.id:
        raise SelectionError("sector", "sector_outside_group", found_sector.code)
    draft = Selection(
        unit=unit,
        unit_ids=unit_ids,
        start=start,
        end=end,
        version=None,  # type: ignore[arg-type]
        desk=desk,
        sector=found_sector,
        group=found_group,
    )
    counts = dict(
        session.execute(
            select(Response.questionnaire_version_id, func.count())
            .where(*filters(draft, version=False))
            .group_by(Response.questionnaire_version_id)
        ).all()
    )
    rows = {
        v.id: v
        for v in session.scalars(
            select(QuestionnaireVersion).where(QuestionnaireVersion.id.in_(list(counts)))
        )
    }
    versions = tuple(
        sorted(((rows[i], int(n)) for i, n in counts.items()), key=lambda p: (-p[1], -p[0].id))
    )
    if questionnaire:
        chosen = _version_by_key(session, questionnaire)
        if chosen is None:
            raise SelectionError("q", "unknown_questionnaire", questionnaire[:40])
    elif versions:
        chosen = versions[0][0]
    else:
        chosen = qsvc.latest(session) or session.scalar(
            select(QuestionnaireVersion).order_by(QuestionnaireVersion.id.desc()).limit(1)
        )
        if chosen is None:
            raise SelectionError("q", "no_questionnaire")
    return Selection(
        unit=unit,
        unit_ids=unit_ids,
        start=start,
        end=end,
        version=chosen,
        versions=versions,
        desk=desk,
        sector=found_sector,
        group=found_group,
    )


def _version_by_key(session: Session, key: str) -> QuestionnaireVersion | None:
    qid, _sep, version = key.strip().partition("@")
    stmt = select(QuestionnaireVersion).where(QuestionnaireVersion.qid == qid)
    if version:
        # Nine ASCII digits at most: a version fits an int4 column (and "²" is a digit).
        if not (version.isascii() and version.isdigit() and len(version) <= 9):
            return None
        stmt = stmt.where(QuestionnaireVersion.version == int(version))
    return session.scalar(stmt.order_by(QuestionnaireVersion.version.desc()).limit(1))


def filters(sel: Selection, version: bool = True) -> list:
    """WHERE clauses on ``responses`` for the selection (the scope is the unit subtree)."""
    out = [
        Response.unit_id.in_(sorted(sel.unit_ids)),
        Response.day >= sel.start,
        Response.day <= sel.end,
    ]
    if version and sel.version is not None:
        out.append(Response.questionnaire_version_id == sel.version.id)
    if sel.desk is not None:
        out.append(Response.desk_id == sel.desk.id)
    if sel.sector is not None:
        out.append(Response.sector_id == sel.sector.id)
    if sel.group is not None:
        out.append(Response.sector_id.in_(select(Sector.id).where(Sector.group_id == sel.group.id)))
    return out


def count_responses(session: Session, sel: Selection) -> int:
    return int(session.scalar(select(func.count()).select_from(Response).where(*filters(sel))))


# --- labels -------------------------------------------------------------------
@dataclass
class Labels:
    """Names of the codes in a frame (for tables, files and the codebook)."""

    units: dict[str, str] = field(default_factory=dict)
    desks: dict[str, str] = field(default_factory=dict)
    desk_units: dict[str, str] = field(default_factory=dict)  # desk code -> unit code now
    sectors: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    sector_groups: dict[str, str] = field(default_factory=dict)  # sector code -> group code


@dataclass
class Lookup:
    """Ids to codes for the small tables (units, desks, sectors, groups)."""

    units: dict[int, tuple[str, str]]
    sectors: dict[int, tuple[str, str, str]]  # id -> (code, name, group code)
    groups: dict[str, str]  # code -> name
    desks: dict[int, tuple[str, str, int]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, sel: Selection) -> Lookup:
        group_rows = session.execute(select(SectorGroup.id, SectorGroup.code, SectorGroup.name))
        group_by_id = {gid: (code, name) for gid, code, name in group_rows}
        return cls(
            units={
                uid: (code, name)
                for uid, code, name in session.execute(
                    select(Unit.id, Unit.code, Unit.name).where(Unit.id.in_(sorted(sel.unit_ids)))
                )
            },
            sectors={
                sid: (code, name, group_by_id[gid][0] if gid in group_by_id else NONE_CODE)
                for sid, code, name, gid in session.execute(
                    select(Sector.id, Sector.code, Sector.name, Sector.group_id)
                )
            },
            groups={code: name for code, name in group_by_id.values()},
        )

    def add_desks(self, session: Session, ids) -> None:
        wanted = sorted(set(int(i) for i in ids) - set(self.desks))
        for start in range(0, len(wanted), 1000):
            for did, code, name, unit_id in session.execute(
                select(Desk.id, Desk.code, Desk.name, Desk.unit_id).where(
                    Desk.id.in_(wanted[start : start + 1000])
                )
            ):
                self.desks[did] = (code, name, unit_id)

    def labels(self, frame: pd.DataFrame) -> Labels:
        unit_codes = {code: name for code, name in self.units.values()}
        out = Labels()
        for code in sorted(set(frame["unit"])):
            out.units[code] = unit_codes.get(code, code)
        by_code = {code: (name, unit_id) for code, name, unit_id in self.desks.values()}
        for code in sorted(set(frame["desk"])):
            name, unit_id = by_code.get(code, (code, None))
            out.desks[code] = name
            out.desk_units[code] = self.units.get(unit_id, ("", ""))[0] if unit_id else ""
        sectors = {code: (name, grp) for code, name, grp in self.sectors.values()}
        for code in sorted(set(frame["sector"])):
            name, grp = sectors.get(code, ("", NONE_CODE))
            out.sectors[code] = name
            out.sector_groups[code] = grp
        for code in sorted(set(frame["sector_group"])):
            out.groups[code] = self.groups.get(code, "")
        return out


# --- the tidy frame -----------------------------------------------------------
def _pivot_statement(sel: Selection, item_codes: list[str], extra: tuple = ()):
    value = func.coalesce(Answer.value, NA_VALUE)
    pivot = [func.max(case((Answer.item_code == code, value))).label(code) for code in item_codes]
    keys = (
        Response.id,
        Response.unit_id,
        Response.desk_id,
        Response.sector_id,
        Response.day,
        Response.quality_flags,
        *extra,
    )
    return (
        select(*keys, *pivot)
        .outerjoin(Answer, Answer.response_id == Response.id)
        .where(*filters(sel))
        .group_by(*keys)
        .order_by(Response.id)
    )


def iter_chunks(
    session: Session,
    sel: Selection,
    lookup: Lookup,
    *,
    extra_columns: dict[str, object] | None = None,
    chunk: int = CHUNK,
) -> Iterator[pd.DataFrame]:
    """The selection's responses as tidy DataFrames of at most ``chunk`` rows each.

    ``extra_columns`` maps output names to further ``Response`` columns (e.g.
    demographics); they follow the base columns, before the items.
    """
    extra_columns = extra_columns or {}
    codes = sel.questionnaire.all_item_codes()
    stmt = _pivot_statement(sel, codes, tuple(extra_columns.values()))
    names = ["_id", "_unit", "_desk", "_sector", "day", "_flags", *extra_columns, *codes]
    result = session.execute(stmt.execution_options(yield_per=chunk))
    for part in result.partitions(chunk):
        raw = pd.DataFrame.from_records(part, columns=names)
        lookup.add_desks(session, raw["_desk"].unique())
        yield _tidy(raw, lookup, list(extra_columns), codes)


def _tidy(raw: pd.DataFrame, lookup: Lookup, extra: list[str], codes: list[str]) -> pd.DataFrame:
    sector_code = {sid: code for sid, (code, _name, _grp) in lookup.sectors.items()}
    sector_group = {sid: grp for sid, (_code, _name, grp) in lookup.sectors.items()}
    frame = pd.DataFrame(
        {
            "response_id": raw["_id"].astype(np.int64),
            "unit": raw["_unit"].map({uid: code for uid, (code, _n) in lookup.units.items()}),
            "desk": raw["_desk"].map({did: code for did, (code, _n, _u) in lookup.desks.items()}),
            "sector": raw["_sector"].map(sector_code).fillna(NONE_CODE),
            "sector_group": raw["_sector"].map(sector_group).fillna(NONE_CODE),
            "day": pd.to_datetime(raw["day"]),
            "excluded": raw["_flags"].fillna("").astype(str).ne(""),
            "flags": raw["_flags"].fillna("").astype(str),
        }
    )
    for name in extra:
        frame[name] = raw[name].astype(object).where(raw[name].notna(), "")
    for code in codes:
        frame[code] = pd.to_numeric(raw[code]).fillna(BLANK_VALUE).astype(np.int8)
    return frame


def empty_frame(sel: Selection, extra: list[str] | None = None) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "response_id": pd.Series(dtype=np.int64),
            "unit": pd.Series(dtype=object),
            "desk": pd.Series(dtype=object),
            "sector": pd.Series(dtype=object),
            "sector_group": pd.Series(dtype=object),
            "day": pd.Series(dtype="datetime64[ns]"),
            "excluded": pd.Series(dtype=bool),
            "flags": pd.Series(dtype=object),
        }
    )
    for name in extra or ():
        frame[name] = pd.Series(dtype=object)
    for code in sel.questionnaire.all_item_codes():
        frame[code] = pd.Series(dtype=np.int8)
    return frame


def read_frame(
    session: Session, sel: Selection, progress: Progress | None = None
) -> tuple[pd.DataFrame, Labels]:
    """The whole tidy frame (items int8-encoded) and the names of its codes."""
    lookup = Lookup.load(session, sel)
    parts = []
    for part in iter_chunks(session, sel, lookup):
        parts.append(part)
        if progress is not None:
            progress(len(part))
    frame = pd.concat(parts, ignore_index=True) if parts else empty_frame(sel)
    return frame, lookup.labels(frame)


def demographic_columns(q: Questionnaire) -> dict[str, object]:
    """Questionnaire demographic code -> Response column, for the response file."""
    return {
        d.code: getattr(Response, DEMOGRAPHIC_COLUMNS[d.code])
        for d in q.demographics
        if d.code in DEMOGRAPHIC_COLUMNS
    }


def text_items(frame: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """Item columns as files show them: "1".."5", "NA" or "" (not answered)."""
    out = frame.copy()
    for code in codes:
        col = frame[code].to_numpy()
        text = col.astype(str).astype(object)
        text[col == NA_VALUE] = "NA"
        text[col == BLANK_VALUE] = ""
        out[code] = text
    return out


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


def response_counts(session: Session, sel: Selection) -> pd.DataFrame:
    """Counted responses (not flagged, every questionnaire version) per desk, unit and month.

    The numerator of response rates: a citizen who answered the short form
    answered all the same.  Columns ``desk``, ``unit`` (codes), ``month``
    ("YYYY-MM") and ``n``.
    """
    year, month = extract("year", Response.day), extract("month", Response.day)
    stmt = (
        select(Desk.code, Unit.code, year, month, func.count())
        .join(Desk, Response.desk_id == Desk.id)
        .join(Unit, Response.unit_id == Unit.id)
        .where(*filters(sel, version=False), Response.quality_flags == "")
        .group_by(Desk.code, Unit.code, year, month)
    )
    rows = [(d, u, f"{int(y):04d}-{int(m):02d}", int(n)) for d, u, y, m, n in session.execute(stmt)]
    return pd.DataFrame(rows, columns=["desk", "unit", "month", "n"])


# --- targets ------------------------------------------------------------------
@dataclass
class TargetInfo:
    threshold: float | None
    source: str = ""
    unit_code: str = ""  # the unit that set it (inherited from there)


@dataclass
class Targets:
    year: int
    overall: TargetInfo
    # group code -> the target that applies to that sector group (its own, or overall)
    groups: dict[str, TargetInfo]
    # analysis ``targets``: per breakdown value
    by: dict[str, dict[str, float]]


def _info(session: Session, target) -> TargetInfo:
    if target is None:
        return TargetInfo(None)
    unit = session.get(Unit, target.unit_id)
    return TargetInfo(target.threshold, target.source, unit.code if unit else "")


def targets_for(session: Session, sel: Selection, frame: pd.DataFrame) -> Targets:
    """Targets of the period's (end) year, inherited down the tree.

    The overall index is judged against the selection's own target: the sector
    group's when the selection is one group (or one sector of a group).  Each
    breakdown value gets its own: a unit its inherited target, a desk its
    unit's, a sector group (and its sectors) the group target.
    """
    year = sel.end.year
    group = sel.group
    if group is None and sel.sector is not None and sel.sector.group_id is not None:
        group = session.get(SectorGroup, sel.sector.group_id)
    overall = _info(
        session, org_admin.effective_target(session, sel.unit, year, group.id if group else None)
    )
    groups: dict[str, TargetInfo] = {}
    for grp in org_admin.list_groups(session):
        groups[grp.code] = _info(
            session, org_admin.effective_target(session, sel.unit, year, grp.id)
        )
    by: dict[str, dict[str, float]] = {"sector_group": {}, "sector": {}, "unit": {}, "desk": {}}
    for code, info in groups.items():
        if info.threshold is not None:
            by["sector_group"][code] = info.threshold
    plain = org_admin.effective_target(session, sel.unit, year)
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
            t = org_admin.effective_target(session, unit, year, group.id if group else None)
            if t is not None:
                by["unit"][code] = t.threshold
        # A desk is judged against the target of the unit its responses were recorded at.
        desk_unit = frame.groupby("desk")["unit"].agg(lambda s: s.mode().iat[0])
        for desk_code, unit_code in desk_unit.items():
            if unit_code in by["unit"]:
                by["desk"][desk_code] = by["unit"][unit_code]
    return Targets(year=year, overall=overall, groups=groups, by=by)


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
