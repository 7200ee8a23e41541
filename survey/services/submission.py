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
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from survey import clock
from survey.config import DEFAULTS
from survey.models import Comment, Response
from survey.models._types import utcnow
from survey.models.response import DEMOGRAPHIC_COLUMNS
from survey.services import feedback, hash_keys, response_writer
from survey.services.form_check import CheckedForm

# Abuse heuristics: flagged, never rejected (shared Wi-Fi at a desk is normal).
# A burst is counted per device first: one phone answering a third time at one
# desk within the window. Per network (one address: a centre's Wi-Fi, a
# carrier's CGNAT) only at a much higher count, SURVEY_BURST_PER_NETWORK, since
# a busy centre serves hundreds a day from one Wi-Fi.
BURST_WINDOW = timedelta(minutes=10)
DEVICE_BURST_LIMIT = 2  # earlier responses of one device at one desk within the window
DEVICE_DAY_LIMIT = 5  # responses from one browser in one day
# A desk's shared tablet serves a queue: one citizen after another is normal,
# so only answers seconds apart (faster than anyone reads the form) are a burst.
KIOSK_BURST_WINDOW = timedelta(seconds=60)
NO_DAY_LIMIT = 2**31 - 1  # ``Context.daily_cap`` off: a count never reaches it


class SubmissionIdError(ValueError):
    """A submission id that this server did not issue, or not in this shape."""


class SubmissionIdUnbound(SubmissionIdError):
    """Well formed, but not issued to this browser's session (or under no current key).

    A harvested id posted from another site lands here: it cannot be used for
    somebody else's answers.
    """


class SubmissionIdExpired(SubmissionIdError):
    """Issued to this browser, but longer ago than ``SID_LIFETIME``."""


class CaseAlreadyAnswered(Exception):
    """A per-transaction link whose case has a response already."""


# A form left open longer than this is given a fresh id (its answers are kept).
SID_LIFETIME = timedelta(hours=24)


def _sign(secret: str, body: str, binding: str) -> str:
    msg = f"sid:{body}:{binding}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()[:20]


def issue_submission_id(secret: str, binding: str, now: float | None = None) -> str:
    """``raw.issued.mac``: the MAC covers the issue time and the browser binding
    (a random value kept in that browser's session cookie)."""
    issued = int(time.time() if now is None else now)
    body = f"{uuid.uuid4().hex}.{issued:x}"
    return f"{body}.{_sign(secret, body, binding)}"


def verify_submission_id(
    keys: Sequence[str], sid: str | None, binding: str | None, now: float | None = None
) -> str:
    """Return the id if this server issued it to this browser within its lifetime.

    ``keys`` are the current secret first, then any previous one kept for a
    rotation's grace period.  Raises ``SubmissionIdError`` for a malformed id
    (a 400), ``SubmissionIdUnbound`` or ``SubmissionIdExpired`` otherwise.
    """
    if not sid or len(sid) > 64 or sid.count(".") != 2:
        raise SubmissionIdError("missing or malformed submission id")
    raw, issued_hex, mac = sid.split(".")
    if len(raw) != 32 or not _is_hex(raw) or not _is_hex(issued_hex) or len(issued_hex) > 8:
        raise SubmissionIdError("malformed submission id")
    body = f"{raw}.{issued_hex}"
    if not binding or not any(
        hmac.compare_digest(mac.encode(), _sign(key, body, binding).encode()) for key in keys
    ):
        raise SubmissionIdUnbound("submission id not issued to this browser")
    age = (time.time() if now is None else now) - int(issued_hex, 16)
    if age > SID_LIFETIME.total_seconds() or age < -300:
        raise SubmissionIdExpired("submission id is too old")
    return sid


def is_well_formed(sid: str | None) -> bool:
    try:
        verify_submission_id((), sid, None)
    except SubmissionIdUnbound:
        return True
    except SubmissionIdError:
        return False
    return True


def _device_mac(secret: str, raw: str) -> str:
    return hmac.new(secret.encode(), f"device:{raw}".encode(), hashlib.sha256).hexdigest()[:16]


