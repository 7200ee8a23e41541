"""Per-transaction survey links: signed, expiring, one response per case.

The one-stop software asks for a link when it prints a receipt. The token
carries the desk, sector, procedure, a keyed hash of the case number (hồ sơ)
and an expiry, signed with HMAC-SHA256 under the deployment secret. The case
number itself is never stored; its keyed hash is what makes "one response per
case" enforceable by a unique constraint.

Key rotation (``SURVEY_SECRET_KEY_PREVIOUS``, see docs/security.md): tokens are
signed with the current key and verified with the current, then the previous
one.  The case hash depends on the key too, so a link made during the grace
period also carries the case hash under the previous key: its case counts as
answered if a link made before the rotation answered it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import ApiKey, Desk, QuestionnaireVersion, Response, Sector
from survey.models._types import utcnow
from survey.services import audit, units
from survey.services import questionnaires as qsvc

if TYPE_CHECKING:
    from survey.services.public_desks import PublicDesk

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
    # The same case hashed under the previous key(s) when the link was made
    # during a rotation's grace period; empty otherwise (and in older tokens).
    other_case_hashes: tuple[str, ...] = ()

    @property
    def case_hashes(self) -> tuple[str, ...]:
        return (self.case_hash, *self.other_case_hashes)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), f"link:{payload}".encode(), hashlib.sha256).digest()[:16])


def case_hash(secret: str, case_number: str) -> str:
    normalised = case_number.strip().upper()
    return hmac.new(secret.encode(), f"case:{normalised}".encode(), hashlib.sha256).hexdigest()[:40]


def _keys(keys: str | Sequence[str]) -> list[str]:
    found = [keys] if isinstance(keys, str) else [k for k in keys if k]
    if not found:
        raise ValueError("no secret key")
    return found


def make_token(secret: str, claims: Claims) -> str:
    body: list = [
        claims.desk,
        claims.sector or "",
        claims.procedure or "",
        claims.case_hash,
        claims.expires,
    ]
    if claims.other_case_hashes:  # only during a rotation: links stay as short as before
        body.append(list(claims.other_case_hashes))
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{_mac(secret, payload)}"


def read_token(keys: str | Sequence[str], token: str, now: float | None = None) -> Claims:
    """The claims of a token signed with any of ``keys`` (current first)."""
    payload, _, sig = token.partition(".")
    if not payload or not sig or len(token) > 400:
        raise BadToken("tampered")
    if not any(
        hmac.compare_digest(sig.encode(), _mac(key, payload).encode()) for key in _keys(keys)
    ):
        raise BadToken("tampered")
    try:
        desk, sector, procedure, chash, expires, *rest = json.loads(_unb64(payload))
        others = tuple(str(h) for h in rest[0]) if rest else ()
    except (ValueError, TypeError):
        raise BadToken("tampered") from None
    if (now if now is not None else time.time()) > expires:
        raise BadToken("expired")
    return Claims(desk, sector or None, procedure or None, chash, int(expires), others)


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


def list_api_keys(session: Session, unit_ids: set[int] | None = None) -> list[dict]:
    """Keys as the CLI shows them: never the key or its hash."""
    query = select(ApiKey).order_by(ApiKey.id)
    if unit_ids is not None:
        query = query.where(ApiKey.unit_id.in_(unit_ids))
    return [
        {
            "id": row.id,
            "unit": row.unit.code,
            "label": row.label,
            "created_at": _iso(row.created_at),
            "revoked_at": _iso(row.revoked_at),
        }
        for row in session.scalars(query)
    ]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def revoke_api_key(session: Session, key_id: int, *, actor: str = "cli") -> tuple[ApiKey, bool]:
    """Revoke a key at once (the API answers 401 from the next request).

    Returns (key, changed); changed is False if it was revoked already.
    Links made with it stay valid: they are signed with the deployment secret.
    """
    row = session.get(ApiKey, key_id)
    if row is None:
        raise LinkError("id", f"unknown API key id {key_id}")
    if row.revoked_at is not None:
        return row, False
    row.revoked_at = utcnow()
    audit.record(
        session,
        actor=actor,
        action="apikey.revoke",
        entity="api_key",
        entity_id=row.id,
        before={"revoked_at": None},
        after={"unit": row.unit.code, "label": row.label, "revoked_at": row.revoked_at},
    )
    return row, True


def api_key_unit(session: Session, key: str | None) -> int | None:
    """The unit an API key belongs to, or None for a missing, unknown or revoked key."""
    if not key:
        return None
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_api_key(key)))
    if row is None or row.revoked_at is not None:
        return None
    return row.unit_id


def issue(
    session: Session,
    keys: str | Sequence[str],
    base_url: str,
    key_unit_id: int,
    payload: dict,
) -> tuple[str, Claims]:
    """Validate a link request from the one-stop software and sign the link.

    ``keys``: the current secret first (it signs), then the previous one, under
    which the case is hashed too (see the module docstring).
    """
    secret, *previous = _keys(keys)
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
        other_case_hashes=tuple(case_hash(key, case_number) for key in previous),
    )
    return f"{base_url}/l/{make_token(secret, claims)}", claims


def case_answered(session: Session, case: Claims | str) -> bool:
    """Whether the case of a link (under any key it carries) has a response."""
    hashes = case.case_hashes if isinstance(case, Claims) else (case,)
    return _any_answered(session, hashes)


def answered_elsewhere(session: Session, claims: Claims) -> bool:
    """Whether a link made under the previous key answered this link's case.

    The link's own case hash is left to the unique constraint when storing, so
    that a replay of this link's own answer still gets its thanks page.  (Two
    such links answered in the same instant can both be stored: only the
    current-key hash is unique in the database.)
    """
    return _any_answered(session, claims.other_case_hashes)


def _any_answered(session: Session, hashes: Sequence[str]) -> bool:
    if not hashes:
        return False
    found = select(Response.id).where(Response.case_hash.in_(list(hashes))).limit(1)
    return session.scalar(found) is not None


def sector_id(session: Session, code: str | None) -> int | None:
    if code is None:
        return None
    return session.scalar(select(Sector.id).where(Sector.code == code))


def desk_for_link(session: Session, desk: PublicDesk) -> PublicDesk:
    """The desk as its case links serve it: the standard form where its QR code
    serves the short one (``questionnaires.for_link``), else the desk unchanged.

    A link is answered at home once the result is known, so the longer form
    and its result items fit there; the response records the form it answered.
    """
    if desk.questionnaire is None or desk.questionnaire.id != qsvc.SHORT_FORM:
        return desk
    row = qsvc.for_link(session, session.get(QuestionnaireVersion, desk.version_id))
    if row is None or row.id == desk.version_id:
        return desk
    return replace(desk, version_id=row.id, questionnaire=qsvc.definition(row))
