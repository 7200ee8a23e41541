"""Store a citizen response exactly once.

The server issues a signed submission id with the form. Storing is one
transaction (response, answers, comment); a replay of the same id hits the
unique constraint and returns the stored response instead of a new one, so
double taps, back-and-resubmit and retries after a timeout never duplicate,
even when two copies race (the database decides, not a prior check).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from survey.models import Answer, Comment, Desk, Response
from survey.models._types import utcnow
from survey.models.response import DEMOGRAPHIC_COLUMNS
from survey.services.form_check import CheckedForm

# Abuse heuristics: flagged, never rejected (shared Wi-Fi at a desk is normal).
BURST_WINDOW = timedelta(minutes=10)
BURST_LIMIT = 20  # responses from one network at one desk within the window
DEVICE_DAY_LIMIT = 5  # responses from one browser in one day


class SubmissionIdError(ValueError):
    pass


class CaseAlreadyAnswered(Exception):
    """A per-transaction link whose case has a response already."""


def _sign(secret: str, raw: str) -> str:
    return hmac.new(secret.encode(), f"sid:{raw}".encode(), hashlib.sha256).hexdigest()[:20]


def issue_submission_id(secret: str) -> str:
    raw = uuid.uuid4().hex
    return f"{raw}.{_sign(secret, raw)}"


def verify_submission_id(secret: str, sid: str | None) -> str:
    """Return the id if the server issued it; forged or malformed ids are refused."""
    if not sid or len(sid) > 64 or sid.count(".") != 1:
        raise SubmissionIdError("missing or malformed submission id")
    raw, sig = sid.split(".")
    if len(raw) != 32 or not hmac.compare_digest(sig.encode(), _sign(secret, raw).encode()):
        raise SubmissionIdError("submission id was not issued by this server")
    return sid


def daily_hash(secret: str, kind: str, value: str | None, day: date) -> str | None:
    """Keyed hash that changes every day: abuse checks without storing IPs."""
    if not value:
        return None
    msg = f"{kind}:{day.isoformat()}:{value}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()[:32]


@dataclass
class Stored:
    response_id: int
    created: bool  # False: this was a replay of an acknowledged submission


@dataclass
class Context:
    """Where and how the response came in (already verified by the caller)."""

    desk: Desk
    questionnaire_version_id: int
    submission_id: str
    locale: str = "vi"
    channel: str = "qr"
    client_ip: str | None = None
    device_id: str | None = None
    sector_id: int | None = None
    procedure_code: str | None = None
    case_hash: str | None = None


def local_day(now_utc: datetime, tz: str) -> date:
    return now_utc.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).date()


def _quality_flags(session: Session, ctx: Context, client_hash, device_hash, checked, now):
    flags = ["honeypot"] if checked.honeypot else []
    if client_hash or device_hash:
        # One query for both heuristics: this runs on every submission.
        same_client = and_(
            Response.client_hash == client_hash,
            Response.desk_id == ctx.desk.id,
            Response.submitted_at >= now - BURST_WINDOW,
        )
        burst, device = session.execute(
            select(
                func.coalesce(func.sum(case((same_client, 1), else_=0)), 0),
                func.coalesce(func.sum(case((Response.device_hash == device_hash, 1), else_=0)), 0),
            ).where(or_(Response.client_hash == client_hash, Response.device_hash == device_hash))
        ).one()
        if client_hash and burst >= BURST_LIMIT:
            flags.append("burst")
        if device_hash and device >= DEVICE_DAY_LIMIT:
            flags.append("device_repeat")
    return ",".join(flags)


def find_by_submission_id(session: Session, sid: str) -> Response | None:
    return session.scalar(select(Response).where(Response.submission_id == sid))


def _insert_once(session: Session, values: dict) -> int | None:
    """INSERT ... ON CONFLICT (submission_id) DO NOTHING RETURNING id: None for a replay."""
    table = Response.__table__
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt = pg_insert(table).on_conflict_do_nothing(index_elements=["submission_id"])
    elif dialect == "sqlite":
        stmt = sqlite_insert(table).on_conflict_do_nothing(index_elements=["submission_id"])
    else:  # other backends: the unique constraint still decides (IntegrityError below)
        stmt = insert(table)
    return session.execute(stmt.values(**values).returning(table.c.id)).scalar()


def store(session: Session, ctx: Context, checked: CheckedForm, secret: str, tz: str) -> Stored:
    """Write the response in one transaction; replays return the first one.

    Core statements, not ORM objects: this is the hot path of the whole system
    (one response row, one multi-row insert of its answers, maybe a comment).
    """
    now = utcnow()
    day = local_day(now, tz)
    client_hash = daily_hash(secret, "ip", ctx.client_ip, day)
    device_hash = daily_hash(secret, "device", ctx.device_id, day)
    values = dict(
        submission_id=ctx.submission_id,
        desk_id=ctx.desk.id,
        unit_id=ctx.desk.unit_id,
        questionnaire_version_id=ctx.questionnaire_version_id,
        submitted_at=now,
        day=day,
        channel=ctx.channel,
        sector_id=ctx.sector_id,
        procedure_code=ctx.procedure_code,
        case_hash=ctx.case_hash,
        locale=ctx.locale,
        quality_flags=_quality_flags(session, ctx, client_hash, device_hash, checked, now),
        client_hash=client_hash,
        device_hash=device_hash,
        **{DEMOGRAPHIC_COLUMNS[k]: v for k, v in checked.demographics.items()},
    )
    try:
        response_id = _insert_once(session, values)
        if response_id is not None:
            if checked.answers:
                session.execute(
                    insert(Answer.__table__),
                    [
                        {"response_id": response_id, "item_code": c, "value": v}
                        for c, v in checked.answers.items()
                    ],
                )
            if checked.comment:
                session.execute(
                    insert(Comment.__table__).values(
                        response_id=response_id, text=checked.comment, kind=checked.comment_kind
                    )
                )
        session.commit()
    except IntegrityError:
        session.rollback()
        winner = find_by_submission_id(session, ctx.submission_id)
        if winner is not None:  # the race was decided by the unique constraint
            return Stored(winner.id, False)
        if ctx.case_hash and session.scalar(
            select(Response.id).where(Response.case_hash == ctx.case_hash)
        ):
            raise CaseAlreadyAnswered from None
        raise
    if response_id is not None:
        return Stored(response_id, True)
    # ON CONFLICT skipped the insert: a replay, or a concurrent copy that won.
    winner = find_by_submission_id(session, ctx.submission_id)
    return Stored(winner.id, False)


def add_comment(session: Session, response_id: int, text: str, kind: str) -> bool:
    """Attach a late comment from the thanks page; only if none was given."""
    if session.scalar(select(Comment.id).where(Comment.response_id == response_id)):
        return False
    session.add(Comment(response_id=response_id, text=text, kind=kind))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True