def issue_device_id(secret: str) -> str:
    """The device cookie's value, ``raw.mac``: handed out with the form.

    Signed, so that a client cannot mint a new per-device rate-limit bucket (or
    a fresh device for the quality flags) by sending made-up values."""
    raw = secrets.token_urlsafe(16)
    return f"{raw}.{_device_mac(secret, raw)}"


def verify_device_id(keys: Sequence[str], value: str | None) -> str | None:
    """The device id in a cookie this server issued (under a current key), else None."""
    if not value or len(value) > 64 or value.count(".") != 1:
        return None
    raw, mac = value.split(".")
    if raw and any(hmac.compare_digest(mac, _device_mac(key, raw)) for key in keys):
        return raw
    return None


def _is_hex(text: str) -> bool:
    return bool(text) and all(c in "0123456789abcdef" for c in text)


def daily_hash(day_key: str, kind: str, value: str | None, day: date) -> str | None:
    """Hash under the day's random key (``hash_keys.key_for_day``), not the
    deployment secret: once that key is destroyed the hash links to nobody."""
    if not value:
        return None
    msg = f"{kind}:{day.isoformat()}:{value}".encode()
    return hmac.new(day_key.encode(), msg, hashlib.sha256).hexdigest()[:32]


@dataclass
class Stored:
    response_id: int
    created: bool  # False: this was a replay of an acknowledged submission
    has_comment: bool = False


@dataclass
class Context:
    """Where and how the response came in (already verified by the caller)."""

    desk_id: int
    unit_id: int
    questionnaire_version_id: int
    submission_id: str
    locale: str = "vi"
    channel: str = "qr"
    client_ip: str | None = None
    device_id: str | None = None  # verified (``verify_device_id``), else None
    sector_id: int | None = None
    procedure_code: str | None = None
    case_hash: str | None = None
    # False (a registered kiosk tablet): no per-device daily cap, and a device burst
    # only within KIOSK_BURST_WINDOW (seconds apart), not BURST_WINDOW.
    daily_cap: bool = True


def _flag_texts(honeypot: bool) -> dict[str, str]:
    """The four possible quality_flags texts, by the bits the database computes
    in the INSERT (1: burst, 2: device repeat); the honeypot is known here."""
    base = ["honeypot"] if honeypot else []
    texts = {}
    for bits in range(4):
        names = base + ["burst"] * (bits & 1) + ["device_repeat"] * (bits >> 1)
        texts[f"flags{bits}"] = ",".join(names)
    return texts


@dataclass(frozen=True)
class StoredRef:
    """An acknowledged response, as much as the thanks page needs."""

    id: int
    desk_id: int
    has_comment: bool
    submitted_at: datetime | None = None  # naive UTC, as stored


def find_by_submission_id(session: Session, sid: str) -> StoredRef | None:
    has_comment = select(Comment.id).where(Comment.response_id == Response.id).exists()
    row = session.execute(
        select(Response.id, Response.desk_id, has_comment, Response.submitted_at).where(
            Response.submission_id == sid
        )
    ).first()
    return StoredRef(row[0], row[1], bool(row[2]), row[3]) if row else None


def store(
    session: Session,
    ctx: Context,
    checked: CheckedForm,
    secret: str,
    tz: str,
    network_burst: int = DEFAULTS["BURST_PER_NETWORK"],
    feedback_due_days: int = DEFAULTS["FEEDBACK_DUE_WORKING_DAYS"],
) -> Stored:
    """Write the response in one transaction; replays return the first one.

    ``network_burst``: responses from one address at the desk within
    ``BURST_WINDOW`` from which the next is flagged a burst (the setting).

    If the database connection turns out to be dead (a restart since it was
    last used), the whole write is tried once more on a fresh connection. That
    is safe because it is idempotent: had the first attempt committed after
    all, the retry finds it by its submission id.
    """
    try:
        return _store_once(session, ctx, checked, secret, tz, network_burst, feedback_due_days)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        session.rollback()
        return _store_once(session, ctx, checked, secret, tz, network_burst, feedback_due_days)


