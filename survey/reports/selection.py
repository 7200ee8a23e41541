"""Which responses a report covers: the period, the ``Selection`` and its scope check.

``resolve`` turns request or command-line values (codes and dates) into a
``Selection``: a unit subtree, a period, optionally a desk, a sector and/or a
sector group, and the questionnaire forms it covers.  By default that is every
form answered in the selection, analysed as one (``questionnaires.combine``);
a form picked explicitly (``questionnaire="standard@1"``) restricts it to that
form.  Forms that cannot be combined are never merged silently: the default
then covers the form with most responses and ``fallback`` says why, so the
report can tell how many responses it leaves out.  It raises ``access.Forbidden``
for anything outside the user's units and ``SelectionError`` for values that
do not exist or do not fit together.  Access is enforced here, so every page,
export and command that reads results goes through the same check.
``filters`` are the WHERE clauses on ``responses`` every later step reads with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from questionnaires.combine import IncompatibleForms, combined
from questionnaires.model import Questionnaire
from survey.models import Desk, QuestionnaireVersion, Response, Sector, SectorGroup, Unit
from survey.services import access, units
from survey.services import questionnaires as qsvc
from survey.services.access import Actor


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
    # The one form the figures are restricted to; None: every form (the default).
    version: QuestionnaireVersion | None
    # The forms the figures cover (every answered one by default, else ``version``).
    forms: tuple[QuestionnaireVersion, ...] = ()
    # Every questionnaire version answered in the selection, with its responses.
    versions: tuple[tuple[QuestionnaireVersion, int], ...] = ()
    desk: Desk | None = None
    sector: Sector | None = None
    group: SectorGroup | None = None
    # Why the default could not cover every form ("" when it does): an
    # ``IncompatibleForms.reason``; ``version`` is then the most answered form.
    fallback: str = ""
    # The period ended before the local day it was selected on: no response can be
    # added to it any more, so no report of it asks for more ("cần thêm N phiếu").
    closed: bool = False

    @cached_property
    def questionnaire(self) -> Questionnaire:
        """The forms covered, as one questionnaire (the union of their items)."""
        return combined([qsvc.definition(v) for v in self.forms])

    @property
    def picked(self) -> bool:
        """Whether one form was asked for explicitly (not the default)."""
        return self.version is not None and not self.fallback

    @property
    def form_key(self) -> str:
        """The keys of the forms covered: "standard@1" or "short@1+standard@1"."""
        return "+".join(sorted(v.key for v in self.forms))

    @property
    def n_received(self) -> int:
        """Responses of the selection in the database, every form, flagged or not."""
        return sum(n for _v, n in self.versions)

    @property
    def other_versions(self) -> int:
        """Responses of the selection answered on a form the figures do not cover."""
        ids = {v.id for v in self.forms}
        return sum(n for v, n in self.versions if v.id not in ids)

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
            "questionnaire": self.form_key,
            "questionnaires": [
                {"key": v.key, "responses": n, "counted": any(f.id == v.id for f in self.forms)}
                for v, n in self.versions
            ],
            "questionnaire_picked": self.picked,
            "questionnaire_fallback": self.fallback or None,
            "other_questionnaire_responses": self.other_versions,
            # Over when selected: no count of further responses ("more_needed" null).
            "closed": self.closed,
        }

    def args(self) -> dict[str, str]:
        """The selection as query-string values (codes and ISO dates; ``q`` only if picked)."""
        out = {
            "unit": self.unit.code,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
        }
        if self.picked:
            out["q"] = self.version.key  # type: ignore[union-attr]
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
    desk: str | None = None,
    action: str = "results.view",
    **choices: Any,
) -> Selection:
    """Check every value against the database and the user's scope (see module doc).

    ``unit`` and ``desk`` are codes; ``choices`` are the other keywords of
    ``build_selection`` (``start``, ``end``, ``sector``, ``group``,
    ``questionnaire``), checked there.
    """
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
    return build_selection(session, found, today=today, desk=found_desk, **choices)


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
        version=None,
        desk=desk,
        sector=found_sector,
        group=found_group,
    )
    versions = _versions(session, draft, domain=True)
    # A sector is a domain of the report without it, so the forms are that report's.
    design_versions = (
        versions if found_sector is None and found_group is None else _versions(session, draft)
    )
    fallback = ""
    if questionnaire:
        chosen = _version_by_key(session, questionnaire)
        if chosen is None:
            raise SelectionError("q", "unknown_questionnaire", questionnaire[:40])
        forms: tuple[QuestionnaireVersion, ...] = (chosen,)
    elif design_versions:
        chosen, forms = None, tuple(v for v, _n in design_versions)
        try:
            combined([qsvc.definition(v) for v in forms])
        except IncompatibleForms as exc:
            top = design_versions[0][0]
            chosen, forms, fallback = top, (top,), exc.reason
    else:
        latest = qsvc.latest(session) or session.scalar(
            select(QuestionnaireVersion).order_by(QuestionnaireVersion.id.desc()).limit(1)
        )
        if latest is None:
            raise SelectionError("q", "no_questionnaire")
        chosen, forms = None, (latest,)
    return Selection(
        unit=unit,
        unit_ids=unit_ids,
        start=start,
        end=end,
        version=chosen,
        forms=forms,
        versions=versions,
        desk=desk,
        sector=found_sector,
        group=found_group,
        fallback=fallback,
        closed=end < today,
    )


def _versions(
    session: Session, sel: Selection, domain: bool = False
) -> tuple[tuple[QuestionnaireVersion, int], ...]:
    """The forms answered in ``sel`` (in its sector / group with ``domain``), most first."""
    counts = dict(
        session.execute(
            select(Response.questionnaire_version_id, func.count())
            .where(*filters(sel, version=False, domain=domain))
            .group_by(Response.questionnaire_version_id)
        ).all()
    )
    rows = {
        v.id: v
        for v in session.scalars(
            select(QuestionnaireVersion).where(QuestionnaireVersion.id.in_(list(counts)))
        )
    }
    return tuple(
        sorted(((rows[i], int(n)) for i, n in counts.items()), key=lambda p: (-p[1], -p[0].id))
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


def filters(sel: Selection, version: bool = True, domain: bool = True) -> list:
    """WHERE clauses on ``responses`` for the selection (the scope is the unit subtree).

    ``version=False`` drops the form restriction (a picked form, or the fallback);
    ``domain=False`` the sector and group, which a report estimates as a domain of
    the rest (``build.whole_design``): counts, comments and exports keep them.
    """
    out = [
        Response.unit_id.in_(sorted(sel.unit_ids)),
        Response.day >= sel.start,
        Response.day <= sel.end,
    ]
    if version and sel.version is not None:
        out.append(Response.questionnaire_version_id == sel.version.id)
    if sel.desk is not None:
        out.append(Response.desk_id == sel.desk.id)
    if domain and sel.sector is not None:
        out.append(Response.sector_id == sel.sector.id)
    if domain and sel.group is not None:
        out.append(Response.sector_id.in_(select(Sector.id).where(Sector.group_id == sel.group.id)))
    return out


def count_responses(session: Session, sel: Selection) -> int:
    return int(session.scalar(select(func.count()).select_from(Response).where(*filters(sel))))
