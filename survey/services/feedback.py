"""Citizens' suggestions and complaints: the unit's inbox and their follow-up.

The sixth criterion asks whether a unit receives and handles feedback; this is
where it does. A comment is read within the reader's unit subtree and moves
through ``new`` -> ``in_progress`` -> ``resolved`` (or back); every change is
audited. Desk staff do not see the inbox: a complaint may be about them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey import clock
from survey.models import Comment, Desk, Response, Unit
from survey.services import access
from survey.services.access import Actor
from survey.services.audit import record
from survey.services.org.targets import MAX_YEAR, MIN_YEAR

STATUSES = ("new", "in_progress", "resolved")
KINDS = ("comment", "suggestion", "complaint")
PAGE_SIZE = 50


class FilterError(ValueError):
    """A filter value that is not one of the allowed ones (HTTP 400)."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    kind: str | None = None
    start: date | None = None  # local days, both inclusive
    end: date | None = None
    page: int = 1

    def args(self) -> dict[str, str]:
        """The filters (not the page) as query-string values, for links to other pages."""
        out = {"status": self.status, "kind": self.kind}
        out["from"] = self.start.isoformat() if self.start else None
        out["to"] = self.end.isoformat() if self.end else None
        return {k: v for k, v in out.items() if v}


@dataclass(frozen=True)
class Item:
    id: int
    created_at: datetime  # UTC, naive as stored
    kind: str
    status: str
    text: str
    desk_code: str
    desk_name: str
    unit_name: str


@dataclass(frozen=True)
class Inbox:
    items: list[Item]
    total: int  # matching the filters
    by_status: dict[str, int]  # in scope, whatever the status filter
    page: int
    pages: int


def parse_filters(args) -> Filters:
    """Filters from query-string values; raises FilterError naming the bad field."""

    def choice(name: str, allowed: tuple[str, ...]) -> str | None:
        value = (args.get(name) or "").strip()
        if not value:
            return None
        if value not in allowed:
            raise FilterError(name)
        return value

    def day(name: str) -> date | None:
        value = (args.get(name) or "").strip()
        if not value:
            return None
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            raise FilterError(name) from None
        # The query shifts days to UTC and adds one: 0001-01-01 and 9999-12-31
        # would overflow, and no comment is that old or that far ahead.
        if not MIN_YEAR <= parsed.year <= MAX_YEAR:
            raise FilterError(name)
        return parsed

    raw_page = (args.get("page") or "1").strip()
    # "²".isdigit() is true but int("²") fails, and so does int() of 5,000 digits.
    digits = raw_page.isascii() and raw_page.isdigit() and len(raw_page) <= 6
    if not (digits and 1 <= int(raw_page) <= 100_000):
        raise FilterError("page")
    filters = Filters(
        status=choice("status", STATUSES),
        kind=choice("kind", KINDS),
        start=day("from"),
        end=day("to"),
        page=int(raw_page),
    )
    if filters.start and filters.end and filters.start > filters.end:
        raise FilterError("to")
    return filters


def inbox(session: Session, user: Actor, filters: Filters, tz: str) -> Inbox:
    """The comments in the user's scope, newest first, one page of them."""
    if not access.can_anywhere(user, "feedback.view"):
        raise access.Forbidden("feedback.view")
    scope = access.scope_ids(session, user)
    base = select(Comment.id).join(Response, Response.id == Comment.response_id)
    if scope is not None:
        base = base.where(Response.unit_id.in_(sorted(scope)))
    if filters.kind:
        base = base.where(Comment.kind == filters.kind)
    if filters.start:
        base = base.where(Comment.created_at >= clock.utc_start_of(filters.start, tz))
    if filters.end:
        base = base.where(
            Comment.created_at < clock.utc_start_of(filters.end + timedelta(days=1), tz)
        )
    by_status = dict.fromkeys(STATUSES, 0)
    counted = base.add_columns(Comment.status).subquery()
    for status, n in session.execute(
        select(counted.c.status, func.count()).group_by(counted.c.status)
    ):
        by_status[status] = n
    if filters.status:
        base = base.where(Comment.status == filters.status)
    total = by_status[filters.status] if filters.status else sum(by_status.values())
    pages = max(1, -(-total // PAGE_SIZE))
    ids = base.order_by(Comment.created_at.desc(), Comment.id.desc())
    ids = ids.limit(PAGE_SIZE).offset((filters.page - 1) * PAGE_SIZE).subquery()
    rows = session.execute(
        select(
            Comment.id,
            Comment.created_at,
            Comment.kind,
            Comment.status,
            Comment.text,
            Desk.code,
            Desk.name,
            Unit.name,
        )
        .join(ids, ids.c.id == Comment.id)
        .join(Response, Response.id == Comment.response_id)
        .join(Desk, Desk.id == Response.desk_id)
        .join(Unit, Unit.id == Response.unit_id)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
    ).all()
    return Inbox([Item(*row) for row in rows], total, by_status, filters.page, pages)


def set_status(session: Session, user: Actor, comment_id: int, status: str) -> bool:
    """Move a comment to ``status``; False if it was there already. Audited;
    the caller commits.

    Raises LookupError for a comment that does not exist or lies outside the
    user's scope (the same answer for both, so ids reveal nothing), ValueError
    for an unknown status, Forbidden when the role may not handle feedback.
    """
    if status not in STATUSES:
        raise ValueError(status)
    if not access.can_anywhere(user, "feedback.manage"):
        raise access.Forbidden("feedback.manage")
    row = session.execute(
        select(Comment, Response.unit_id)
        .join(Response, Response.id == Comment.response_id)
        .where(Comment.id == comment_id)
    ).first()
    # The role may handle feedback (checked above), so a refusal here means
    # outside the user's subtree: answered like a missing id.
    if row is None or not access.can(user, "feedback.manage", row[1]):
        raise LookupError(comment_id)
    comment = row[0]
    if comment.status == status:
        return False
    before = {"status": comment.status}
    comment.status = status
    record(
        session,
        actor=user.username,
        user_id=user.id,
        action="feedback.status",
        entity="comment",
        entity_id=comment.id,
        before=before,
        after={"status": status},
    )
    session.flush()
    return True
