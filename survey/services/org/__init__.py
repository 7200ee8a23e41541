"""Managing the organisation: units, desks, sectors, targets, questionnaire assignments.

One module per feature (``units``, ``desks``, ``assignment``, ``sectors``,
``targets``). Every function checks the actor's rights (``access.require``)
before touching anything, writes an audit event with the before/after
snapshot, and flushes; the caller's transaction commits (the request's, see
``survey.web_db``, or a CLI command's).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from survey.models import QuestionnaireVersion
from survey.services import audit
from survey.services.access import Actor


class OrgError(ValueError):
    """Input the forms cannot see is wrong (a taken code...): ``field`` and ``code`` say why."""

    def __init__(self, field: str, code: str, value: str = "") -> None:
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code
        self.value = value  # the offending input, for messages that name it


def record(
    session: Session,
    user: Actor,
    action: str,
    entity: str,
    entity_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    audit.record(
        session,
        actor=user.username,
        user_id=user.id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
    )


def version_key(session: Session, version_id: int | None) -> str | None:
    if version_id is None:
        return None
    row = session.get(QuestionnaireVersion, version_id)
    return row.key if row is not None else str(version_id)
