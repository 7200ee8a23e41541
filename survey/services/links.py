"""Per-transaction survey links: signed, expiring, one response per case.

The one-stop software asks for a link when it prints a receipt. The token
carries the desk, sector, procedure, a keyed hash of the case number (hồ sơ)
and an expiry, signed with HMAC-SHA256 under the deployment secret. The case
number itself is never stored; its keyed hash is what makes "one response per
case" enforceable by a unique constraint.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import ApiKey, Desk, Response, Sector
from survey.services import units

MAX_TTL_DAYS = 180
DEFAULT_TTL_DAYS = 30
_CASE = re.compile(r"^[\w./:-]{1,64}$")
_PROCEDURE = re.compile(r"^[\w./:-]{1,64}$")
# Checked before any query: a NUL byte or junk never reaches the database.
_DESK = re.compile(r"^[A-Z0-9]{1,16}$")
_SECTOR = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class LinkError(ValueError):
    """A request for a link is invalid; the message names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class BadToken(ValueError):
    def __init__(self, reason: str) -> None:  # "tampered" | "expired"
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Claims:
    desk: str
    sector: str | None
    procedure: str | None
    case_hash: str
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), f"link:{payload}".encode(), hashlib.sha256).digest()[:16])


def case_hash(secret: str, case_number: str) -> str:
    normalised = case_number.strip().upper()
    return hmac.new(secret.encode(), f"case:{normalised}".encode(), hashlib.sha256).hexdigest()[:40]


def make_token(secret: str, claims: Claims) -> str:
    body = [
        claims.desk,
        claims.sector or "",
        claims.procedure or "",
        claims.case_hash,
        claims.expires,
    ]
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{_mac(secret, payload)}"


def read_token(secret: str, token: str, now: float | None = None) -> Claims:
    payload, _, sig = token.partition(".")
    if not payload or not sig or len(token) > 400:
        raise BadToken("tampered")
    if not hmac.compare_digest(sig.encode(), _mac(secret, payload).encode()):
        raise BadToken("tampered")
    try:
        desk, sector, procedure, chash, expires = json.loads(_unb64(payload))
    except (ValueError, TypeError):
        raise BadToken("tampered") from None
    if (now if now is not None else time.time()) > expires:
        raise BadToken("expired")
    return Claims(desk, sector or None, procedure or None, chash, int(expires))


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(session: Session, unit_code: str, label: str = "") -> tuple[ApiKey, str]:
    unit = units.by_code(session, unit_code)
    if unit is None:
        raise LinkError("unit", f"unknown unit code {unit_code!r}")
    key = "svk_" + secrets.token_urlsafe(32)
    row = ApiKey(unit_id=unit.id, key_hash=hash_api_key(key), label=label)
    session.add(row)
    session.flush()
    return row, key


def api_key_unit(session: Session, key: str | None) -> int | None:
    """The unit an API key belongs to, or None for a missing, unknown or revoked key."""
    if not key:
        return None
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_api_key(key)))
    if row is None or row.revoked_at is not None:
        return None
    return row.unit_id


def issue(
    session: Session, secret: str, base_url: str, key_unit_id: int, payload: dict
) -> tuple[str, Claims]:
    """Validate a link request from the one-stop software and sign the link."""
    if not isinstance(payload, dict):
        raise LinkError("body", "expected a JSON object")
    unknown = sorted(set(payload) - {"desk", "sector", "procedure", "case_number", "ttl_days"})
    if unknown:
        raise LinkError(unknown[0], "unknown field")
    desk_code = str(payload.get("desk") or "").strip().upper()
    desk = (
        session.scalar(select(Desk).where(Desk.code == desk_code))
        if _DESK.fullmatch(desk_code)
        else None
    )
    if desk is None:
        raise LinkError("desk", "unknown desk code")
    if desk.unit_id not in units.subtree_ids(session, key_unit_id):
        raise LinkError("desk", "desk is outside the unit of this API key")
    if not desk.active:
        raise LinkError("desk", "desk is inactive")
    sector = payload.get("sector")
    if sector is not None:
        if not isinstance(sector, str) or not _SECTOR.fullmatch(sector):
            raise LinkError("sector", "unknown sector code")
        if session.scalar(select(Sector.id).where(Sector.code == str(sector))) is None:
            raise LinkError("sector", "unknown sector code")
    procedure = payload.get("procedure")
    if procedure is not None and not (
        isinstance(procedure, str) and _PROCEDURE.fullmatch(procedure)
    ):
        raise LinkError("procedure", "1 to 64 letters, digits or . / : - _")
    case_number = payload.get("case_number")
    if not isinstance(case_number, str) or not _CASE.fullmatch(case_number.strip()):
        raise LinkError("case_number", "required; 1 to 64 letters, digits or . / : - _")
    ttl = payload.get("ttl_days", DEFAULT_TTL_DAYS)
    if not isinstance(ttl, int) or isinstance(ttl, bool) or not 1 <= ttl <= MAX_TTL_DAYS:
        raise LinkError("ttl_days", f"an integer from 1 to {MAX_TTL_DAYS}")
    claims = Claims(
        desk=desk.code,
        sector=sector,
        procedure=procedure,
        case_hash=case_hash(secret, case_number),
        expires=int(time.time()) + ttl * 86400,
    )
    return f"{base_url}/l/{make_token(secret, claims)}", claims


def case_answered(session: Session, chash: str) -> bool:
    return session.scalar(select(Response.id).where(Response.case_hash == chash)) is not None


def sector_id(session: Session, code: str | None) -> int | None:
    if code is None:
        return None
    return session.scalar(select(Sector.id).where(Sector.code == code))
