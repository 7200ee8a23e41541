"""Staff sign-in: password checks, the session identity and password changes.

The staff session (a signed cookie of its own, ``SameSite=Strict``, path
``/staff``) holds the user id, a password digest, the user's session
generation and two times.  The session ends when

- the password changes (the digest no longer matches),
- the user signs out, or an admin signs them out (the generation is bumped:
  every copy of every cookie of that user stops working),
- nothing happened for ``STAFF_IDLE_MINUTES``, or ``STAFF_SESSION_HOURS``
  have passed since signing in.

The user row is reloaded on every request, so a deactivated account or a
changed role takes effect at once.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from survey.models import AuditEvent, User
from survey.models._types import utcnow
from survey.services import audit

if TYPE_CHECKING:
    from survey.config import Settings

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200  # zxcvbn's cost grows with length; nobody types more
# zxcvbn score (0-4): below 3 means fewer than 10^8 guesses, i.e. a common
# password, a word with digits, a repetition, a sequence or a keyboard walk.
MIN_PASSWORD_SCORE = 3
# Words an attacker would try first here, on top of zxcvbn's English lists.
LOCAL_WORDS = ("matkhau", "khaosat", "hailong", "motcua", "hanhchinh", "vietnam")
SESSION_USER = "uid"
SESSION_VERSION = "sv"
SESSION_GENERATION = "sg"
SESSION_STARTED = "t0"
SESSION_SEEN = "ta"
# The "last seen" time is rewritten at most this often (each write is a new cookie).
SEEN_RESOLUTION = 60


@dataclass(frozen=True)
class Lifetimes:
    idle_seconds: int
    absolute_seconds: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Lifetimes:
        return cls(settings.STAFF_IDLE_MINUTES * 60, settings.STAFF_SESSION_HOURS * 3600)


class PasswordError(ValueError):
    """A password change was refused; ``field`` names the form field, ``code`` the reason."""

    def __init__(self, field: str, code: str) -> None:
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return generate_password_hash("not-a-real-password-0123456789")


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, else None.

    An unknown username costs one hash check too, so response times do not
    reveal which usernames exist.
    """
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def record_failed_sign_in(
    session: Session, username: str, address: str | None, reason: str = "wrong_password"
) -> None:
    """Audit a refused sign-in. What was typed is kept only if it names an
    account: a password typed into the username box must not end up in the log."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    audit.record(
        session,
        actor="",  # whoever typed it is not known
        user_id=None,
        action="user.login_failed",
        entity="user",
        entity_id=user.id if user else "",
        after={
            "address": address or "",
            "account": "known" if user else "unknown",
            "reason": reason,
        },
    )


def session_version(user: User) -> str:
    return hashlib.sha256(f"survey-session:{user.password_hash}".encode()).hexdigest()[:16]


def sign_in(cookie: MutableMapping[str, Any], user: User, now: float | None = None) -> None:
    """Start a fresh session for ``user`` (nothing from the anonymous one is kept)."""
    now = int(time.time() if now is None else now)
    cookie.clear()
    cookie[SESSION_USER] = user.id
    cookie[SESSION_VERSION] = session_version(user)
    cookie[SESSION_GENERATION] = user.session_generation
    cookie[SESSION_STARTED] = cookie[SESSION_SEEN] = now
    user.last_login_at = utcnow()


def end_all_sessions(user: User) -> None:
    """Every cookie issued to ``user`` so far stops working (copies included)."""
    user.session_generation = (user.session_generation or 0) + 1


def sign_out(cookie: MutableMapping[str, Any], user: User | None) -> None:
    """Sign out; the user's sessions on other devices end too, as would a stolen copy."""
    if user is not None:
        end_all_sessions(user)
    cookie.clear()


def current_user(
    session: Session,
    cookie: MutableMapping[str, Any],
    lifetimes: Lifetimes,
    now: float | None = None,
) -> User | None:
    """The signed-in user, reloaded; clears the cookie if it no longer holds."""
    uid = cookie.get(SESSION_USER)
    if uid is None:
        return None
    now = int(time.time() if now is None else now)
    user = session.get(User, uid) if isinstance(uid, int) else None
    started, seen = cookie.get(SESSION_STARTED), cookie.get(SESSION_SEEN)
    if (
        user is None
        or not user.active
        or cookie.get(SESSION_VERSION) != session_version(user)
        or cookie.get(SESSION_GENERATION) != user.session_generation
        or not isinstance(started, int)
        or not isinstance(seen, int)
        or now - started > lifetimes.absolute_seconds
        or now - seen > lifetimes.idle_seconds
    ):
        cookie.clear()
        return None
    if now - seen >= SEEN_RESOLUTION:
        cookie[SESSION_SEEN] = now
    return user


def password_problem(new: str, username: str, full_name: str = "") -> str | None:
    """Why ``new`` is refused as this user's password, or None.

    Length and guessability only, no composition rules (NIST SP 800-63B).
    """
    if len(new) < MIN_PASSWORD_LENGTH:
        return "too_short"
    if len(new) > MAX_PASSWORD_LENGTH:
        return "too_long"
    if new.strip().lower() == username.strip().lower():
        return "is_username"
    hints = [username, *(full_name or "").split(), *LOCAL_WORDS]
    if zxcvbn(new, user_inputs=hints)["score"] < MIN_PASSWORD_SCORE:
        return "guessable"
    return None


def change_password(
    session: Session,
    user: User,
    current: str,
    new: str,
    cookie: MutableMapping[str, Any] | None = None,
) -> None:
    """Replace the password after checking the current one.

    Other sessions of the user end (their version no longer matches); the
    caller's own cookie, if given, is moved to the new version.
    """
    if not check_password_hash(user.password_hash, current):
        raise PasswordError("current", "wrong_current")
    if new == current:
        raise PasswordError("new", "unchanged")
    problem = password_problem(new, user.username, user.full_name)
    if problem:
        raise PasswordError("new", problem)
    was_forced = user.must_change_password
    user.password_hash = generate_password_hash(new)
    user.must_change_password = False
    audit.record(
        session,
        actor=user.username,
        user_id=user.id,
        action="user.password_change",
        entity="user",
        entity_id=user.id,
        before={"must_change_password": was_forced},
        after={"must_change_password": False},
    )
    if cookie is not None:
        cookie[SESSION_VERSION] = session_version(user)
        cookie[SESSION_SEEN] = int(time.time())


@dataclass(frozen=True)
class FailedSignIns:
    """Refused sign-ins since a moment: per known account, and for unknown names."""

    by_account: list[tuple[str, str, int]]  # (username, full name, attempts)
    unknown: int

    @property
    def total(self) -> int:
        return self.unknown + sum(n for *_names, n in self.by_account)


def failed_sign_ins(session: Session, since: datetime) -> FailedSignIns:
    rows = session.execute(
        select(AuditEvent.entity_id, func.count())
        .where(AuditEvent.action == "user.login_failed", AuditEvent.at >= since)
        .group_by(AuditEvent.entity_id)
    ).all()
    counts = {entity_id: n for entity_id, n in rows}
    unknown = counts.pop("", 0)
    users = session.execute(
        select(User.id, User.username, User.full_name).where(
            User.id.in_([int(i) for i in counts if i.isdigit()])
        )
    ).all()
    by_account = sorted(
        ((u.username, u.full_name, counts[str(u.id)]) for u in users), key=lambda r: -r[2]
    )
    return FailedSignIns(by_account, unknown)
