"""Staff sign-in: password checks, the session identity and password changes.

The Flask session (a signed cookie) holds only the user id and a session
version.  The version is a digest of the user's password hash, so changing the
password signs out every other session of that user; the user row is reloaded
on every request, so a deactivated account or a changed role takes effect at
once.
"""

from __future__ import annotations

import hashlib
from collections.abc import MutableMapping
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from survey.models import User
from survey.models._types import utcnow
from survey.services import audit

MIN_PASSWORD_LENGTH = 10
SESSION_USER = "uid"
SESSION_VERSION = "sv"


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


def session_version(user: User) -> str:
    return hashlib.sha256(f"survey-session:{user.password_hash}".encode()).hexdigest()[:16]


def sign_in(cookie: MutableMapping[str, Any], user: User) -> None:
    """Start a fresh session for ``user`` (nothing from the anonymous one is kept)."""
    cookie.clear()
    cookie[SESSION_USER] = user.id
    cookie[SESSION_VERSION] = session_version(user)
    user.last_login_at = utcnow()


def sign_out(cookie: MutableMapping[str, Any]) -> None:
    cookie.clear()


def current_user(session: Session, cookie: MutableMapping[str, Any]) -> User | None:
    """The signed-in user, reloaded; clears the cookie if it no longer holds."""
    uid = cookie.get(SESSION_USER)
    if uid is None:
        return None
    user = session.get(User, uid) if isinstance(uid, int) else None
    if user is None or not user.active or cookie.get(SESSION_VERSION) != session_version(user):
        cookie.clear()
        return None
    return user


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
    if len(new) < MIN_PASSWORD_LENGTH:
        raise PasswordError("new", "too_short")
    if new == current:
        raise PasswordError("new", "unchanged")
    if new.strip().lower() == user.username.strip().lower():
        raise PasswordError("new", "is_username")
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
