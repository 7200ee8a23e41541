"""Citizens' suggestions and complaints: cases the unit handles and answers.

The sixth criterion asks whether a unit receives and handles feedback; this is
where it does. Every comment is a case (``open_case``): a tracking code the
citizen keeps (``/y-kien/<code>``), a due day (working days from the setting),
an assignee, internal notes, a public reply, and a status that moves
``new`` -> ``in_progress`` -> ``answered`` -> ``closed`` (closing needs a
public reply or a reason). Every change is audited. Analysts read the inbox,
managers act; desk staff never see it, as a complaint may be about them.

A contact (phone or e-mail) a citizen leaves with consent sits in its own
table, is read only by managers of the unit, is never exported, and is
deleted ``contact_days`` after the case closes (``purge_contacts``).
"""

from __future__ import annotations

import re
import secrets
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from survey import clock
from survey.config import DEFAULTS
from survey.models import (
    Comment,
    Desk,
    FeedbackContact,
    FeedbackNote,
    FeedbackSetting,
    Response,
    Unit,
    User,
)
from survey.models._types import utcnow
from survey.services import access, units
from survey.services.access import Actor
from survey.services.audit import record
from survey.services.codes import ALPHABET
from survey.services.org.targets import MAX_YEAR, MIN_YEAR

STATUSES = ("new", "in_progress", "answered", "closed")
OPEN = ("new", "in_progress")  # still to be answered: these can be overdue
KINDS = ("comment", "suggestion", "complaint")
PAGE_SIZE = 50
MAX_NOTE = 2000
MAX_REPLY = 2000
MAX_SEARCH = 100

# "PA-" (phản ánh, kiến nghị) and 7 characters of the desk-code alphabet:
# 31**7 ≈ 2.8e10 codes, so with the rate limit a guess finds nothing.
CODE_PREFIX = "PA-"
CODE_LENGTH = 7
_CODE = re.compile(rf"(?:PA-?)?([{ALPHABET}]{{{CODE_LENGTH}}})")


class FilterError(ValueError):
    """A filter value that is not one of the allowed ones (HTTP 400)."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


class CaseError(ValueError):
    """A case change refused; ``code`` names why (survey.messages.feedback)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --- codes and due days ---------------------------------------------------------
def new_tracking_code() -> str:
    return CODE_PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(raw: str | None) -> str | None:
    """The stored form of a code as a citizen may type it (lower case, without
    the dash or the prefix); None if it cannot be a code at all."""
    match = _CODE.fullmatch((raw or "").strip().upper().replace(" ", ""))
    return CODE_PREFIX + match.group(1) if match else None


