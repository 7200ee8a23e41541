"""Staff accounts."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from survey.models import ROLES, User
from survey.services import audit, auth, units
from survey.text import has_control_chars


class UserError(ValueError):
    pass


class PasswordProblem(UserError):
    """The chosen password is refused: ``code`` is ``auth.password_problem``'s.

    Worded by ``survey.messages.password``, like the password page's refusals.
    """

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def one_time_password() -> str:
    return secrets.token_urlsafe(12)


def create_user(
    session: Session,
    *,
    username: str,
    role: str,
    unit_code: str,
    password: str | None = None,
    full_name: str = "",
    actor: str = "cli",
) -> tuple[User, str]:
    """Create a user; returns (user, password). Without a password, a one-time one."""
    username = username.strip()
    if not username or len(username) > 64:
        raise UserError("username must be 1 to 64 characters")
    # Names are shown and exported; a control (or an undecodable command-line byte) is refused.
    for label, text in (("username", username), ("full name", full_name)):
        if has_control_chars(text):
            raise UserError(f"{label} contains control or invalid characters")
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; choose one of: {', '.join(ROLES)}")
    unit = units.by_code(session, unit_code)
    if unit is None:
        raise UserError(f"unknown unit code {unit_code!r}")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise UserError(f"user {username!r} already exists")
    generated = password is None
    password = password or one_time_password()
    problem = None if generated else auth.password_problem(password, username, full_name)
    if problem:
        raise PasswordProblem(problem)
    user = User(
        username=username,
        full_name=full_name,
        password_hash=generate_password_hash(password),
        role=role,
        unit_id=unit.id,
        must_change_password=generated,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.create",
        entity="user",
        entity_id=user.id,
        after={"username": username, "role": role, "unit": unit.code},
    )
    return user, password


def verify_password(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


def by_username(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        raise UserError(f"unknown user {username!r}")
    return user


def set_active(session: Session, username: str, active: bool, *, actor: str = "cli") -> bool:
    """Disable (or re-enable) an account; returns False if it was already so.

    A disabled user's sessions end at their next request (``auth.current_user``
    reloads the user every time) and sign-in is refused.  The sessions are
    ended for good, so enabling the account again does not revive a cookie
    that may have been stolen.
    """
    user = by_username(session, username)
    if user.active == active:
        return False
    user.active = active
    if not active:
        auth.end_all_sessions(user)
    audit.record(
        session,
        actor=actor,
        action="user.enable" if active else "user.disable",
        entity="user",
        entity_id=user.id,
        before={"active": not active},
        after={"active": active},
    )
    return True


def reset_password(session: Session, username: str, *, actor: str = "cli") -> tuple[User, str]:
    """Give the account a new one-time password; returns (user, password).

    Every session of the user ends (a new password hash no longer matches the
    cookie's ``auth.session_version``, and the generation is bumped). The
    password must be changed at the next sign-in.
    """
    user = by_username(session, username)
    password = one_time_password()
    was_forced = user.must_change_password
    user.password_hash = generate_password_hash(password)
    user.must_change_password = True
    auth.end_all_sessions(user)
    audit.record(
        session,
        actor=actor,
        action="user.password_reset",
        entity="user",
        entity_id=user.id,
        before={"must_change_password": was_forced},
        after={"must_change_password": True},
    )
    return user, password
