"""Append-only audit trail: every staff change goes through ``record``."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from survey.models import AuditEvent


def _dump(value: dict[str, Any] | None) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: object = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    user_id: int | None = None,
) -> AuditEvent:
    event = AuditEvent(
        user_id=user_id,
        actor=actor,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        before=_dump(before),
        after=_dump(after),
    )
    session.add(event)
    return event