def add_working_days(day: date, n: int) -> date:
    """``n`` working days (Monday to Friday) after ``day``."""
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def low_score_alert(session: Session, unit_id: int) -> bool:
    """Whether a very low score opens a flagged case at this unit: the nearest
    setting up the tree, on by default."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        return False
    chain = [u.id for u in units.ancestors(unit)]
    rows = dict(
        session.execute(
            select(FeedbackSetting.unit_id, FeedbackSetting.low_score_alert).where(
                FeedbackSetting.unit_id.in_(chain)
            )
        ).all()
    )
    return next((rows[uid] for uid in chain if uid in rows), True)


def open_case(
    session: Session,
    response_id: int,
    tz: str,
    due_days: int = DEFAULTS["FEEDBACK_DUE_WORKING_DAYS"],
) -> str | None:
    """Make the response's comment a case (once): its tracking code, due day and
    low-score flag. The code, or None when the response has no comment."""
    row = session.execute(
        select(Comment, Response.unit_id)
        .join(Response, Response.id == Comment.response_id)
        .where(Comment.response_id == response_id)
    ).first()
    if row is None:
        return None
    comment, unit_id = row
    if comment.tracking_code:
        return comment.tracking_code
    code = new_tracking_code()
    while session.scalar(select(Comment.id).where(Comment.tracking_code == code)):
        code = new_tracking_code()  # ~never: 2.8e10 codes
    comment.tracking_code = code
    comment.due_on = add_working_days(clock.local_day(comment.created_at or utcnow(), tz), due_days)
    packed = session.scalar(select(Response.answers).where(Response.id == response_id)) or ""
    very_low = "1" in packed  # an item answered 1, "Rất không hài lòng" (encode_answers)
    comment.attention = very_low and low_score_alert(session, unit_id)
    session.flush()
    return code


def code_of_response(session: Session, response_id: int) -> str | None:
    return session.scalar(select(Comment.tracking_code).where(Comment.response_id == response_id))


def has_contact(session: Session, response_id: int) -> bool:
    return (
        session.scalar(
            select(FeedbackContact.comment_id)
            .join(Comment, Comment.id == FeedbackContact.comment_id)
            .where(Comment.response_id == response_id)
        )
        is not None
    )


def add_contact(session: Session, response_id: int, contact: str) -> bool:
    """Keep a contact (checked by form_check, consent given) for the response's
    comment; False if there is no comment or a contact already."""
    comment_id = session.scalar(select(Comment.id).where(Comment.response_id == response_id))
    if comment_id is None or session.get(FeedbackContact, comment_id) is not None:
        return False
    session.add(FeedbackContact(comment_id=comment_id, contact=contact))
    session.flush()
    return True


# --- what the citizen sees -------------------------------------------------------
@dataclass(frozen=True)
class PublicStatus:
    code: str
    kind: str
    status: str
    received: datetime  # naive UTC
    due_on: date | None
    reply: str | None
    replied_at: datetime | None
    closed_at: datetime | None
    unit_name: str
    desk_name: str


def public_status(session: Session, raw_code: str) -> PublicStatus | None:
    """A case by its tracking code, as much as its citizen may see; None if unknown.

    Never the text: the code may be seen by others (a shared tablet, a photo),
    and the text may hold what the citizen should not have written there."""
    code = normalise_code(raw_code)
    if code is None:
        return None
    row = session.execute(
        select(
            Comment.tracking_code,
            Comment.kind,
            Comment.status,
            Comment.created_at,
            Comment.due_on,
            Comment.public_reply,
            Comment.replied_at,
            Comment.closed_at,
            Unit.name,
            Desk.name,
        )
        .join(Response, Response.id == Comment.response_id)
        .join(Desk, Desk.id == Response.desk_id)
        .join(Unit, Unit.id == Response.unit_id)
        .where(Comment.tracking_code == code)
    ).first()
    return PublicStatus(*row) if row else None


# --- the inbox -------------------------------------------------------------------
@dataclass(frozen=True)
class Filters:
    status: str | None = None
    kind: str | None = None
    desk: str | None = None  # a desk code
    overdue: bool = False
    q: str | None = None  # words in the text, or a tracking code
    start: date | None = None  # local days, both inclusive
    end: date | None = None
    page: int = 1

    def args(self) -> dict[str, str]:
        """The filters (not the page) as query-string values, for links to other pages."""
        out = {"status": self.status, "kind": self.kind, "desk": self.desk, "q": self.q}
        out["overdue"] = "1" if self.overdue else None
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
    tracking_code: str | None
    due_on: date | None
    replied_at: datetime | None
    attention: bool
    assignee: str | None
    overdue: bool = False


@dataclass(frozen=True)
class Inbox:
    items: list[Item]
    total: int  # matching the filters
    by_status: dict[str, int]  # in scope, whatever the status filter
    page: int
    pages: int
    overdue: int = 0  # open and past due, in scope, whatever the status filter


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
    desk = (args.get("desk") or "").strip().upper() or None
    if desk is not None and not (len(desk) <= 16 and all(ch in ALPHABET for ch in desk)):
        raise FilterError("desk")
    overdue = (args.get("overdue") or "").strip()
    if overdue not in ("", "0", "1"):
        raise FilterError("overdue")
    q = (args.get("q") or "").strip() or None
    if q is not None and (len(q) > MAX_SEARCH or not q.isprintable()):
        raise FilterError("q")
    filters = Filters(
        status=choice("status", STATUSES),
        kind=choice("kind", KINDS),
        desk=desk,
        overdue=overdue == "1",
        q=q,
        start=day("from"),
        end=day("to"),
        page=int(raw_page),
    )
    if filters.start and filters.end and filters.start > filters.end:
        raise FilterError("to")
    return filters


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _overdue(today: date):
    return Comment.status.in_(OPEN) & (Comment.due_on < today)


def _scoped(session: Session, user: Actor, filters: Filters, tz: str, today: date):
    """The ids of the comments in scope matching every filter but the status."""
    if not access.can_anywhere(user, "feedback.view"):
        raise access.Forbidden("feedback.view")
    scope = access.scope_ids(session, user)
    base = select(Comment.id).join(Response, Response.id == Comment.response_id)
    if scope is not None:
        base = base.where(Response.unit_id.in_(sorted(scope)))
    if filters.kind:
        base = base.where(Comment.kind == filters.kind)
    if filters.desk:
        base = base.join(Desk, Desk.id == Response.desk_id).where(Desk.code == filters.desk)
    if filters.overdue:
        base = base.where(_overdue(today))
    if filters.q:
        code = normalise_code(filters.q)
        words = Comment.text.ilike(_like(filters.q), escape="\\")
        base = base.where(or_(words, Comment.tracking_code == code) if code else words)
    if filters.start:
        base = base.where(Comment.created_at >= clock.utc_start_of(filters.start, tz))
    if filters.end:
        base = base.where(
            Comment.created_at < clock.utc_start_of(filters.end + timedelta(days=1), tz)
        )
    return base


def _item_query():
    return (
        select(
            Comment.id,
            Comment.created_at,
            Comment.kind,
            Comment.status,
            Comment.text,
            Desk.code,
            Desk.name,
            Unit.name,
            Comment.tracking_code,
            Comment.due_on,
            Comment.replied_at,
            Comment.attention,
            User.username,
        )
        .join(Response, Response.id == Comment.response_id)
        .join(Desk, Desk.id == Response.desk_id)
        .join(Unit, Unit.id == Response.unit_id)
        .outerjoin(User, User.id == Comment.assigned_to_id)
    )


def _item(row, today: date) -> Item:
    status, due_on = row[3], row[9]
    return Item(*row, overdue=status in OPEN and due_on is not None and due_on < today)


def inbox(session: Session, user: Actor, filters: Filters, tz: str) -> Inbox:
    """The comments in the user's scope, newest first, one page of them."""
    today = clock.local_today(tz)
    base = _scoped(session, user, filters, tz, today)
    by_status = dict.fromkeys(STATUSES, 0)
    counted = base.add_columns(Comment.status).subquery()
    for status, n in session.execute(
        select(counted.c.status, func.count()).group_by(counted.c.status)
    ):
        by_status[status] = n
    late = base.where(_overdue(today)).subquery()
    overdue = session.scalar(select(func.count()).select_from(late))
    if filters.status:
        base = base.where(Comment.status == filters.status)
    total = by_status[filters.status] if filters.status else sum(by_status.values())
    pages = max(1, -(-total // PAGE_SIZE))
    ids = base.order_by(Comment.created_at.desc(), Comment.id.desc())
    ids = ids.limit(PAGE_SIZE).offset((filters.page - 1) * PAGE_SIZE).subquery()
    rows = session.execute(
        _item_query()
        .join(ids, ids.c.id == Comment.id)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
    ).all()
    items = [_item(row, today) for row in rows]
    return Inbox(items, total, by_status, filters.page, pages, overdue)


def export_rows(session: Session, user: Actor, filters: Filters, tz: str) -> list[dict]:
    """Every comment matching the filters (no paging), for the XLSX export, with
    handling times. Never the contact, never the internal notes."""
    access_ok = access.can_anywhere(user, "feedback.view")
    if not access_ok:
        raise access.Forbidden("feedback.view")
    today = clock.local_today(tz)
    base = _scoped(session, user, filters, tz, today)
    if filters.status:
        base = base.where(Comment.status == filters.status)
    ids = base.subquery()
    rows = session.execute(
        _item_query()
        .add_columns(Comment.public_reply, Comment.closed_at, Comment.close_reason)
        .join(ids, ids.c.id == Comment.id)
        .order_by(Comment.created_at, Comment.id)
    ).all()
    out = []
    for row in rows:
        item = _item(row[:13], today)
        reply, closed_at, reason = row[13:]
        days = handling_days(item.created_at, item.replied_at)
        out.append(
            {
                "item": item,
                "received": clock.local_time(item.created_at, tz),
                "replied": clock.local_time(item.replied_at, tz) if item.replied_at else None,
                "closed": clock.local_time(closed_at, tz) if closed_at else None,
                "handling_days": days,
                "on_time": on_time(item.replied_at, item.due_on, tz),
                "reply": reply,
                "close_reason": reason,
            }
        )
    return out


# --- one case --------------------------------------------------------------------
@dataclass(frozen=True)
class Note:
    author: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class Case:
    item: Item
    unit_id: int
    public_reply: str | None
    closed_at: datetime | None
    close_reason: str | None
    assigned_to_id: int | None
    notes: list[Note] = field(default_factory=list)
    # Only for those who may act on it (managers of the unit), else None.
    contact: str | None = None
    has_contact: bool = False


def _load(session: Session, user: Actor, comment_id: int, action: str):
    """The comment and its unit id, if the user may ``action`` it; else LookupError
    (outside the scope answers like a missing id) or Forbidden (the role)."""
    if not access.can_anywhere(user, action):
        raise access.Forbidden(action)
    row = session.execute(
        select(Comment, Response.unit_id)
        .join(Response, Response.id == Comment.response_id)
        .where(Comment.id == comment_id)
    ).first()
    # The role may do it (checked above), so a refusal here means outside the
    # user's subtree: answered like a missing id.
    if row is None or not access.can(user, action, row[1]):
        raise LookupError(comment_id)
    return row


def case(session: Session, user: Actor, comment_id: int, tz: str) -> Case:
    """One case with its notes; the contact only for a manager of its unit."""
    comment, unit_id = _load(session, user, comment_id, "feedback.view")
    today = clock.local_today(tz)
    row = session.execute(_item_query().where(Comment.id == comment_id)).one()
    notes = [
        Note(n.author, n.text, n.created_at)
        for n in session.scalars(
            select(FeedbackNote)
            .where(FeedbackNote.comment_id == comment_id)
            .order_by(FeedbackNote.created_at, FeedbackNote.id)
        )
    ]
    stored = _live_contact(session, comment_id)
    shown = stored if access.can(user, "feedback.manage", unit_id) else None
    return Case(
        item=_item(row, today),
        unit_id=unit_id,
        public_reply=comment.public_reply,
        closed_at=comment.closed_at,
        close_reason=comment.close_reason,
        assigned_to_id=comment.assigned_to_id,
        notes=notes,
        contact=shown,
        has_contact=stored is not None,
    )


def _live_contact(session: Session, comment_id: int) -> str | None:
    """The contact unless its deletion day has come (purged or not yet)."""
    row = session.get(FeedbackContact, comment_id)
    if row is None or (row.delete_after is not None and row.delete_after <= utcnow()):
        return None
    return row.contact


def assignees(session: Session, unit_id: int) -> list[User]:
    """Who a case of this unit may be given to: active accounts that may handle it."""
    users = session.scalars(
        select(User)
        .where(User.active.is_(True), User.role.in_(sorted(access.MANAGERS)))
        .order_by(User.username)
    ).all()
    return [u for u in users if access.can(u, "feedback.manage", unit_id)]


def _audit(session: Session, user: Actor, comment: Comment, action: str, before, after) -> None:
    record(
        session,
        actor=user.username,
        user_id=user.id,
        action=action,
        entity="comment",
        entity_id=comment.id,
        before=before,
        after=after,
    )
    session.flush()


def set_status(
    session: Session,
    user: Actor,
    comment_id: int,
    status: str,
    reason: str = "",
    contact_days: int = DEFAULTS["FEEDBACK_CONTACT_DAYS"],
) -> bool:
    """Move a case to ``status``; False if it was there already. Audited; the
    caller commits.

    Raises LookupError for a comment that does not exist or lies outside the
    user's scope (the same answer for both, so ids reveal nothing), ValueError
    for an unknown status, Forbidden when the role may not handle feedback,
    CaseError("reply_needed") for "answered" without a public reply and
    CaseError("close_needs") for closing without a reply or a reason.
    """
    if status not in STATUSES:
        raise ValueError(status)
    comment, _unit = _load(session, user, comment_id, "feedback.manage")
    if comment.status == status:
        return False
    reason = (reason or "").strip()
    if status == "answered" and not comment.public_reply:
        raise CaseError("reply_needed")
    if status == "closed" and not (comment.public_reply or reason):
        raise CaseError("close_needs")
    if len(reason) > MAX_NOTE:
        raise CaseError("too_long")
    before = {"status": comment.status}
    after: dict = {"status": status}
    comment.status = status
    contact = session.get(FeedbackContact, comment.id)
    if status == "closed":
        comment.closed_at = utcnow()
        if reason:
            comment.close_reason = after["close_reason"] = reason
        if contact is not None:  # kept only as long as needed to answer
            contact.delete_after = comment.closed_at + timedelta(days=contact_days)
    else:
        comment.closed_at = None
        if contact is not None:
            contact.delete_after = None
    _audit(session, user, comment, "feedback.status", before, after)
    return True


def set_reply(session: Session, user: Actor, comment_id: int, text: str) -> bool:
    """The public reply ("what we did"): shown at /y-kien/<code> and on the board.
    A new or in-progress case becomes answered; the first reply dates the handling."""
    text = (text or "").strip()
    if not text:
        raise CaseError("reply_empty")
    if len(text) > MAX_REPLY:
        raise CaseError("too_long")
    comment, _unit = _load(session, user, comment_id, "feedback.manage")
    if comment.public_reply == text:
        return False
    before = {"reply": comment.public_reply or "", "status": comment.status}
    comment.public_reply = text
    if comment.replied_at is None:
        comment.replied_at = utcnow()
    if comment.status in OPEN:
        comment.status = "answered"
    _audit(
        session, user, comment, "feedback.reply", before, {"reply": text, "status": comment.status}
    )
    return True


def assign(session: Session, user: Actor, comment_id: int, assignee_id: int | None) -> bool:
    comment, unit_id = _load(session, user, comment_id, "feedback.manage")
    if assignee_id is not None and assignee_id not in {u.id for u in assignees(session, unit_id)}:
        raise CaseError("assignee")
    if comment.assigned_to_id == assignee_id:
        return False
    names = dict(
        session.execute(
            select(User.id, User.username).where(
                User.id.in_([i for i in (comment.assigned_to_id, assignee_id) if i is not None])
            )
        ).all()
    )
    before = {"assignee": names.get(comment.assigned_to_id, "")}
    comment.assigned_to_id = assignee_id
    if comment.status == "new" and assignee_id is not None:
        comment.status = "in_progress"  # given to someone: being handled
    _audit(
        session, user, comment, "feedback.assign", before, {"assignee": names.get(assignee_id, "")}
    )
    return True


def add_note(session: Session, user: Actor, comment_id: int, text: str) -> None:
    text = (text or "").strip()
    if not text:
        raise CaseError("note_empty")
    if len(text) > MAX_NOTE:
        raise CaseError("too_long")
    comment, _unit = _load(session, user, comment_id, "feedback.manage")
    note = FeedbackNote(comment_id=comment.id, author_id=user.id, author=user.username, text=text)
    session.add(note)
    session.flush()
    # The audit says a note was added, not what it says: notes stay internal.
    _audit(session, user, comment, "feedback.note", None, {"note": note.id})


def reclassify(session: Session, user: Actor, comment_id: int, kind: str) -> bool:
    if kind not in KINDS:
        raise ValueError(kind)
    comment, _unit = _load(session, user, comment_id, "feedback.manage")
    if comment.kind == kind:
        return False
    before = {"kind": comment.kind}
    comment.kind = kind
    _audit(session, user, comment, "feedback.kind", before, {"kind": kind})
    return True


def set_low_score_alert(session: Session, user: Actor, unit_id: int, on: bool) -> bool:
    """The unit's low-score setting (its subtree inherits it). Audited."""
    access.require(user, "feedback.manage", unit_id)
    current = low_score_alert(session, unit_id)
    row = session.get(FeedbackSetting, unit_id)
    if row is None:
        row = FeedbackSetting(unit_id=unit_id, low_score_alert=on)
        session.add(row)
    else:
        row.low_score_alert = on
    session.flush()
    if current == on:
        return False
    record(
        session,
        actor=user.username,
        user_id=user.id,
        action="feedback.setting",
        entity="unit",
        entity_id=unit_id,
        before={"low_score_alert": current},
        after={"low_score_alert": on},
    )
    session.flush()
    return True


def purge_contacts(session: Session, now: datetime | None = None) -> int:
    """Delete the contacts whose case closed long enough ago; how many."""
    now = now or utcnow()
    result = session.execute(
        delete(FeedbackContact).where(
            FeedbackContact.delete_after.is_not(None), FeedbackContact.delete_after <= now
        )
    )
    return result.rowcount or 0


# --- measures of the sixth criterion --------------------------------------------
def handling_days(created_at: datetime, replied_at: datetime | None) -> float | None:
    """Days from receipt to the first public reply (None: not answered yet)."""
    if replied_at is None:
        return None
    return max((replied_at - created_at).total_seconds(), 0) / 86400


def on_time(replied_at: datetime | None, due_on: date | None, tz: str) -> bool | None:
    """Answered by the due day (local); None while open and not due yet is
    decided by the caller (see ``measures``)."""
    if replied_at is None or due_on is None:
        return None
    return clock.local_day(replied_at, tz) <= due_on


@dataclass
class Measure:
    """One unit (or the whole selection) and month: how its feedback was handled."""

    received: int = 0
    answered: int = 0
    # Items whose due day has passed or that were answered: the base of the share.
    due: int = 0
    on_time: int = 0
    days: list[float] = field(default_factory=list)

    @property
    def share_on_time(self) -> float | None:
        return self.on_time / self.due if self.due else None

    @property
    def median_days(self) -> float | None:
        return statistics.median(self.days) if self.days else None


def measures(
    session: Session, unit_ids, start: date, end: date, tz: str, today: date | None = None
) -> dict[tuple[int, str], Measure]:
    """Handling of the feedback received from ``start`` to ``end`` (local days)
    in the given units, by (unit id, "YYYY-MM"), plus (0, month) for all of
    them together and (0, "") for the whole period.

    The share on time counts, among the items that were answered or whose due
    day has passed, those answered by their due day; the median handling time
    is over the answered ones. Flagged responses' comments count: a complaint is
    a complaint whoever sent it.
    """
    today = today or clock.local_today(tz)
    rows = session.execute(
        select(Response.unit_id, Comment.created_at, Comment.replied_at, Comment.due_on)
        .join(Response, Response.id == Comment.response_id)
        .where(
            Response.unit_id.in_(sorted(unit_ids)),
            Comment.created_at >= clock.utc_start_of(start, tz),
            Comment.created_at < clock.utc_start_of(end + timedelta(days=1), tz),
        )
    ).all()
    out: dict[tuple[int, str], Measure] = defaultdict(Measure)
    for unit_id, created, replied, due_on in rows:
        month = clock.local_day(created, tz).strftime("%Y-%m")
        for key in ((unit_id, month), (0, month), (0, "")):
            m = out[key]
            m.received += 1
            if replied is not None:
                m.answered += 1
                m.days.append(handling_days(created, replied))
            if replied is not None or (due_on is not None and due_on < today):
                m.due += 1
                if on_time(replied, due_on, tz):
                    m.on_time += 1
    return dict(out)


# --- the public board ------------------------------------------------------------
@dataclass(frozen=True)
class PublicReply:
    kind: str
    received: date  # local day
    replied: date
    reply: str
    unit_name: str


def public_summary(
    session: Session, unit_ids, start: date, end: date, tz: str, *, replies: int = 3
) -> tuple[Measure, list[PublicReply]]:
    """The board's story: how the period's feedback was handled, and the last
    public replies in the subtree (the reply only, never the citizen's text)."""
    measure = measures(session, unit_ids, start, end, tz).get((0, ""), Measure())
    rows = session.execute(
        select(
            Comment.kind, Comment.created_at, Comment.replied_at, Comment.public_reply, Unit.name
        )
        .join(Response, Response.id == Comment.response_id)
        .join(Unit, Unit.id == Response.unit_id)
        .where(
            Response.unit_id.in_(sorted(unit_ids)),
            Comment.public_reply.is_not(None),
            Comment.replied_at.is_not(None),
        )
        .order_by(Comment.replied_at.desc(), Comment.id.desc())
        .limit(replies)
    ).all()
    latest = [
        PublicReply(kind, clock.local_day(c, tz), clock.local_day(r, tz), reply, unit)
        for kind, c, r, reply, unit in rows
    ]
    return measure, latest
