"""Staff-side fixtures: demo users per role, signing in without the login form."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from survey.models import AuditEvent, Desk, Target, Unit, User
from survey.services import auth

PASSWORD = "mat-khau-thu-nghiem-01"
CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')


@pytest.fixture(scope="session")
def cheap_hash() -> str:
    # A fast hash for fixture users (scrypt costs ~0.1 s each); checks accept any method.
    return generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


@dataclass
class World:
    """Ids of the demo objects the staff tests act on."""

    units: dict[str, int]
    users: dict[str, int]
    desk_in: int  # a desk of KH-CAMRANH
    desk_out: int  # a desk of KH-NHATRANG
    target_in: int
    target_out: int
    child_in: int  # a unit below KH-CAMRANH


def add_user(session, cheap_hash, username, role, unit_id, **extra) -> User:
    user = User(
        username=username,
        password_hash=cheap_hash,
        role=role,
        unit_id=unit_id,
        must_change_password=extra.pop("must_change_password", False),
        **extra,
    )
    session.add(user)
    session.flush()
    return user


@pytest.fixture
def world(demo_db, cheap_hash) -> World:
    with demo_db.session() as s:
        units = {u.code: u.id for u in s.scalars(select(Unit))}
        child = Unit(code="KH-CAMRANH-TO1", name="Tổ một cửa Cam Ranh 1", kind="office")
        child.parent_id = units["KH-CAMRANH"]
        s.add(child)
        s.flush()
        units[child.code] = child.id
        users = {
            "admin": add_user(s, cheap_hash, "admin", "admin", units["KH"]).id,
        }
        for role in ("admin", "unit_manager", "desk_staff", "analyst"):
            users[f"cr_{role}"] = add_user(
                s, cheap_hash, f"cr_{role}", role, units["KH-CAMRANH"]
            ).id
        users["nt_analyst"] = add_user(
            s, cheap_hash, "nt_analyst", "analyst", units["KH-NHATRANG"]
        ).id

        def first_desk(code):
            return s.scalar(
                select(Desk.id)
                .where(Desk.unit_id == units[code], Desk.active.is_(True))
                .order_by(Desk.id)
            )

        target_in = s.scalar(select(Target.id).where(Target.unit_id == units["KH-CAMRANH"]))
        out = Target(unit_id=units["KH-NHATRANG"], year=2026, threshold=0.9, source="test")
        s.add(out)
        s.flush()
        return World(
            units=units,
            users=users,
            desk_in=first_desk("KH-CAMRANH"),
            desk_out=first_desk("KH-NHATRANG"),
            target_in=target_in,
            target_out=out.id,
            child_in=child.id,
        )


@pytest.fixture
def nocsrf(demo_app):
    """For tests that are not about CSRF (the login tests check it with real tokens)."""
    demo_app.config["WTF_CSRF_ENABLED"] = False
    return demo_app


def sign_in(client, db, username: str) -> None:
    """Put a valid session cookie on the client, as a successful login would."""
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        with client.session_transaction("/staff/") as cookie:
            auth.sign_in(cookie, user)


def csrf_token(client, path: str) -> str:
    page = client.get(path)
    match = CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def audit_count(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent))


def audit_events(db, action: str) -> list[AuditEvent]:
    with db.session() as s:
        return list(
            s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
        )