def _store_once(
    session: Session,
    ctx: Context,
    checked: CheckedForm,
    secret: str,
    tz: str,
    network_burst: int,
    feedback_due_days: int,
) -> Stored:
    """One attempt of ``store``.

    The response row (flags computed in it, a replay skipped by ON CONFLICT),
    its answers a column of it, and maybe a comment: one statement on
    PostgreSQL, one transaction elsewhere.
    """
    now = utcnow()
    day = clock.local_day(now, tz)
    day_key = hash_keys.key_for_day(session, day)
    params = dict(
        submission_id=ctx.submission_id,
        desk_id=ctx.desk_id,
        unit_id=ctx.unit_id,
        questionnaire_version_id=ctx.questionnaire_version_id,
        submitted_at=now,
        day=day,
        channel=ctx.channel,
        sector_id=ctx.sector_id,
        procedure_code=ctx.procedure_code,
        case_hash=ctx.case_hash,
        locale=ctx.locale,
        client_hash=daily_hash(day_key, "ip", ctx.client_ip, day),
        device_hash=daily_hash(day_key, "device", ctx.device_id, day),
        burst_since=now - BURST_WINDOW,
        device_burst_since=now - (BURST_WINDOW if ctx.daily_cap else KIOSK_BURST_WINDOW),
        device_burst_limit=DEVICE_BURST_LIMIT,
        network_burst_limit=network_burst,
        device_limit=DEVICE_DAY_LIMIT if ctx.daily_cap else NO_DAY_LIMIT,
        comment_kind=checked.comment_kind,
        answers=checked.packed,
        **_flag_texts(checked.honeypot),
    )
    # Every demographic column gets a value (None when not given): the
    # statement names them all.
    params.update(dict.fromkeys(DEMOGRAPHIC_COLUMNS.values()))
    params.update({DEMOGRAPHIC_COLUMNS[k]: v for k, v in checked.demographics.items()})
    try:
        response_id = response_writer.write(session, params, checked.comment)
    except IntegrityError:
        session.rollback()
        winner = find_by_submission_id(session, ctx.submission_id)
        if winner is not None:  # the race was decided by the unique constraint
            return Stored(winner.id, False, winner.has_comment)
        if ctx.case_hash and session.scalar(
            select(Response.id).where(Response.case_hash == ctx.case_hash)
        ):
            raise CaseAlreadyAnswered from None
        raise
    if response_id is not None:
        if checked.comment:  # a case with its tracking code (the request commits it)
            feedback.open_case(session, response_id, tz, feedback_due_days)
        return Stored(response_id, True, bool(checked.comment))
    # ON CONFLICT skipped the insert: a replay, or a concurrent copy that won.
    winner = find_by_submission_id(session, ctx.submission_id)
    return Stored(winner.id, False, winner.has_comment)


def add_comment(
    session: Session,
    response_id: int,
    text: str,
    kind: str,
    tz: str = DEFAULTS["TIMEZONE"],
    due_days: int = DEFAULTS["FEEDBACK_DUE_WORKING_DAYS"],
) -> bool:
    """Attach a late comment from the thanks page, as a case with its tracking
    code (``feedback.open_case``); only if none was given.

    Two copies racing (a double tap) are decided by the unique constraint in
    the statement itself (ON CONFLICT DO NOTHING), so this needs no commit of
    its own: the request's transaction stores it (``survey.web_db``).
    """
    if session.scalar(select(Comment.id).where(Comment.response_id == response_id)):
        return False
    postgres = session.get_bind().dialect.name == "postgresql"
    dialect_insert = postgresql.insert if postgres else sqlite.insert
    statement = (
        dialect_insert(Comment.__table__)
        .values(response_id=response_id, text=text, kind=kind)
        .on_conflict_do_nothing(index_elements=["response_id"])
        .returning(Comment.__table__.c.id)  # rowcount is not reliable here on psycopg
    )
    if session.execute(statement).scalar() is None:
        return False
    feedback.open_case(session, response_id, tz, due_days)
    return True
