"""Staff accounts."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from survey.models import ROLES, User
from survey.services import audit, units


class UserError(ValueError):
    pass


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
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; choose one of: {', '.join(ROLES)}")
    unit = units.by_code(session, unit_code)
    if unit is None:
        raise UserError(f"unknown unit code {unit_code!r}")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise UserError(f"user {username!r} already exists")
    generated = password is None
    password = password or one_time_password()
    if len(password) < 10:
        raise UserError("password must be at least 10 characters")
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
