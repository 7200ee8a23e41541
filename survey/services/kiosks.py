"""Shared tablets at a desk (kiosk mode): register, revoke, list, recognise.

A unit manager registers a browser as a desk's tablet; it gets a random token
in a long-lived cookie (``survey.public.kiosk``) and the database keeps only
the token's sha256. A recognised tablet submits with ``channel = 'kiosk'`` and
without the per-device daily cap: many citizens share it. Registering and
revoking are audited.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import Desk, KioskDevice, User
from survey.models._types import utcnow
from survey.services import access
from survey.services.access import Actor
from survey.services.org import record

LABEL_MAX = 100
TOKEN_BYTES = 32


class _HasId(Protocol):
    id: int


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _snapshot(device: KioskDevice) -> dict[str, object]:
    return {
        "desk": device.desk_id,
        "label": device.label,
        "revoked": device.revoked_at is not None,
    }


def register(session: Session, actor: Actor, desk: Desk, label: str) -> tuple[KioskDevice, str]:
    """Register a tablet for ``desk``; returns the device and its raw token (shown once)."""
    access.require(actor, "desk.manage", desk.unit_id)
    label = label.strip()
    if not label or len(label) > LABEL_MAX:
        raise ValueError("label")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    device = KioskDevice(desk_id=desk.id, label=label, token_hash=_hash(token), created_by=actor.id)
    session.add(device)
    session.flush()
    record(session, actor, "kiosk.register", "kiosk", device.id, after=_snapshot(device))
    return device, token


def get_device(session: Session, actor: Actor, device_id: int) -> KioskDevice | None:
    """The device, if the actor manages its desk's unit (Forbidden otherwise)."""
    device = session.get(KioskDevice, device_id)
    if device is None:
        return None
    access.require(actor, "desk.manage", device.desk.unit_id)
    return device


def revoke(session: Session, actor: Actor, device: KioskDevice) -> bool:
    """Stop the tablet being a kiosk; returns False if it already was revoked."""
    access.require(actor, "desk.manage", device.desk.unit_id)
    if device.revoked_at is not None:
        return False
    before = _snapshot(device)
    device.revoked_at = utcnow()
    device.revoked_by = actor.id
    session.flush()
    record(session, actor, "kiosk.revoke", "kiosk", device.id, before, _snapshot(device))
    return True


@dataclass(frozen=True)
class Listed:
    id: int
    label: str
    created_at: datetime
    created_by: str  # full name or username; "" if the account is gone
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str


def for_desk(session: Session, desk: Desk) -> list[Listed]:
    """The desk's tablets, active first, newest first (the caller checked desk.view)."""
    devices = session.scalars(
        select(KioskDevice)
        .where(KioskDevice.desk_id == desk.id)
        .order_by(KioskDevice.revoked_at.is_not(None), KioskDevice.id.desc())
    ).all()
    ids = {d.created_by for d in devices} | {d.revoked_by for d in devices}
    ids.discard(None)
    names = {
        uid: full_name or username
        for uid, full_name, username in session.execute(
            select(User.id, User.full_name, User.username).where(User.id.in_(ids))
        )
    }
    return [
        Listed(
            id=d.id,
            label=d.label,
            created_at=d.created_at,
            created_by=names.get(d.created_by, ""),
            last_used_at=d.last_used_at,
            revoked_at=d.revoked_at,
            revoked_by=names.get(d.revoked_by, ""),
        )
        for d in devices
    ]


def cookie_value(device_id: int, token: str) -> str:
    """What the tablet's cookie holds: the id finds the row, the token proves it."""
    return f"{device_id}.{token}"


def verify(session: Session, value: str | None, desk: _HasId) -> KioskDevice | None:
    """The registered, unrevoked tablet of ``desk`` whose cookie this is, else None."""
    if not value or len(value) > 200:
        return None
    raw_id, _, token = value.partition(".")
    if not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > 12 or not token:
        return None
    device = session.get(KioskDevice, int(raw_id))
    if device is None or device.revoked_at is not None or device.desk_id != desk.id:
        return None
    if not hmac.compare_digest(device.token_hash, _hash(token)):
        return None
    return device


def touch(session: Session, device: KioskDevice) -> None:
    """Note that the tablet was just used (shown on the desk page)."""
    device.last_used_at = utcnow()
    session.flush()
