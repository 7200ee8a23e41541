"""Staff accounts."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from survey.models import ROLES, Unit, User
from survey.services import access, audit, auth, units
from survey.services.access import Actor, Forbidden
from survey.services.desks import name_key
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
    actor_id: int | None = None,
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
        user_id=actor_id,
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
    return _set_active(session, by_username(session, username), active, actor, None)


def _set_active(
    session: Session, user: User, active: bool, actor: str, actor_id: int | None
) -> bool:
    if user.active == active:
        return False
    user.active = active
    if not active:
        auth.end_all_sessions(user)
    audit.record(
        session,
        actor=actor,
        user_id=actor_id,
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
    return user, _reset_password(session, user, actor, None)


def _reset_password(session: Session, user: User, actor: str, actor_id: int | None) -> str:
    password = one_time_password()
    was_forced = user.must_change_password
    user.password_hash = generate_password_hash(password)
    user.must_change_password = True
    auth.end_all_sessions(user)
    audit.record(
        session,
        actor=actor,
        user_id=actor_id,
        action="user.password_reset",
        entity="user",
        entity_id=user.id,
        before={"must_change_password": was_forced},
        after={"must_change_password": True},
    )
    return password


# --- accounts managed in the web console (scoped to the actor) ----------------------
# Admins manage every account; a unit manager the accounts of its subtree, never an
# admin's, never with a role above its own and never its own (that is the password page).
MANAGER_ROLES = frozenset({"admin", "unit_manager"})
USERNAME_MAX = 64


class AccountError(UserError):
    """A web account change was refused: ``field`` names the form field, ``code``
    the reason (worded by ``survey.messages.users``)."""

    def __init__(self, field: str, code: str) -> None:
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


def may_manage_users(actor: Actor | None) -> bool:
    return (
        actor is not None
        and actor.role in MANAGER_ROLES
        and getattr(actor, "active", True) is not False
    )


def assignable_roles(actor: Actor) -> tuple[str, ...]:
    """The roles ``actor`` may give: a manager never makes an admin."""
    return ROLES if actor.role == "admin" else tuple(r for r in ROLES if r != "admin")


def require_manager(actor: Actor | None) -> None:
    if not may_manage_users(actor):
        raise Forbidden("user.manage")


def _require_unit(actor: Actor, unit_id: int | None) -> None:
    require_manager(actor)
    if unit_id is None or not access.in_scope(actor, unit_id):
        raise Forbidden("user.manage", unit_id)


def _require_account(actor: Actor, user: User) -> None:
    """The actor may act on this account: in scope, and not an admin's unless an admin."""
    _require_unit(actor, user.unit_id)
    if user.role == "admin" and actor.role != "admin":
        raise Forbidden("user.manage", user.unit_id)


def check_reach(session: Session, actor: Actor, *, role: str | None, unit_id: int | None) -> None:
    """Refuse (Forbidden) a request that names a role or unit beyond the actor's reach.

    Checked before the form, so asking for an admin account or a unit outside the
    subtree is a 403, whatever else the form holds; unknown values are the form's
    to word.
    """
    require_manager(actor)
    if role in ROLES and role not in assignable_roles(actor):
        raise Forbidden("user.manage")
    if unit_id is not None and session.get(Unit, unit_id) is not None:
        _require_unit(actor, unit_id)


def list_users(
    session: Session,
    actor: Actor,
    *,
    query: str = "",
    role: str = "",
    unit_id: int | None = None,
    active: bool | None = None,
) -> list[User]:
    """The accounts the actor may manage, filtered; by unit, then name."""
    require_manager(actor)
    stmt = select(User).join(Unit, User.unit_id == Unit.id)
    scope = access.scope_ids(session, actor)
    if scope is not None:
        stmt = stmt.where(User.unit_id.in_(scope), User.role != "admin")
    if role:
        stmt = stmt.where(User.role == role)
    if unit_id is not None:
        stmt = stmt.where(User.unit_id == unit_id)
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    rows = list(session.scalars(stmt.order_by(Unit.code, User.full_name, User.username)))
    # Matched in Python: case and diacritics aside ("van an" finds "Văn An"), which SQL
    # LOWER does not do on SQLite; a unit's accounts are a few hundred at most.
    wanted = name_key(query)
    if wanted:
        rows = [u for u in rows if wanted in name_key(f"{u.username} {u.full_name}")]
    return rows


def get_account(session: Session, actor: Actor, user_id: int) -> User | None:
    """The account (None if there is none); Forbidden unless the actor may manage it."""
    require_manager(actor)
    user = session.get(User, user_id)
    if user is None:
        return None
    _require_account(actor, user)
    return user


def _check_role(actor: Actor, role: str) -> None:
    if role not in ROLES:
        raise AccountError("role", "unknown_role")
    if role not in assignable_roles(actor):
        raise Forbidden("user.manage")


def create_account(
    session: Session,
    actor: Actor,
    *,
    username: str,
    full_name: str,
    role: str,
    unit_id: int,
) -> tuple[User, str]:
    """A new account with a one-time password (returned, shown once, never stored)."""
    _require_unit(actor, unit_id)
    _check_role(actor, role)
    username, full_name = username.strip(), full_name.strip()
    if not username or len(username) > USERNAME_MAX:
        raise AccountError("username", "bad_username")
    taken = session.scalar(select(User.id).where(func.lower(User.username) == username.lower()))
    if taken is not None:
        raise AccountError("username", "username_taken")
    unit = session.get(Unit, unit_id)
    return create_user(
        session,
        username=username,
        role=role,
        unit_code=unit.code,
        full_name=full_name,
        actor=actor.username,
        actor_id=actor.id,
    )


def update_account(session: Session, actor: Actor, user: User, *, role: str, unit_id: int) -> bool:
    """Change an account's role and unit, both within the actor's reach; False if unchanged.

    The user's next request sees the change (the row is reloaded every time).
    """
    _require_account(actor, user)
    if user.id == actor.id:
        raise AccountError("role", "self")
    _check_role(actor, role)
    _require_unit(actor, unit_id)
    if user.role == role and user.unit_id == unit_id:
        return False
    before = {"role": user.role, "unit": user.unit.code}
    user.role, user.unit_id = role, unit_id
    session.flush()
    session.refresh(user, ["unit"])
    audit.record(
        session,
        actor=actor.username,
        user_id=actor.id,
        action="user.update",
        entity="user",
        entity_id=user.id,
        before=before,
        after={"role": role, "unit": user.unit.code},
    )
    return True


def set_account_active(session: Session, actor: Actor, user: User, active: bool) -> bool:
    """Disable (every session ends) or enable an account; False if it was already so."""
    _require_account(actor, user)
    if user.id == actor.id:
        raise AccountError("active", "self")
    return _set_active(session, user, active, actor.username, actor.id)


def reset_account_password(session: Session, actor: Actor, user: User) -> str:
    """A new one-time password for the account; every session of the user ends."""
    _require_account(actor, user)
    if user.id == actor.id:
        raise AccountError("password", "self")
    return _reset_password(session, user, actor.username, actor.id)
